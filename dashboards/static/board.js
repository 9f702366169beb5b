/* The wall board (issue 4): follows /ws/live as a public viewer, keeps the frame, the tiles
 * and the slides current, rotates the slides and runs the ticker. Plain JavaScript.
 *
 * Made to run for 16 hours unattended:
 * - every list is bounded (ticker and notes: the latest `items_limit`; re-votes: what the
 *   server sends, at most 100; photos: the latest approved, at most `photos_max`), and DOM
 *   lists are rebuilt, never appended to (a photo's card is kept while it stays on the
 *   slide, so its image is not fetched and decoded again at every render);
 * - re-renders are throttled (at most one per `render_ms`), figures are redrawn with
 *   Plotly.react into the same element, at most once per `figure_ms`, and only the slide
 *   on screen (the others when their turn comes);
 * - after any drop the feed is resumed with `since=` (backoff with jitter); an update whose
 *   `prev` is not the last seq applied means something was missed: reconnect with since=;
 *   `resync` is followed by a snapshot, which replaces everything.
 * National figures are shown as the server sends them (the picture's `national` block);
 * nothing national is computed here. Text from bureaus (notes, captions) is only ever set
 * as textContent. Photos are the ones editors approved, as /api/board/items lists them:
 * their approval is no live event, so they follow the periodic read of the items.
 */
import { ElectionClock } from "./clock.js";
import { LiveFeed } from "./feed.js";
import { makeFormat } from "./format.js";
import { makeLabels } from "./labels.js";
import { makeLists } from "./board-lists.js";
import { makeTiles } from "./board-tiles.js";

var boot = JSON.parse(document.getElementById("boot").textContent);
var cfg = boot.config;
var T = boot.labels;
var t = makeLabels(T);
var fmt = makeFormat({ locale: T._locale || cfg.locale, zone: cfg.zone, noData: T.no_data });
var board = document.getElementById("board");

function $(id) {
  return document.getElementById(id);
}

function setText(el, text) {
  if (el && el.textContent !== text) {
    el.textContent = text;
    return true;
  }
  return false;
}

/* Shrinks a one-line figure's type until it fits its box (a long "99,60 %"). */
function fitText(node) {
  node.style.fontSize = "";
  var room = node.clientWidth;
  if (room && node.scrollWidth > room) {
    var size = parseFloat(getComputedStyle(node).fontSize);
    node.style.fontSize = Math.floor((size * room) / node.scrollWidth) + "px";
  }
}

function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

// --- time: the election clock (contract §6), shown in the election's zone ------------

var clock = new ElectionClock(cfg.clock);
function now() {
  return clock.now();
}

function asOfLabel(ms) {
  if (ms == null || isNaN(ms)) return T.as_of_unknown;
  return t("as_of", { time: fmt.time(ms), date: fmt.date(ms) });
}

/* "HH:MM" on the election day, the day without its year on another (early voting, re-votes). */
function timeLabel(moment) {
  var ms = Date.parse(moment);
  if (isNaN(ms)) return "";
  return fmt.isoDay(ms) === cfg.day ? fmt.time(ms) : fmt.dayMonth(ms);
}

var fmtInt = fmt.int;
function fmtPct(v, digits) {
  return fmt.pct(v, digits == null ? 2 : digits);
}

function provinceName(code) {
  return cfg.names[code] || code || "";
}

// --- state ---------------------------------------------------------------------------

var state = {
  seq: boot.picture.seq,
  national: boot.picture.national || {},
  provinces: {},
  rehearsal: !!boot.picture.rehearsal,
  lastUpdate: Date.now(), // real time: the feed's silence, whatever the clock's speed
  items: [], // notes and re-vote reports, newest first, at most cfg.items_limit
  revotes: [], // each re-vote unit's latest report
  photos: [], // approved photos, the latest approved first, at most cfg.photos_max
};

function indexProvinces(list) {
  var out = {};
  (list || []).forEach(function (p) {
    out[p.code] = p;
  });
  return out;
}
state.provinces = indexProvinces(boot.picture.provinces);

function newestFirst(a, b) {
  var ta = Date.parse(a.as_of), tb = Date.parse(b.as_of);
  if (ta !== tb) return tb - ta;
  return (b.seq || 0) - (a.seq || 0);
}

function isPublic(item) {
  return !(item.data && item.data.audience === "internal");
}

/* The server's list, plus live items it did not have yet (they arrived during the fetch). */
function setItems(items, revotes, photos) {
  var top = 0;
  var ids = {};
  items.forEach(function (it) {
    ids[it.id] = true;
    if (it.seq > top) top = it.seq;
  });
  var merged = items.concat(
    state.items.filter(function (it) {
      return !ids[it.id] && it.seq > top;
    })
  );
  state.items = merged.filter(isPublic).sort(newestFirst).slice(0, cfg.items_limit);
  if (revotes) state.revotes = revotes.slice(0, 100);
  if (photos) state.photos = photos.slice(0, cfg.photos_max);
  lists.dirty = true;
}

