"""The phase summary: what a unit files after each phase of the election, as a printable
page (with the turnout timeline drawn as SVG) or as CSV, from the web
(`/editor/summary?phase=N[&format=csv]`, `/editor/summary.csv`) and the command line
(`votewire summary`).

Phases: 1 = early voting (window start → polling day), 2 = the polling day and its
evening, 3 = re-votes and supplementary votes (the day after → window end). Phase 3 also
covers the results (`server.desk.results.phase_results`, public results only, like the
rest of the summary): units declared and supplementary, seats filled, the composition
beside the Council's figures, the elected by province, close races and the differences
from the official list.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, time, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from dashboards import export, figures, i18n, pages
from ingest.errors import Invalid
from server import store
from server.auth import requires
from server.desk.labels import desk_labels, desk_lang
from server.desk.official import official_view
from server.desk.results import summary_results
from server.jsonio import iso
from server.picture import read_picture
from server.security import route_kind
from server.settings import Election
from server.spreadsheet import BOM, Sheet, picture_rows
from server.state import Votewire, votewire

log = logging.getLogger("votewire.editor")

PHASES = (1, 2, 3)


def _bad_phase() -> Invalid:
    return Invalid.of("phase")


def phase_span(election: Election, phase: int) -> tuple[datetime, datetime]:
    """The phase's [start, end) (see the module docstring)."""
    day0 = datetime.combine(election.day, time(0), tzinfo=election.zone)
    day1 = day0 + timedelta(days=1)
    if phase == 1:
        return election.window_start, day0
    if phase == 2:
        return day0, day1
    if phase == 3:
        return day1, election.window_end
    raise _bad_phase()


def summary_moments(election: Election, start: datetime, end: datetime) -> list[datetime]:
    """Hourly through the polls (and the evening) on the polling day, daily otherwise."""
    if end - start <= timedelta(days=1):
        first = election.at(election.polls_open)
        moments, t = [], first
        while t <= end:
            if t >= start:
                moments.append(t)
            t += timedelta(hours=1)
        return moments or [end]
    moments, t = [], start + timedelta(days=1)
    while t < end:
        moments.append(t)
        t += timedelta(days=1)
    return [*moments, end]


async def build_summary(state: Votewire, phase: int, now: datetime | None = None) -> dict[str, Any]:
    """What a unit files after a phase: the public picture at the phase's end (or now),
    the turnout timeline through it, the re-vote units and the notes published in it."""
    election = state.settings.election
    start, end = phase_span(election, phase)
    now = now or state.now_local()
    moment = min(end, now)
    picture = await read_picture(state, internal=False, at=moment)
    async with store.acquire(state.pool, state.settings.db_timeout_s) as conn:
        points = await store.timeline(
            conn, [m for m in summary_moments(election, start, end) if m <= moment]
        )
        revotes = await store.revotes_at(conn, moment)
        notes = await store.published_notes(conn, start, end)
        official = official_view(await store.officials(conn, moment, latest=True))
    results = await summary_results(state, moment) if phase == 3 else None
    return {
        "phase": phase,
        "start": start,
        "end": end,
        "moment": moment,
        "complete": moment >= end,
        "rehearsal": election.rehearsal,
        "picture": picture,
        "timeline": [{"t": p["t"], **p["national"]} for p in points],
        "revotes": revotes,
        "notes": notes,
        "official": official,
        "results": results,
    }


# --- renderings -------------------------------------------------------------------------


def summary_csv(summary: dict, lang: str = "vi") -> str:
    """Four blocks, each a title row then a header row: provinces, timeline, re-votes,
    published notes. Cells as `server.spreadsheet.cell` writes them."""
    t = desk_labels("en" if lang == "en" else "vi")
    sheet = Sheet()
    sheet.row(f"# {t['summary']} – {t['phase_' + str(summary['phase'])]}", summary["moment"])
    sheet.row(f"# {t['summary_provinces']}")
    picture_rows(sheet, summary["picture"], lang)
    sheet.row()
    sheet.row(f"# {t['summary_timeline']}")
    timeline_fields = ("voted", "registered", "turnout_pct", "provinces_reporting")
    sheet.row("t", *timeline_fields)
    for p in summary["timeline"]:
        sheet.row(p["t"], *(p.get(k) for k in timeline_fields))
    sheet.row()
    sheet.row(f"# {t['summary_revotes']}")
    revote_fields = ("province", "unit", "level", "reason", "status", "as_of")
    sheet.row(*revote_fields)
    for r in summary["revotes"]:
        sheet.row(*(r.get(k) for k in revote_fields))
    sheet.row()
    sheet.row(f"# {t['summary_notes']}")
    sheet.row("seq", "province", "kind", "as_of", "text")
    for n in summary["notes"]:
        sheet.row(n["seq"], n["province"], n["kind"], n["as_of"], n["data"].get("text", ""))
    if summary.get("results"):
        results_csv(sheet, summary["results"], t)
    return sheet.text()


