/* My province's figures on the phone: read once from /api/snapshot, then kept current by
 * the public live feed (/ws/live, feed.js), and kept in localStorage for a reload without
 * network. Also the header's "who" and the editors' province select (a bureau's token
 * names its province; an editor chooses one).
 */
import { LiveFeed } from "./feed.js";
import { refreshMine } from "./report-lists.js";
import {
  $,
  CFG,
  clock,
  el,
  fmtInt,
  fmtPct,
  fmtWhen,
  LS,
  me,
  myProvince,
  provinceName,
  readJson,
  t,
  token,
} from "./report-page.js";

const LIVE_BACKOFF_MAX_MS = 30000; // the province's figures can wait; reports cannot

export const live = { entry: null };

export const feed = new LiveFeed("/ws/live", {
  backoffMaxMs: LIVE_BACKOFF_MAX_MS,
  on: {
    snapshot: applySnapshot,
    update: applyUpdate,
    clock: (msg) => clock.set(msg),
    down: () => loadSnapshot(), // the feed may be blocked: read the picture meanwhile
  },
});

export async function loadSnapshot() {
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
export function restoreProvince() {
  const p = myProvince();
  const entry = readJson(LS.entry);
  if (!live.entry && p && entry && entry.code === p.code) live.entry = entry;
}

/** Signed out: the next sign-in starts from a fresh snapshot. */
export function forgetProvince() {
  feed.seq = null;
  live.entry = null;
}

function applyUpdate(update) {
  const p = myProvince();
  if (p && update.province && update.province.code === p.code) {
    setEntry(update.province);
    refreshMine();
  }
}

export async function connectLive() {
  if (!token) return;
  if (feed.seq === null) await loadSnapshot();
  if (token) feed.start();
}

// --- drawing -----------------------------------------------------------------------------

export function renderWho() {
  const p = me && me.province;
  let who = "";
  if (p) who = `${p.code} · ${provinceName(p)}`;
  else if (me) who = t("role_editor");
  $("#who").textContent = who;
  $("#province-name").textContent = provinceName(myProvince()) || "—";
}

export function renderProvince() {
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

export function fillProvinceSelect() {
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
