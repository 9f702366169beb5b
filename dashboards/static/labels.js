/* Label lookup in the catalogue the page was given (dashboards/catalogue.py, resolved for
 * one language by dashboards/i18n.py). A missing key reads as the key itself, never as an
 * exception: a gap in a translation shows on screen instead of breaking the page.
 */

/** `t(key, vars)`: the label, with "{slot}"s filled from `vars`. `fallback` is another
 * language's catalogue to read when `catalogue` lacks the key. */
export function makeLabels(catalogue, fallback = {}) {
  function t(key, vars) {
    let s = catalogue[key];
    if (s === undefined || s === null || s === "") s = fallback[key];
    if (s === undefined || s === null || s === "") s = key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  }
  /** `prefix + value` looked up ("level_" + "na"), or `otherwise` when value is empty. */
  t.of = (prefix, value, otherwise = "") => (value ? t(prefix + value) : otherwise);
  t.lang = catalogue._lang;
  t.locale = catalogue._locale;
  return t;
}
