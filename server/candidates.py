"""The public candidates page `/candidates` and its downloads `/candidates.csv` and
`/candidates.json` (issue 13 item 6: what the agency publishes in phase 1).

Every unit's candidates in ballot order (`ingest.candidates`: public attributes only; the
official outcome kept in the same file is never read here), filtered by `?province=` (a
GSO code) and `?q=` (a name, accents optional: "nguyen phu trong" finds "Nguyễn Phú
Trọng"), in `?lang=` (six languages), with the make-up of the candidates counted by
`ingest.law.composition`, the one definition the results' composition uses too.

The page is painted on the server and works without JavaScript: every candidate is in
it, those outside the filters `hidden`, and the filter form submits to the page itself.
`dashboards/static/candidates.js` then filters in place and keeps the address, the
downloads and the language links in step with the filters. The downloads honour the same
filters. It is all reference data, the same bytes until the configuration changes, so
each answer carries an ETag and a public cache.

The downloads are not in `/api/openapi.json`: they are the page's list as a file. The
JSON keeps the published `Units` shape of `GET /api/units`, the route for programs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboards import i18n, pages
from ingest import candidates as ballot
from ingest.candidates import Candidate, Unit
from ingest.errors import Invalid
from ingest.fixtures import provinces
from ingest.law import NO_RELIGION, CompositionCounts, composition
from ingest.results_view import unit_entry
from server.jsonio import dumps
from server.security import route_kind
from server.spreadsheet import BOM, Sheet
from server.state import votewire

MAX_AGE_S = 300
"""The list does not change during an election: anyone may cache it for minutes."""
QUERY_MAX = 100
"""Characters of a name search kept (longer ones are cut: no name is near this)."""
RENDERED_MAX = 32
"""Answers kept per process, the most recently asked (a page is about 0.5 MB)."""
MAKEUP_ROWS: tuple[tuple[str, str], ...] = (
    ("elected", "cand_total"),
    ("women", "cand_women"),
    ("ethnic_minority", "cand_ethnic_minority"),
    ("non_party", "cand_non_party"),
    ("under_40", "cand_under_40"),
    ("former_deputy", "cand_former_deputy"),
    ("religious", "cand_religious"),
)
"""The make-up's rows: a key of `law.composition` and its label. `elected` counts the
people given, here the candidates listed."""
SHARE_DIGITS = 1
CSV_FIELDS = (
    "code",
    "province",
    "unit",
    "seats",
    "id",
    "ballot_no",
    "name",
    "gender",
    "birth_year",
    "ethnicity",
    "party_member",
    "former_deputy",
    "religion",
    "unit_description",
)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the reader asked for: a province (None: all), a name search as typed, a language."""

    province: str | None
    q: str
    lang: str

    def query(self, **changes: Any) -> str:
        """These filters as a query string (`?province=01&q=…&lang=en`), empty parts left out."""
        values = {**dataclasses.asdict(self), **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v})


# --- reading the filters ----------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents, spaces collapsed: "Nguyễn  Phú Trọng" → "nguyen phu
    trong" (đ → d). candidates.js folds a search the same way."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def clean_query(raw: str | None) -> str:
    """A name search as the reader typed it, without control characters, at most
    `QUERY_MAX` characters."""
    text = "".join(ch for ch in (raw or "") if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())[:QUERY_MAX]


def read_filters(request: Request) -> Filters:
    """`?province=` (blank: every province; unknown: refused), `?q=`, `?lang=` (unknown:
    Vietnamese)."""
    q = request.query_params
    province = q.get("province") or None
    if province is not None and not ballot.units_of(province):
        raise Invalid.of("province", province=province[:10])
    lang = q.get("lang")
    return Filters(
        province=province,
        q=clean_query(q.get("q")),
        lang=lang if lang in i18n.LANGS else i18n.DEFAULT_LANG,
    )


@cache
def folded_names() -> dict[str, str]:
    """Candidate id → the folded name the search compares with."""
    return {c.id: fold(c.name) for u in ballot.units() for c in u.candidates}


def chosen(filters: Filters) -> list[tuple[Unit, tuple[Candidate, ...]]]:
    """The units of the filters' province (or all) in order, each with its candidates that
    match the name search, in ballot order; a unit with none is left out."""
    wanted = fold(filters.q)
    names = folded_names()
    units = ballot.units_of(filters.province) if filters.province else ballot.units()
    out = []
    for unit in units:
        found = tuple(c for c in unit.candidates if wanted in names[c.id])
        if found:
            out.append((unit, found))
    return out


