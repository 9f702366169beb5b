/* The phone's checks before a report is queued: the report's data read from the form, and
 * the errors the contract (§1, and §5 for a result) would answer, so a bureau sees "more than the registered
 * voters" next to the field instead of a refusal later. The server checks again; these
 * mirror its limits from the page's config (CFG) and the election clock (`nowMs`).
 */

/** A whole number typed with or without thousands marks ("12.345", "12 345"). */
export function parseCount(raw) {
  const s = raw.replace(/[\s.,\u00a0]/g, "");
  return /^\d{1,12}$/.test(s) ? Number(s) : null;
}

/** A percentage with a decimal comma or point ("45,5"). */
export function parsePct(raw) {
  const s = raw.replace(/\s/g, "").replace(",", ".");
  return /^\d{1,3}(\.\d+)?$/.test(s) ? Number(s) : null;
}

/** The report's data from the form, and the errors the contract would answer. */
export function collect(kind, ctx) {
  const { value, radio, tags, t, fmt, CFG, registeredDefault, nowMs, isEditor } = ctx;
  const fmtInt = (n) => fmt.int(n);
  const fmtDay = (iso) => fmt.date(iso);
  const errors = {};
  const data = {};
  const count = (name, { positive = false, required = true } = {}) => {
    const raw = value(name);
    if (!raw) {
      if (required) errors[name] = t("err_required");
      return null;
    }
    const n = parseCount(raw);
    if (n === null || n > CFG.max_voters || (positive && n === 0)) {
      errors[name] = t(positive ? "err_positive" : "err_int");
      return null;
    }
    return n;
  };
  const text = (name, max, { required = true } = {}) => {
    const raw = value(name);
    if (!raw) {
      if (required) errors[name] = t("err_required");
      return null;
    }
    if (raw.length > max) {
      errors[name] = t("err_too_long", { n: fmtInt(max) });
      return null;
    }
    return raw;
  };

  if (kind === "turnout") {
    const registered = count("registered", { positive: true, required: false });
    const reg = registered || registeredDefault();
    if (radio("mode") === "pct") {
      const raw = value("turnout_pct");
      const pct = raw ? parsePct(raw) : null;
      if (!raw) errors.turnout_pct = t("err_required");
      else if (pct === null || pct > 100) errors.turnout_pct = t("err_pct");
      else data.turnout_pct = pct;
    } else {
      const voted = count("voted");
      if (voted !== null && reg && voted > reg)
        errors.voted = t("err_gt_registered", { n: fmtInt(reg) });
      else if (voted !== null) data.voted = voted;
    }
    if (registered !== null) data.registered = registered;
  } else if (kind === "completion") {
    const done = count("areas_done");
    const total = count("areas_total", { positive: true });
    if (done !== null && total !== null && done > total) errors.areas_done = t("err_done_gt_total");
    data.areas_done = done;
    data.areas_total = total;
    const uDone = count("units_done", { required: false });
    const uTotal = count("units_total", { positive: true, required: false });
    if ((value("units_done") === "") !== (value("units_total") === "")) {
      errors[value("units_done") ? "units_total" : "units_done"] = t("err_pair");
    } else if (uDone !== null && uTotal !== null) {
      if (uDone > uTotal) errors.units_done = t("err_done_gt_total");
      data.units_done = uDone;
      data.units_total = uTotal;
    }
  } else if (kind === "revote") {
    data.unit = text("unit", CFG.max_short);
    data.level = value("level");
    data.reason = value("reason");
    if (!data.level) errors.level = t("err_required");
    if (!data.reason) errors.reason = t("err_required");
    data.status = value("status") || "announced";
    const note = text("revote_note", CFG.max_text, { required: false });
    if (note) data.note = note;
  } else if (kind === "security") {
    data.severity = radio("severity") || "info";
    data.category = value("category") || "other";
    data.text = text("security_text", CFG.max_text);
    const location = text("location", CFG.max_short, { required: false });
    if (location) data.location = location;
    data.audience = radio("security_audience") || "internal";
  } else if (kind === "note") {
    data.text = text("note_text", CFG.max_text);
    const picked = tags();
    if (picked.length > CFG.max_tags) errors.tags = t("err_too_many_tags", { n: CFG.max_tags });
    if (picked.length) data.tags = picked;
    data.audience = radio("note_audience") || "public";
  } else if (kind === "result") {
    Object.assign(data, resultData(ctx.unit, { count, value, radio, t, fmtInt, errors }));
  }

  let asOf = null;
  const rawAsOf = `${value("as_of_date")}T${value("as_of_time").slice(0, 5)}`;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(rawAsOf)) {
    errors.as_of = t("err_as_of");
  } else {
    asOf = fmt.isoFromLocal(rawAsOf);
    const ms = asOf ? Date.parse(asOf) : NaN;
    if (Number.isNaN(ms)) errors.as_of = t("err_as_of");
    else if (ms < Date.parse(CFG.window[0]) || ms > Date.parse(CFG.window[1]))
      errors.as_of = t("err_window", { from: fmtDay(CFG.window[0]), to: fmtDay(CFG.window[1]) });
    else if (ms > nowMs() + CFG.future_slack_s * 1000) errors.as_of = t("err_future");
  }

  let province = null;
  if (isEditor()) {
    province = value("province");
    if (!province) errors.province = t("err_required");
  }
  return { data, asOf, province, errors };
}

/** A result's data (contract §5) for `unit` (its entry from /api/units: seats and the
 * candidates in ballot order), and the contract's refusals as errors by field: every
 * candidate given, none above the valid ballots, their sum at most `valid × seats` (a
 * ballot marks at most `seats` names; the sum and the limit are named, nothing is sent),
 * polling areas counted at most their total. */
function resultData(unit, { count, value, radio, t, fmtInt, errors }) {
  const data = {};
  if (!unit) {
    errors.result_unit = t("err_required");
    return data;
  }
  data.unit = unit.unit;
  const valid = count("result_valid");
  const invalid = count("result_invalid", { required: false });
  data.ballots_valid = valid;
  if (invalid !== null) data.ballots_invalid = invalid;
  data.votes = {};
  let sum = 0;
  let complete = true;
  for (const c of unit.candidates) {
    const n = count(`vote_${c.id}`);
    if (n === null) {
      complete = false;
      continue;
    }
    data.votes[c.id] = n;
    sum += n;
    if (valid !== null && n > valid)
      errors[`vote_${c.id}`] = t("rform_err_above_valid", { n: fmtInt(valid) });
  }
  if (valid !== null && complete && sum > valid * unit.seats) {
    errors.result_sum = t("rform_err_sum", {
      sum: fmtInt(sum),
      limit: fmtInt(valid * unit.seats),
      valid: fmtInt(valid),
      seats: unit.seats,
    });
  }
  const counted = count("result_areas_counted", { required: false });
  const total = count("result_areas_total", { positive: true, required: false });
  if ((value("result_areas_counted") === "") !== (value("result_areas_total") === "")) {
    errors[value("result_areas_counted") ? "result_areas_total" : "result_areas_counted"] = t("err_pair");
  } else if (counted !== null && total !== null) {
    if (counted > total) errors.result_areas_counted = t("rform_err_counted_gt_total");
    data.areas_counted = counted;
    data.areas_total = total;
  }
  data.stage = radio("result_stage") === "final" ? "final" : "provisional";
  data.audience = radio("result_audience") === "public" ? "public" : "internal";
  return data;
}
