/* The desk's review queue: reports the anomaly rules flagged (jumps, falls, out of line
 * with neighbours, corrections, security notes, internal notes), each with its actions
 * (verify, publish, retract, annotate, with a reason) and its audit trail. Live updates
 * redraw the queue without losing what an editor is typing, or where.
 */

/** The queue over the page's `state`, labels (`t`, `c`), `api` and helpers. */
export function makeQueue({ state, t, c, $, el, api, fmtPct, fmtInt, hm, dmhm, liveSoon, mapSoon }) {
  // --- the review queue ---------------------------------------------------------------
  let queueTimer = null;
  function queueSoon(delay) {
    clearTimeout(queueTimer);
    queueTimer = setTimeout(() => loadQueue().catch(() => {}), delay);
  }
  async function loadQueue() {
    const body = await api("/editor/api/queue");
    state.queue = body.items;
    drawQueue();
  }
  function itemText(item) {
    const d = item.data || {};
    if (item.kind === "turnout") {
      let s = fmtPct(item.turnout_pct);
      if (item.prev_pct !== null && item.prev_pct !== undefined) {
        s += " · " + t.prev_figure.replace("{pct}", fmtPct(item.prev_pct)).replace("{t}", hm(item.prev_as_of));
      }
      if (item.neighbours_pct !== null && item.neighbours_pct !== undefined) {
        s += ` · ${t.reason_neighbours}: ${fmtPct(item.neighbours_pct)}`;
      }
      return s;
    }
    if (item.kind === "security") {
      return `[${c["severity_" + d.severity] || d.severity}] ${d.text}${d.location ? " — " + d.location : ""}`;
    }
    if (item.kind === "result") {
      const stage = t["dres_stage_" + (d.stage || "provisional")] || d.stage;
      return `${t.dres_unit_name.replace("{province}", item.province_name).replace("{unit}", d.unit)} · ` +
        `${t.dres_ballots_valid.replace("{valid}", fmtInt(d.ballots_valid))} · ${stage}`;
    }
    return d.text || JSON.stringify(d);
  }
  function drawQueue() {
    const list = $("queue");
    const open = new Set([...list.querySelectorAll("li[data-open='1']")].map((li) => li.dataset.id));
    // Live updates redraw the queue: keep what an editor is typing, and where.
    const drafts = new Map(
      [...list.querySelectorAll("li[data-id] .why")].map((w) => [w.closest("li").dataset.id, w.value])
    );
    const active = document.activeElement;
    const typingIn = active && active.classList.contains("why") ? active.closest("li").dataset.id : null;
    list.replaceChildren();
    const pending = state.queue.filter((i) => !i.retracted && !i.verified && (i.audience === "internal" || i.kind === "turnout"));
    $("queue-count").textContent = pending.length ? `(${pending.length})` : "";
    if (!state.queue.length) {
      list.append(el("li", { class: "empty" }, t.queue_empty));
      return;
    }
    for (const item of state.queue) {
      const why = el("input", { type: "text", class: "why", placeholder: t.why, maxlength: "2000", "aria-label": t.why });
      why.value = drafts.get(item.id) || "";
      const msg = el("span", { class: "msg", role: "status" });
      const actions = el("div", { class: "actions" });
      const act = async (action) => {
        if (action === "annotate" && !why.value.trim()) {
          msg.textContent = t.why_required;
          why.focus();
          return;
        }
        if (action === "retract" && !window.confirm(t.confirm_retract)) return;
        try {
          const out = await api(`/editor/api/reports/${item.id}/${action}`, { json: { why: why.value } });
          msg.textContent = out.outcome === "done" ? t.done : out.outcome;
          why.value = "";
          await loadQueue();
          liveSoon(0);
          if (action === "retract") mapSoon(300);
        } catch (e) {
          msg.textContent = t.error.replace("{m}", e.message);
        }
      };
      if (!item.verified && !item.retracted) actions.append(el("button", { type: "button", "data-action": "verify", onclick: () => act("verify") }, t.act_verify));
      const publishable = ["security", "note", "revote", "result"].includes(item.kind);
      if (publishable && item.audience === "internal" && !item.retracted) {
        actions.append(el("button", { type: "button", "data-action": "publish", onclick: () => act("publish") }, t.act_publish));
      }
      if (!item.retracted) actions.append(el("button", { type: "button", class: "danger", "data-action": "retract", onclick: () => act("retract") }, t.act_retract));
      actions.append(el("button", { type: "button", "data-action": "annotate", onclick: () => act("annotate") }, t.act_annotate));
      const audit = el("ol", { class: "audit" });
      const toggle = el("button", {
        type: "button",
        class: "link",
        onclick: async () => {
          const li = toggle.closest("li");
          const opening = li.dataset.open !== "1";
          li.dataset.open = opening ? "1" : "0";
          if (opening) await loadAudit(item.id, audit);
        },
      }, t.audit);
      const statusChips = [
        item.verified ? el("span", { class: "chip ok" }, t.st_verified) : null,
        item.retracted ? el("span", { class: "chip bad" }, t.st_retracted) : null,
        publishable
          ? el("span", { class: "chip " + (item.audience === "public" ? "pub" : "int") }, item.audience === "public" ? t.st_public : t.st_internal)
          : null,
      ];
      const li = el(
        "li",
        { "data-id": item.id, "data-kind": item.kind, "data-retracted": item.retracted ? "1" : "0", "data-open": open.has(item.id) ? "1" : "0" },
        el(
          "div",
          { class: "head" },
          el("strong", {}, item.province_name),
          el("span", { class: "kind" }, c["kind_" + item.kind] || item.kind),
          el("time", { datetime: item.as_of }, dmhm(item.as_of)),
          ...item.reasons.map((r) => el("span", { class: "chip reason", "data-reason": r }, t["reason_" + r] || r)),
          ...statusChips
        ),
        el("p", { class: "text" }, itemText(item)),
        el("div", { class: "controls" }, why, actions, toggle, msg),
        audit
      );
      list.append(li);
      if (open.has(item.id)) loadAudit(item.id, audit);
      if (typingIn === item.id) {
        why.focus();
        why.setSelectionRange(why.value.length, why.value.length);
      }
    }
  }
  async function loadAudit(id, box) {
    const body = await api(`/editor/api/reports/${id}`);
    box.replaceChildren();
    if (!body.audit.length) box.append(el("li", { class: "empty" }, t.audit_empty));
    for (const a of body.audit) {
      box.append(el("li", {}, el("time", { datetime: a.at }, dmhm(a.at)), ` ${t["act_" + a.action] || a.action} · ${a.actor || a.role || ""}${a.token_id != null ? " · #" + a.token_id : ""}`, a.why ? ` — ${a.why}` : ""));
    }
  }

  return { loadQueue, queueSoon };
}