function addItem(item) {
  if (!isPublic(item)) return;
  for (var i = 0; i < state.items.length; i++) if (state.items[i].id === item.id) return;
  state.items.push(item);
  state.items.sort(newestFirst);
  if (state.items.length > cfg.items_limit) state.items.length = cfg.items_limit;
  lists.dirty = true;
}

// --- rendering (throttled) -----------------------------------------------------------

var render = { timer: null, last: 0 };
var lists = { dirty: true };

function markDirty() {
  if (render.timer) return;
  var wait = Math.max(0, render.last + cfg.render_ms - Date.now());
  render.timer = setTimeout(doRender, wait);
}

function doRender() {
  render.timer = null;
  render.last = Date.now();
  renderFrame();
  renderTiles();
  renderMarks();
  if (lists.dirty) {
    lists.dirty = false;
    renderNotes();
    renderRevotes();
    ticker.dirty = true;
    if (!ticker.moving) buildTicker();
  }
  if (figs[rot.current]) refreshFigure(rot.current, false);
  document.body.setAttribute("data-seq", String(state.seq));
  updateStatus();
}

function latestAsOf() {
  var best = null;
  for (var code in state.provinces) {
    var ms = Date.parse(state.provinces[code].as_of);
    if (!isNaN(ms) && (best == null || ms > best)) best = ms;
  }
  return best;
}

var frameFitted = false;

function renderFrame() {
  var nat = state.national || {};
  var total = nat.provinces_total || Object.keys(state.provinces).length;
  var big = $("nat-pct");
  big.classList.toggle("nodata", nat.turnout_pct == null);
  if (setText(big, fmtPct(nat.turnout_pct)) || !frameFitted) {
    frameFitted = true;
    fitText(big);
  }
  setText(
    $("nat-voters"),
    nat.voted != null
      ? t("n_voters", { voted: fmtInt(nat.voted), registered: fmtInt(nat.registered) })
      : ""
  );
  setText($("nat-reporting"), (nat.provinces_reporting || 0) + " / " + total);
  setText($("nat-areas"), nat.areas_total ? fmtInt(nat.areas_done) + " / " + fmtInt(nat.areas_total) : T.no_data);
  setText($("as-of"), asOfLabel(latestAsOf()));
}

var renderTiles = makeTiles({
  state: state,
  cfg: cfg,
  T: T,
  setText: setText,
  fmtPct: fmtPct,
  timeLabel: timeLabel,
  now: now,
}).renderTiles;

function renderMarks() {
  $("watermark").hidden = !state.rehearsal;
  $("test-badge").hidden = !state.rehearsal;
}

// --- text slides: notes and photos, re-votes, the ticker (board-lists.js) ------------------

var textSlides = makeLists({
  state: state,
  cfg: cfg,
  T: T,
  t: t,
  $: $,
  el: el,
  setText: setText,
  provinceName: provinceName,
  timeLabel: timeLabel,
});
var notes = textSlides.notes;
var renderNotes = textSlides.renderNotes;
var renderRevotes = textSlides.renderRevotes;
var buildTicker = textSlides.buildTicker;
var ticker = textSlides.ticker;

// --- figures (Plotly) --------------------------------------------------------------------

var figs = {};
cfg.figure_slides.forEach(function (name) {
  var div = $("plot-" + name);
  div.style.width = cfg.figure_size[0] + "px";
  div.style.height = cfg.figure_size[1] + "px";
  figs[name] = { div: div, seq: -1, busy: null, last: 0, timer: null };
});

function draw(name, fig) {
  var f = figs[name];
  if (!window.Plotly) return Promise.resolve();
  return Plotly.react(f.div, fig.data, fig.layout, cfg.plotly).then(function () {
    var meta = fig.layout && fig.layout.meta;
    f.seq = meta && typeof meta.seq === "number" ? meta.seq : state.seq;
  });
}

/* Draw `name` again when the picture moved on; at most once per figure_ms unless
 * `force` (the slide is about to be shown). While the server is away the old figure stays. */
function refreshFigure(name, force) {
  var f = figs[name];
  if (f.busy) return f.busy;
  if (f.seq >= 0 && f.seq >= state.seq) return Promise.resolve();
  if (f.seq >= 0 && !conn.open) return Promise.resolve();
  var wait = f.last + cfg.figure_ms - Date.now();
  if (!force && wait > 0) {
    refreshLater(name, wait);
    return Promise.resolve();
  }
  f.last = Date.now();
  var url = "/api/board/figure/" + name + "?lang=" + encodeURIComponent(cfg.lang) + "&layout=" + cfg.layout;
  f.busy = fetch(url, { cache: "no-store" })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(function (fig) {
      return draw(name, fig);
    })
    .catch(function () {
      /* the figure on screen stays; the next update or turn tries again */
    })
    .then(function () {
      f.busy = null;
      // The server may answer with a slightly older picture (it redraws a chart at most
      // every few seconds): ask again while this slide is on screen.
      if (f.seq < state.seq && conn.open) refreshLater(name, cfg.figure_ms);
    });
  return f.busy;
}

