"""Words, numbers and moments for people: label lookup in the one catalogue
(`dashboards/catalogue.py`) and CLDR formats through Babel.

`label(key, lang)` looks a key up in the requested language, then English, then
Vietnamese, and finally returns the key itself, so a missing translation shows up as
readable text instead of an exception. `catalogue(lang)` is the whole resolved table,
ready to hand to a page's JavaScript as JSON (with `_lang`, `_locale` and `_separators`).
`error_message(code, field, lang)` is a refusal's text from the same catalogue.

Numbers and dates follow CLDR (Babel here, the browser's `Intl` on the pages, both given
the same locale from `LOCALES`), so the board, the charts and the CSV agree on "99,60%"
versus "99.60%" versus "99,60 %" without a table of our own. Moments are shown in the
election's zone, which callers pass as `zone` (the configured `Election.zone`);
`DEFAULT_ZONE` is the contract's default election zone, used when none is given.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol, parse_pattern

from dashboards.catalogue import ERRORS, LABELS
from ingest import fixtures, refusals

LANGS: tuple[str, ...] = ("vi", "en", "fr", "es", "zh", "ru")
DEFAULT_LANG = "vi"
LOCALES: dict[str, str] = {
    "vi": "vi-VN",
    "en": "en-GB",
    "fr": "fr-FR",
    "es": "es-ES",
    "zh": "zh-CN",
    "ru": "ru-RU",
}
"""The CLDR locale (BCP 47) of each language: Babel here, `Intl` on the pages."""
DEFAULT_ZONE: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
"""The contract's default election zone (§2); the configured one is `Election.zone`."""
MIN_GROUPING_DIGITS: dict[str, int] = {"es": 2}
"""CLDR's `minimumGroupingDigits` where it is not 1 ("1234" but "12.345" in Spanish):
Babel does not read it, `Intl` does."""


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[_lang(lang)], sep="-")


# --- labels -------------------------------------------------------------------------------


def label(key: str, lang: str = DEFAULT_LANG) -> str:
    """The label `key` in `lang`, falling back to English, then Vietnamese, then the key."""
    row = LABELS.get(key)
    if row is None:
        return key
    for candidate in (_lang(lang), "en", "vi"):
        i = LANGS.index(candidate)
        if i < len(row) and row[i]:
            return row[i]
    return key


def catalogue(lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Every label resolved for `lang` (with fallbacks), e.g. for a page's JavaScript."""
    out = {key: label(key, lang) for key in LABELS}
    out["_lang"] = _lang(lang)
    out["_locale"] = LOCALES[_lang(lang)]
    out["_separators"] = separators(lang)
    return out


def keys() -> tuple[str, ...]:
    """The published keys: those shipped in all six languages (board, charts)."""
    return tuple(k for k, row in LABELS.items() if len(row) == len(LANGS))


def error_message(
    code: str,
    field: str | None = None,
    lang: str = DEFAULT_LANG,
    *,
    reason: str = "",
    **values: Any,
) -> str:
    """A refusal's message in `lang` (vi or en; others read English): the most precise of
    `code.field.reason`, `code.*.reason`, `code.field`, `code` in the catalogue, with
    `{slots}` filled in (as `ingest.errors.ContractError.of` does)."""
    i = 0 if _lang(lang) == "vi" else 1
    key = refusals.lookup(code, field, reason)
    if key not in ERRORS:
        return code
    return refusals.render(key, **{"field": field, **values})[i]


def error_pair(
    code: str, field: str | None = None, *, reason: str = "", **values: Any
) -> tuple[str, str]:
    """(vi, en) of `error_message`: what `ingest.errors.ContractError(vi, en)` takes."""
    return tuple(error_message(code, field, lang, reason=reason, **values) for lang in ("vi", "en"))


# --- numbers ------------------------------------------------------------------------------


def separators(lang: str = DEFAULT_LANG) -> str:
    """Plotly's `layout.separators`: the locale's decimal mark then thousands mark."""
    loc = _locale(lang)
    return get_decimal_symbol(loc) + get_group_symbol(loc)


def fmt_int(value: int | None, lang: str = DEFAULT_LANG) -> str:
    """69523133 → "69.523.133" (vi), "69,523,133" (en); None → the "no data" label."""
    if value is None:
        return label("no_data", lang)
    grouped = abs(int(value)) >= 10 ** (2 + MIN_GROUPING_DIGITS.get(_lang(lang), 1))
    return format_decimal(int(value), locale=_locale(lang), group_separator=grouped)


def fmt_pct(value: float | None, lang: str = DEFAULT_LANG, digits: int = 2) -> str:
    """99.6 → "99,60%" (vi), "99.60%" (en), "99,60 %" (fr); None → the "no data" label.

    Rounding happens only here, at display time (protocol §2)."""
    if value is None:
        return label("no_data", lang)
    loc = _locale(lang)
    pattern = parse_pattern(loc.percent_formats[None].pattern)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(Decimal(str(value)) / 100, loc)


# --- moments ------------------------------------------------------------------------------


def to_local(moment: datetime | str | None, zone: tzinfo | None = None) -> datetime | None:
    """An aware datetime (or ISO 8601 string) in the election's zone; a naive one is taken
    as already local; None stays None."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone or DEFAULT_ZONE)
    return moment.astimezone(zone or DEFAULT_ZONE)


def fmt_date(moment: datetime, lang: str = DEFAULT_LANG) -> str:
    """The locale's numeric date (CLDR skeleton yMd): "23/5/2021" (vi), "2021/5/23" (zh)."""
    return format_skeleton("yMd", moment, locale=_locale(lang))


def fmt_day_month(moment: datetime, lang: str = DEFAULT_LANG) -> str:
    """A day without its year (CLDR skeleton Md): "6/6" (vi), "06/06" (en-GB), "06.06" (ru)."""
    return format_skeleton("Md", moment, locale=_locale(lang))


def fmt_time(moment: datetime, lang: str = DEFAULT_LANG) -> str:
    """The locale's short time (CLDR timeFormats short, 24-hour in all six): "15:00"."""
    return format_time(moment, "short", locale=_locale(lang))


def as_of_label(
    moment: datetime | str | None, lang: str = DEFAULT_LANG, zone: tzinfo | None = None
) -> str:
    """ "Tính đến 15:00 ngày 23/5/2021" / "As of 15:00 on 23/05/2021", in the election's zone."""
    local = to_local(moment, zone)
    if local is None:
        return label("as_of_unknown", lang)
    return label("as_of", lang).format(time=fmt_time(local, lang), date=fmt_date(local, lang))


# --- places -------------------------------------------------------------------------------


def province_name(code: str, lang: str = DEFAULT_LANG) -> str:
    """Short name: Vietnamese with diacritics for vi ("Hà Nội"), `name_en` otherwise."""
    p = fixtures.province_index().get(code)
    if p is None:
        return code
    return p.name if _lang(lang) == "vi" else p.name_en


def region_name(region3: str, lang: str = DEFAULT_LANG) -> str:
    """North / Central / South → "Miền Bắc" / "Miền Trung – Tây Nguyên" / "Miền Nam"."""
    return label(f"region_{region3}", lang)
