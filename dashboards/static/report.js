/* The correspondent's page /report (issue 5): sign in, report, never lose a report.
 *
 * Every report gets its uuid when "send" is tapped and is written to IndexedDB before
 * anything goes on the wire; it stays "queued" until the server answers it. The bureau
 * socket (/ws/bureau) is the normal road; when it cannot be opened (blocked, or a proxy
 * that never answers) the same reports, with the same ids, go through POST /api/reports.
 * The server is idempotent by id, so a resend after a lost ack is harmless: it answers
 * with the original seq. All text from users or the server goes in with textContent.
 *
 * This module only wires the page; its parts are modules of their own:
 *   report-page.js      config, labels, helpers, the election clock, who is signed in
 *   report-session.js   sign-in, start, sign-out, drawing everything (a language switch)
 *   report-form.js      the form: kinds, fields, hints, errors, "send"
 *   report-checks.js    the contract's checks before a report is queued
 *   report-result.js    the result form: the province's units, a unit's candidates, final
 *   report-outbox.js    the outbox in IndexedDB
 *   report-delivery.js  the outbox to the server: bureau socket, else HTTP
 *   report-lists.js     the outbox list and "my reports"
 *   report-province.js  my province's figures (snapshot, then the live feed)
 *   report-sw.js        the service worker (the page offline); caches every module above
 * They call one another's functions only once main() runs, so the order in which the
 * browser evaluates them does not matter.
 */
import { outbox, reconnectBureau, watchdog } from "./report-delivery.js";
import { kind, selectKind, setTurnoutMode, updateHints, wireForm } from "./report-form.js";
import { renderOutbox } from "./report-lists.js";
import { $, CFG, lang, LS, token, useLang } from "./report-page.js";
import { feed, live, loadSnapshot, renderProvince } from "./report-province.js";
import { renderResult } from "./report-result.js";
import { applyLang, recheck, show, signIn, signOut, start } from "./report-session.js";

function reconnectNow() {
  reconnectBureau();
  if (!feed.open) feed.resume();
}

async function main() {
  $("#rehearsal").hidden = !CFG.rehearsal;
  wireForm();
  $("#province-select").addEventListener("change", () => {
    localStorage.setItem(LS.province, $("#province-select").value);
    live.entry = null;
    loadSnapshot(); // the new province's figures, read once; the feed keeps them current
    renderProvince();
    renderResult(); // the new province's units
    updateHints();
  });
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