COMPOSITION = (
    "elected",
    "women",
    "ethnic_minority",
    "non_party",
    "under_40",
    "former_deputy",
    "religious",
)


def results_csv(sheet: Sheet, results: dict, t: dict[str, str]) -> None:
    """Phase 3's five more blocks: the count, the composition (the Council's column once
    every unit is final), the elected, the close races, the differences from the official
    list."""
    s = results["summary"]
    sheet.row()
    sheet.row(f"# {t['dres_summary_results']}")
    count_fields = ("units_total", "units_reporting", "units_declared")
    seat_fields = ("seats_total", "seats_filled")
    sheet.row(*count_fields, "units_supplementary", *seat_fields)
    sheet.row(
        *(s[k] for k in count_fields),
        results["units_supplementary"],
        *(s[k] for k in seat_fields),
    )
    sheet.row()
    sheet.row(f"# {t['dres_composition']}")
    sheet.row("dimension", "ours", "council")
    for k in COMPOSITION:
        sheet.row(k, s["composition"][k], results["council"][k] if results["complete"] else None)
    sheet.row()
    sheet.row(f"# {t['dres_summary_elected']}")
    sheet.row("province", "unit", "candidate", "name", "votes", "pct", "confirmed")
    for e in results["elected"]:
        sheet.row(e["code"], e["unit"], e["id"], e["name"], e["votes"], e["pct"], e["confirmed"])
    sheet.row()
    sheet.row(f"# {t['dres_summary_close']}")
    sheet.row("province", "unit", "status", "margin", "margin_pct", "reasons", "tie")
    for r in results["close"]:
        sheet.row(
            r["code"],
            r["unit"],
            r["status"],
            r["margin"],
            r["margin_pct"],
            " ".join(r["reasons"]),
            r["tie"],
        )
    sheet.row()
    sheet.row(f"# {t['dres_summary_diffs']}")
    sheet.row(
        "province",
        "unit",
        "candidate",
        "name",
        "fields",
        "votes",
        "official_votes",
        "elected",
        "official_elected",
        "confirmed",
        "official_confirmed",
    )
    for d in results["official"]["differences"]:
        ours, official = d["ours"], d["official"]
        if d["candidate"] is None:  # the unit's valid ballots
            ours = {"votes": ours["ballots_valid"]}
            official = {"votes": official["ballots_valid"]}
        sheet.row(
            d["code"],
            d["unit"],
            d["candidate"],
            d["name"],
            " ".join(d["fields"]),
            ours.get("votes"),
            official.get("votes"),
            ours.get("elected"),
            official.get("elected"),
            ours.get("confirmed"),
            official.get("confirmed"),
        )


def summary_chart_svg(summary: dict, lang: str) -> str | None:
    """The turnout timeline as an inline SVG (kaleido), None when it cannot be drawn."""
    picture = dict(summary["picture"])
    picture["timeline"] = {
        "national": [
            {"t": iso(p["t"]), "turnout_pct": p.get("turnout_pct")} for p in summary["timeline"]
        ]
    }
    try:
        fig = figures.build(
            "by_hour", picture, i18n.DEFAULT_LANG if lang not in i18n.LANGS else lang, "web"
        )
        svg = export.render(fig, "svg").decode("utf-8")
    except Exception as exc:  # no browser on this machine: the page goes without it
        log.warning("summary chart not drawn: %s", exc)
        return None
    return re.sub(r"^<\?xml[^>]*>", "", svg).strip()


def _count(value: int | None, lang: str) -> str:
    return i18n.fmt_int(value, lang) if value is not None else "—"


