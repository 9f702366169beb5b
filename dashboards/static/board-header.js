/* The board's header: the feed's status (LIVE / RECONNECTING / STALE: no update for
 * `stale_s`, by real time whatever the clock's speed), the election clock's time and date
 * in the election's zone, and the TEST marks of a rehearsal (badge and watermark).
 */

/** The header over the page's `state`, `cfg`, `conn` (the feed's state), labels `t`,
 * `fmt` and helpers; `now()` is the election clock. */
export function makeHeader({ state, cfg, conn, t, fmt, $, setText, now }) {
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

  function renderClock() {
    var n = now();
    setText($("clock"), fmt.clockTime(n));
    setText($("date"), fmt.longDate(n));
  }

  function renderMarks() {
    $("watermark").hidden = !state.rehearsal;
    $("test-badge").hidden = !state.rehearsal;
  }

  return { currentStatus, updateStatus, renderClock, renderMarks };
}
