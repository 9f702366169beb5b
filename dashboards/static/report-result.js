/* The result form on the phone (contract §5, issue 13 "the count on the phone"): the bureau
 * picks one of its province's electoral units, sees that unit's candidates in ballot order
 * with a field each, and types the count as the unit's committee announces it.
 *
 * The units come from GET /api/units?province= (public reference data, the same all
 * election long) and are kept in localStorage per province, so the form opens with no
 * network once it has been read. What is typed is checked by report-checks.js (every
 * candidate, none above the valid ballots, the sum at most valid × seats, counted ≤ total);
 * this module draws the form, its live sum against its limit, and the confirmation a
 * `final` result asks for before it is queued.
 */
import { $, $$, el, fmtInt, fmtPct, LS, myProvince, readJson, t } from "./report-page.js";

const units = new Map(); // province code -> its units, in the order /api/units gives them
const loading = new Set(); // province codes being read now
const failed = new Set(); // province codes the network could not give (and none cached)
let drawn = null; // "code-unit" whose candidate rows are on the page
let finalConfirmed = false; // "send final" was tapped: the next send goes ahead

const unitsKey = (code) => `${LS.units}.${code}`;
const form = () => $("#report-form");
const field = (name) => form().elements.namedItem(name);

/** A province's units: read this session, else kept from an earlier one, else null. */
function unitsOf(code) {
  if (!units.has(code)) {
    const kept = readJson(unitsKey(code));
    if (Array.isArray(kept) && kept.length) units.set(code, kept);
  }
  return units.get(code) || null;
}

/** Read a province's units from the server (the browser's HTTP cache may answer), keep
 * them for offline use and draw the form again. */
export async function loadUnits(code) {
  if (!code || loading.has(code)) return;
  loading.add(code);
  try {
    const res = await fetch(`/api/units?province=${encodeURIComponent(code)}`);
    if (res.ok) {
      const list = (await res.json()).units || [];
      units.set(code, list);
      failed.delete(code);
      try {
        localStorage.setItem(unitsKey(code), JSON.stringify(list));
      } catch (e) {
        /* storage full: the units stay in memory for this session */
      }
    } else if (!unitsOf(code)) failed.add(code);
  } catch (e) {
    if (!unitsOf(code)) failed.add(code); // offline, and never read before
  } finally {
    loading.delete(code);
    renderResult();
  }
}

/** The unit chosen in the form (its /api/units entry), or null. */
export function currentUnit() {
  const p = myProvince();
  const list = p ? unitsOf(p.code) : null;
  const chosen = Number(field("result_unit").value);
  return (list && list.find((u) => u.unit === chosen)) || null;
}

function unitOption(u) {
  const option = el(
    "option",
    null,
    t("rform_unit_option", { n: u.unit, seats: u.seats, c: u.candidates.length }),
  );
  option.value = String(u.unit);
  return option;
}

/** Draw the form for the province now chosen: its units in the select (the last one used
 * stays chosen), the chosen unit's candidates, and the live sum. Typed figures survive a
 * redraw (a language switch); they are cleared only when the unit changes. */
export function renderResult() {
  const select = field("result_unit");
  const status = $("#result-units-status");
  const p = myProvince();
  const list = p ? unitsOf(p.code) : null;
  if (p && !list && !loading.has(p.code) && !failed.has(p.code)) loadUnits(p.code);

  let note = "";
  if (!p) note = t("rform_no_province");
  else if (!list) note = t(loading.has(p.code) ? "rform_units_loading" : "rform_units_offline");
  status.textContent = note;

  const [keptCode, keptUnit] = (localStorage.getItem(LS.unit) || "").split("/");
  const same = p && select.dataset.province === p.code; // else the old province's choice
  const before = (same && select.value) || (p && keptCode === p.code ? keptUnit : "");
  select.dataset.province = p ? p.code : "";
  const placeholder = el("option", null, t("rform_pick_unit"));
  placeholder.value = "";
  select.replaceChildren(placeholder, ...(list || []).map(unitOption));
  if (list && list.some((u) => String(u.unit) === before)) select.value = before;
  else if (list && list.length === 1) select.value = String(list[0].unit);
  else select.value = "";
  drawCandidates();
}

function drawCandidates() {
  const u = currentUnit();
  const key = u ? `${u.code}-${u.unit}` : null;
  $("#result-unit-info").textContent = u ? u.description || "" : "";
  $("#result-body").hidden = !u;
  if (key !== drawn) {
    drawn = key;
    const box = $("#result-candidates");
    box.replaceChildren(...(u ? u.candidates.map(candidateRow) : []));
    hideFinalConfirm();
  }
  updateResultHints();
}

