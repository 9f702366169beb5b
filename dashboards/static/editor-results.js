/* The results on the desk (issue 13 item 3): a table of the 184 units (status, stage,
 * winners or leaders, votes, %, the margin between the last seat and the first loser,
 * polling areas counted, close races and ties flagged), filters, the unit's candidates
 * with the Council's confirmation per winner, publish / retract of the unit's latest
 * result, and the official final list beside ours.
 *
 * Data: GET /editor/api/results (the editors' §5 body with each unit's `race`, `pending`
 * and `report`, server/desk/results.py) and GET /editor/api/results/official. Live: the
 * page's feed (/ws/live/editor, feed.js) hands every update here; an update for a result
 * or a confirmation carries `unit` (the unit's §5 entry) and `results` (the summary),
 * applied at once, then the server's view is read again for what only it knows (what is
 * still internal, the latest report's id).
 */

/** The race in one unit (§5 entry), as server/desk/results.py `race` computes it (the
 * same rule, kept equal by tests/test_desk_results.py): winners (elected, or leading
 * before the final count), the margin between rank `seats` and rank `seats + 1` in votes
 * and as % of valid ballots, `close` (a winner or leader under `closePct` %, or a margin
 * under `closeMarginPct` % of valid ballots) and `tie`. */
export function race(entry, closePct, closeMarginPct) {
  const ranked = entry.candidates
    .filter((x) => x.votes !== null && x.votes !== undefined)
    .slice()
    .sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const winners = ranked.filter((x) => x.elected || x.leading).map((x) => x.id);
  const valid = entry.ballots_valid;
  const seats = entry.seats;
  let margin = null;
  let marginPct = null;
  if (entry.status !== "waiting" && ranked.length > seats) {
    margin = ranked[seats - 1].votes - ranked[seats].votes;
    marginPct = valid ? (margin * 100) / valid : null;
  }
  const reasons = [];
  if (ranked.some((x) => (x.elected || x.leading) && x.pct !== null && x.pct < closePct)) reasons.push("under_51");
  if (marginPct !== null && marginPct < closeMarginPct) reasons.push("margin");
  return {
    winners,
    margin,
    margin_pct: marginPct,
    close: reasons.length > 0,
    reasons,
    tie: entry.candidates.some((x) => x.tie === true),
  };
}

const STATUSES = ["waiting", "counting", "declared", "supplementary"];
const COMPOSITION = ["elected", "women", "ethnic_minority", "non_party", "under_40", "former_deputy", "religious"];

