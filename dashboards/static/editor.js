/* The editors' desk (/editor). Reads the desk API (server/editor.py) for the picture with
 overdue flags and official figures, follows /ws/live/editor (joined with the session
 cookie: no token in the page) for live changes, and draws the map with the same Plotly
 figure the chart exports use (/charts/map.plotly). The time slider rewinds table and map
 to any moment of the polling day; the download links export what is shown. */
import { ElectionClock } from "./clock.js";
import { LiveFeed } from "./feed.js";
import { makeFormat } from "./format.js";
import { makeAdmin } from "./editor-admin.js";
import { makeQueue } from "./editor-queue.js";
import { makeResults } from "./editor-results.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const cfg = boot.config;
const t = boot.labels;
const c = boot.catalogue;
const lang = c._lang === "en" ? "en" : document.documentElement.lang || "vi";
const fmt = makeFormat({ locale: c._locale, zone: cfg.zone, noData: "—" });
const clock = new ElectionClock(cfg.clock); // the election's "now" (contract §6)
const SEVERITY = { info: 1, watch: 2, incident: 3 };
const $ = (id) => document.getElementById(id);

const state = {
  live: null, // the picture now (desk API), kept current by the live feed
  shown: null, // what the table shows: `live`, or the picture of `at`
  at: null, // ISO moment when rewound, null = live
  sort: { key: "code", dir: 1 },
  region: "all",
  picks: new Set(),
  queue: [],
};

