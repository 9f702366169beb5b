"""Snapshot charts of any moment, for editors (issue 6), from the web and the command line.

    GET /charts/{name}.{png|svg|html|csv|json|plotly}?at=&lang=&size=&provinces=&download=1

`name` is a figure of `dashboards.figures.FIGURES` (map, tiles, ranking, completion,
revotes, history, by_hour); `at` an ISO 8601 moment or HH:MM on the election day (default
now); `lang` one of vi en fr es zh ru; `size` web, print, social-wide or social-square;
`provinces` (by_hour) up to seven codes drawn beside the national line. `csv` and `json`
are the numbers behind every chart: the public picture of `/api/snapshot?at=` (the same
`seq`, `national` and `provinces`) plus, in JSON, the hourly `timeline`, the `revotes` and
the `official` figures announced by then. `plotly` is the figure itself (the desk draws it).
`html` is always sent as a download (`download=1` or not): its inline Plotly would be
blocked by the CSP of a page of ours.

Each chart carries its title, the moment it shows and the source line (the builders'
work); when an official national figure was announced by that moment, the chart also shows
it beside ours with the difference, and `by_hour` marks every official figure on its line.

Editors only (session cookie or editor bearer token), like every /editor endpoint: a PNG
costs the server a browser render (about 0.2 s warm; the first one starts Chromium).

The results' charts (issue 13 item 5) come from the public results of `at` (what
`/api/results?at=` answers, `server.results.read_results`): `hemicycle`
(`&dimension=gender|region|former_deputy`), `results_map`, `composition`, `unit`
(`&unit=01-1`, required) in the same formats, and `winners` in CSV and JSON only: the
elected (less those the Council did not confirm) with their attributes, unit, votes, %
and confirmation. Their CSV and JSON are the numbers behind each chart; their "as of" is
`at` when asked, else the latest `as_of` among the units they show (§6).

The same from the shell (server/cli/exports.py):

    votewire chart map --at 15:00 -o map.png [--lang en] [--size social-square]
    votewire chart by_hour --at 19:00 --provinces 01,79 -o by_hour.svg
    votewire chart hemicycle --at 2021-05-24T12:00 --dimension region -o seats.png
    votewire chart unit --unit 01-1 -o unit.png; votewire chart winners -o winners.csv
    votewire summary --phase 2 [-o summary.html | -o summary.csv]
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, time, timedelta

import plotly.graph_objects as go
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboards import export, figures, i18n
from dashboards.figures.composition import CATEGORIES as COMPOSITION
from dashboards.figures.composition import composition_series
from dashboards.figures.results_map import declared_pct, province_progress
from ingest import candidates
from ingest import fixtures as fx
from ingest.errors import Invalid, Unavailable
from server import store
from server.auth import requires
from server.errors import not_found
from server.jsonio import iso
from server.picture import moment, read_picture
from server.results import read_results
from server.settings import Election
from server.spreadsheet import BOM, Sheet, picture_csv
from server.state import Votewire, votewire

CHART_FORMATS = ("png", "svg", "html", "csv", "json", "plotly")
MAX_PROVINCES = 7
OFFICIAL_MARKER = "#1f2328"
RESULT_CHARTS = (*figures.RESULT_FIGURES, "winners")
"""Charts drawn from the results (`/api/results`), not the turnout picture."""
DATA_ONLY = {"winners": ("csv", "json")}
"""Charts that are numbers only: their formats."""
WINNER_FIELDS = (
    "id",
    "name",
    "code",
    "province",
    "unit",
    "gender",
    "birth_year",
    "ethnicity",
    "party_member",
    "former_deputy",
    "religion",
    "votes",
    "pct",
    "rank",
    "confirmed",
    "as_of",
)
"""The columns of `winners.csv` (and the keys of `winners.json`'s rows)."""


def chart_names() -> tuple[str, ...]:
    return (*figures.FIGURES, *RESULT_CHARTS)


def timeline_moments(election: Election, moment: datetime) -> list[datetime]:
    """Every full hour from the polls' opening to their closing (or to `moment`), then
    `moment` itself (at most the end of the polling day)."""
    opens = election.at(election.polls_open)
    closes = election.at(election.polls_close)
    if moment < opens:
        return [moment]
    out, t = [], opens
    while t <= min(moment, closes):
        out.append(t)
        t += timedelta(hours=1)
    day_end = datetime.combine(election.day + timedelta(days=1), time(0), tzinfo=election.zone)
    tail = min(moment, day_end)
    if tail > out[-1]:
        out.append(tail)
    return out


async def chart_picture(
    state: Votewire, at: datetime | None, codes: tuple[str, ...] = (), *, full: bool = True
) -> dict:
    """The public picture of `at` (as `/api/snapshot?at=` gives it; without `at`, the
    picture now, "as of" its latest figure) plus what the charts also need: `timeline`
    (national and `codes`), `revotes` and `official`. `full=False` skips the timeline and
    the re-vote list (for charts that draw neither)."""
    picture = await read_picture(state, internal=False, at=at)
    if at is None:
        # A chart's "as of" is the moment its figures describe (contract §6): the latest
        # `as_of` it shows, never the moment it was drawn; with no figure yet, the clock.
        picture["at"] = None
        shown = figures.picture_moment(picture)
        picture["at"] = shown or state.now_local().isoformat(timespec="seconds")
    moment = datetime.fromisoformat(picture["at"])
    election = state.settings.election
    async with store.acquire(state.pool, state.settings.db_timeout_s) as conn:
        points, revotes = [], []
        if full:
            points = await store.timeline(conn, timeline_moments(election, moment), codes)
            revotes = await store.revotes_at(conn, at)
        official = await store.officials(conn, moment, latest=False)
    timeline: dict[str, list[dict]] = {"national": []}
    for code in codes:
        timeline[code] = []
    for p in points:
        t = iso(p["t"])
        nat = p["national"]
        timeline["national"].append(
            {
                "t": t,
                "turnout_pct": nat.get("turnout_pct"),
                "voted": nat.get("voted"),
                "registered": nat.get("registered"),
                "provinces_reporting": nat.get("provinces_reporting"),
            }
        )
        for code in codes:
            entry = p["provinces"].get(code) or {}
            timeline[code].append(
                {
                    "t": t,
                    "turnout_pct": entry.get("turnout_pct"),
                    "voted": entry.get("voted"),
                    "registered": entry.get("registered"),
                }
            )
    picture["timeline"] = timeline
    picture["revotes"] = [{k: iso(v) for k, v in r.items()} for r in revotes]
    picture["official"] = [
        {k: iso(v) for k, v in o.items() if k not in ("actor", "recorded_at")} for o in official
    ]
    return picture


# --- figures ----------------------------------------------------------------------------


def _signed(value: float, lang: str) -> str:
    decimal = i18n.separators(lang)[0]
    return f"{value:+.2f}".replace(".", decimal).replace("-", "\u2212")


def _agency(lang: str) -> str:
    name = i18n.label("agency", lang)
    return "TTXVN" if name == "agency" else name


def official_line(official: dict, lang: str) -> str:
    """ "Official figure: 95.65% (17:30) · VNA: 95.61% · difference −0.04" """
    local = i18n.to_local(official["as_of"])
    text = (
        f"{i18n.label('official_figure', lang)}: {i18n.fmt_pct(official['turnout_pct'], lang)}"
        f" ({local:%H:%M})"
    )
    if official.get("ours_pct") is not None:
        text += (
            f" · {_agency(lang)}: {i18n.fmt_pct(official['ours_pct'], lang)}"
            f" · {i18n.label('official_diff', lang)} {_signed(official['diff'], lang)}"
        )
    return text


def decorate(fig, name: str, picture: dict, lang: str, size, codes: tuple[str, ...]) -> None:
    """Official figures beside ours: a line at the bottom right (the latest national one)
    and, on `by_hour`, a marker for each official figure of the nation and of `codes`."""
    officials = picture.get("official") or []
    national = [o for o in officials if o["province"] is None]
    width, height = figures.size_px(size)
    s = min(width / 1200, height / 675)
    if national:
        fig.add_annotation(
            text=official_line(national[0], lang),
            xref="paper",
            yref="paper",
            x=1,
            y=0,
            xanchor="right",
            yanchor="bottom",
            yshift=-(fig.layout.margin.b or 46 * s) + 8 * s,
            showarrow=False,
            font=dict(size=round(12 * s), color=figures.INK),
        )
    if name != "by_hour":
        return
    for scope in ("national", *codes):
        points = [o for o in officials if (o["province"] or "national") == scope]
        if not points:
            continue
        where = (
            i18n.label("national", lang) if scope == "national" else i18n.province_name(scope, lang)
        )
        fig.add_trace(
            go.Scatter(
                x=[f"{i18n.to_local(o['as_of']):%Y-%m-%d %H:%M:%S}" for o in points],
                y=[o["turnout_pct"] for o in points],
                mode="markers",
                name=f"{i18n.label('official_figure', lang)} · {where}",
                marker=dict(
                    symbol="diamond",
                    size=11 * s,
                    color="#ffffff",
                    line=dict(color=OFFICIAL_MARKER, width=2 * s),
                ),
                hovertext=[
                    f"<b>{i18n.label('official_figure', lang)}</b> · {where}<br>"
                    f"{i18n.as_of_label(o['as_of'], lang)}<br>"
                    f"{i18n.fmt_pct(o['turnout_pct'], lang)} · {o['source']}"
                    for o in points
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )


def render_chart(
    name: str, picture: dict, lang: str, size: str, fmt: str, codes: tuple[str, ...] = ()
) -> tuple[bytes, str]:
    """(body, media type) of chart `name` in `fmt`. Blocks (kaleido): call it in a thread
    from async code."""
    if fmt == "csv":
        return (BOM + picture_csv(picture, lang)).encode("utf-8"), export.MEDIA_TYPES["csv"]
    if fmt == "json":
        return export.picture_json(picture).encode("utf-8"), "application/json"
    options = {"codes": codes} if name == "by_hour" else {}
    fig = figures.build(name, picture, lang, size, **options)
    decorate(fig, name, picture, lang, size, codes)
    if fmt == "plotly":
        return fig.to_json().encode("utf-8"), "application/json"
    width, height = figures.size_px(size)
    try:
        return export.render(fig, fmt, width, height), export.MEDIA_TYPES[fmt]
    except Exception as exc:
        raise Unavailable.of(None, "chart", detail=exc) from exc


def parse_codes(raw: str | None, known: Iterable[str]) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(c.strip() for c in (raw or "").split(",") if c.strip()))
    unknown = [c for c in codes if c not in known]
    if unknown or len(codes) > MAX_PROVINCES:
        raise Invalid.of("provinces", max=MAX_PROVINCES)
    return codes


def check_options(name: str, fmt: str, lang: str, size: str) -> None:
    if name not in chart_names() or fmt not in DATA_ONLY.get(name, CHART_FORMATS):
        raise not_found("chart")
    if lang not in i18n.LANGS:
        raise Invalid.of("lang")
    if size not in figures.SIZES:
        raise Invalid.of("size")


@requires("editor")
async def chart(request: Request) -> Response:
    app = votewire(request)
    name, fmt = request.path_params["name"], request.path_params["fmt"]
    q = request.query_params
    lang, size = q.get("lang", i18n.DEFAULT_LANG), q.get("size", "web")
    check_options(name, fmt, lang, size)
    at = moment(request)
    if name in RESULT_CHARTS:
        unit = parse_unit(q.get("unit")) if name == "unit" else None
        dimension = parse_dimension(q.get("dimension"))
        picture = await chart_results(app, at, unit)
        body, media = await run_in_threadpool(
            render_results_chart, name, picture, lang, size, fmt, unit, dimension
        )
        stem = f"{name}-{unit}" if unit else name
    else:
        codes = parse_codes(q.get("provinces"), app.provinces)
        full = fmt == "json" or name in ("by_hour", "revotes")
        picture = await chart_picture(app, at, codes, full=full)
        body, media = await run_in_threadpool(render_chart, name, picture, lang, size, fmt, codes)
        stem = name
    filename = export.filename(stem, picture, lang, size, "json" if fmt == "plotly" else fmt)
    # A chart's HTML carries Plotly inline (a file that works offline); our pages' CSP
    # forbids inline scripts, so it is always a download, opened from the disk.
    disposition = "attachment" if q.get("download") == "1" or fmt == "html" else "inline"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Votewire-Seq": str(picture["seq"]),
        },
    )