def _row(p: dict, official: dict | None, lang: str) -> dict[str, Any]:
    return {
        "code": p["code"],
        "name": i18n.province_name(p["code"], lang),
        "region": i18n.region_name(p.get("region") or "", lang) if p.get("region") else "",
        "voted": _count(p.get("voted"), lang),
        "registered": _count(p.get("registered") or None, lang),
        "pct": i18n.fmt_pct(p["turnout_pct"], lang) if p.get("turnout_pct") is not None else "—",
        "as_of": _hm(p.get("as_of")),
        "areas": (
            f"{i18n.fmt_int(p['areas_done'], lang)}/{i18n.fmt_int(p['areas_total'], lang)}"
            if p.get("areas_total")
            else "—"
        ),
        "revotes": p.get("revote_units") or 0,
        "official": (
            f"{i18n.fmt_pct(official['turnout_pct'], lang)} ({_hm(official['as_of'])})"
            if official
            else ""
        ),
    }


def summary_html(summary: dict, lang: str = "vi", chart_svg: str | None = None) -> str:
    t = desk_labels("en" if lang == "en" else "vi")
    picture = summary["picture"]
    rows = [
        _row(p, summary["official"]["provinces"].get(p["code"]), lang) for p in picture["provinces"]
    ]
    nat = picture["national"]
    return pages.render(
        "editor_summary.html",
        lang=lang,
        t=t,
        c=i18n.catalogue(lang),
        s=summary,
        rows=rows,
        national={
            "pct": i18n.fmt_pct(nat.get("turnout_pct"), lang),
            "voted": _count(nat.get("voted"), lang),
            "registered": _count(nat.get("registered") or None, lang),
            "reporting": f"{nat.get('provinces_reporting')}/{nat.get('provinces_total')}",
            "revotes": nat.get("revote_units"),
        },
        official=_official_text(summary["official"]["national"], lang, t),
        moment=i18n.as_of_label(summary["moment"], lang),
        span=f"{_dmhm(summary['start'])} – {_dmhm(summary['end'])}",
        timeline=[
            {
                "t": _hm(p["t"]),
                "pct": i18n.fmt_pct(p.get("turnout_pct"), lang),
                "reporting": p.get("provinces_reporting"),
            }
            for p in summary["timeline"]
        ],
        revotes=[
            {
                **r,
                "name": i18n.province_name(r["province"], lang),
                "level_label": i18n.label(f"level_{r['level']}", lang),
                "reason_label": i18n.label(f"reason_{r['reason']}", lang),
                "status_label": i18n.label(f"revote_status_{r['status']}", lang),
            }
            for r in summary["revotes"]
        ],
        notes=[
            {
                "t": _dmhm(n["as_of"]),
                "name": i18n.province_name(n["province"], lang),
                "kind": i18n.label(f"kind_{n['kind']}", lang),
                "text": n["data"].get("text", ""),
            }
            for n in summary["notes"]
        ],
        chart_svg=chart_svg,
        results=_results_view(summary.get("results"), lang, t),
    )


