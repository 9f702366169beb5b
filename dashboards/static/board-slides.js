/* The board's slides: which one is on screen, its turn (`seconds` each, in the config's
 * order; the notes slide sits out while it has nothing to show, the results slides until a
 * unit has a public result), the dots under them (one per slide in the rotation), and the
 * Plotly figures drawn into the figure slides. A figure is fetched from
 * /api/board/figure/<name> and redrawn with Plotly.react into the same element, only for
 * the slide on screen (the others when their turn comes), at most once per `figure_ms`
 * for the turnout's and once per `results_ms` for the results' — a result redraws the
 * results slide on screen at once (`resultsChanged`), not at the next render; while the
 * server is away the old figure stays.
 */

/** The slides over the page's `state` and `cfg`; `conn.open` says the feed is up, `notes()`
 * lists the public notes, `hasResults()` says whether a unit has a public result,
 * `renderTiles()` draws the tile slide, `timeout(ms)` resolves after ms. */
export function makeSlides({ state, cfg, conn, $, el, notes, hasResults, renderTiles, timeout }) {
  // --- figures (Plotly) --------------------------------------------------------------------

  var isResult = {};
  cfg.result_slides.forEach(function (name) {
    isResult[name] = true;
  });

  var figs = {};
  cfg.figure_slides.forEach(function (name) {
    var div = $("plot-" + name);
    var size = isResult[name] ? cfg.results_figure_size : cfg.figure_size;
    div.style.width = size[0] + "px";
    div.style.height = size[1] + "px";
    figs[name] = { div: div, seq: -1, busy: null, last: 0, timer: null, results: !!isResult[name] };
  });

  /* The seq a figure must show: the last results (or turnout) change the board has. */
  function wanted(f) {
    return f.results ? state.results.seq : state.turnoutSeq;
  }

  function figureUrl(name) {
    var url = "/api/board/figure/" + name + "?lang=" + encodeURIComponent(cfg.lang) + "&layout=" + cfg.layout;
    return figs[name].results ? url + "&seats=" + encodeURIComponent(cfg.seats) : url;
  }

  function draw(name, fig) {
    var f = figs[name];
    if (!window.Plotly) return Promise.resolve();
    return Plotly.react(f.div, fig.data, fig.layout, cfg.plotly).then(function () {
      var meta = fig.layout && fig.layout.meta;
      f.seq = meta && typeof meta.seq === "number" ? meta.seq : wanted(f);
      f.div.setAttribute("data-seq", String(f.seq));
    });
  }

  /* Draw `name` again when the picture moved on; at most once per figure_ms unless
   * `force` (the slide is about to be shown). While the server is away the old figure stays. */
  function refreshFigure(name, force) {
    var f = figs[name];
    if (f.busy) {
      f.again = true; // asked while a fetch is out: the answer may already be behind
      return f.busy;
    }
    if (f.results && !hasResults()) return Promise.resolve(); // nothing to draw yet
    if (f.seq >= 0 && f.seq >= wanted(f)) return Promise.resolve();
    if (f.seq >= 0 && !conn.open) return Promise.resolve();
    var every = f.results ? cfg.results_ms : cfg.figure_ms;
    var wait = f.last + every - Date.now();
    if (!force && wait > 0) {
      refreshLater(name, wait);
      return Promise.resolve();
    }
    f.last = Date.now();
    f.again = false;
    f.busy = fetch(figureUrl(name), { cache: "no-store" })
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
        if ((f.seq < wanted(f) || f.again) && conn.open) refreshLater(name, every);
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

  /* A new snapshot: every figure is drawn again from it. */
  function forgetFigures() {
    for (var name in figs) figs[name].seq = -1;
  }

  /* The figure on screen, if the slide on screen is one (after a render). */
  function refreshCurrent() {
    if (figs[rot.current]) refreshFigure(rot.current, false);
  }

  /* New results: the results slide on screen is drawn again now (at most once per
   * `results_ms`), and the dots follow the slides in the rotation. */
  function resultsChanged() {
    if (figs[rot.current] && figs[rot.current].results) refreshFigure(rot.current, false);
    renderDots();
  }

  /* Whether `name` is a figure slide. */
  function isFigure(name) {
    return !!figs[name];
  }

  // --- rotation ----------------------------------------------------------------------------

  var slideEls = {};
  Array.prototype.forEach.call(document.querySelectorAll(".slide"), function (node) {
    slideEls[node.getAttribute("data-slide")] = node;
  });
  var first = cfg.first || 0;
  var rot = { i: first, timer: null, paused: false, current: cfg.slides[first].name };

  var dots = $("dots");
  cfg.slides.forEach(function () {
    dots.appendChild(el("span", "dot"));
  });

  function renderDots() {
    Array.prototype.forEach.call(dots.children, function (d, i) {
      d.classList.toggle("on", i === rot.i);
      d.hidden = i !== rot.i && !available(cfg.slides[i].name);
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
   * note nor an approved photo), the results slides while no unit has a public result;
   * every other slide always shows, empty or not. */
  function available(name) {
    if (isResult[name]) return hasResults();
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

  /* Stop rotating, on `name` once it is displayed (for tests and the desk's preview). */
  function hold(name) {
    rot.paused = true;
    clearTimeout(rot.timer);
    document.body.classList.add("still");
    var i = cfg.slides.map(function (s) { return s.name; }).indexOf(name);
    if (i >= 0) rot.i = i;
  }

  function resume() {
    rot.paused = false;
    document.body.classList.remove("still");
    schedule();
  }

  return {
    draw,
    isFigure,
    refreshCurrent,
    resultsChanged,
    forgetFigures,
    display,
    schedule,
    hold,
    resume,
    current: function () {
      return rot.current;
    },
  };
}