# --- the results' charts ------------------------------------------------------------------


def parse_unit(raw: str | None) -> str:
    """`unit=01-1`: a unit of the ballot (`invalid`, field `unit`, when missing or unknown)."""
    if not raw:
        raise Invalid.of("unit", "required")
    code, _, number = raw.partition("-")
    if not number.isdigit() or (code, int(number)) not in candidates.unit_index():
        raise Invalid.of("unit", "value", detail=f"no unit {raw[:20]!r}: use code-unit, e.g. 01-1")
    return f"{code}-{int(number)}"


def parse_dimension(raw: str | None) -> str:
    """`dimension=` of the hemicycle: gender (default), region or former_deputy."""
    if raw in (None, ""):
        return "gender"
    if raw not in figures.DIMENSIONS:
        raise Invalid.of("dimension", "value", detail=f"use one of {', '.join(figures.DIMENSIONS)}")
    return raw


async def chart_results(state: Votewire, at: datetime | None, unit: str | None = None) -> dict:
    """The public results of `at` (as `/api/results?at=` gives them), "as of" `at` when
    asked, else the latest `as_of` among the units the chart shows (`unit`: that one; all
    otherwise), else the election clock (contract §6)."""
    results = await read_results(state, internal=False, at=at)
    results["rehearsal"] = state.settings.election.rehearsal  # the TEST badge
    if at is None:
        shown = [figures.find_unit(results, unit)] if unit else None
        results["at"] = None
        moment = figures.results_moment(results, shown)
        results["at"] = moment or state.now_local().isoformat(timespec="seconds")
    return results