// --- formatting (format.js: CLDR through Intl, in the election's zone) -----------------
const fmtInt = (v) => fmt.int(v);
const fmtPct = (v, digits) => fmt.pct(v, digits === undefined ? 2 : digits);
const fmtDiff = (v) => fmt.diff(v);
const hm = (iso) => (iso ? fmt.time(iso) : "—");
const dmhm = (iso) => (iso ? fmt.dayTime(iso) : "—");
/** ISO 8601 of a moment, on the minute, with the zone's offset. */
const isoAt = (ms) => `${fmt.localIso(ms).slice(0, 16)}:00${fmt.offsetText(ms)}`;
function provinceName(code) {
  const p = cfg.provinces.find((x) => x.code === code);
  return p ? (lang === "vi" ? p.name : p.name_en) : code;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// --- HTTP ---------------------------------------------------------------------------
async function api(path, options) {
  const opts = Object.assign({ headers: {}, credentials: "same-origin" }, options || {});
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  const res = await fetch(path, opts);
  const body = (res.headers.get("content-type") || "").startsWith("application/json")
    ? await res.json()
    : null;
  if (res.status === 401) {
    window.location.href = "/editor/signin" + (lang === "en" ? "?lang=en" : "");
    throw new Error("signed out");
  }
  if (!res.ok) {
    const msg = body && body.message ? (lang === "en" ? body.message_en : body.message_vi) : res.statusText;
    throw new Error(msg || String(res.status));
  }
  return body;
}

// --- the national line --------------------------------------------------------------
function drawNational(pic) {
  const nat = pic.national || {};
  $("nat-pct").textContent = fmtPct(nat.turnout_pct);
  $("nat-sub").textContent =
    `${fmtInt(nat.voted)} / ${fmtInt(nat.registered)} · ${c.provinces_reporting}: ` +
    `${nat.provinces_reporting}/${nat.provinces_total}`;
  const o = pic.official;
  const off = $("nat-official");
  if (o) {
    off.hidden = false;
    off.textContent =
      `${t.official}: ${fmtPct(o.turnout_pct)} (${hm(o.as_of)}) · ${c.agency}: ${fmtPct(o.ours_pct)}` +
      ` · ${t.diff} ${fmtDiff(o.diff)}`;
    off.dataset.warn = o.diff !== null && Math.abs(o.diff) >= 0.5 ? "1" : "0";
  } else {
    off.hidden = true;
  }
  const n = pic.overdue_count || 0;
  const badge = $("overdue-count");
  badge.hidden = n === 0;
  badge.textContent = t.overdue_count.replace("{n}", n);
  if (pic.checkpoint) badge.title = t.overdue_since.replace("{t}", hm(pic.checkpoint));
}

// --- the table ----------------------------------------------------------------------
function sortValue(p, key) {
  switch (key) {
    case "name":
      return provinceName(p.code);
    case "completion":
      return p.areas_total ? p.areas_done / p.areas_total : null;
    case "security":
      return SEVERITY[p.security_level] || 0;
    case "as_of":
      return p.as_of ? new Date(p.as_of).getTime() : null;
    case "official":
      return p.official ? p.official.diff : null;
    default:
      return p[key];
  }
}
function drawTable() {
  const pic = state.shown;
  if (!pic) return;
  const { key, dir } = state.sort;
  const rows = pic.provinces.filter((p) => state.region === "all" || p.region === state.region);
  rows.sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va === vb) return a.code < b.code ? -1 : 1;
    if (va === null || va === undefined) return 1; // no data last, either direction
    if (vb === null || vb === undefined) return -1;
    return (va < vb ? -1 : 1) * dir;
  });
  const tbody = $("provinces").tBodies[0];
  const frag = document.createDocumentFragment();
  for (const p of rows) {
    const pct = p.turnout_pct;
    const bar = el("span", { class: "meter" });
    if (pct !== null && pct !== undefined) bar.style.width = Math.max(0, Math.min(100, pct)) + "%";
    const official = p.official
      ? el(
          "span",
          { class: "official", title: `${p.official.source} · ${hm(p.official.as_of)}` },
          fmtPct(p.official.turnout_pct),
          el("small", { "data-warn": Math.abs(p.official.diff || 0) >= 0.5 ? "1" : "0" }, " " + fmtDiff(p.official.diff))
        )
      : "";
    const pick = el("input", {
      type: "checkbox",
      "aria-label": t.pick_help + ": " + provinceName(p.code),
      checked: state.picks.has(p.code),
      onchange: (ev) => {
        if (ev.target.checked && state.picks.size < 7) state.picks.add(p.code);
        else state.picks.delete(p.code);
        ev.target.checked = state.picks.has(p.code);
        updateDownloads();
      },
    });
    const tr = el(
      "tr",
      { "data-code": p.code, "data-overdue": p.overdue ? "1" : "0" },
      el("td", { class: "code" }, p.code),
      el("td", { class: "name" }, provinceName(p.code)),
      el("td", { class: "num turnout" }, el("span", { class: "pct" }, fmtPct(pct)), bar),
      el("td", { class: "num" }, p.voted === null ? "—" : `${fmtInt(p.voted)} / ${fmtInt(p.registered)}`),
      el(
        "td",
        { class: "num" },
        p.areas_total ? `${fmtInt(p.areas_done)}/${fmtInt(p.areas_total)}` : "—"
      ),
      el("td", { class: "num" }, p.revote_units ? String(p.revote_units) : "0"),
      el(
        "td",
        {},
        p.security_level
          ? el("span", { class: "sev", "data-level": p.security_level }, c["severity_" + p.security_level])
          : ""
      ),
      el(
        "td",
        { class: "last" },
        hm(p.as_of),
        p.overdue
          ? el(
              "span",
              {
                class: "flag",
                title: t.overdue_since.replace("{t}", hm(pic.checkpoint)),
              },
              t.overdue
            )
          : ""
      ),
      el("td", { class: "num" }, official),
      el("td", { class: "pick" }, pick)
    );
    frag.append(tr);
  }
  tbody.replaceChildren(frag);
  for (const th of $("provinces").tHead.rows[0].cells) {
    const k = th.dataset.sort;
    if (!k) continue;
    th.setAttribute("aria-sort", k === key ? (dir > 0 ? "ascending" : "descending") : "none");
  }
}
$("provinces").tHead.addEventListener("click", (ev) => {
  const th = ev.target.closest("th[data-sort]");
  if (!th) return;
  const key = th.dataset.sort;
  const numeric = ["turnout_pct", "voted", "completion", "revote_units", "security", "official"].includes(key);
  if (state.sort.key === key) state.sort.dir = -state.sort.dir;
  else state.sort = { key, dir: numeric ? -1 : 1 };
  drawTable();
});
$("regions").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-region]");
  if (!b) return;
  state.region = b.dataset.region;
  for (const x of $("regions").querySelectorAll("button")) x.setAttribute("aria-pressed", String(x === b));
  drawTable();
});

