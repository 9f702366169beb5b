/* The phone's report form: the kind chosen (turnout, completion, result, re-vote, security,
 * note),
 * its fields and their hints ("≈ 45,5 %" from a count), the moment (`as_of`, the
 * election clock's now unless typed by hand), the errors next to the fields, and "send":
 * a new report with its uuid, saved in the outbox before anything goes on the wire. Also a
 * refused turnout or result sent again as a correction, and clearing what the server has
 * answered. The checks themselves are report-checks.js; the result's own form (units,
 * candidates, the final's confirmation) is report-result.js.
 */
import { collect as collectReport, parseCount, parsePct } from "./report-checks.js";
import { outbox, pump, save } from "./report-delivery.js";
import { renderOutbox } from "./report-lists.js";
import {
  currentUnit,
  finalGoesAhead,
  resetResult,
  voteInputs,
  wireResult,
} from "./report-result.js";
import {
  $,
  $$,
  CFG,
  clock,
  fmt,
  fmtInt,
  fmtPct,
  isEditor,
  KINDS,
  LS,
  myProvince,
  newId,
  nowMs,
  t,
  zoneInput,
} from "./report-page.js";

export let lastSent = null; // the id of the last report tapped "send" on this page
export let kind = KINDS.includes(localStorage.getItem(LS.kind)) ? localStorage.getItem(LS.kind) : "turnout";
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

export function selectKind(next) {
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

export function setTurnoutMode() {
  const mode = radio("mode") || "count";
  for (const f of $$("[data-mode]")) f.hidden = f.dataset.mode !== mode;
  updateHints();
}

let asOfTyped = false; // the bureau changed the moment by hand: a clock message leaves it

/** The form's moment: the election clock's now, on the minute (accepted as offered, also
 * during a replay). */
export function resetAsOf() {
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

export function updateHints() {
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
    unit: kind === "result" ? currentUnit() : null,
  });
}

export function clearErrors() {
  for (const node of $$("[data-err]")) node.textContent = "";
  for (const node of $$("[aria-invalid]", form())) node.removeAttribute("aria-invalid");
}

function showErrors(errors) {
  clearErrors();
  let first = null;
  for (const [name, message] of Object.entries(errors)) {
    const slot = $(`[data-err="${name}"]`);
    if (slot) slot.textContent = message;
    let inputs = [field(name)];
    if (name === "as_of") inputs = [field("as_of_time"), field("as_of_date")];
    else if (name === "result_sum") inputs = voteInputs(); // the sum is theirs together
    for (const input of inputs) {
      if (!input || !input.setAttribute) continue; // a group of radios or checkboxes
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  if (first && first.focus) first.focus();
}

export function setMessage(text, isError) {
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
  if (kind === "result") resetResult(); // the unit stays chosen: its next count follows
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
  if (kind === "result" && !finalGoesAhead(data)) {
    setMessage(""); // the confirmation asks, in place of "send"
    return;
  }
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

export async function sendAsCorrection(id) {
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

/** The form's own listeners: the kind buttons, the turnout mode, the hints, the moment
 * (typed by hand, or "now"; a clock message moves it unless typed), send and clear. */
export function wireForm() {
  for (const b of $$(".kind")) b.addEventListener("click", () => selectKind(b.dataset.kind));
  for (const r of $$('input[name="mode"]')) r.addEventListener("change", setTurnoutMode);
  for (const name of ["voted", "turnout_pct", "registered"])
    field(name).addEventListener("input", updateHints);
  wireResult(() => form().requestSubmit());
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
}