def winners(results: dict, lang: str = "vi") -> list[dict]:
    """The elected of a results body, less those the Council did not confirm, in unit
    order, with their attributes from the reference list (`WINNER_FIELDS`)."""
    people = candidates.candidate_index()
    out = []
    for entry in results.get("units", ()):
        for c in entry.get("candidates", ()):
            if not c.get("elected") or c.get("confirmed") is False:
                continue
            person = people[c["id"]]
            out.append(
                {
                    "id": c["id"],
                    "name": c.get("name") or person.name,
                    "code": entry["code"],
                    "province": i18n.province_name(entry["code"], lang),
                    "unit": entry["unit"],
                    "gender": person.gender,
                    "birth_year": person.birth_year,
                    "ethnicity": person.ethnicity,
                    "party_member": person.party_member,
                    "former_deputy": person.former_deputy,
                    "religion": person.religion,
                    "votes": c.get("votes"),
                    "pct": c.get("pct"),
                    "rank": c.get("rank"),
                    "confirmed": c.get("confirmed"),
                    "as_of": entry.get("as_of"),
                }
            )
    return out


def _winners_rows(sheet: Sheet, results: dict, lang: str) -> None:
    sheet.row(*WINNER_FIELDS)
    for row in winners(results, lang):
        sheet.row(*(row[f] for f in WINNER_FIELDS))


