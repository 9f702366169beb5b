/* Numbers and moments for people, written once for the board, the phone and the desk.
 *
 * Everything comes from the browser's CLDR (Intl) with the page's locale — the same CLDR
 * that dashboards/i18n.py reads through Babel, so a figure the server painted and the
 * same figure redrawn here read alike ("99,60%", "99.60%", "99,60 %"). Moments are shown
 * in the election's zone (an IANA name from the page's config), whatever the zone of the
 * computer showing them; no offset is written down here.
 */

const LONG_OFFSET = /^GMT(?:([+-])(\d\d):(\d\d))?$/;

/** A formatter for one locale ("vi-VN") and zone ("Asia/Ho_Chi_Minh"); `noData` is shown
 * for a missing number. */
export function makeFormat({ locale, zone, noData = "—" }) {
  const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const percents = {};
  const dates = {};

  function dateFormat(name, options) {
    if (!dates[name]) dates[name] = new Intl.DateTimeFormat(locale, { timeZone: zone, ...options });
    return dates[name];
  }

  /** 69523133 → "69.523.133" (vi); null → noData. */
  function int(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return noData;
    return numbers.format(Math.round(v));
  }

  /** 99.6 → "99,60%" (vi), "99,60 %" (fr); null → noData. Rounds half to even on the
   * exact decimal, as Babel does on the server. */
  function pct(v, digits = 2) {
    if (v === null || v === undefined || Number.isNaN(v)) return noData;
    if (!percents[digits]) {
      percents[digits] = new Intl.NumberFormat(locale, {
        style: "percent",
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
        roundingMode: "halfEven",
      });
    }
    return percents[digits].format(`${v}e-2`);
  }

  /** A signed difference in points: "+0,25", "−1,10", "±0,00". */
  function diff(v, digits = 2) {
    if (v === null || v === undefined) return "";
    const s = new Intl.NumberFormat(locale, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(Math.abs(v));
    return (v > 0 ? "+" : v < 0 ? "\u2212" : "±") + s;
  }

  /** The zone's offset from UTC at `ms`, in milliseconds. */
  function offsetMs(ms) {
    const name = dateFormat("offset", { timeZoneName: "longOffset" })
      .formatToParts(new Date(ms))
      .find((p) => p.type === "timeZoneName").value;
    const m = LONG_OFFSET.exec(name);
    if (!m || !m[1]) return 0;
    return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000;
  }

  /** "+07:00": the zone's offset at `ms`, as ISO 8601 writes it. */
  function offsetText(ms) {
    const off = offsetMs(ms);
    const abs = Math.abs(off) / 60000;
    const hh = String(Math.floor(abs / 60)).padStart(2, "0");
    const mm = String(abs % 60).padStart(2, "0");
    return `${off < 0 ? "-" : "+"}${hh}:${mm}`;
  }

  /** "2021-05-23T11:00:00" of `ms`, on the zone's wall clock (digits, no offset). */
  function localIso(ms) {
    return new Date(ms + offsetMs(ms)).toISOString().slice(0, 19);
  }

  /** "2021-05-23T11:00" (local, as a form field holds it) → ISO 8601 with the zone's
   * offset at that moment, e.g. "2021-05-23T11:00:00+07:00". */
  function isoFromLocal(local) {
    const asUtc = Date.parse(`${local.slice(0, 16)}:00Z`);
    if (Number.isNaN(asUtc)) return null;
    const guess = asUtc - offsetMs(asUtc);
    return `${local.slice(0, 16)}:00${offsetText(asUtc - offsetMs(guess))}`;
  }

  const when = (iso) => (typeof iso === "number" ? iso : Date.parse(iso));

  return {
    locale,
    zone,
    int,
    pct,
    diff,
    offsetText,
    localIso,
    isoFromLocal,
    /** "2021-05-23" of a moment, in the zone. */
    isoDay: (ms) => localIso(when(ms)).slice(0, 10),
    /** The locale's numeric date: "23/5/2021" (vi), "2021/5/23" (zh). */
    date: (ms) => dateFormat("date", { year: "numeric", month: "numeric", day: "numeric" }).format(when(ms)),
    /** "23/5" (vi), "23/05" (en-GB), "5/23" (zh): a day without its year. */
    dayMonth: (ms) => dateFormat("dayMonth", { month: "numeric", day: "numeric" }).format(when(ms)),
    /** The locale's short 24-hour time (CLDR timeFormats short): "15:00", "07:05". */
    time: (ms) => dateFormat("time", { timeStyle: "short", hourCycle: "h23" }).format(when(ms)),
    /** The same with seconds (CLDR timeFormats medium): "15:00:07". */
    clockTime: (ms) => dateFormat("clock", { timeStyle: "medium", hourCycle: "h23" }).format(when(ms)),
    /** "Chủ Nhật, 23/5/2021": the day of a wall board's header. */
    longDate: (ms) =>
      dateFormat("long", { weekday: "long", day: "numeric", month: "numeric", year: "numeric" }).format(when(ms)),
    /** "23/5 15:00": a moment of the polling days, short. */
    dayTime: (ms) =>
      `${dateFormat("dayMonth", { month: "numeric", day: "numeric" }).format(when(ms))} ${
        dateFormat("time", { timeStyle: "short", hourCycle: "h23" }).format(when(ms))}`,
  };
}