function refreshLater(name, wait) {
  var f = figs[name];
  if (f.timer) return;
  f.timer = setTimeout(function () {
    f.timer = null;
    if (rot.current === name) refreshFigure(name, false);
  }, wait);
}

// --- slides ------------------------------------------------------------------------------

var slideEls = {};
Array.prototype.forEach.call(document.querySelectorAll(".slide"), function (node) {
  slideEls[node.getAttribute("data-slide")] = node;
});
var rot = { i: 0, timer: null, paused: false, current: cfg.slides[0].name };

var dots = $("dots");
cfg.slides.forEach(function () {
  dots.appendChild(el("span", "dot"));
});

function renderDots() {
  Array.prototype.forEach.call(dots.children, function (d, i) {
    d.classList.toggle("on", i === rot.i);
  });
}

function timeout(ms) {
  return new Promise(function (resolve) {
    setTimeout(resolve, ms);
  });
}

function prepare(name) {
  if (figs[name]) return Promise.race([refreshFigure(name, true), timeout(5000)]);
  if (name === "tiles") renderTiles();
  return Promise.resolve();
}

function display(name) {
  return prepare(name).then(function () {
    for (var key in slideEls) slideEls[key].classList.toggle("active", key === name);
    rot.current = name;
    document.body.setAttribute("data-slide", name);
    renderDots();
  });
}

function schedule() {
  clearTimeout(rot.timer);
  rot.timer = null;
  if (rot.paused) return;
  rot.timer = setTimeout(advance, cfg.slides[rot.i].seconds * 1000);
}

/* The notes slide sits out its turn while there is nothing to show (neither a public
 * note nor an approved photo); every other slide always shows, empty or not. */
function available(name) {
  return name !== "notes" || notes().length > 0 || state.photos.length > 0;
}

function advance() {
  rot.timer = null;
  var n = cfg.slides.length;
  for (var k = 1; k <= n; k++) {
    var j = (rot.i + k) % n;
    if (available(cfg.slides[j].name) || k === n) {
      rot.i = j;
      break;
    }
  }
  display(cfg.slides[rot.i].name).then(schedule, schedule);
}

// --- the live feed (feed.js: since=, prev, batch, resync, backoff) --------------------------

var conn = { open: false, everOpen: false, probing: false, lastProbe: 0 };
var feed = new LiveFeed("/ws/live", {
  seq: state.seq,
  backoffMaxMs: cfg.backoff_max_ms,
  on: {
    state: function (s) {
      conn.open = s === "open";
      if (conn.open) {
        conn.probing = false; // a probe ends once connected: the status follows the feed again
        refreshItemsSoon();
      }
      updateStatus();
    },
    down: function () {
      conn.probing = false;
    },
    snapshot: applySnapshot,
    update: applyUpdate,
    settled: seen,
    clock: setClock,
  },
});

/* A `clock` message (contract §6): the header shows the new moment at once. */
function setClock(msg) {
  if (clock.set(msg)) tick();
}

function seen() {
  state.lastUpdate = Date.now();
  conn.probing = false;
  markDirty();
}

function applySnapshot(msg) {
  state.seq = msg.seq;
  state.national = msg.national || {};
  state.provinces = indexProvinces(msg.provinces);
  state.rehearsal = !!msg.rehearsal;
  for (var name in figs) figs[name].seq = -1; // draw again from the new picture
  refreshItemsSoon(); // a snapshot carries no notes
}

function applyUpdate(u) {
  state.seq = u.seq;
  if (u.province && u.province.code) state.provinces[u.province.code] = u.province;
  if (u.national) state.national = u.national;
  if (typeof u.rehearsal === "boolean") state.rehearsal = u.rehearsal;
  var ev = u.event;
  if (ev && (ev.kind === "note" || ev.kind === "revote")) {
    addItem({ id: ev.id, seq: u.seq, kind: ev.kind, province: ev.province, as_of: ev.as_of, data: ev.data || {} });
    if (ev.kind === "revote") refreshItemsSoon(); // the units table comes from the server
  }
}

// --- items (ticker, notes, re-votes, photos) from the server -------------------------------

var itemsFetch = { busy: false, again: false, timer: null };