def _map_rows(sheet: Sheet, results: dict, lang: str) -> None:
    """One row per province (units in each status, % declared; empty while all wait),
    then the nation's ("VN", from the summary as given)."""
    fields = ("code", "name", "units", "declared", "supplementary", "counting", "waiting")
    sheet.row(*fields, "declared_pct")
    for code, row in province_progress(results).items():
        sheet.row(
            code, i18n.province_name(code, lang), *(row[f] for f in fields[2:]), declared_pct(row)
        )
    summary = results.get("summary") or {}
    units, declared = summary.get("units_total"), summary.get("units_declared")
    sheet.row(
        export.NATIONAL_CODE,
        i18n.label("national", lang),
        units,
        declared,
        None,
        None,
        None,
        100 * declared / units if units and declared is not None else None,
    )


def _composition_rows(sheet: Sheet, results: dict, lang: str) -> None:
    """One row per term and category: the earlier Assemblies, then this count."""
    sheet.row("term", "year", "now", "category", "label", "count", "pct", "deputies")
    for x in composition_series(results):
        deputies = (
            ((results.get("summary") or {}).get("composition") or {}).get("elected")
            if x["now"]
            else x["row"]["deputies"]
        )
        for cat in COMPOSITION:
            sheet.row(
                x["row"]["term"],
                x["row"]["year"],
                x["now"],
                cat,
                i18n.label(f"res_comp_{cat}", lang),
                x["counts"][cat],
                x["shares"][cat],
                deputies,
            )


