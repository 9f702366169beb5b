/* The board's frame, beside the slides: the national turnout as the server sends it (the
 * picture's `national` block; nothing national is computed here), the voters, the
 * provinces reporting, the areas done, and the moment of the latest figure ("as of").
 */

/** `renderFrame()` over the page's `state`, labels (`T`, `t`), `fmt` and helpers. */
export function makeFrame({ state, T, t, fmt, $, setText, fmtPct }) {
  var fmtInt = fmt.int;

  /* Shrinks a one-line figure's type until it fits its box (a long "99,60 %"). */
  function fitText(node) {
    node.style.fontSize = "";
    var room = node.clientWidth;
    if (room && node.scrollWidth > room) {
      var size = parseFloat(getComputedStyle(node).fontSize);
      node.style.fontSize = Math.floor((size * room) / node.scrollWidth) + "px";
    }
  }

  function asOfLabel(ms) {
    if (ms == null || isNaN(ms)) return T.as_of_unknown;
    return t("as_of", { time: fmt.time(ms), date: fmt.date(ms) });
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

  return { renderFrame };
}