# --- the make-up -------------------------------------------------------------------------


@cache
def makeups(year: int) -> dict[str, CompositionCounts]:
    """The make-up of every candidate ("") and of each province's (by code) in an
    election of `year`."""
    out = {"": composition((c for u in ballot.units() for c in u.candidates), year)}
    for p in provinces():
        people = [c for u in ballot.units_of(p.code) for c in u.candidates]
        if people:
            out[p.code] = composition(people, year)
    return out


def share(count: int, total: int) -> float | None:
    """`count` as a percentage of `total` (None for an empty column)."""
    return count * 100 / total if total else None


def makeup_rows(year: int, province: str | None, lang: str) -> list[dict[str, Any]]:
    """The make-up table: per row its key, label, and (count, count shown, share shown) for
    the country and for `province` (None: no province column)."""
    table = makeups(year)
    columns = [table[""]] + ([table[province]] if province else [])
    rows = []
    for key, label in MAKEUP_ROWS:
        cells = []
        for counts in columns:
            n = counts[key]
            pct = None if key == "elected" else share(n, counts["elected"])
            cells.append(
                {
                    "count": n,
                    "text": i18n.fmt_int(n, lang),
                    "share": "" if pct is None else i18n.fmt_pct(pct, lang, SHARE_DIGITS),
                }
            )
        rows.append({"key": key, "label": i18n.label(label, lang), "cells": cells})
    return rows


# --- the page ----------------------------------------------------------------------------


def _value(c: Candidate, lang: str) -> dict[str, str]:
    """A candidate's cells in `lang`; names, ethnicity and religion as written."""
    yes, no = i18n.label("cand_yes", lang), i18n.label("cand_no", lang)
    religion = c.religion
    if religion == NO_RELIGION[0]:
        religion = i18n.label("cand_religion_none", lang)
    return {
        "gender": i18n.label(f"cand_gender_{c.gender}", lang),
        "party": yes if c.party_member else no,
        "former": yes if c.former_deputy else no,
        "religion": religion,
    }


def list_units(lang: str) -> list[dict[str, Any]]:
    """Every unit with every candidate, ready for `candidates_list.html`."""
    names = folded_names()
    return [
        {
            "id": unit.id,
            "code": unit.code,
            "heading": i18n.label("cand_unit_heading", lang).format(
                province=i18n.province_name(unit.code, lang), unit=unit.unit
            ),
            "seats": i18n.label("cand_unit_seats", lang).format(
                seats=i18n.fmt_int(unit.seats, lang),
                candidates=i18n.fmt_int(len(unit.candidates), lang),
            ),
            "description": unit.description,
            "rows": [{"c": c, "fold": names[c.id], **_value(c, lang)} for c in unit.candidates],
        }
        for unit in ballot.units()
    ]


OPENING = re.compile(r'(<(?:section class="unit" id="unit-|tr class="cand" id="c-)([^"]+)")')
"""The opening of a unit's section or a candidate's row, up to its id: where the filters
put their `hidden`."""


@cache
def list_pieces(lang: str) -> tuple[str, ...]:
    """The list of every unit in `lang`, rendered once, cut at each `OPENING`:
    (text, opening, id, text, opening, id, …, text)."""
    html = pages.render("candidates_list.html", t=labels(lang), units=list_units(lang))
    return tuple(OPENING.split(html))


def list_html(lang: str, units: set[str], people: set[str]) -> Markup:
    """The list with the units not in `units` and the candidates not in `people` hidden:
    the filters change attributes only, so a filtered page costs a join, not a render."""
    pieces = list_pieces(lang)
    out = [pieces[0]]
    for i in range(1, len(pieces), 3):
        opening, ident, rest = pieces[i : i + 3]
        shown = units if opening.startswith("<section") else people
        out += (opening, "" if ident in shown else " hidden", rest)
    return Markup("".join(out))


@cache
def labels(lang: str) -> dict[str, str]:
    return i18n.catalogue(lang)