// --- the map ------------------------------------------------------------------------
let mapToken = 0;
let mapTimer = null;
async function drawMap() {
  if (!window.Plotly) return;
  const token = ++mapToken;
  const q = new URLSearchParams({ lang: lang === "en" ? "en" : "vi", size: "web" });
  if (state.at) q.set("at", state.at);
  let fig;
  try {
    fig = await api("/charts/map.plotly?" + q.toString());
  } catch (e) {
    return;
  }
  if (token !== mapToken) return; // a newer request is on its way
  const box = $("map");
  const layout = fitMap(fig, box.clientWidth || 600);
  await window.Plotly.react(box, fig.data, layout, Object.assign({}, cfg.plotly_config, { responsive: false }));
  box.dataset.moment = (fig.layout.meta && fig.layout.meta.at) || "";
  box.dataset.seq = String((fig.layout.meta && fig.layout.meta.seq) || "");
}
function fitMap(fig, width) {
  // The export's figure is laid out for 1200×675 with the national figure beside the
  // map; the desk's pane is narrower and shows the national figure in its header bar:
  // drop that headline and give the map the room it leaves.
  const height = Math.round(width * 0.68);
  const layout = Object.assign({}, fig.layout, { width, height });
  const frac = 0.74;
  layout.annotations = (layout.annotations || []).filter(
    (a) => !(a.xref === "paper" && a.yanchor === "top" && a.x > 0.5)
  );
  layout.geo = Object.assign({}, layout.geo, { domain: { x: [0, frac], y: [0, 1] } });
  layout.legend = Object.assign({}, layout.legend, { x: frac + 0.02 });
  layout.margin = Object.assign({}, layout.margin, { t: 64, b: 30, l: 12, r: 12 });
  layout.title = Object.assign({}, layout.title, {
    x: 12 / width,
    y: 1 - 10 / height,
    font: Object.assign({}, layout.title.font, { size: 17 }),
    subtitle: Object.assign({}, layout.title.subtitle, {
      font: Object.assign({}, layout.title.subtitle && layout.title.subtitle.font, { size: 12 }),
    }),
  });
  for (const a of layout.annotations) {
    if (a.xref === "paper" && a.yanchor === "bottom" && a.y === 0) {
      a.yshift = -22; // the source line, into the smaller bottom margin
      a.xshift = 0;
    }
  }
  for (const trace of fig.data) {
    if (trace.colorbar) trace.colorbar = Object.assign({}, trace.colorbar, { x: frac + 0.02, len: 0.6 });
  }
  return layout;
}
function mapSoon(delay) {
  clearTimeout(mapTimer);
  mapTimer = setTimeout(drawMap, delay);
}

// --- the moment: live or rewound ----------------------------------------------------
const dayStart = Date.parse(fmt.isoFromLocal(`${cfg.day}T06:00`));
const dayEnd = Date.parse(fmt.isoFromLocal(`${cfg.day}T23:55`));
const STEP = 5 * 60 * 1000;
const slider = $("slider");
function sliderMax() {
  return Math.round((Math.min(clock.now(), dayEnd) - dayStart) / STEP);
}
function setupSlider() {
  const max = Math.max(1, sliderMax());
  slider.max = String(max);
  if (!state.at) slider.value = String(max);
}
function momentLabel() {
  const iso = state.at || (state.live && state.live.at);
  $("moment-label").textContent = state.at ? `${dmhm(state.at)} · ${t.rewound}` : `${t.conn_live} · ${dmhm(iso)}`;
  $("live-btn").disabled = !state.at;
  const rw = $("rewound");
  rw.hidden = !state.at;
  rw.textContent = state.at ? `${t.rewound}: ${dmhm(state.at)}` : "";
  document.body.dataset.rewound = state.at ? "1" : "0";
}
let rewindTimer = null;
slider.addEventListener("input", () => {
  const v = Number(slider.value);
  if (v >= sliderMax() && clock.now() < dayEnd) {
    goLive();
    return;
  }
  state.at = isoAt(dayStart + v * STEP);
  momentLabel();
  updateDownloads();
  clearTimeout(rewindTimer);
  rewindTimer = setTimeout(loadRewound, 200);
});
async function loadRewound() {
  const at = state.at;
  if (!at) return;
  const pic = await api("/editor/api/desk?at=" + encodeURIComponent(at));
  if (state.at !== at) return;
  state.shown = pic;
  drawNational(pic);
  drawTable();
  drawMap();
}
function goLive() {
  state.at = null;
  setupSlider();
  momentLabel();
  updateDownloads();
  if (state.live) {
    state.shown = state.live;
    drawNational(state.live);
    drawTable();
  }
  drawMap();
}
$("live-btn").addEventListener("click", goLive);

