/* The election clock on a page (contract §6): what "now" is for the board's header, the
 * phone's default `as_of` and the desk's time slider.
 *
 * The server says {clock, mode, speed}: in the page's config (key `clock`) and in the live
 * feeds' `{"type": "clock", ...}` message (after the first snapshot and whenever an editor
 * sets it). Between messages the page runs it forward itself:
 *   now = clock + speed × (real time elapsed since it was told)
 * `speed` 0 holds the replayed moment still; mode "live" is wall time (the server's, so a
 * phone whose own clock is wrong still offers the right time). Until the server has said
 * anything, the clock is this computer's wall time. Elapsed time is measured with
 * performance.now(), which no change of the computer's clock can move.
 */

export class ElectionClock {
  constructor(initial) {
    this.anchor = null; // {ms, at, speed, mode}
    this.listeners = [];
    if (initial) this.set(initial);
  }

  /** Take {clock, mode, speed} (a clock message, the config's `clock`). Returns whether it
   * was understood. */
  set(msg) {
    const ms = msg && Date.parse(msg.clock);
    if (!msg || Number.isNaN(ms)) return false;
    const mode = msg.mode === "replay" ? "replay" : "live";
    const speed = mode === "live" ? 1 : Math.max(0, Number(msg.speed) || 0);
    this.anchor = { ms, at: performance.now(), speed, mode, zone: isoOffset(msg.clock) };
    for (const fn of this.listeners) fn(this);
    return true;
  }

  /** The server's wall time (e.g. a `welcome`'s server_time): corrects a live clock for
   * this computer's error, and leaves a replay alone. */
  setServerTime(iso) {
    if (this.mode === "replay") return false;
    return this.set({ clock: iso, mode: "live", speed: 1 });
  }

  /** The election's "now", in epoch milliseconds. */
  now() {
    const a = this.anchor;
    if (!a) return Date.now();
    return a.ms + a.speed * (performance.now() - a.at);
  }

  get mode() {
    return this.anchor ? this.anchor.mode : "live";
  }

  get speed() {
    return this.anchor ? this.anchor.speed : 1;
  }

  /** The offset the server wrote on its last `clock` ("+07:00"), or null. */
  get offset() {
    return this.anchor ? this.anchor.zone : null;
  }

  /** Call `fn(clock)` whenever the server sets the clock. */
  onChange(fn) {
    this.listeners.push(fn);
  }
}

function isoOffset(iso) {
  const m = /([+-]\d\d:\d\d|Z)$/.exec(String(iso));
  return m ? (m[1] === "Z" ? "+00:00" : m[1]) : null;
}
