/* The live-feed client (contract §3), written once for the board, the phone and the desk.
 *
 * - Connects to `path` (/ws/live, /ws/live/editor) with `since=<seq>` once it knows a seq,
 *   so a reconnect gets only what was missed (or a snapshot when that is too old).
 * - `snapshot` sets the seq; `update` (alone or in a `batch`) must follow on: an update
 *   whose `prev` is not the last seq applied means something was missed, and the client
 *   leaves the socket and comes back at once with since=; `resync` is followed by a
 *   snapshot, which replaces everything; `clock` goes to the page's election clock.
 * - Any drop is followed by a reconnect with one backoff: 0.5 s doubling up to
 *   `backoffMaxMs`, each wait ×0.75–1.25 (jitter, so a restarted server is not hit by
 *   every screen at the same instant); any message received resets it.
 *
 * The page handles what arrives: `on.snapshot(msg)`, `on.update(u)` (each applied update,
 * in seq order), `on.settled()` (after a message's updates), `on.resync()`, `on.clock(msg)`,
 * `on.welcome(msg)`, `on.error(msg)`, `on.state("connecting" | "open" | "down")`,
 * `on.down()` (a drop, not a gap: e.g. read the snapshot over HTTP meanwhile).
 */

const BACKOFF_MIN_MS = 500;
const GAP_RECONNECT_MS = 100;

export class LiveFeed {
  constructor(path, { seq = null, backoffMaxMs = 10000, on = {} } = {}) {
    this.path = path;
    this.seq = seq;
    this.backoffMaxMs = backoffMaxMs;
    this.on = on;
    this.ws = null;
    this.open = false;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const since = this.seq === null || this.seq === undefined ? "" : `?since=${this.seq}`;
    return `${proto}//${location.host}${this.path}${since}`;
  }

  start() {
    this.stopped = false;
    if (!this.ws && !this.timer) this.connect();
  }

  /** Close for good (sign-out); `start()` opens again. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    this.leave();
    this.state("down");
  }

  /** Try again now, forgetting the backoff (the network is back, the page is visible). */
  resume() {
    this.attempt = 0;
    if (!this.stopped && !this.open) this.reconnect();
  }

  /** Leave the current socket and resume with since= soon (a gap, or a probe). */
  reconnect() {
    this.leave();
    this.schedule(true);
  }

  connect() {
    this.timer = null;
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.schedule(false);
      return;
    }
    this.ws = ws;
    this.state("connecting");
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.open = true;
      this.state("open");
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.receive(ev.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.open = false;
      this.call("down");
      this.schedule(false);
    };
    ws.onerror = () => {}; // onclose follows
  }

  leave() {
    const ws = this.ws;
    this.ws = null;
    this.open = false;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch (e) {
      /* already closed */
    }
  }

  schedule(soon) {
    this.state("down");
    if (this.timer || this.stopped) return;
    const wait =
      soon && this.attempt === 0
        ? GAP_RECONNECT_MS
        : Math.min(this.backoffMaxMs, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), wait);
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      return;
    }
    this.attempt = 0;
    switch (msg.type) {
      case "snapshot":
        this.seq = msg.seq;
        this.call("snapshot", msg);
        this.call("settled");
        break;
      case "update":
        if (this.apply(msg)) this.call("settled");
        break;
      case "batch":
        for (const u of msg.updates || []) if (!this.apply(u)) return;
        this.call("settled");
        break;
      default:
        this.call(msg.type, msg); // resync (a snapshot follows), clock, welcome, error
    }
  }

  /** Apply one update in order, or leave for since= when one was missed. */
  apply(u) {
    if (this.seq !== null && this.seq !== undefined && u.prev !== this.seq) {
      this.reconnect();
      return false;
    }
    this.seq = u.seq;
    this.call("update", u);
    return true;
  }

  state(name) {
    if (this.lastState === name) return;
    this.lastState = name;
    this.call("state", name);
  }

  call(name, arg) {
    const fn = this.on[name];
    if (fn) fn(arg);
  }
}
