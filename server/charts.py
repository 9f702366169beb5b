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

The same from the shell (server/cli/exports.py):

    votewire chart map --at 15:00 -o map.png [--lang en] [--size social-square]
    votewire chart by_hour --at 19:00 --provinces 01,79 -o by_hour.svg
    votewire summary --phase 2 [-o summary.html | -o summary.csv]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

import plotly.graph_objects as go
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboards import export, figures, i18n
from ingest.errors import Invalid, Unavailable
from server import store
from server.auth import requires
from server.errors import not_found
from server.jsonio import iso
from server.picture import moment, read_picture
from server.settings import Election
from server.spreadsheet import BOM, picture_csv
from server.state import Votewire, votewire

CHART_FORMATS = ("png", "svg", "html", "csv", "json", "plotly")
MAX_PROVINCES = 7
OFFICIAL_MARKER = "#1f2328"


def chart_names() -> tuple[str, ...]:
    return tuple(figures.FIGURES)


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
    if name not in figures.FIGURES or fmt not in CHART_FORMATS:
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
    codes = parse_codes(q.get("provinces"), app.provinces)
    full = fmt == "json" or name in ("by_hour", "revotes")
    picture = await chart_picture(app, at, codes, full=full)
    body, media = await run_in_threadpool(render_chart, name, picture, lang, size, fmt, codes)
    filename = export.filename(name, picture, lang, size, "json" if fmt == "plotly" else fmt)
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


routes = [Route("/charts/{name}.{fmt}", chart)]
