/* The correspondent's page /report (issue 5): sign in, report, never lose a report.
 *
 * Every report gets its uuid when "send" is tapped and is written to IndexedDB before
 * anything goes on the wire; it stays "queued" until the server answers it. The bureau
 * socket (/ws/bureau) is the normal road; when it cannot be opened (blocked, or a proxy
 * that never answers) the same reports, with the same ids, go through POST /api/reports.
 * The server is idempotent by id, so a resend after a lost ack is harmless: it answers
 * with the original seq. All text from users or the server goes in with textContent.
 */
import { ElectionClock } from "./clock.js";
import { LiveFeed } from "./feed.js";
import { makeFormat } from "./format.js";
import { makeLabels } from "./labels.js";
import { collect as collectReport, parseCount, parsePct } from "./report-checks.js";
import { Outbox } from "./report-outbox.js";

const BOOT = JSON.parse(document.getElementById("boot").textContent);
const CFG = BOOT.config;
const LABELS = BOOT.labels;
const KINDS = ["turnout", "completion", "revote", "security", "note"];
const CLIENT = "mobile/1.0";

const LS = {
  token: "votewire.report.token",
  me: "votewire.report.me",
  lang: "votewire.report.lang",
  kind: "votewire.report.kind",
  province: "votewire.report.province",
  entry: "votewire.report.entry", // last known figures of my province, for offline reloads
  mine: "votewire.report.mine",
};
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 10000;
const LIVE_BACKOFF_MAX_MS = 30000; // the province's figures can wait; reports cannot
const WELCOME_TIMEOUT_MS = 10000;
const ACK_TIMEOUT_MS = 20000;
const RETRY_LATER_MS = 4000;
const MY_REPORTS_LIMIT = 10;
const OUTBOX_SHOWN = 40;

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// --- language, numbers and times ---------------------------------------------------------

const asked = new URLSearchParams(location.search).get("lang");
let lang = asked || localStorage.getItem(LS.lang) || document.documentElement.lang || "vi";
if (!LABELS[lang]) lang = "vi";
let t = null;
let fmt = null;

function useLang(next) {
  lang = next;
  t = makeLabels(LABELS[lang], LABELS.vi);
  fmt = makeFormat({ locale: LABELS[lang]._locale, zone: CFG.zone, noData: "—" });
}
useLang(lang);

const fmtInt = (n) => fmt.int(n);
const fmtPct = (p) => fmt.pct(p);

/** The election clock (contract §6): the server's time, or the replayed moment. */
const clock = new ElectionClock(CFG.clock);
const nowMs = () => clock.now();
const learnServerTime = (iso) => clock.setServerTime(iso);

/** "YYYY-MM-DDTHH:MM" of a moment, in the election's zone. */
const zoneInput = (ms) => fmt.localIso(ms).slice(0, 16);

/** "14:05 23/05" of an ISO time, in the election's zone. */
function fmtWhen(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? "" : `${fmt.time(ms)} ${fmt.dayMonth(ms)}`;
}

const fmtDay = (iso) => fmt.date(iso);

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // pages served over plain http
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// --- who is signed in --------------------------------------------------------------------

let token = localStorage.getItem(LS.token);
let me = readJson(LS.me);

function readJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch (e) {
    return null;
  }
}

const isEditor = () => !!me && me.role !== "bureau";
const authHeaders = () => ({ Authorization: `Bearer ${token}` });

function myProvince() {
  if (me && me.province) return me.province;
  const code = $("#province-select").value || localStorage.getItem(LS.province);
  return CFG.provinces.find((p) => p.code === code) || null;
}

// --- the outbox, kept in IndexedDB (report-outbox.js) ------------------------------------