def _unit_rows(sheet: Sheet, results: dict, unit: str, lang: str) -> None:
    """The unit's candidates in rank order (ballot order while it waits)."""
    entry = figures.find_unit(results, unit)
    head = ("code", "unit", "status", "stage", "as_of", "ballots_valid", "seats")
    cols = ("id", "name", "votes", "pct", "rank", "elected", "leading", "confirmed", "tie")
    sheet.row(*head, *cols)
    for c in entry["candidates"]:
        sheet.row(
            *(entry.get(f) for f in head),
            *(c.get(f, False if f == "tie" else None) for f in cols),
        )


def results_csv(name: str, results: dict, lang: str, unit: str | None) -> str:
    """The numbers behind a results chart, as CSV (server/spreadsheet.py's cells)."""
    sheet = Sheet()
    if name in ("winners", "hemicycle"):
        _winners_rows(sheet, results, lang)
    elif name == "results_map":
        _map_rows(sheet, results, lang)
    elif name == "composition":
        _composition_rows(sheet, results, lang)
    else:
        _unit_rows(sheet, results, unit or "", lang)
    return sheet.text()


def results_json(name: str, results: dict, lang: str, unit: str | None) -> dict:
    """The numbers behind a results chart: the public results body (the chart's unit
    only, for `unit`), plus the winners for `winners` and the history for `composition`."""
    body = {k: results[k] for k in ("seq", "at", "rehearsal", "summary", "units") if k in results}
    if name == "winners":
        return {k: body[k] for k in ("seq", "at") if k in body} | {
            "winners": winners(results, lang)
        }
    if name == "unit":
        body["units"] = [figures.find_unit(results, unit)]
    if name == "composition":
        body["history"] = [dict(r) for r in fx.composition_history()]
    return body


def render_results_chart(
    name: str,
    results: dict,
    lang: str,
    size: str,
    fmt: str,
    unit: str | None = None,
    dimension: str = "gender",
) -> tuple[bytes, str]:
    """(body, media type) of results chart `name` in `fmt`. Blocks (kaleido)."""
    if fmt == "csv":
        text = results_csv(name, results, lang, unit)
        return (BOM + text).encode("utf-8"), export.MEDIA_TYPES["csv"]
    if fmt == "json":
        text = json.dumps(results_json(name, results, lang, unit), ensure_ascii=False)
        return text.encode("utf-8"), "application/json"
    fig = figures.build_results(name, results, lang, size, dimension=dimension, unit=unit)
    if fmt == "plotly":
        return fig.to_json().encode("utf-8"), "application/json"
    width, height = figures.size_px(size)
    try:
        return export.render(fig, fmt, width, height), export.MEDIA_TYPES[fmt]
    except Exception as exc:
        raise Unavailable.of(None, "chart", detail=exc) from exc


routes = [Route("/charts/{name}.{fmt}", chart)]