def _results_view(results: dict | None, lang: str, t: dict[str, str]) -> dict | None:
    """Phase 3's results as the template shows them (formatted, in `lang`)."""
    if results is None:
        return None
    s = results["summary"]
    yes_no = {True: t["dres_yes"], False: t["dres_no"], None: "—"}
    decided = {True: t["dres_confirmed"], False: t["dres_not_confirmed"], None: ""}

    def n(value: int | None) -> str:
        return _count(value, lang)

    def pct(value: float | None) -> str:
        return i18n.fmt_pct(value, lang) if value is not None else "—"

    def show(field: str, side: dict) -> str:
        return n(side[field]) if field == "votes" else yes_no[side[field]]

    by_province: dict[str, list[dict]] = {}
    for e in results["elected"]:
        by_province.setdefault(e["code"], []).append(
            {
                "unit": e["unit"],
                "name": e["name"],
                "votes": n(e["votes"]),
                "pct": pct(e["pct"]),
                "confirmed": decided[e["confirmed"]],
                "not_confirmed": e["confirmed"] is False,
            }
        )
    differences = []
    for d in results["official"]["differences"]:
        fields = d["fields"]
        if d["candidate"] is None:
            ours = n(d["ours"]["ballots_valid"])
            theirs = f"{n(d['official']['low'])}–{n(d['official']['high'])}"
        else:
            ours = " · ".join(show(f, d["ours"]) for f in fields)
            theirs = " · ".join(show(f, d["official"]) for f in fields)
        differences.append(
            {
                "province": i18n.province_name(d["code"], lang),
                "unit": d["unit"],
                "name": d["name"] or "—",
                "fields": ", ".join(t[f"dres_field_{f}"] for f in fields),
                "ours": ours,
                "official": theirs,
            }
        )
    return {
        "headline": t["dres_summary_headline"].format(
            declared=n(s["units_declared"]),
            total=n(s["units_total"]),
            supplementary=n(results["units_supplementary"]),
            reporting=n(s["units_reporting"]),
            filled=n(s["seats_filled"]),
            seats=n(s["seats_total"]),
        ),
        "complete": results["complete"],
        "composition": [
            {
                "label": t[f"dres_comp_{k}"],
                "ours": n(s["composition"][k]),
                "council": n(results["council"][k]) if results["complete"] else "",
                "differs": results["complete"] and s["composition"][k] != results["council"][k],
            }
            for k in COMPOSITION
        ],
        "elected": [
            {"name": i18n.province_name(code, lang), "rows": rows}
            for code, rows in by_province.items()
        ],
        "close": [
            {
                "province": i18n.province_name(r["code"], lang),
                "unit": r["unit"],
                "status": t[f"dres_status_{r['status']}"],
                "margin": n(r["margin"]),
                "margin_pct": pct(r["margin_pct"]),
                "reasons": " · ".join(
                    [t[f"dres_close_{x}"] for x in r["reasons"]]
                    + ([t["dres_tie"]] if r["tie"] else [])
                ),
            }
            for r in results["close"]
        ],
        "compared": t["dres_official_counts"].format(
            compared=n(results["official"]["units_compared"]),
            not_final=n(results["official"]["not_final"]),
            n=n(len(differences)),
        ),
        "differences": differences,
    }


def _official_text(official: dict | None, lang: str, t: dict[str, str]) -> str | None:
    if official is None:
        return None
    text = (
        f"{t['official']}: {i18n.fmt_pct(official['turnout_pct'], lang)}"
        f" ({_hm(official['as_of'])}, {official['source']})"
    )
    if official["diff"] is not None:
        diff = f"{official['diff']:+.2f}".replace("-", "\u2212")
        text += f" · {t['diff']} {diff.replace('.', i18n.separators(lang)[0])}"
    return text


def _hm(value: Any) -> str:
    local = i18n.to_local(value) if value else None
    return f"{local:%H:%M}" if local else "—"


def _dmhm(value: Any) -> str:
    local = i18n.to_local(value) if value else None
    return f"{local:%d/%m %H:%M}" if local else "—"


# --- routes -----------------------------------------------------------------------------


def _phase(request: Request, app: Votewire) -> int:
    raw = request.query_params.get("phase")
    if raw is None:
        now = app.now_local()
        return next((p for p in PHASES if now < phase_span(app.settings.election, p)[1]), 3)
    if raw not in ("1", "2", "3"):
        raise _bad_phase()
    return int(raw)


async def _summary_response(request: Request, fmt: str) -> Response:
    app = votewire(request)
    lang = desk_lang(request)
    phase = _phase(request, app)
    summary = await build_summary(app, phase)
    name = f"votewire-summary-phase{phase}-{summary['moment']:%Y%m%d-%H%M}"
    if fmt == "csv":
        return Response(
            BOM + summary_csv(summary, lang),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}.csv"',
                "Cache-Control": "no-store",
            },
        )
    chart = None
    if request.query_params.get("chart", "1") != "0":
        chart = await run_in_threadpool(summary_chart_svg, summary, lang)
    return HTMLResponse(summary_html(summary, lang, chart))


@route_kind("desk")
@requires("editor")
async def summary_page(request: Request) -> Response:
    fmt = request.query_params.get("format", "html")
    if fmt not in ("html", "csv"):
        raise Invalid.of("format")
    return await _summary_response(request, fmt)


@requires("editor")
async def summary_csv_route(request: Request) -> Response:
    return await _summary_response(request, "csv")


routes = [
    Route("/editor/summary", summary_page),
    Route("/editor/summary.csv", summary_csv_route),
]
