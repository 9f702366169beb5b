/* The phone's delivery: what is queued in the outbox (report-outbox.js) goes to the server,
 * on the bureau socket (/ws/bureau) when it is up, else through POST /api/reports once the
 * socket has failed (blocked, or a proxy that never answers). Same reports, same ids: the
 * server is idempotent by id, so a resend after a lost ack is harmless (it answers with the
 * original seq). A socket that takes reports but stops answering is dropped, and
 * everything resent. Also the connection's state in the header (#conn).
 */
import { $, authHeaders, learnServerTime, said, t, token } from "./report-page.js";
import { lastSent, setMessage } from "./report-form.js";
import { refreshMine, renderOutbox } from "./report-lists.js";
import { Outbox } from "./report-outbox.js";
import { authRefused } from "./report-session.js";

const CLIENT = "mobile/1.0";
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 10000;
const WELCOME_TIMEOUT_MS = 10000;
const ACK_TIMEOUT_MS = 20000;
const RETRY_LATER_MS = 4000;

// --- the outbox, kept in IndexedDB (report-outbox.js) ------------------------------------

export const outbox = new Outbox();
export const save = (record) => outbox.save(record);
export const queued = () => outbox.queued();

function frameOf(record) {
  const frame = {
    type: "report",
    id: record.id,
    kind: record.kind,
    as_of: record.as_of,
    data: record.data,
  };
  if (record.province) frame.province = record.province;
  return frame;
}

async function settle(id, answer, via) {
  const record = outbox.get(id);
  net.inflight.delete(id);
  if (!record || record.state !== "queued") return; // a late duplicate answer
  const next = { ...record, via, note: null };
  if (answer.type === "ack") {
    Object.assign(next, { state: "sent", seq: answer.seq, duplicate: !!answer.duplicate });
  } else {
    next.state = "refused";
    next.error = {
      code: answer.code,
      field: answer.field,
      message: answer.message,
      message_vi: answer.message_vi,
      message_en: answer.message_en,
    };
  }
  await save(next);
  renderOutbox();
  refreshMine();
  if (id === lastSent) {
    // The answer to what was just tapped, next to the send button.
    if (next.state === "sent") setMessage(`${t("state_sent")} #${next.seq}`);
    else setMessage(`${t("state_refused")} ${said(next.error)}`, true);
  }
}

/** A refusal that says "not now" (database down, too fast): keep it queued, retry later. */
async function holdBack(id, answer) {
  const record = outbox.get(id);
  net.inflight.delete(id);
  if (!record || record.state !== "queued") return;
  await save({ ...record, note: said(answer) || null });
  renderOutbox();
  clearTimeout(net.retryTimer);
  net.retryTimer = setTimeout(pump, RETRY_LATER_MS + Math.random() * 1000);
}

// --- delivery: the bureau socket, and POST /api/reports when it cannot connect -----------

export const net = {
  ws: null,
  welcomed: false,
  failures: 0, // socket attempts in a row that never reached `welcome`
  backoff: RECONNECT_MIN_MS,
  timer: null,
  retryTimer: null,
  inflight: new Map(), // id -> when it was sent on the current socket
  httpBusy: false,
  httpOk: false,
  authFailed: false,
};

function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

export function connect() {
  clearTimeout(net.timer);
  net.timer = null;
  if (!token || net.authFailed || net.ws) return;
  let ws;
  try {
    ws = new WebSocket(wsUrl("/ws/bureau"));
  } catch (e) {
    socketGone(null, 1006);
    return;
  }
  net.ws = ws;
  net.welcomed = false;
  ws.helloTimer = setTimeout(() => dropSocket(ws), WELCOME_TIMEOUT_MS);
  ws.onopen = () => ws.send(JSON.stringify({ type: "hello", token, client: CLIENT }));
  ws.onmessage = (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    onBureauMessage(ws, msg);
  };
  ws.onclose = (event) => socketGone(ws, event.code);
  ws.onerror = () => {}; // a close event always follows
  renderConn();
}

/** Stop using a socket now (a dead network may take minutes to report the close). */
function dropSocket(ws) {
  if (!ws || net.ws !== ws) return;
  ws.onclose = ws.onmessage = ws.onopen = null;
  try {
    ws.close();
  } catch (e) {
    /* already closed */
  }
  socketGone(ws, 1006);
}

