/* The public candidates page (server/candidates.py): filters the list in place.
 *
 * The server painted every candidate, those outside the filters `hidden`, so this module
 * only shows and hides rows: by province (a unit's data-code) and by name (the folded name
 * in each row's data-fold, compared with the search folded the same way as
 * server/candidates.py `fold`). It keeps the count line, the province column of the
 * make-up (the server's counts, in #boot), the address, the downloads and the language
 * links in step with the filters. Without it, the form reloads the page with its filters.
 */

import { makeFormat } from "./format.js";
import { makeLabels } from "./labels.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const t = makeLabels(boot.labels);
const fmt = makeFormat({ locale: boot.locale, zone: boot.zone });
const TYPING_MS = 120;

/** Lower case without accents, spaces collapsed (đ → d): "Nguyễn Phú Trọng" → "nguyen phu trong". */
export function fold(text) {
  return text
    .replace(/[đĐ]/g, (m) => (m === "đ" ? "d" : "D"))
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");
}

const form = document.getElementById("filters");
const province = document.getElementById("province");
const search = document.getElementById("q");
const units = [...document.querySelectorAll("section.unit")].map((el) => ({
  el,
  code: el.dataset.code,
  rows: [...el.querySelectorAll("tr.cand")].map((tr) => ({ tr, fold: tr.dataset.fold })),
}));

/** The filters as a query string, empty ones left out, with `lang` (the page's unless given). */
function query(lang = boot.lang) {
  const params = new URLSearchParams();
  if (province.value) params.set("province", province.value);
  const q = search.value.trim();
  if (q) params.set("q", q);
  if (lang) params.set("lang", lang);
  const s = params.toString();
  return s ? `?${s}` : "";
}

function showMakeup(code) {
  const cells = document.querySelectorAll("#makeup .sel");
  for (const el of cells) el.hidden = !code;
  if (!code) return;
  document.getElementById("makeup-province").textContent = boot.names[code] || code;
  const counts = boot.makeup.counts[code];
  for (const key of boot.makeup.rows) {
    const row = document.querySelector(`#makeup tr[data-key="${key}"]`);
    const [n, share] = row.querySelectorAll("td.sel");
    n.dataset.count = String(counts[key]);
    n.textContent = fmt.int(counts[key]);
    share.textContent =
      key === "elected" || !counts.elected ? "" : fmt.pct((counts[key] * 100) / counts.elected, boot.share_digits);
  }
}

function apply() {
  const code = province.value;
  const wanted = fold(search.value);
  let shownRows = 0;
  let shownUnits = 0;
  for (const unit of units) {
    let visible = 0;
    const inside = !code || unit.code === code;
    for (const row of unit.rows) {
      const show = inside && row.fold.includes(wanted);
      row.tr.hidden = !show;
      if (show) visible += 1;
    }
    unit.el.hidden = visible === 0;
    shownRows += visible;
    if (visible) shownUnits += 1;
  }
  document.getElementById("showing").textContent = t("cand_showing", {
    shown: fmt.int(shownRows),
    total: fmt.int(boot.total),
    units: fmt.int(shownUnits),
  });
  document.getElementById("nothing").hidden = shownRows > 0;
  showMakeup(code);
  history.replaceState(null, "", `/candidates${query()}`);
  for (const a of document.querySelectorAll(".downloads a")) {
    a.href = `/candidates.${a.dataset.format}${query()}`;
  }
  for (const a of document.querySelectorAll(".langs a")) {
    a.href = `/candidates${query(a.dataset.lang)}`;
  }
}

let typing = null;
search.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(apply, TYPING_MS);
});
province.addEventListener("change", apply);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(typing);
  apply();
});
document.documentElement.classList.add("js");
apply(); // the browser may have restored other values into the form (back, reload)
document.body.dataset.ready = "true";