def page_html(filters: Filters, year: int, zone: str) -> str:
    lang = filters.lang
    t = labels(lang)
    selection = chosen(filters)
    people = {c.id for _, found in selection for c in found}
    units = {u.id for u, _ in selection}
    everyone = [c for u in ballot.units() for c in u.candidates]
    province_names = {p.code: i18n.province_name(p.code, lang) for p in provinces()}
    counts = makeups(year)
    return pages.render(
        "candidates.html",
        lang=lang,
        t=t,
        filters=filters,
        intro=t["cand_intro"].format(
            candidates=i18n.fmt_int(len(everyone), lang),
            seats=i18n.fmt_int(sum(u.seats for u in ballot.units()), lang),
            units=i18n.fmt_int(len(ballot.units()), lang),
            provinces=i18n.fmt_int(len({u.code for u in ballot.units()}), lang),
        ),
        makeup_note=t["cand_makeup_note"].format(year=year - 40),
        makeup=makeup_rows(year, filters.province, lang),
        province_name=province_names.get(filters.province or "", ""),
        provinces=[(code, name) for code, name in province_names.items() if code in counts],
        languages=[
            (code, i18n.label("cand_language_name", code), filters.query(lang=code))
            for code in i18n.LANGS
        ],
        downloads=[
            ("CSV", "/candidates.csv" + filters.query()),
            ("JSON", "/candidates.json" + filters.query()),
        ],
        showing=t["cand_showing"].format(
            shown=i18n.fmt_int(len(people), lang),
            total=i18n.fmt_int(len(everyone), lang),
            units=i18n.fmt_int(len(units), lang),
        ),
        nothing=not people,
        units_html=list_html(lang, units, people),
        boot={
            "lang": lang,
            "locale": i18n.LOCALES[lang],
            "zone": zone,
            "labels": {k: v for k, v in t.items() if k.startswith("cand_")},
            "total": len(everyone),
            "names": province_names,
            "makeup": {"rows": [k for k, _ in MAKEUP_ROWS], "counts": counts},
            "share_digits": SHARE_DIGITS,
        },
    )


# --- the downloads -------------------------------------------------------------------------


def candidates_csv(selection: Sequence[tuple[Unit, Iterable[Candidate]]], lang: str) -> str:
    """One row per candidate (`CSV_FIELDS`, the province's name in `lang`, flags 0/1, the
    rest as written) after a header row, through the project's one CSV writer."""
    sheet = Sheet()
    sheet.row(*CSV_FIELDS)
    for unit, found in selection:
        for c in found:
            sheet.row(
                unit.code,
                i18n.province_name(unit.code, lang),
                unit.unit,
                unit.seats,
                c.id,
                c.ballot_no,
                c.name,
                c.gender,
                c.birth_year,
                c.ethnicity,
                int(c.party_member),
                int(c.former_deputy),
                c.religion,
                unit.description,
            )
    return sheet.text()


def candidates_json(selection: Sequence[tuple[Unit, tuple[Candidate, ...]]]) -> str:
    """`{"units": [...]}` as `GET /api/units` writes it, the units and candidates chosen."""
    return dumps(
        {"units": [unit_entry(dataclasses.replace(u, candidates=f)) for u, f in selection]}
    )


def _filename(filters: Filters, ext: str) -> str:
    return f"candidates-{filters.province}.{ext}" if filters.province else f"candidates.{ext}"


@lru_cache(maxsize=RENDERED_MAX)
def rendered(filters: Filters, fmt: str, year: int, zone: str) -> tuple[bytes, str]:
    """(body, ETag) of one answer; the same filters give the same bytes."""
    if fmt == "html":
        body = page_html(filters, year, zone).encode()
    elif fmt == "csv":
        body = (BOM + candidates_csv(chosen(filters), filters.lang)).encode()
    else:
        body = candidates_json(chosen(filters)).encode()
    return body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


MEDIA_TYPES = {"html": "text/html", "csv": "text/csv", "json": "application/json"}


def answer(request: Request, fmt: str) -> Response:
    filters = read_filters(request)
    election = votewire(request).settings.election
    body, etag = rendered(filters, fmt, election.day.year, election.zone.key)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE_S}"}
    if fmt == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{_filename(filters, fmt)}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@route_kind("public")
async def candidates_page(request: Request) -> Response:
    return answer(request, "html")


@route_kind("read")
async def candidates_csv_route(request: Request) -> Response:
    return answer(request, "csv")


@route_kind("read")
async def candidates_json_route(request: Request) -> Response:
    return answer(request, "json")


routes = [
    Route("/candidates", candidates_page),
    Route("/candidates.csv", candidates_csv_route),
    Route("/candidates.json", candidates_json_route),
]