/** The results view over the page's helpers (`el`, `api`, formatting) and labels. */
export function makeResults({ cfg, t, $, el: element, api, fmt, provinceName }) {
  const el = (tag, attrs, ...children) => element(tag, attrs, ...children.flat(Infinity));
  const st = {
    body: null, // the last /editor/api/results
    units: [], // its units, kept current by the feed
    selected: null, // the unit shown beside the table ("01-1")
    province: "",
    status: "",
    closeFirst: false,
    official: null,
    visible: false,
    sources: {}, // a confirmation's source, as typed, by candidate
    reports: new Map(), // unit → its latest result report, as the feed told it
  };
  const unitId = (u) => `${u.code}-${u.unit}`;
  const pct = (v) => fmt.pct(v, 2);
  const int = (v) => fmt.int(v);
  const dmhm = (iso) => (iso ? fmt.dayTime(iso) : "—");
  const label = (key, slots) =>
    Object.entries(slots || {}).reduce((s, [k, v]) => s.split(`{${k}}`).join(String(v)), t[key] || key);
  const unitName = (u) => label("dres_unit_name", { province: provinceName(u.code), unit: u.unit });

  // --- loading --------------------------------------------------------------------------
  let loadTimer = null;
  async function load() {
    const body = await api("/editor/api/results");
    st.body = body;
    st.units = body.units.map((u) => (u.report ? u : Object.assign(u, { report: st.reports.get(u.id) || null })));
    draw();
    if (st.visible && $("rtab-official") && !$("rtab-official").hidden) await loadOfficial();
  }
  function soon(delay) {
    if (!st.visible) return; // the view reads everything again when it is shown
    clearTimeout(loadTimer);
    loadTimer = setTimeout(() => load().catch(() => {}), delay);
  }
  let officialTimer = null;
  async function loadOfficial() {
    st.official = await api("/editor/api/results/official");
    drawOfficial();
  }
  function officialSoon(delay) {
    clearTimeout(officialTimer);
    officialTimer = setTimeout(() => loadOfficial().catch(() => {}), delay);
  }

  // --- live -----------------------------------------------------------------------------
  let drawQueued = false;
  /** One feed update: a result's or a confirmation's `unit` and `results`. */
  function apply(u) {
    if (!st.body || !u.unit) return;
    const id = unitId(u.unit);
    const i = st.units.findIndex((x) => x.id === id);
    const old = i >= 0 ? st.units[i] : {};
    const row = Object.assign({}, old, u.unit, {
      id,
      race: race(u.unit, st.body.close_pct, st.body.close_margin_pct),
    });
    const ev = u.event || {};
    if (ev.kind === "result" && !ev.action) {
      // a new result: internal unless sent public (§5); the server confirms on the next read
      const audience = (ev.data && ev.data.audience) || "internal";
      row.pending = audience === "internal";
      row.report = { id: ev.id, audience, seq: u.seq };
      st.reports.set(id, row.report);
    } else if (ev.kind === "result" && ev.action === "publish") {
      row.pending = false;
      if (row.report && row.report.id === ev.id) row.report = Object.assign({}, row.report, { audience: "public" });
      if (st.reports.has(id) && st.reports.get(id).id === ev.id) st.reports.set(id, row.report);
    } else if (ev.kind === "result" && ev.action === "retract") {
      if (st.reports.has(id) && st.reports.get(id).id === ev.id) st.reports.delete(id);
      if (row.report && row.report.id === ev.id) row.report = null;
    }
    if (i >= 0) st.units[i] = row;
    if (u.results) st.body.summary = u.results;
    st.body.seq = u.seq;
    if (!drawQueued) {
      drawQueued = true;
      requestAnimationFrame(() => {
        drawQueued = false;
        draw();
      });
    }
    soon(1000); // what is internal, and the latest report, are the server's to say
    if (st.visible && !$("rtab-official").hidden) officialSoon(1500);
  }

  // --- the table ------------------------------------------------------------------------
  function shown() {
    let rows = st.units.filter((u) => !st.province || u.code === st.province);
    if (STATUSES.includes(st.status)) rows = rows.filter((u) => u.status === st.status);
    else if (st.status === "pending") rows = rows.filter((u) => u.pending);
    else if (st.status === "close") rows = rows.filter((u) => u.race.close || u.race.tie);
    if (st.closeFirst) {
      const key = (u) => (u.race.close || u.race.tie ? 0 : 1);
      const m = (u) => (u.race.margin_pct === null ? Infinity : u.race.margin_pct);
      rows = rows.slice().sort((a, b) => key(a) - key(b) || (key(a) === 0 ? m(a) - m(b) : 0));
    }
    return rows;
  }
  function statusChip(u) {
    return el("span", { class: "rchip status", "data-status": u.status }, t["dres_status_" + u.status]);
  }
  function flags(u) {
    const out = [];
    if (u.race.close) {
      out.push(
        el(
          "span",
          { class: "rchip close", title: u.race.reasons.map((r) => t["dres_close_" + r]).join(" · ") },
          t.dres_close
        )
      );
    }
    if (u.race.tie) out.push(el("span", { class: "rchip tie", title: t.dres_tie_help }, t.dres_tie));
    return out;
  }
  function areas(u) {
    return label("dres_areas", { counted: int(u.areas_counted), total: int(u.areas_total) });
  }
  function winnerLines(u) {
    const byId = new Map(u.candidates.map((x) => [x.id, x]));
    return u.race.winners.map((id) => byId.get(id));
  }
  function confirmMark(x) {
    if (!x.elected || x.confirmed === null || x.confirmed === undefined) return null;
    return x.confirmed
      ? el("span", { class: "conf yes", title: t.dres_confirmed }, "✓")
      : el("span", { class: "conf no", title: t.dres_not_confirmed }, "✗");
  }
  function publishButton(u, small) {
    if (!u.pending || !u.report) return null;
    return el(
      "button",
      {
        type: "button",
        class: small ? "mini" : "",
        "data-action": "publish",
        onclick: (ev) => {
          ev.stopPropagation();
          act(u, "publish", "");
        },
      },
      t.act_publish
    );
  }
  function draw() {
    if (!st.body) return;
    drawCounts();
    const tbody = $("results").tBodies[0];
    const frag = document.createDocumentFragment();
    for (const u of shown()) {
      const winners = winnerLines(u);
      const lines = (fn) => winners.map((x) => el("div", { class: "line" }, fn(x)));
      const tr = el(
        "tr",
        {
          "data-unit": u.id,
          "data-status": u.status,
          "data-pending": u.pending ? "1" : "0",
          "data-close": u.race.close ? "1" : "0",
          "data-tie": u.race.tie ? "1" : "0",
          "aria-selected": st.selected === u.id ? "true" : "false",
          onclick: () => select(u.id),
        },
        el("td", { class: "unit" }, el("strong", {}, u.id), el("span", { class: "pname" }, provinceName(u.code))),
        el(
          "td",
          { class: "status" },
          statusChip(u),
          u.stage || u.areas_total
            ? el(
                "small",
                { class: "stage" },
                [u.stage ? t["dres_stage_" + u.stage] : null, u.areas_total ? areas(u) : null].filter(Boolean).join(" · ")
              )
            : null,
          u.pending ? el("span", { class: "rchip int", title: t.dres_pending_help }, t.dres_pending) : null,
          publishButton(u, true)
        ),
        el(
          "td",
          { class: "winners" },
          winners.length
            ? lines((x) => [
                el("span", { class: "mark", "data-mark": x.elected ? "elected" : "leading", title: x.elected ? t.dres_elected : t.dres_leading }, x.elected ? "●" : "○"),
                confirmMark(x),
                el("span", { class: "cname", "data-confirmed": String(x.confirmed) }, " " + x.name),
              ])
            : el("span", { class: "muted" }, u.status === "waiting" ? "—" : t.dres_no_winner)
        ),
        el("td", { class: "num" }, lines((x) => int(x.votes))),
        el("td", { class: "num" }, lines((x) => pct(x.pct))),
        el(
          "td",
          { class: "num margin" },
          u.race.margin === null ? "—" : [el("div", {}, int(u.race.margin)), el("small", {}, pct(u.race.margin_pct))]
        ),
        el("td", { class: "flags" }, ...flags(u))
      );
      frag.append(tr);
    }
    tbody.replaceChildren(frag);
    drawUnit();
  }
  function drawCounts() {
    const s = st.body.summary;
    const count = (fn) => st.units.filter(fn).length;
    $("res-counts").textContent = label("dres_counts", {
      declared: int(s.units_declared),
      total: int(s.units_total),
      supplementary: int(count((u) => u.status === "supplementary")),
      reporting: int(s.units_reporting),
      filled: int(s.seats_filled),
      seats: int(s.seats_total),
      pending: int(count((u) => u.pending)),
      close: int(count((u) => u.race.close || u.race.tie)),
    });
  }

  // --- one unit: its candidates, the Council's confirmation, publish / retract -----------
  function select(id) {
    st.selected = id;
    for (const tr of $("results").tBodies[0].rows) tr.setAttribute("aria-selected", String(tr.dataset.unit === id));
    showTab("unit");
    drawUnit();
  }
  function drawUnit() {
    const box = $("res-unit");
    const u = st.units.find((x) => x.id === st.selected);
    if (!u) {
      box.replaceChildren(el("p", { class: "empty" }, t.dres_unit_pick));
      box.dataset.drawn = "";
      return;
    }
    // Redraw only when the unit changed: an editor may be typing a source or a reason.
    const drawn = JSON.stringify([u.candidates, u.status, u.stage, u.as_of, u.pending, u.report, u.areas_counted]);
    if (box.dataset.unit === u.id && box.dataset.drawn === drawn) return;
    box.dataset.drawn = drawn;
    const active = document.activeElement;
    const focusKey = active && box.contains(active) ? active.dataset.key : null;
    const msg = el("span", { class: "msg", role: "status" });
    const why = el("input", { type: "text", class: "why", placeholder: t.why, maxlength: "2000", "aria-label": t.why, "data-key": "why" });
    why.value = box.dataset.unit === u.id ? (box.querySelector(".why") || {}).value || "" : "";
    const report = u.report
      ? el(
          "div",
          { class: "report" },
          el("span", {}, t.dres_report + " "),
          el("span", { class: "rchip " + (u.pending ? "int" : "pub") }, u.pending ? t.dres_pending : t.st_public),
          why,
          u.pending ? el("button", { type: "button", "data-action": "publish", onclick: () => act(u, "publish", why.value, msg) }, t.act_publish) : null,
          el("button", { type: "button", class: "danger", "data-action": "retract", onclick: () => act(u, "retract", why.value, msg) }, t.act_retract),
          msg
        )
      : u.pending
        ? el("p", { class: "report" }, el("span", { class: "rchip int" }, t.dres_pending), " ", el("small", { class: "muted" }, t.dres_report_unseen))
        : null;
    const rows = u.candidates.map((x) => {
      const mark = x.elected ? t.dres_elected : x.leading ? t.dres_leading : "";
      const attrs = { "data-candidate": x.id, "data-elected": x.elected ? "1" : "0", "data-leading": x.leading ? "1" : "0" };
      return [
        el(
          "tr",
          Object.assign({ class: x.elected ? "has-confirm" : null }, attrs),
          el("td", { class: "num" }, x.rank === null ? "—" : String(x.rank)),
          el("td", {}, x.name, x.tie ? el("span", { class: "rchip tie", title: t.dres_tie_help }, t.dres_tie) : null),
          el("td", { class: "num" }, int(x.votes)),
          el("td", { class: "num" }, pct(x.pct)),
          el("td", {}, mark ? el("span", { class: "rchip " + (x.elected ? "elected" : "leading") }, mark) : "")
        ),
        x.elected
          ? el("tr", { class: "confirm-row", "data-confirm-for": x.id }, el("td", {}), el("td", { colspan: "4" }, confirmation(x)))
          : null,
      ];
    });
    const meta = [
      statusChip(u),
      u.stage ? ` ${t["dres_stage_" + u.stage]}` : "",
      u.as_of ? ` · ${t.dres_as_of} ${dmhm(u.as_of)}` : "",
      u.ballots_valid !== null && u.ballots_valid !== undefined
        ? ` · ${label("dres_ballots_valid", { valid: int(u.ballots_valid) })}`
        : "",
      u.ballots_invalid !== null && u.ballots_invalid !== undefined
        ? `, ${label("dres_ballots_invalid", { invalid: int(u.ballots_invalid) })}`
        : "",
      u.areas_total ? ` · ${areas(u)}` : "",
    ];
    box.dataset.unit = u.id;
    replace(
      box,
      el("h3", {}, unitName(u), " ", el("small", {}, label("dres_seats", { n: u.seats }))),
      el("p", { class: "meta" }, ...meta, ...flags(u).map((f) => [" ", f]).flat()),
      u.race.margin !== null
        ? el("p", { class: "meta" }, `${t.dres_col_margin}: ${int(u.race.margin)} (${pct(u.race.margin_pct)})`)
        : null,
      u.race.close || u.race.tie
        ? el(
            "p",
            { class: "meta why-close" },
            [...u.race.reasons.map((r) => t["dres_close_" + r]), u.race.tie ? t.dres_tie_help : null].filter(Boolean).join(" · ")
          )
        : null,
      report,
      el(
        "table",
        { class: "cands" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { class: "num" }, "#"),
            el("th", {}, t.dres_col_candidate),
            el("th", { class: "num" }, t.dres_col_votes),
            el("th", { class: "num" }, "%"),
            el("th", {}, "")
          )
        ),
        el("tbody", {}, ...rows)
      )
    );
    if (focusKey) {
      const again = box.querySelector(`[data-key="${focusKey}"]`);
      if (again) again.focus();
    }
  }
  function confirmation(x) {
    const state =
      x.confirmed === true ? "yes" : x.confirmed === false ? "no" : "none";
    const text = { yes: t.dres_confirmed, no: t.dres_not_confirmed, none: t.dres_no_decision }[state];
    const source = el("input", {
      type: "text",
      class: "source",
      placeholder: t.dres_source_placeholder,
      "aria-label": t.dres_source,
      maxlength: "200",
      "data-key": "source-" + x.id,
    });
    source.value = st.sources[x.id] || "";
    source.addEventListener("input", () => (st.sources[x.id] = source.value));
    const msg = el("span", { class: "msg", role: "status" });
    const send = async (confirmed) => {
      try {
        const body = { candidate: x.id, confirmed, source: source.value.trim() };
        await api("/api/results/confirmation", { json: body });
        msg.textContent = t.done;
        soon(300);
      } catch (e) {
        msg.textContent = t.error.replace("{m}", e.message);
      }
    };
    return el(
      "div",
      { class: "confirmation", "data-state": state },
      el("span", { class: "rchip conf-" + state }, text),
      source,
      el("button", { type: "button", "data-confirm": "true", disabled: x.confirmed === true, onclick: () => send(true) }, t.dres_confirm),
      el("button", { type: "button", class: "danger", "data-confirm": "false", disabled: x.confirmed === false, onclick: () => send(false) }, t.dres_unconfirm),
      msg
    );
  }
  async function act(u, action, why, msg) {
    if (action === "retract" && !window.confirm(t.confirm_retract)) return;
    try {
      const out = await api(`/editor/api/reports/${u.report.id}/${action}`, { json: { why } });
      if (msg) msg.textContent = out.outcome === "done" ? t.done : out.outcome;
      await load();
    } catch (e) {
      if (msg) msg.textContent = t.error.replace("{m}", e.message);
    }
  }

  /** `node.replaceChildren` without the nulls (the DOM would write them as "null"). */
  function replace(node, ...children) {
    node.replaceChildren(...children.flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false));
  }

  // --- the official list beside ours ----------------------------------------------------
  function yesNo(v) {
    return v === null || v === undefined ? "—" : v ? t.dres_yes : t.dres_no;
  }
  function side(field, value) {
    if (field === "votes" || field === "ballots_valid") return int(value);
    return yesNo(value);
  }
  function drawOfficial() {
    const o = st.official;
    const box = $("res-official");
    if (!o) return;
    const diffs = o.differences.map((d) =>
      el(
        "tr",
        { "data-unit": `${d.code}-${d.unit}`, "data-candidate": d.candidate || "" },
        el("td", {}, unitName(d)),
        el("td", {}, d.name || "—"),
        el("td", {}, d.fields.map((f) => t["dres_field_" + f]).join(", ")),
        el("td", { class: "num" }, d.fields.map((f) => side(f, d.ours[f])).join(" · ")),
        el(
          "td",
          { class: "num" },
          d.fields
            .map((f) =>
              f === "ballots_valid" ? `${int(d.official.low)}–${int(d.official.high)}` : side(f, d.official[f])
            )
            .join(" · ")
        )
      )
    );
    const comp = COMPOSITION.map((k) => {
      const ours = o.summary.composition[k];
      const council = o.council[k];
      return el(
        "tr",
        { "data-dimension": k, "data-differs": o.complete && ours !== council ? "1" : "0" },
        el("td", {}, t["dres_comp_" + k]),
        el("td", { class: "num" }, int(ours)),
        el("td", { class: "num" }, int(council))
      );
    });
    replace(
      box,
      el(
        "p",
        { class: "meta", id: "res-official-counts" },
        label("dres_official_counts", { compared: int(o.units_compared), not_final: int(o.not_final), n: int(o.differences.length) })
      ),
      o.differences.length
        ? el(
            "table",
            { class: "diffs" },
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                el("th", {}, t.dres_col_unit),
                el("th", {}, t.dres_col_candidate),
                el("th", {}, t.dres_col_field),
                el("th", { class: "num" }, t.dres_ours),
                el("th", { class: "num" }, t.dres_official)
              )
            ),
            el("tbody", {}, ...diffs)
          )
        : el("p", { class: "empty" }, o.units_compared ? t.dres_official_none : t.dres_official_nothing),
      el("h4", {}, t.dres_composition),
      el(
        "table",
        { class: "comp" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", { class: "num" }, t.dres_ours), el("th", { class: "num" }, t.dres_council))),
        el("tbody", {}, ...comp)
      ),
      o.complete ? null : el("p", { class: "meta" }, t.dres_summary_council_pending)
    );
  }

  // --- the view, its filters and tabs ---------------------------------------------------
  /** The view's frame, built once into the page's `#results-view`. */
  function frame() {
    const option = (value, text) => el("option", { value }, text);
    const th = (text, cls) => el("th", { class: cls || null, scope: "col" }, text);
    $("results-view").replaceChildren(
      el(
        "section",
        { class: "results-pane" },
        el(
          "div",
          { class: "results-tools" },
          el(
            "label",
            {},
            t.dres_filter_province + " ",
            el(
              "select",
              { id: "res-province" },
              option("", t.dres_all),
              ...cfg.provinces.map((p) => option(p.code, `${p.code} ${provinceName(p.code)}`))
            )
          ),
          el(
            "label",
            {},
            t.dres_filter_status + " ",
            el(
              "select",
              { id: "res-status" },
              option("", t.dres_all),
              ...STATUSES.map((s) => option(s, t["dres_status_" + s])),
              option("pending", t.dres_pending),
              option("close", t.dres_filter_close)
            )
          ),
          el("label", { class: "check" }, el("input", { type: "checkbox", id: "res-close-first" }), " " + t.dres_sort_close_first),
          el("span", { class: "res-counts", id: "res-counts", "aria-live": "polite" })
        ),
        el(
          "div",
          { class: "results-scroll" },
          el(
            "table",
            { id: "results", class: "results" },
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                th(t.dres_col_unit),
                th(t.dres_col_status),
                  th(t.dres_col_winners),
                th(t.dres_col_votes, "num"),
                th("%", "num"),
                th(t.dres_col_margin, "num"),
                th(t.dres_col_flags)
              )
            ),
            el("tbody", {})
          )
        )
      ),
      el(
        "aside",
        { class: "results-side" },
        el(
          "nav",
          { class: "res-tabs", role: "tablist", id: "res-tabs" },
          el("button", { type: "button", role: "tab", "data-rtab": "unit", "aria-selected": "true" }, t.dres_tab_unit),
          el("button", { type: "button", role: "tab", "data-rtab": "official", "aria-selected": "false" }, t.dres_tab_official)
        ),
        el("section", { class: "rtab", id: "rtab-unit", role: "tabpanel" }, el("div", { id: "res-unit" })),
        el("section", { class: "rtab", id: "rtab-official", role: "tabpanel", hidden: true }, el("div", { id: "res-official" }))
      )
    );
  }
  frame();
  function showTab(name) {
    for (const b of $("res-tabs").querySelectorAll("button")) b.setAttribute("aria-selected", String(b.dataset.rtab === name));
    $("rtab-unit").hidden = name !== "unit";
    $("rtab-official").hidden = name !== "official";
    if (name === "official") loadOfficial().catch(() => {});
  }
  function setView(view) {
    st.visible = view === "results";
    document.body.dataset.view = view;
    for (const b of $("views").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
    $("results-view").hidden = !st.visible;
    $("turnout-view").hidden = st.visible;
    const summary = $("summary-link");
    summary.href = summary.href.replace(/phase=\d/, `phase=${st.visible ? 3 : 2}`);
    if (st.visible) load().catch(() => {});
    const url = new URL(window.location.href);
    if (st.visible) url.searchParams.set("view", "results");
    else url.searchParams.delete("view");
    window.history.replaceState(null, "", url);
  }
  $("views").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-view]");
    if (b) setView(b.dataset.view);
  });
  $("res-tabs").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-rtab]");
    if (b) showTab(b.dataset.rtab);
  });
  function refilter() {
    draw();
    $("results").parentElement.scrollTop = 0;
  }
  $("res-province").addEventListener("change", (ev) => {
    st.province = ev.target.value;
    refilter();
  });
  $("res-status").addEventListener("change", (ev) => {
    st.status = ev.target.value;
    refilter();
  });
  $("res-close-first").addEventListener("change", (ev) => {
    st.closeFirst = ev.target.checked;
    refilter();
  });
  if (new URL(window.location.href).searchParams.get("view") === "results") setView("results");

  return { load, soon, apply, setView };
}
