/* The board's text slides (issue 4): the notes slide (public notes, approved photos), the
 * re-votes table and the ticker's crawl, which also names the winners of the latest
 * declared units (issue 13). Lists are rebuilt, never appended to, from the page's bounded
 * state; a photo's card is kept while it stays on the slide, so its image is not fetched
 * and decoded again at every render. Text from bureaus (notes, captions, units) and names
 * are only ever set as textContent.
 */

/** The slides' renderers over the page's `state` and `cfg`, its labels `T` and helpers;
 * `results` gives the ticker its winners. */
export function makeLists({ state, cfg, T, t, $, el, setText, provinceName, timeLabel, results }) {
  // --- HTML slides: notes and re-votes ---------------------------------------------------

  function notes() {
    return state.items.filter(function (it) {
      return it.kind === "note";
    });
  }

  /* Photo cards on the slide, by photo id: only those shown now (bounded by photos_max). */
  var photoCards = {};

  function photoCard(p) {
    var c = photoCards[p.id];
    if (!c) {
      c = { card: el("article", "photo"), img: el("img", "photo-img") };
      c.img.decoding = "async";
      c.img.onerror = function () {
        c.card.classList.add("broken"); // withdrawn since the list was read: caption only
      };
      c.img.src = "/photos/" + encodeURIComponent(p.id) + ".jpg";
      c.card.appendChild(el("div", "photo-frame")).appendChild(c.img);
      c.head = c.card.appendChild(el("div", "note-head"));
      c.caption = c.card.appendChild(el("div", "photo-caption"));
    }
    var caption = String(p.caption || "");
    if (c.img.alt !== caption) c.img.alt = caption;
    c.head.textContent = "";
    c.head.appendChild(el("b", null, provinceName(p.province)));
    c.head.appendChild(document.createTextNode(" · " + timeLabel(p.as_of)));
    setText(c.caption, caption);
    return c;
  }

  /* The notes slide: notes only, photos only, or (both) photos on the left and notes in a
   * column on the right; `data-n` (how many photos) lets board.css size the photos. */
  function renderNotes() {
    var box = $("notes");
    var all = notes();
    var nPhotos = cfg.photos_max, nNotes = cfg.notes_max, mode = "notes-only";
    if (state.photos.length && all.length) {
      nPhotos = cfg.mixed[0];
      nNotes = cfg.mixed[1];
      mode = "mixed";
    } else if (state.photos.length) {
      mode = "photos-only";
    }
    var photos = state.photos.slice(0, nPhotos);
    var list = all.slice(0, nNotes);
    box.textContent = "";
    box.classList.remove("notes-only", "photos-only", "mixed");
    box.classList.add(mode);
    box.setAttribute("data-n", String(photos.length));
    var photoBox = box, noteBox = box;
    if (mode === "mixed") {
      photoBox = box.appendChild(el("div", "photo-area"));
      photoBox.setAttribute("data-n", String(photos.length));
      noteBox = box.appendChild(el("div", "note-area"));
    }
    var keep = {};
    photos.forEach(function (p) {
      keep[p.id] = photoCard(p);
      photoBox.appendChild(keep[p.id].card);
    });
    photoCards = keep; // cards no longer shown are let go
    if (!list.length && !photos.length) {
      box.appendChild(el("div", "empty", T.no_notes));
      return;
    }
    list.forEach(function (it) {
      var card = el("article", "note");
      var head = el("div", "note-head");
      head.appendChild(el("b", null, provinceName(it.province)));
      var extra = [timeLabel(it.as_of)];
      ((it.data && it.data.tags) || []).slice(0, 4).forEach(function (tag) {
        extra.push(T["tag_" + tag] || String(tag));
      });
      head.appendChild(document.createTextNode(" · " + extra.join(" · ")));
      card.appendChild(head);
      card.appendChild(el("div", "note-text", (it.data && it.data.text) || ""));
      noteBox.appendChild(card);
    });
  }

  function label(prefix, value, fallback) {
    return value ? T[prefix + value] || String(value) : fallback || "";
  }

  function renderRevotes() {
    var box = $("revotes");
    var list = state.revotes;
    box.textContent = "";
    if (!list.length) {
      box.appendChild(el("div", "empty", T.no_revotes));
      return;
    }
    var table = el("table");
    var cols = el("colgroup");
    [16, 34, 16, 20, 14].forEach(function (w) {
      var c = el("col");
      c.style.width = w + "%";
      cols.appendChild(c);
    });
    table.appendChild(cols);
    var head = el("tr");
    ["col_province", "col_unit", "col_level", "col_reason", "col_status"].forEach(function (k) {
      head.appendChild(el("th", null, T[k]));
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    list.slice(0, cfg.revotes_max).forEach(function (it) {
      var d = it.data || {};
      var row = el("tr");
      [
        provinceName(it.province),
        d.unit || "",
        label("level_", d.level),
        label("reason_", d.reason),
        label("revote_status_", d.status || "announced"),
      ].forEach(function (text) {
        row.appendChild(el("td")).appendChild(el("div", "cell", text));
      });
      body.appendChild(row);
    });
    box.appendChild(table);
    if (list.length > cfg.revotes_max) {
      box.appendChild(el("div", "more", t("more_rows", { n: list.length - cfg.revotes_max })));
    }
  }

  // --- the ticker --------------------------------------------------------------------------

  var ticker = { el: $("crawl"), dirty: true, moving: false, first: true };
  var TICKER_MAX = 12;
  var CRAWL_PX_S = 140;

  function itemText(it) {
    var d = it.data || {};
    if (it.kind === "revote") {
      var facts = [label("level_", d.level), label("reason_", d.reason), label("revote_status_", d.status || "announced")]
        .filter(Boolean)
        .join(", ");
      return T.kind_revote + ": " + (d.unit || "") + " (" + facts + ")" + (d.note ? " — " + d.note : "");
    }
    return d.text || "";
  }

  /* Notes, re-votes and winners, the latest first. */
  function tickerItems() {
    var all = state.items.concat(results.tickerItems());
    all.sort(function (a, b) {
      return Date.parse(b.as_of) - Date.parse(a.as_of) || (b.seq || 0) - (a.seq || 0);
    });
    return all.slice(0, TICKER_MAX);
  }

  function buildTicker() {
    var box = ticker.el;
    ticker.dirty = false;
    box.classList.remove("moving", "idle");
    box.textContent = "";
    var list = tickerItems();
    ticker.winners = list
      .filter(function (it) {
        return it.kind === "winner";
      })
      .map(function (it) {
        return it.id;
      });
    if (!list.length) {
      box.classList.add("idle");
      box.textContent = T.no_notes;
      ticker.moving = false;
      return;
    }
    list.forEach(function (it) {
      if (it.kind === "winner") {
        var w = it.winner;
        var win = el("span", "tick tick-winner");
        win.setAttribute("data-unit", w.code + "-" + w.unit);
        win.appendChild(el("span", "tick-where", provinceName(w.code) + " · " + results.unitLabel(w) + ":"));
        win.appendChild(el("span", "tick-text", results.winnerText(w)));
        box.appendChild(win);
        return;
      }
      var item = el("span", "tick tick-" + (it.kind === "revote" ? "revote" : "note"));
      item.appendChild(el("span", "tick-where", provinceName(it.province) + " · " + timeLabel(it.as_of)));
      item.appendChild(el("span", "tick-text", itemText(it)));
      box.appendChild(item);
    });
    var width = box.scrollWidth;
    // The first crawl starts on screen; later ones come in from the right edge.
    var from = ticker.first ? 0 : box.parentNode.clientWidth;
    ticker.first = false;
    box.style.setProperty("--crawl-from", from + "px");
    box.style.setProperty("--crawl-to", -width + "px");
    box.style.setProperty("--crawl-s", ((width + from) / CRAWL_PX_S).toFixed(1) + "s");
    void box.offsetWidth; // restart the animation
    box.classList.add("moving");
    ticker.moving = true;
  }

  // One crawl at a time: new items wait for the end of the current one, so text never
  // jumps under the reader's eyes; then the list is rebuilt (bounded) and crawls again.
  ticker.el.addEventListener("animationend", buildTicker);

  /* Whether the crawl names a winner who no longer is one (the result was retracted, or
   * the unit is counting again): that cannot wait for the end of the crawl. */
  function tickerWithdrawn() {
    if (!ticker.winners || !ticker.winners.length) return false;
    var now = {};
    results.tickerItems().forEach(function (it) {
      now[it.id] = true;
    });
    return ticker.winners.some(function (id) {
      return !now[id];
    });
  }

  return { notes, renderNotes, renderRevotes, buildTicker, tickerWithdrawn, ticker };
}
