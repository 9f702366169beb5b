/* Who uses the phone page, and the page drawn for them: sign-in with a token (typed, or
 * from a link), checked against /api/me when the network allows; start (connect, read my
 * province and my reports); the token's recheck on reload (it may have been revoked);
 * sign-out, by hand or when the server refuses the token; and drawing everything again,
 * e.g. in the other language.
 */
import { closeBureau, connect, net, pump, queued, renderConn } from "./report-delivery.js";
import { clearErrors, resetAsOf, setMessage, updateHints } from "./report-form.js";
import { forgetMine, loadMine, renderMine, renderOutbox, restoreMine } from "./report-lists.js";
import { renderResult } from "./report-result.js";
import {
  $,
  $$,
  isEditor,
  lang,
  learnServerTime,
  LS,
  me,
  setMe,
  setToken,
  t,
  token,
} from "./report-page.js";
import {
  connectLive,
  feed,
  fillProvinceSelect,
  forgetProvince,
  renderProvince,
  renderWho,
  restoreProvince,
} from "./report-province.js";

export function show(signedIn) {
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

export async function signIn(candidate) {
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
  setToken(candidate);
  localStorage.setItem(LS.token, token);
  net.authFailed = false;
  if (result.me) {
    setMe(result.me);
    localStorage.setItem(LS.me, JSON.stringify(me));
    learnServerTime(me.server_time);
  }
  msg.textContent = result.offline ? t("signin_offline") : "";
  start();
}

export function signOut({ keepMessage = "", force = false } = {}) {
  const n = queued().length;
  if (!force && n && !window.confirm(t("signout_confirm", { n }))) return;
  closeSockets();
  setToken(null);
  setMe(null);
  forgetProvince();
  forgetMine();
  for (const key of [LS.token, LS.me, LS.entry, LS.mine]) localStorage.removeItem(key);
  $("#token-input").value = "";
  const msg = $("#signin-msg");
  msg.textContent = keepMessage;
  msg.classList.toggle("error", !!keepMessage);
  show(false);
  renderConn();
}

export function start() {
  show(true);
  $("#province-field").hidden = !isEditor();
  net.authFailed = false;
  net.failures = 0;
  restoreProvince();
  restoreMine();
  renderAll();
  resetAsOf();
  connect();
  connectLive();
  loadMine();
  pump();
}

/** Refresh who the stored token belongs to (it may have been revoked meanwhile). */
export async function recheck() {
  const result = await checkToken(token);
  if (result.refused) authRefused(result.refused);
  else if (result.me) {
    setMe(result.me);
    localStorage.setItem(LS.me, JSON.stringify(me));
    learnServerTime(me.server_time);
    $("#province-field").hidden = !isEditor();
    renderAll();
    resetAsOf();
  }
}

export function authRefused(message) {
  net.authFailed = true;
  closeSockets();
  renderConn();
  signOut({ keepMessage: message || t("conn_auth"), force: true });
}

function closeSockets() {
  closeBureau();
  feed.stop();
}

// --- drawing everything ------------------------------------------------------------------

export function applyLang() {
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
  renderResult();
  updateHints();
}