const outbox = new Outbox();
const save = (record) => outbox.save(record);
const byCreated = Outbox.byCreated;
const queued = () => outbox.queued();

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
    next.error = { code: answer.code, field: answer.field, message: answer.message };
  }
  await save(next);
  renderOutbox();
  refreshMine();
  if (id === lastSent) {
    // The answer to what was just tapped, next to the send button.
    if (next.state === "sent") setMessage(`${t("state_sent")} #${next.seq}`);
    else setMessage(`${t("state_refused")} ${next.error.message || ""}`, true);
  }
}

/** A refusal that says "not now" (database down, too fast): keep it queued, retry later. */
async function holdBack(id, answer) {
  const record = outbox.get(id);
  net.inflight.delete(id);
  if (!record || record.state !== "queued") return;
  await save({ ...record, note: answer.message || null });
  renderOutbox();
  clearTimeout(net.retryTimer);
  net.retryTimer = setTimeout(pump, RETRY_LATER_MS + Math.random() * 1000);
}

// --- delivery: the bureau socket, and POST /api/reports when it cannot connect -----------

const net = {
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

function connect() {
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
function pump() {
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
function watchdog() {
  if (!net.ws || !net.welcomed) return;
  const now = Date.now();
  for (const sent of net.inflight.values()) {
    if (now - sent > ACK_TIMEOUT_MS) {
      dropSocket(net.ws);
      return;
    }
  }
}

function reconnectNow() {
  net.backoff = RECONNECT_MIN_MS;
  if (!net.ws) connect();
  pump();
  if (!feed.open) feed.resume();
}

function authRefused(message) {
  net.authFailed = true;
  closeSockets();
  renderConn();
  signOut({ keepMessage: message || t("conn_auth"), force: true });
}

function closeSockets() {
  clearTimeout(net.timer);
  clearTimeout(net.retryTimer);
  net.timer = null;
  feed.stop();
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

// --- my province: the snapshot, then the public live feed (feed.js) ---------------------

const live = { entry: null };
let mine = [];
let mineTimer = null;

const feed = new LiveFeed("/ws/live", {
  backoffMaxMs: LIVE_BACKOFF_MAX_MS,
  on: {
    snapshot: applySnapshot,
    update: applyUpdate,
    clock: (msg) => clock.set(msg),
    down: () => loadSnapshot(), // the feed may be blocked: read the picture meanwhile
  },
});

async function loadSnapshot() {
  try {
    const res = await fetch("/api/snapshot", { cache: "no-store" });
    if (!res.ok) return false;
    const snap = await res.json();
    if (!feed.open) feed.seq = snap.seq; // the feed resumes after it with since=
    applySnapshot(snap);
    return true;
  } catch (e) {
    return false;
  }
}

function applySnapshot(snap) {
  const p = myProvince();
  setEntry(p ? (snap.provinces || []).find((e) => e.code === p.code) || null : null);
}

function setEntry(entry) {
  live.entry = entry;
  if (entry) localStorage.setItem(LS.entry, JSON.stringify(entry));
  renderProvince();
}

/** What was last known, shown until the network answers (e.g. a reload while offline). */
function restoreKnown() {
  const p = myProvince();
  const entry = readJson(LS.entry);
  if (!live.entry && p && entry && entry.code === p.code) live.entry = entry;
  if (!mine.length) mine = readJson(LS.mine) || [];
}

function applyUpdate(update) {
  const p = myProvince();
  if (p && update.province && update.province.code === p.code) {
    setEntry(update.province);
    refreshMine();
  }
}

async function connectLive() {
  if (!token) return;
  if (feed.seq === null) await loadSnapshot();
  if (token) feed.start();
}

function refreshMine() {
  clearTimeout(mineTimer);
  mineTimer = setTimeout(loadMine, 300);
}

async function loadMine() {
  if (!token) return;
  try {
    const res = await fetch(`/api/my/reports?limit=${MY_REPORTS_LIMIT}`, {
      headers: authHeaders(),
      cache: "no-store",
    });
    if (!res.ok) return;
    mine = (await res.json()).reports || [];
    localStorage.setItem(LS.mine, JSON.stringify(mine));
    renderMine();
  } catch (e) {
    /* offline: keep what is shown */
  }
}

// --- rendering ---------------------------------------------------------------------------

function applyLang() {
  document.documentElement.lang = lang;
  for (const node of $$("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of $$("[data-i18n-placeholder]"))
    node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of $$("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  clearErrors(); // their text was in the other language
  setMessage("");
  document.title = `${t("app_title")} · votewire`;
  fillProvinceSelect();
  renderAll();
}

function renderAll() {
  renderWho();
  renderConn();
  renderOutbox();
  renderProvince();
  renderMine();
  updateHints();
}

function provinceName(p) {
  if (!p) return "";
  return lang === "vi" || !p.name_en ? p.name : p.name_en;
}

function renderWho() {
  const p = me && me.province;
  let who = "";
  if (p) who = `${p.code} · ${provinceName(p)}`;
  else if (me) who = t("role_editor");
  $("#who").textContent = who;
  $("#province-name").textContent = provinceName(myProvince()) || "—";
}

function renderConn() {
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

function summary(kind, data) {
  const d = data || {};
  switch (kind) {
    case "turnout":
      return d.voted !== undefined ? t("n_voters_count", { n: fmtInt(d.voted) }) : fmtPct(d.turnout_pct);
    case "completion": {
      let s = t("n_areas", { done: fmtInt(d.areas_done), total: fmtInt(d.areas_total) });
      if (d.units_total !== undefined)
        s += ` · ${t("n_units", { done: fmtInt(d.units_done), total: fmtInt(d.units_total) })}`;
      return s;
    }
    case "revote":
      return `${d.unit || ""} · ${t(`level_${d.level}`)}`;
    case "security":
      return `${t(`severity_${d.severity}`)} · ${d.text || ""}`;
    default:
      return d.text || "";
  }
}

function reportRow(kind, asOf, data, province) {
  const li = el("li", "item");
  const top = el("div", "top");
  const name = t(`kind_${kind}`) + (province ? ` · ${province}` : "");
  top.append(el("span", "kind-name", name), el("span", "when", fmtWhen(asOf)));
  li.append(top);
  const what = el("div", "what", summary(kind, data));
  if (data && data.correction) what.prepend(el("span", "badge", t("correction")));
  li.append(what);
  return li;
}

function renderOutbox() {
  const list = $("#outbox-list");
  const records = [...outbox.values()].sort(byCreated).reverse().slice(0, OUTBOX_SHOWN);
  list.replaceChildren();
  for (const r of records) {
    const li = reportRow(r.kind, r.as_of, r.data, r.province);
    li.dataset.id = r.id;
    li.dataset.state = r.state;
    li.classList.add(`state-${r.state}`);
    const status = el("div", "status");
    status.append(el("span", "state", t(`state_${r.state}`)));
    if (r.state === "sent") {
      status.append(el("span", "seq", `#${r.seq}`));
      if (r.via === "http") status.append(el("span", "via", t("via_http")));
    }
    li.append(status);
    if (r.state === "queued" && r.note) li.append(el("p", "note", r.note));
    if (r.state === "refused" && r.error) {
      li.append(el("p", "refusal", r.error.message || r.error.code));
      if (r.error.code === "regression" && r.kind === "turnout") {
        if (r.correctedBy) {
          li.append(el("p", "note", t("resent_as_correction")));
        } else {
          const button = el("button", "secondary correction", t("send_as_correction"));
          button.type = "button";
          button.addEventListener("click", () => sendAsCorrection(r.id));
          li.append(button);
        }
      }
    }
    list.append(li);
  }
  $("#outbox-empty").hidden = outbox.size > 0;
  const n = queued().length;
  $("#queued-count").textContent = n ? t("queued_count", { n }) : "";
  $("#clear-sent").hidden = ![...outbox.values()].some((r) => r.state !== "queued");
}

function renderProvince() {
  renderWho();
  const e = live.entry;
  const set = (id, text) => {
    $(id).textContent = text;
  };
  if (!e || e.voted === null || e.voted === undefined) {
    set("#p-turnout", t("no_data"));
    set("#p-voted", "");
    set("#p-as-of", "");
  } else {
    set("#p-turnout", fmtPct(e.turnout_pct));
    set("#p-voted", t("voted_of", { voted: fmtInt(e.voted), registered: fmtInt(e.registered) }));
    set("#p-as-of", t("as_of_at", { t: fmtWhen(e.as_of) }));
  }
  set("#p-areas", e && e.areas_total != null ? `${fmtInt(e.areas_done)} / ${fmtInt(e.areas_total)}` : "—");
  set("#p-revotes", e ? fmtInt(e.revote_units || 0) : "—");
  set("#p-security", e && e.security_level ? t(`severity_${e.security_level}`) : "—");
  set("#p-last", e && e.last_report_at ? fmtWhen(e.last_report_at) : "—");
  $("#p-security").dataset.level = (e && e.security_level) || "";
}

function renderMine() {
  const list = $("#my-reports");
  list.replaceChildren();
  for (const r of mine) {
    const li = reportRow(r.kind, r.as_of, r.data, isEditor() ? r.province : null);
    li.dataset.id = r.id;
    const status = el("div", "status");
    status.append(el("span", "seq", `#${r.seq}`));
    if (r.audience === "internal") status.append(el("span", "via", t("audience_internal")));
    if (r.retracted) status.append(el("span", "state", t("retracted")));
    li.append(status);
    list.append(li);
  }
  $("#mine-empty").hidden = mine.length > 0;
}

function fillProvinceSelect() {
  const select = $("#province-select");
  const current = select.value || localStorage.getItem(LS.province) || "";
  select.replaceChildren(el("option", null, "—"));
  select.firstChild.value = "";
  for (const p of CFG.provinces) {
    const option = el("option", null, `${p.code} · ${provinceName(p)}`);
    option.value = p.code;
    select.append(option);
  }
  select.value = current;
}

// --- the form ----------------------------------------------------------------------------

let lastSent = null; // the id of the last report tapped "send" on this page
let kind = KINDS.includes(localStorage.getItem(LS.kind)) ? localStorage.getItem(LS.kind) : "turnout";
const form = () => $("#report-form");
const field = (name) => form().elements.namedItem(name);
const value = (name) => {
  const f = field(name);
  return f ? String(f.value).trim() : "";
};
const radio = (name) => {
  const f = form().querySelector(`input[name="${name}"]:checked`);
  return f ? f.value : "";
};

function selectKind(next) {
  kind = next;
  localStorage.setItem(LS.kind, kind);
  for (const b of $$(".kind")) b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
  for (const fs of $$(".kind-form")) {
    fs.hidden = fs.dataset.for !== kind;
    fs.disabled = fs.hidden;
  }
  clearErrors();
  setMessage("");
}

function setTurnoutMode() {
  const mode = radio("mode") || "count";
  for (const f of $$("[data-mode]")) f.hidden = f.dataset.mode !== mode;
  updateHints();
}

let asOfTyped = false; // the bureau changed the moment by hand: a clock message leaves it

/** The form's moment: the election clock's now, on the minute (accepted as offered, also
 * during a replay). */
function resetAsOf() {
  const local = zoneInput(Math.floor(nowMs() / 60000) * 60000);
  field("as_of_date").value = local.slice(0, 10);
  field("as_of_time").value = local.slice(11, 16);
  asOfTyped = false;
}

function registeredDefault() {
  const p = myProvince();
  if (!p) return null;
  if (p.registered) return p.registered;
  const cfg = CFG.provinces.find((x) => x.code === p.code);
  return cfg && cfg.registered ? cfg.registered : null;
}

function updateHints() {
  const reg = parseCount(value("registered") || "") || registeredDefault();
  const voted = parseCount(value("voted") || "");
  const pct = parsePct(value("turnout_pct") || "");
  $('[data-hint="voted"]').textContent =
    voted !== null && reg ? t("derived_pct", { pct: fmtPct((voted / reg) * 100) }) : "";
  $('[data-hint="turnout_pct"]').textContent =
    pct !== null && pct <= 100 && reg ? t("derived_voted", { n: fmtInt(Math.round((pct * reg) / 100)) }) : "";
  const regInput = field("registered");
  const def = registeredDefault();
  regInput.placeholder = def ? t("registered_default", { n: fmtInt(def) }) : "";
}

/** The report's data from the form, and the errors the contract would answer. */
function collect() {
  return collectReport(kind, {
    value,
    radio,
    tags: () => $$('input[name="tags"]:checked', form()).map((c) => c.value),
    t,
    fmt,
    CFG,
    registeredDefault,
    nowMs,
    isEditor,
  });
}

function clearErrors() {
  for (const node of $$("[data-err]")) node.textContent = "";
  for (const node of $$("[aria-invalid]", form())) node.removeAttribute("aria-invalid");
}

function showErrors(errors) {
  clearErrors();
  let first = null;
  for (const [name, message] of Object.entries(errors)) {
    const slot = $(`[data-err="${name}"]`);
    if (slot) slot.textContent = message;
    const inputs = name === "as_of" ? [field("as_of_time"), field("as_of_date")] : [field(name)];
    for (const input of inputs) {
      if (!input || !input.setAttribute) continue; // a group of radios or checkboxes
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  if (first && first.focus) first.focus();
}

function setMessage(text, isError) {
  const node = $("#form-msg");
  node.textContent = text;
  node.classList.toggle("error", !!isError);
}

function resetKindFields() {
  const fs = $(`.kind-form[data-for="${kind}"]`);
  for (const input of $$("input[type=text], input:not([type]), input[inputmode], textarea", fs))
    input.value = "";
  for (const box of $$('input[type="checkbox"]', fs)) box.checked = false;
  for (const select of $$('select[name="level"], select[name="reason"]', fs)) select.value = "";
  updateHints();
}

async function submitReport(event) {
  event.preventDefault();
  const { data, asOf, province, errors } = collect();
  if (Object.keys(errors).length) {
    showErrors(errors);
    setMessage(t("fix_fields"), true);
    return;
  }
  clearErrors();
  const record = {
    id: newId(),
    kind,
    as_of: asOf,
    data,
    province: province || null,
    created: Date.now(),
    state: "queued",
  };
  await save(record); // on the phone before anything goes on the wire
  lastSent = record.id;
  if (province) localStorage.setItem(LS.province, province);
  resetKindFields();
  resetAsOf();
  setMessage(t("saved"));
  renderOutbox();
  pump();
}

async function sendAsCorrection(id) {
  const old = outbox.get(id);
  if (!old || old.correctedBy) return;
  const record = {
    id: newId(),
    kind: old.kind,
    as_of: old.as_of,
    data: { ...old.data, correction: true },
    province: old.province || null,
    created: Date.now(),
    state: "queued",
    correctionOf: old.id,
  };
  await save(record);
  await save({ ...old, correctedBy: record.id });
  renderOutbox();
  pump();
}

async function clearSent() {
  await outbox.clearSent();
  renderOutbox();
}

// --- sign-in, sign-out -------------------------------------------------------------------

function show(signedIn) {
  $("#signin").hidden = signedIn;
  $("#app").hidden = !signedIn;
}

async function checkToken(candidate) {
  try {
    const res = await fetch("/api/me", {
      headers: { Authorization: `Bearer ${candidate}` },
      cache: "no-store",
    });
    const body = await res.json();
    if (res.ok) return { me: body };
    if (body && body.code === "auth_failed") return { refused: body.message };
    return { offline: true };
  } catch (e) {
    return { offline: true };
  }
}

async function signIn(candidate) {
  const msg = $("#signin-msg");
  msg.textContent = t("signin_checking");
  msg.classList.remove("error");
  const result = await checkToken(candidate);
  if (result.refused) {
    msg.textContent = result.refused;
    msg.classList.add("error");
    show(false);
    return;
  }
  token = candidate;
  localStorage.setItem(LS.token, token);
  net.authFailed = false;
  if (result.me) {
    me = result.me;
    localStorage.setItem(LS.me, JSON.stringify(me));
    learnServerTime(me.server_time);
  }
  msg.textContent = result.offline ? t("signin_offline") : "";
  start();
}

function signOut({ keepMessage = "", force = false } = {}) {
  const n = queued().length;
  if (!force && n && !window.confirm(t("signout_confirm", { n }))) return;
  closeSockets();
  token = null;
  me = null;
  feed.seq = null;
  live.entry = null;
  mine = [];
  for (const key of [LS.token, LS.me, LS.entry, LS.mine]) localStorage.removeItem(key);
  $("#token-input").value = "";
  const msg = $("#signin-msg");
  msg.textContent = keepMessage;
  msg.classList.toggle("error", !!keepMessage);
  show(false);
  renderConn();
}

function start() {
  show(true);
  $("#province-field").hidden = !isEditor();
  net.authFailed = false;
  net.failures = 0;
  restoreKnown();
  renderAll();
  resetAsOf();
  connect();
  connectLive();
  loadMine();
  pump();
}

/** Refresh who the stored token belongs to (it may have been revoked meanwhile). */
async function recheck() {
  const result = await checkToken(token);
  if (result.refused) authRefused(result.refused);
  else if (result.me) {
    me = result.me;
    localStorage.setItem(LS.me, JSON.stringify(me));
    learnServerTime(me.server_time);
    $("#province-field").hidden = !isEditor();
    renderAll();
    resetAsOf();
  }
}

// --- wiring ------------------------------------------------------------------------------

async function main() {
  $("#rehearsal").hidden = !CFG.rehearsal;
  for (const b of $$(".kind")) b.addEventListener("click", () => selectKind(b.dataset.kind));
  for (const r of $$('input[name="mode"]')) r.addEventListener("change", setTurnoutMode);
  for (const name of ["voted", "turnout_pct", "registered"])
    field(name).addEventListener("input", updateHints);
  $("#province-select").addEventListener("change", () => {
    localStorage.setItem(LS.province, $("#province-select").value);
    live.entry = null;
    loadSnapshot(); // the new province's figures, read once; the feed keeps them current
    renderProvince();
    updateHints();
  });
  $("#as-of-now").addEventListener("click", resetAsOf);
  for (const name of ["as_of_date", "as_of_time"])
    field(name).addEventListener("input", () => {
      asOfTyped = true;
    });
  clock.onChange(() => {
    if (!asOfTyped) resetAsOf(); // a replay set, or the server's time learnt
  });
  form().addEventListener("submit", submitReport);
  $("#clear-sent").addEventListener("click", clearSent);
  $("#signout").addEventListener("click", () => signOut());
  $("#signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const candidate = $("#token-input").value.trim();
    if (candidate) signIn(candidate);
  });
  $("#lang-switch").addEventListener("click", () => {
    useLang(lang === "vi" ? "en" : "vi");
    localStorage.setItem(LS.lang, lang);
    applyLang();
  });
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && token) reconnectNow();
  });
  setInterval(watchdog, 5000);

  selectKind(kind);
  setTurnoutMode();
  applyLang();
  await outbox.load();
  renderOutbox();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/report-sw.js", { scope: "/report" }).catch(() => {});
  }

  const fromLink = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (fromLink) {
    history.replaceState(null, "", location.pathname + location.search);
    await signIn(decodeURIComponent(fromLink[1]));
  } else if (token) {
    start();
    recheck();
  } else {
    show(false);
  }
  document.body.dataset.ready = "true";
}

main();