function refreshItems() {
  if (itemsFetch.busy) {
    itemsFetch.again = true;
    return;
  }
  itemsFetch.busy = true;
  fetch("/api/board/items?limit=" + cfg.items_limit, { cache: "no-store" })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(function (body) {
      setItems(body.items || [], body.revotes || [], body.photos || []);
      markDirty();
    })
    .catch(function () {
      /* kept as they are; the next snapshot or the periodic refresh tries again */
    })
    .then(function () {
      itemsFetch.busy = false;
      if (itemsFetch.again) {
        itemsFetch.again = false;
        refreshItemsSoon();
      }
    });
}

function refreshItemsSoon() {
  if (itemsFetch.timer) return;
  itemsFetch.timer = setTimeout(function () {
    itemsFetch.timer = null;
    if (conn.open) refreshItems();
  }, 1000);
}

// --- status: LIVE / RECONNECTING / STALE, and the clock --------------------------------------

var statusEl = $("status");

function currentStatus() {
  if (!conn.open && !conn.probing) return conn.everOpen ? "reconnecting" : "connecting";
  return Date.now() - state.lastUpdate > cfg.stale_s * 1000 ? "stale" : "live";
}

function updateStatus() {
  if (conn.open) conn.everOpen = true;
  var s = currentStatus();
  if (statusEl.getAttribute("data-state") !== s) {
    statusEl.setAttribute("data-state", s);
    setText(statusEl, t(s === "live" ? "status_live" : s === "stale" ? "status_stale" : "status_reconnecting"));
  }
}

var ticks = 0;
function tick() {
  var n = now();
  setText($("clock"), fmt.clockTime(n));
  setText($("date"), fmt.longDate(n));
  updateStatus();
  ticks += 1;
  if (ticks % 30 === 0) renderTiles(); // tiles go stale with time alone
  if (ticks % cfg.items_refresh_s === 0 && conn.open) refreshItems();
  // A quiet feed is probed now and then: a half-open socket would never say it died.
  if (conn.open && currentStatus() === "stale" && Date.now() - conn.lastProbe > cfg.stale_s * 1000) {
    conn.lastProbe = Date.now();
    conn.probing = true;
    feed.reconnect();
  }
}

// --- fitting the design to the screen ---------------------------------------------------------

function fit() {
  var w = cfg.size[0], h = cfg.size[1];
  var s = Math.min(window.innerWidth / w, window.innerHeight / h);
  var x = (window.innerWidth - w * s) / 2, y = (window.innerHeight - h * s) / 2;
  board.style.transform = "translate(" + x + "px, " + y + "px) scale(" + s + ")";
}

function fontsReady() {
  if (!document.fonts || !document.fonts.load) return Promise.resolve();
  var sample = T.national_turnout + T.election_title + T.chart_map + "0123456789%";
  var loads = [
    document.fonts.load("400 20px 'Noto Sans'", sample),
    document.fonts.load("700 20px 'Noto Sans'", sample),
  ];
  if (cfg.lang === "zh") {
    loads.push(document.fonts.load("400 20px 'Noto Sans CJK SC'", sample));
    loads.push(document.fonts.load("700 20px 'Noto Sans CJK SC'", sample));
  }
  return Promise.race([Promise.all(loads), timeout(4000)]);
}

// --- start -----------------------------------------------------------------------------------

fit();
window.addEventListener("resize", fit);
setItems(boot.items.items || [], boot.items.revotes || [], boot.items.photos || []);
renderFrame();
renderTiles();
renderMarks();
renderNotes();
renderRevotes();
lists.dirty = false;
document.body.setAttribute("data-seq", String(state.seq));
tick();
setInterval(tick, 1000);
feed.start();

var firstFigure = document.getElementById("first-figure");
var ready = fontsReady()
  .then(function () {
    var first = cfg.slides[0].name;
    if (firstFigure && figs[first]) {
      var fig = JSON.parse(firstFigure.textContent);
      firstFigure.parentNode.removeChild(firstFigure);
      return draw(first, fig).then(function () {
        return display(first);
      });
    }
    return display(first);
  })
  .catch(function () {
    /* the frame and the tiles are on screen whatever the figure did */
  })
  .then(function () {
    buildTicker();
    document.body.setAttribute("data-ready", "true");
    schedule();
  });

/* For tests and for the desk's preview: show one slide now and stop rotating (resume()
 * restarts the rotation). */
window.votewireBoard = {
  state: state,
  ready: ready,
  show: function (name) {
    rot.paused = true;
    clearTimeout(rot.timer);
    document.body.classList.add("still");
    var i = cfg.slides.map(function (s) { return s.name; }).indexOf(name);
    if (i >= 0) rot.i = i;
    return ready.then(function () {
      return display(name);
    });
  },
  resume: function () {
    rot.paused = false;
    document.body.classList.remove("still");
    schedule();
  },
  status: currentStatus,
  setClock: setClock,
};