async function loadLive() {
  const pic = await api("/editor/api/desk");
  state.live = pic;
  if (!feed.open && (feed.seq === null || pic.seq > feed.seq)) feed.seq = pic.seq;
  if (!state.at) {
    state.shown = pic;
    drawNational(pic);
    drawTable();
    momentLabel();
  }
  $("rehearsal").hidden = !pic.rehearsal;
}
let liveTimer = null;
function liveSoon(delay) {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => loadLive().catch(() => {}), delay);
}

// --- downloads ----------------------------------------------------------------------
function updateDownloads() {
  const name = $("chart-name").value;
  const q = new URLSearchParams({ lang: $("chart-lang").value, size: $("chart-size").value, download: "1" });
  if (state.at) q.set("at", state.at);
  if (name === "by_hour" && state.picks.size) q.set("provinces", [...state.picks].join(","));
  for (const a of document.querySelectorAll("#downloads a.dl")) {
    a.href = `/charts/${name}.${a.dataset.format}?${q.toString()}`;
  }
}
for (const id of ["chart-name", "chart-lang", "chart-size"]) $(id).addEventListener("change", updateDownloads);

// --- the live feed (feed.js: since=, prev, batch, resync, backoff) ------------------
function setConn(s) {
  const conn = $("conn");
  conn.dataset.state = s;
  conn.textContent = { live: t.conn_live, connecting: t.conn_connecting, offline: t.conn_offline }[s];
}
function applyUpdate(u) {
  if (!state.live) return;
  if (u.province) {
    const i = state.live.provinces.findIndex((p) => p.code === u.province.code);
    if (i >= 0) {
      const old = state.live.provinces[i];
      state.live.provinces[i] = Object.assign({}, old, u.province, {
        overdue: old.overdue,
        official: old.official,
      });
    }
  }
  if (u.national) state.live.national = u.national;
  state.live.seq = u.seq;
}
function applied() {
  if (!state.at && state.live) {
    state.shown = state.live;
    drawNational(state.live);
    drawTable();
    mapSoon(1500);
  }
  liveSoon(800); // overdue flags and official figures are the server's to compute
  queueSoon(800);
}
let updated = false;
const feed = new LiveFeed("/ws/live/editor", {
  backoffMaxMs: 15000,
  on: {
    state: (s) => setConn(s === "down" ? "offline" : "connecting"), // "live" once welcomed
    welcome: () => setConn("live"),
    snapshot: () => {
      liveSoon(0);
      results.soon(0);
    },
    update: (u) => {
      applyUpdate(u);
      results.apply(u);
      updated = true;
    },
    settled: () => {
      if (updated) applied(); // once per message, a batch included
      updated = false;
    },
    clock: (msg) => {
      if (!clock.set(msg)) return;
      setupSlider();
      momentLabel();
    },
  },
});

// --- the review queue (editor-queue.js) and the other tabs (editor-admin.js) --------
const { loadQueue, queueSoon } = makeQueue({ state, t, c, $, el, api, fmtPct, fmtInt, hm, dmhm, liveSoon, mapSoon });
const { loadOfficial, loadPhotos, loadTokens } = makeAdmin({
  t,
  $,
  el,
  api,
  provinceName,
  fmtPct,
  fmtDiff,
  dmhm,
  liveSoon,
  agency: c.agency,
});

// --- the results by unit (editor-results.js) ----------------------------------------
const results = makeResults({ cfg, t, $, el, api, fmt, provinceName });

// --- tabs ---------------------------------------------------------------------------
document.querySelector(".tabs").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-tab]");
  if (!b) return;
  for (const x of document.querySelectorAll(".tabs button")) x.setAttribute("aria-selected", String(x === b));
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== "tab-" + b.dataset.tab;
  const load = { queue: loadQueue, official: loadOfficial, photos: loadPhotos, tokens: loadTokens }[b.dataset.tab];
  if (load) load().catch(() => {});
});

// --- start --------------------------------------------------------------------------
setupSlider();
updateDownloads();
loadLive()
  .then(() => {
    feed.start();
    drawMap();
  })
  .catch(() => setConn("offline"));
loadQueue().catch(() => {});
loadPhotos().catch(() => {});
setInterval(() => {
  setupSlider();
  if (!state.at) liveSoon(0); // checkpoints pass with the clock, not only with reports
}, 30000);
window.addEventListener("load", () => mapSoon(0));
