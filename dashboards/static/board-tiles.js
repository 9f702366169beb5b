/* The board's tile slide: 63 squares coloured on the figures' scale (viridis, colour-blind
 * safe, over the range the figures use), each with its turnout and the time of its
 * figure. A tile is stale when its figure is older than `tile_stale_s` by the election
 * clock; a province without a figure is a grey "no data" tile, never 0 %.
 */

/** `renderTiles()` over the page's `state`, `cfg`, labels `T` and helpers; `now()` is the
 * election clock. */
export function makeTiles({ state, cfg, T, setText, fmtPct, timeLabel, now }) {
  // --- colours: the figures' scale (viridis, colour-blind safe) -----------------------

  var STOPS = cfg.colors.map(function (c) {
    return c
      .slice(c.indexOf("(") + 1, -1)
      .split(",")
      .map(Number);
  });

  function colorRange() {
    var low = null;
    for (var code in state.provinces) {
      var v = state.provinces[code].turnout_pct;
      if (v != null && (low == null || v < low)) low = v;
    }
    if (low == null) return [0, 100];
    return [Math.max(0, Math.min(Math.floor(low / 10) * 10, 90)), 100];
  }

  function turnoutColor(v, range) {
    var share = range[1] <= range[0] ? 0 : Math.min(1, Math.max(0, (v - range[0]) / (range[1] - range[0])));
    var x = share * (STOPS.length - 1);
    var i = Math.min(STOPS.length - 2, Math.floor(x));
    var f = x - i;
    var a = STOPS[i], b = STOPS[i + 1];
    var rgb = [0, 1, 2].map(function (k) {
      return Math.round(a[k] + (b[k] - a[k]) * f);
    });
    return rgb;
  }

  function inkOn(rgb) {
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] > 140 ? cfg.ink : "#ffffff";
  }

  // --- the tiles ----------------------------------------------------------------------------

  var tiles = {};
  Array.prototype.forEach.call(document.querySelectorAll(".tile"), function (node) {
    tiles[node.getAttribute("data-code")] = {
      el: node,
      pct: node.querySelector(".tile-pct"),
      time: node.querySelector(".tile-time"),
      fill: null,
    };
  });

  function renderTiles() {
    var range = colorRange();
    var clockNow = now(); // a figure goes stale by the election clock
    for (var code in tiles) {
      var tile = tiles[code];
      var p = state.provinces[code] || {};
      var v = p.turnout_pct;
      var fill, ink, stale = false;
      if (v == null) {
        fill = cfg.no_data_color;
        ink = cfg.ink;
        setText(tile.pct, T.no_data_short);
        setText(tile.time, "");
      } else {
        var rgb = turnoutColor(v, range);
        fill = "rgb(" + rgb.join(", ") + ")";
        ink = inkOn(rgb);
        setText(tile.pct, fmtPct(v, cfg.tile_digits));
        setText(tile.time, timeLabel(p.as_of));
        var at = Date.parse(p.as_of);
        stale = !isNaN(at) && clockNow - at > cfg.tile_stale_s * 1000;
      }
      if (tile.fill !== fill) {
        tile.fill = fill;
        tile.el.style.background = fill;
        tile.el.style.color = ink;
      }
      tile.el.classList.toggle("nodata", v == null);
      tile.el.classList.toggle("stale", stale);
    }
  }

  return { renderTiles };
}