function candidateRow(c) {
  const row = el("div", "cand");
  row.dataset.candidate = c.id;
  const label = el("label", "cand-row");
  const name = el("span", "cand-name");
  name.append(el("span", "no", `${c.ballot_no}.`), " ", el("span", "who", c.name));
  name.append(el("span", "pct"));
  const input = el("input", "big");
  input.name = `vote_${c.id}`;
  input.inputMode = "numeric";
  input.autocomplete = "off";
  input.enterKeyHint = "next";
  label.append(name, input);
  const err = el("span", "err");
  err.dataset.err = `vote_${c.id}`;
  row.append(label, err);
  return row;
}

/** A whole number as the checks read it, or null (the checks say what is wrong). */
function typed(name) {
  const f = field(name);
  const s = f ? String(f.value).replace(/[\s.,\u00a0]/g, "") : "";
  return /^\d{1,12}$/.test(s) ? Number(s) : null;
}

/** Each candidate's share of the valid ballots, and the sum of the votes against its
 * limit (valid × seats), shown while typing; over the limit the line turns red. */
export function updateResultHints() {
  const u = currentUnit();
  const line = $("#result-sum");
  if (!u) {
    line.textContent = "";
    return;
  }
  const valid = typed("result_valid");
  let sum = 0;
  let any = false;
  for (const c of u.candidates) {
    const n = typed(`vote_${c.id}`);
    const pct = $(`.cand[data-candidate="${c.id}"] .pct`);
    if (pct) pct.textContent = n !== null && valid ? fmtPct((n / valid) * 100) : "";
    if (n !== null) {
      sum += n;
      any = true;
    }
  }
  if (valid === null) {
    line.textContent = any ? t("rform_sum_only", { sum: fmtInt(sum) }) : "";
    line.classList.remove("over");
    return;
  }
  const limit = valid * u.seats;
  line.textContent = t("rform_sum", {
    sum: fmtInt(sum),
    limit: fmtInt(limit),
    valid: fmtInt(valid),
    seats: u.seats,
  });
  line.classList.toggle("over", sum > limit);
}

/** After a result is queued: the unit stays chosen, the stage goes back to provisional. */
export function resetResult() {
  const provisional = form().querySelector('input[name="result_stage"][value="provisional"]');
  if (provisional) provisional.checked = true;
  hideFinalConfirm();
  updateResultHints();
}

function hideFinalConfirm() {
  finalConfirmed = false;
  $("#final-confirm").hidden = true;
}

/** A `final` result is the unit's official record: after it, the server takes no other
 * result for the unit unless it is a correction. The first "send" asks; true once the
 * bureau has confirmed (and only for that one send). */
export function finalGoesAhead(data) {
  if (data.stage !== "final") return true;
  if (finalConfirmed) {
    hideFinalConfirm();
    return true;
  }
  $("#final-confirm-title").textContent = t("rform_final_title", { n: data.unit });
  $("#final-confirm").hidden = false;
  $("#final-confirm").scrollIntoView({ block: "center" });
  $("#final-yes").focus();
  return false;
}

/** The form's listeners: the unit chosen, the figures typed, the stage, the confirmation.
 * `resubmit` sends the form again once a final result is confirmed. */
export function wireResult(resubmit) {
  field("result_unit").addEventListener("change", () => {
    const p = myProvince();
    if (p) localStorage.setItem(LS.unit, `${p.code}/${field("result_unit").value}`);
    drawCandidates();
  });
  const fs = $('.kind-form[data-for="result"]');
  fs.addEventListener("input", (event) => {
    if (event.target.name === "result_unit") return; // its "change" draws the new unit
    hideFinalConfirm(); // a changed figure asks again
    updateResultHints();
  });
  $("#final-yes").addEventListener("click", () => {
    finalConfirmed = true;
    resubmit();
  });
  $("#final-back").addEventListener("click", () => {
    hideFinalConfirm();
    const stage = form().querySelector('input[name="result_stage"]:checked');
    if (stage) stage.focus();
  });
  window.addEventListener("online", () => {
    const p = myProvince();
    if (p && failed.has(p.code)) {
      failed.delete(p.code);
      loadUnits(p.code);
    }
  });
}

/** The candidate inputs, marked together when their sum is refused. */
export const voteInputs = () => $$('.cand input', form());
