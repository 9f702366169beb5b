/* What every part of the phone page (/report) shares: its config and labels from #boot,
 * the keys it keeps in localStorage, small DOM helpers, the language (labels `t`, numbers
 * and times `fmt`), the election clock, and who is signed in (`token`, `me`).
 *
 * `lang`, `t`, `fmt`, `token` and `me` change while the page runs (a language switch, a
 * sign-in): they are exported as live bindings, read where they are used, and set only
 * through useLang() and setToken()/setMe() here.
 */
import { ElectionClock } from "./clock.js";
import { makeFormat } from "./format.js";
import { makeLabels } from "./labels.js";

const BOOT = JSON.parse(document.getElementById("boot").textContent);
export const CFG = BOOT.config;
const LABELS = BOOT.labels;
export const KINDS = ["turnout", "completion", "result", "revote", "security", "note"];

export const LS = {
  token: "votewire.report.token",
  me: "votewire.report.me",
  lang: "votewire.report.lang",
  kind: "votewire.report.kind",
  province: "votewire.report.province",
  entry: "votewire.report.entry", // last known figures of my province, for offline reloads
  mine: "votewire.report.mine",
  units: "votewire.report.units", // + ".<province code>": that province's units, for offline use
  unit: "votewire.report.unit", // "<province code>/<unit>": the unit last chosen for a result
};

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// --- language, numbers and times ---------------------------------------------------------

const asked = new URLSearchParams(location.search).get("lang");
export let lang = asked || localStorage.getItem(LS.lang) || document.documentElement.lang || "vi";
if (!LABELS[lang]) lang = "vi";

/** A server's refusal in the page's language (the contract's `message` carries both). */
export function said(error) {
  if (!error) return "";
  const own = lang === "en" ? error.message_en : error.message_vi;
  return own || error.message || error.code || "";
}
export let t = null;
export let fmt = null;

export function useLang(next) {
  lang = next;
  t = makeLabels(LABELS[lang], LABELS.vi);
  fmt = makeFormat({ locale: LABELS[lang]._locale, zone: CFG.zone, noData: "—" });
}
useLang(lang);

/** A report kind's name; the result's is the phone's own (the board never shows it). */
export const kindLabel = (kind) => (kind === "result" ? t("rform_kind") : t(`kind_${kind}`));

export const fmtInt = (n) => fmt.int(n);
export const fmtPct = (p) => fmt.pct(p);

/** The election clock (contract §6): the server's time, or the replayed moment. */
export const clock = new ElectionClock(CFG.clock);
export const nowMs = () => clock.now();
export const learnServerTime = (iso) => clock.setServerTime(iso);

/** "YYYY-MM-DDTHH:MM" of a moment, in the election's zone. */
export const zoneInput = (ms) => fmt.localIso(ms).slice(0, 16);

/** "14:05 23/05" of an ISO time, in the election's zone. */
export function fmtWhen(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? "" : `${fmt.time(ms)} ${fmt.dayMonth(ms)}`;
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // pages served over plain http
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// --- who is signed in --------------------------------------------------------------------

export let token = localStorage.getItem(LS.token);
export let me = readJson(LS.me);

export function setToken(value) {
  token = value;
}

export function setMe(value) {
  me = value;
}

export function readJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch (e) {
    return null;
  }
}

export const isEditor = () => !!me && me.role !== "bureau";
export const authHeaders = () => ({ Authorization: `Bearer ${token}` });

export function myProvince() {
  if (me && me.province) return me.province;
  const code = $("#province-select").value || localStorage.getItem(LS.province);
  return CFG.provinces.find((p) => p.code === code) || null;
}

export function provinceName(p) {
  if (!p) return "";
  return lang === "vi" || !p.name_en ? p.name : p.name_en;
}