function socketGone(ws, code) {
  if (ws && net.ws !== ws) return;
  if (ws) clearTimeout(ws.helloTimer);
  const wasWelcomed = net.welcomed;
  net.ws = null;
  net.welcomed = false;
  net.inflight.clear();
  if (code === 4401) {
    authRefused();
    return;
  }
  if (!wasWelcomed) net.failures += 1;
  if (token && !net.authFailed) {
    const delay = net.backoff * (0.75 + Math.random() * 0.5);
    net.backoff = Math.min(net.backoff * 2, RECONNECT_MAX_MS);
    net.timer = setTimeout(connect, delay);
  }
  renderConn();
  pump();
}

function onBureauMessage(ws, msg) {
  if (msg.type === "welcome") {
    clearTimeout(ws.helloTimer);
    net.welcomed = true;
    net.failures = 0;
    net.backoff = RECONNECT_MIN_MS;
    if (msg.server_time) learnServerTime(msg.server_time);
    renderConn();
    pump();
  } else if (msg.type === "ack" && msg.id) {
    settle(msg.id, msg, "ws");
  } else if (msg.type === "error") {
    if (msg.code === "auth_failed") authRefused(msg.message);
    else if (msg.id && (msg.code === "unavailable" || msg.code === "rate_limited"))
      holdBack(msg.id, msg);
    else if (msg.id) settle(msg.id, msg, "ws");
  }
}

/** Send what is queued: on the socket when it is up, else over HTTP once it has failed. */
export function pump() {
  if (!token || net.authFailed) return;
  const waiting = queued();
  if (!waiting.length) return;
  if (net.ws && net.welcomed) {
    for (const record of waiting) {
      if (net.inflight.has(record.id)) continue;
      net.inflight.set(record.id, Date.now());
      net.ws.send(JSON.stringify(frameOf(record)));
    }
  } else if (net.failures > 0) {
    httpFlush();
  } else if (!net.ws && !net.timer) {
    connect();
  }
}

async function httpFlush() {
  if (net.httpBusy) return;
  net.httpBusy = true;
  try {
    for (const record of queued()) {
      if (net.welcomed || net.authFailed || !token) break;
      let res;
      let body = null;
      try {
        res = await fetch("/api/reports", {
          method: "POST",
          headers: { ...authHeaders(), "Content-Type": "application/json" },
          body: JSON.stringify(frameOf(record)),
          cache: "no-store",
        });
        body = await res.json();
      } catch (e) {
        net.httpOk = false; // unreachable, or not our server answering
        break;
      }
      if (!body || typeof body.type !== "string") {
        net.httpOk = false;
        break;
      }
      net.httpOk = true;
      if (body.type === "ack") {
        await settle(record.id, body, "http");
      } else if (body.code === "auth_failed") {
        authRefused(body.message);
        break;
      } else if (body.code === "unavailable" || body.code === "rate_limited") {
        await holdBack(record.id, body);
        break;
      } else {
        await settle(record.id, body, "http");
      }
    }
  } finally {
    net.httpBusy = false;
    renderConn();
  }
}

/** A socket that takes reports but stops answering is dropped, and everything resent. */
export function watchdog() {
  if (!net.ws || !net.welcomed) return;
  const now = Date.now();
  for (const sent of net.inflight.values()) {
    if (now - sent > ACK_TIMEOUT_MS) {
      dropSocket(net.ws);
      return;
    }
  }
}

/** Try the socket again at once (back online, the page shown again). */
export function reconnectBureau() {
  net.backoff = RECONNECT_MIN_MS;
  if (!net.ws) connect();
  pump();
}

/** Close the bureau socket and stop every timer of delivery (sign-out, refused token). */
export function closeBureau() {
  clearTimeout(net.timer);
  clearTimeout(net.retryTimer);
  net.timer = null;
  const ws = net.ws;
  if (ws) {
    ws.onclose = ws.onmessage = ws.onopen = null;
    try {
      ws.close();
    } catch (e) {
      /* already closed */
    }
  }
  net.ws = null;
  net.welcomed = false;
  net.inflight.clear();
}

/** The connection's state in the header: socket, HTTP, offline, refused. */
export function renderConn() {
  const node = $("#conn");
  let state = "connecting";
  if (!token) state = "none";
  else if (net.authFailed) state = "auth";
  else if (net.welcomed) state = "ws";
  else if (net.failures > 0 && net.httpOk) state = "http";
  else if (net.failures > 0) state = "offline";
  node.dataset.state = state;
  node.textContent = state === "none" ? "" : t(state === "offline" ? "conn_offline_resend" : `conn_${state}`);
  node.hidden = state === "none";
}
