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
 *
 * This module wires the page; its parts are modules of their own:
 *   board-picture.js  what the board holds (bounded) and what changes it
 *   board-frame.js    the national figures beside the slides
 *   board-header.js   status, clock and the TEST marks
 *   board-slides.js   the rotation and the Plotly figures
 *   board-tiles.js    the tile slide
 *   board-lists.js    the notes (and photos) slide, the re-votes table, the ticker
 *   board-results.js  the results: summary, winners, the results slides' figures beside
 *                     their titles (issue 13)
 *
 * URL parameters read on the server (server/board/layouts.py) arrive in the config; `seats`
 * (gender, region, former_deputy) is what colours the hemicycle.
 */
import { ElectionClock } from "./clock.js";
import { LiveFeed } from "./feed.js";
import { makeFormat } from "./format.js";
import { makeLabels } from "./labels.js";
import { makeFrame } from "./board-frame.js";
import { makeHeader } from "./board-header.js";
import { makeLists } from "./board-lists.js";
import { makePicture } from "./board-picture.js";
import { makeResults } from "./board-results.js";
import { makeSlides } from "./board-slides.js";
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

function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

function timeout(ms) {
  return new Promise(function (resolve) {
    setTimeout(resolve, ms);
  });
}

// --- time: the election clock (contract §6), shown in the election's zone ------------

var clock = new ElectionClock(cfg.clock);
function now() {
  return clock.now();
}

/* "HH:MM" on the election day, the day without its year on another (early voting, re-votes). */
function timeLabel(moment) {
  var ms = Date.parse(moment);
  if (isNaN(ms)) return "";
  return fmt.isoDay(ms) === cfg.day ? fmt.time(ms) : fmt.dayMonth(ms);
}

function fmtPct(v, digits) {
  return fmt.pct(v, digits == null ? 2 : digits);
}

function provinceName(code) {
  return cfg.names[code] || code || "";
}

// --- the picture (board-picture.js) --------------------------------------------------

var conn = { open: false, everOpen: false, probing: false, lastProbe: 0 };
var render = { timer: null, last: 0 };
var lists = { dirty: true };

var results = null; // board-results.js, once the state exists
var picture = makePicture({
  boot: boot,
  cfg: cfg,
  conn: conn,
  lists: lists,
  markDirty: markDirty,
  results: {
    applyUnit: function (seq, unit, summary) {
      results.applyUnit(seq, unit, summary);
    },
    setResults: function (body, winners) {
      return results.setResults(body, winners);
    },
  },
  onResults: resultsArrived,
});
var state = picture.state;
results = makeResults({ state: state, cfg: cfg, t: t, fmt: fmt, $: $, setText: setText });
results.setResults(boot.items.results, boot.items.winners);
var setItems = picture.setItems;
var refreshItems = picture.refreshItems;
var refreshItemsSoon = picture.refreshItemsSoon;

// --- what is drawn: the frame, the header, the tiles, the text slides, the slides ----------

var renderFrame = makeFrame({
  state: state,
  T: T,
  t: t,
  fmt: fmt,
  $: $,
  setText: setText,
  fmtPct: fmtPct,
}).renderFrame;

var header = makeHeader({ state: state, cfg: cfg, conn: conn, t: t, fmt: fmt, $: $, setText: setText, now: now });
var currentStatus = header.currentStatus;
var updateStatus = header.updateStatus;
var renderMarks = header.renderMarks;

var renderTiles = makeTiles({
  state: state,
  cfg: cfg,
  T: T,
  setText: setText,
  fmtPct: fmtPct,
  timeLabel: timeLabel,
  now: now,
}).renderTiles;

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
  results: results,
});
var renderNotes = textSlides.renderNotes;
var renderRevotes = textSlides.renderRevotes;
var buildTicker = textSlides.buildTicker;
var ticker = textSlides.ticker;

var slides = makeSlides({
  state: state,
  cfg: cfg,
  conn: conn,
  $: $,
  el: el,
  notes: textSlides.notes,
  hasResults: results.available,
  renderTiles: renderTiles,
  timeout: timeout,
});
var display = slides.display;
var schedule = slides.schedule;

/* Results arrived (an update for a result or a decision, or the items' summary): the
 * figures beside the slides' titles and the results slide on screen now, not at the next
 * (throttled) render; the ticker's winners at the end of its crawl. */
function resultsArrived() {
  results.renderFacts();
  slides.resultsChanged();
  markDirty();
}

// --- rendering (throttled) -----------------------------------------------------------

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
    if (!ticker.moving || textSlides.tickerWithdrawn()) buildTicker();
  }
  slides.refreshCurrent();
  document.body.setAttribute("data-seq", String(state.seq));
  updateStatus();
}

// --- the live feed (feed.js: since=, prev, batch, resync, backoff) --------------------------

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
    update: picture.applyUpdate,
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

/* A snapshot replaces the picture, and every figure is drawn again from it. */
function applySnapshot(msg) {
  picture.applySnapshot(msg);
  slides.forgetFigures();
}

// --- the clock, each second --------------------------------------------------------------------

var ticks = 0;
function tick() {
  header.renderClock();
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
results.renderFacts();
lists.dirty = false;
document.body.setAttribute("data-seq", String(state.seq));
tick();
setInterval(tick, 1000);
feed.start();

var firstFigure = document.getElementById("first-figure");
var ready = fontsReady()
  .then(function () {
    var first = cfg.slides[cfg.first || 0].name;
    if (firstFigure && slides.isFigure(first)) {
      var fig = JSON.parse(firstFigure.textContent);
      firstFigure.parentNode.removeChild(firstFigure);
      return slides.draw(first, fig).then(function () {
        return display(first);
      });
    }
    return display(first);
  })
  .catch(function () {
    /* the frame and the tiles are on screen whatever the figure did */
  })
  .then(function () {
    results.renderFacts(true); // the fonts are in: fit the strip's titles to them
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
    slides.hold(name);
    return ready.then(function () {
      return display(name);
    });
  },
  resume: slides.resume,
  status: currentStatus,
  setClock: setClock,
};
