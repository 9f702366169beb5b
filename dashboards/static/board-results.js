/* The results the wall board holds (issue 13, contract §5): the public summary with the seq
 * it describes, and the winners of the latest declared units (at most `winners_max`, the
 * latest declared first) for the ticker. They come from /api/board/items (on a snapshot,
 * and every `items_refresh_s`) and from the live feed, whose updates for a result or a
 * Council's decision carry `unit` (the unit's entry) and `results` (the summary).
 *
 * The summary's figures are shown as the server sends them; nothing is counted here. A
 * unit's winners are its `elected` candidates in rank order less any the Council did not
 * confirm, as server/board/items.py reads them. The results slides join the rotation once
 * a unit has a public result (`units_reporting` > 0), and say so with `data-available`.
 */

var DECLARED = { declared: true, supplementary: true };

/** The board's results over its `state` and `cfg`, labels `t` and helpers. */
export function makeResults({ state, cfg, t, fmt, $, setText }) {
  state.results = { seq: -1, summary: null };
  state.winners = [];

  function key(w) {
    return w.code + "-" + w.unit;
  }

  /* A unit's entry as the ticker shows it, or null while it waits or counts. */
  function winnersOf(unit) {
    if (!unit || !DECLARED[unit.status]) return null;
    var elected = (unit.candidates || [])
      .filter(function (c) {
        return c.elected && c.confirmed !== false;
      })
      .sort(function (a, b) {
        return (a.rank || 0) - (b.rank || 0);
      });
    return {
      code: unit.code,
      unit: unit.unit,
      status: unit.status,
      as_of: unit.as_of,
      elected: elected.map(function (c) {
        return { id: c.id, name: c.name, pct: c.pct };
      }),
    };
  }

  function latestFirst(a, b) {
    return Date.parse(b.as_of) - Date.parse(a.as_of);
  }

  /* From /api/board/items: taken unless the feed has brought a newer summary meanwhile. */
  function setResults(results, winners) {
    if (!results || results.seq < state.results.seq) return false;
    state.results = { seq: results.seq, summary: results.summary };
    state.winners = (winners || []).slice(0, cfg.winners_max);
    return true;
  }

  /* An update of the feed for a result or a decision: the summary as sent, and the unit's
   * winners in (declared) or out (counting again, retracted) of the ticker's list. */
  function applyUnit(seq, unit, summary) {
    state.results = { seq: seq, summary: summary };
    if (!unit) return;
    var k = key(unit);
    var list = state.winners.filter(function (w) {
      return key(w) !== k;
    });
    var w = winnersOf(unit);
    if (w) list.push(w);
    list.sort(latestFirst);
    state.winners = list.slice(0, cfg.winners_max);
  }

  /* Whether the results slides have something to show. */
  function available() {
    var s = state.results.summary;
    return !!(s && s.units_reporting > 0);
  }

  function facts(name, s) {
    var seats = t("resb_facts_seats", { filled: fmt.int(s.seats_filled), total: fmt.int(s.seats_total) });
    var declared = t("resb_facts_declared", {
      declared: fmt.int(s.units_declared),
      total: fmt.int(s.units_total),
    });
    if (name === "hemicycle") return [seats, declared];
    if (name === "results_map") {
      return [t("resb_facts_reporting", { n: fmt.int(s.units_reporting), total: fmt.int(s.units_total) }), declared];
    }
    var elected = s.composition ? s.composition.elected : s.seats_filled;
    return [t("resb_facts_elected", { n: fmt.int(elected) }), declared];
  }

  /* On the strip the title and the figures share one line: where a language's words are
   * too long for it, both are set smaller (down to `MIN_HEAD_PX`) until they fit, rather
   * than cut. */
  var MIN_HEAD_PX = 14;
  function fitHead(section) {
    var head = section.querySelector(".slide-head");
    var title = section.querySelector(".slide-title");
    var box = section.querySelector(".slide-facts");
    if (!head || !title || !box || getComputedStyle(head).display !== "flex") return;
    title.style.fontSize = box.style.fontSize = "";
    var tSize = parseFloat(getComputedStyle(title).fontSize);
    var fSize = parseFloat(getComputedStyle(box).fontSize);
    while (title.scrollWidth > title.clientWidth + 1 && fSize > MIN_HEAD_PX) {
      tSize -= 1;
      fSize -= 1;
      title.style.fontSize = tSize + "px";
      box.style.fontSize = fSize + "px";
    }
  }

  /* The summary's figures beside each results slide's title, and whether the slides have
   * anything to show (the page's `data-results`, each slide's `data-available`); `refit`
   * fits the titles again (once the fonts are in). */
  function renderFacts(refit) {
    var s = state.results.summary;
    var on = available();
    document.body.setAttribute("data-results", on ? "some" : "none");
    document.body.setAttribute("data-results-seq", String(state.results.seq));
    cfg.result_slides.forEach(function (name) {
      var section = $("slide-" + name);
      if (section) section.setAttribute("data-available", on ? "true" : "false");
      var box = $("facts-" + name);
      if (!box) return;
      var parts = on ? facts(name, s) : [];
      var text = parts.join(" · ");
      if (box.getAttribute("data-text") !== text) {
        box.setAttribute("data-text", text);
        box.textContent = "";
        parts.forEach(function (p) {
          var span = document.createElement("span");
          span.textContent = p;
          box.appendChild(span);
        });
      } else if (!refit) {
        return;
      }
      if (section) fitHead(section);
    });
  }

  /* The ticker's winners: one item per declared unit ("Hà Nội · ĐV 1: Nguyễn Phú Trọng
   * 93,23 %, …"), with `as_of` to sort them among the notes. */
  function tickerItems() {
    return state.winners.map(function (w) {
      return { kind: "winner", id: "w" + key(w), province: w.code, as_of: w.as_of, winner: w };
    });
  }

  function winnerText(w) {
    var names = w.elected.map(function (c) {
      return c.name + " " + fmt.pct(c.pct, 2);
    });
    if (w.status === "supplementary") names.push("(" + t("res_status_supplementary") + ")");
    return names.join(" · ");
  }

  function unitLabel(w) {
    return t("res_unit_short", { unit: w.unit });
  }

  return { setResults, applyUnit, available, renderFacts, tickerItems, winnerText, unitLabel, winnersOf };
}
