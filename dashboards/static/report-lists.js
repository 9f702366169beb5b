/* The phone's two lists of reports: the outbox ("on this phone": queued, sent with its
 * seq, refused with the server's reason and, for a turnout or a result that went backwards
 * (or a result after the unit's final one), a button to send it again as a correction), and "my reports" as the server has them
 * (GET /api/my/reports), kept in localStorage for a reload without network.
 */
import { outbox, queued } from "./report-delivery.js";
import { sendAsCorrection } from "./report-form.js";
import { Outbox } from "./report-outbox.js";
import {
  $,
  authHeaders,
  el,
  fmtInt,
  fmtPct,
  fmtWhen,
  isEditor,
  kindLabel,
  LS,
  readJson,
  said,
  t,
  token,
} from "./report-page.js";

const MY_REPORTS_LIMIT = 10;
const OUTBOX_SHOWN = 40;

const byCreated = Outbox.byCreated;

// --- my reports, from the server ---------------------------------------------------------

let mine = [];
let mineTimer = null;

export function refreshMine() {
  clearTimeout(mineTimer);
  mineTimer = setTimeout(loadMine, 300);
}

export async function loadMine() {
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

/** What was last known, shown until the network answers (e.g. a reload while offline). */
export function restoreMine() {
  if (!mine.length) mine = readJson(LS.mine) || [];
}

/** Signed out: nothing of theirs stays in memory. */
export function forgetMine() {
  mine = [];
}

// --- drawing -----------------------------------------------------------------------------

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
    case "result":
      return [
        t("rform_summary", { n: d.unit, valid: fmtInt(d.ballots_valid) }),
        t(`rform_stage_${d.stage || "provisional"}`),
      ].join(" · ");
    default:
      return d.text || "";
  }
}

function reportRow(kind, asOf, data, province) {
  const li = el("li", "item");
  const top = el("div", "top");
  const name = kindLabel(kind) + (province ? ` · ${province}` : "");
  top.append(el("span", "kind-name", name), el("span", "when", fmtWhen(asOf)));
  li.append(top);
  const what = el("div", "what", summary(kind, data));
  if (data && data.correction) what.prepend(el("span", "badge", t("correction")));
  li.append(what);
  return li;
}

export function renderOutbox() {
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
      li.append(el("p", "refusal", said(r.error)));
      if (r.error.code === "regression" && (r.kind === "turnout" || r.kind === "result")) {
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

export function renderMine() {
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
