"""The board page `/board`: first painted on the server from the current public picture
(frame, tiles) with the first slide's figure embedded; `dashboards/static/board.js` then
follows `/ws/live` as a public viewer (URL parameters: `server.board.layouts`)."""

from __future__ import annotations

import plotly.colors as pcolors
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from dashboards import figures, i18n, pages
from ingest import fixtures as fx
from server.board.items import ITEMS_DEFAULT, PHOTOS_MAX, read_items
from server.board.layouts import (
    DEFAULT_SECONDS,
    FIGURE_SLIDES,
    ITEMS_REFRESH_S,
    LAYOUTS,
    REFRESH_RANGE,
    RESULT_SLIDES,
    SECONDS_RANGE,
    SLIDES,
    STALE_RANGE,
    STRIP_COLUMNS,
    WINNERS_MAX,
    board_lang,
    board_layout,
    board_seats,
    bounded_int,
    has_results,
    parse_slides,
)
from server.board.slides import public_picture, public_results, results_figure, slide_figure
from server.security import route_kind
from server.state import Votewire, votewire

COLOR_STEPS = 20


def _ink(color: str) -> str:
    """Black or white text on `color` ("rgb(r, g, b)"), as the figures choose it."""
    r, g, b = (float(x) for x in color[color.index("(") + 1 : -1].split(",")[:3])
    return figures.INK if 0.2126 * r + 0.7152 * g + 0.0722 * b > 140 else "#ffffff"


def tile_positions(layout: str) -> dict[str, tuple[int, int]]:
    """(row, column) of each tile: the folded fixture grid on 16:9, three rows north to
    south on the strip."""
    if layout == "full":
        return dict(figures.folded_tile_grid())
    order = sorted(fx.tile_grid().items(), key=lambda kv: (kv[1][0], kv[1][1]))
    return {code: divmod(i, STRIP_COLUMNS) for i, (code, _) in enumerate(order)}


def _time_label(moment: str | None, app: Votewire) -> str:
    local = i18n.to_local(moment)
    if local is None:
        return ""
    if local.date() == app.settings.election.day:
        return f"{local:%H:%M}"
    return f"{local.day}/{local.month}"


def _tiles(picture: dict, lang: str, layout: str, app: Votewire) -> list[dict]:
    low, high = figures.color_range(picture)
    positions = tile_positions(layout)
    by_code = {p["code"]: p for p in picture["provinces"]}
    now = app.now_local()
    out = []
    for code, (row, col) in sorted(positions.items(), key=lambda kv: kv[1]):
        p = by_code.get(code, {"code": code})
        pct = p.get("turnout_pct")
        tile = {
            "code": code,
            "name": i18n.province_name(code, lang),
            "row": row + 1,
            "col": col + 1,
            "pct": i18n.fmt_pct(pct, lang, LAYOUTS[layout]["tile_digits"])
            if pct is not None
            else i18n.label("no_data_short", lang),
            "time": _time_label(p.get("as_of"), app) if pct is not None else "",
            "nodata": pct is None,
            "stale": False,
            "fill": figures.NO_DATA_GREY,
            "ink": figures.INK,
        }
        if pct is not None:
            tile["fill"] = figures.turnout_color(pct, low, high)
            tile["ink"] = _ink(tile["fill"])
            as_of = i18n.to_local(p.get("as_of"))
            age = (now - as_of).total_seconds() if as_of else 0
            tile["stale"] = age > app.settings.stale_s
        out.append(tile)
    return out


def _frame(picture: dict, lang: str) -> dict[str, str]:
    nat = picture.get("national") or {}
    total = nat.get("provinces_total") or len(picture["provinces"])
    voters = ""
    if nat.get("voted") is not None:
        voters = i18n.label("n_voters", lang).format(
            voted=i18n.fmt_int(nat["voted"], lang),
            registered=i18n.fmt_int(nat.get("registered"), lang),
        )
    areas = i18n.label("no_data", lang)
    if nat.get("areas_total"):
        done = i18n.fmt_int(nat.get("areas_done"), lang)
        areas = f"{done} / {i18n.fmt_int(nat['areas_total'], lang)}"
    moments = [p["as_of"] for p in picture["provinces"] if p.get("as_of")]
    latest = max(moments, key=i18n.to_local) if moments else None
    return {
        "pct": i18n.fmt_pct(nat.get("turnout_pct"), lang),
        "nodata": nat.get("turnout_pct") is None,
        "voters": voters,
        "reporting": f"{nat.get('provinces_reporting') or 0} / {total}",
        "areas": areas,
        "as_of": i18n.as_of_label(latest, lang),
    }


def page_config(
    app: Votewire,
    *,
    lang: str,
    layout: str,
    slides: list[dict],
    stale_s: int,
    refresh_s: int = ITEMS_REFRESH_S,
    seats: str = "gender",
    first: int = 0,
) -> dict:
    spec = LAYOUTS[layout]
    election = app.settings.election
    return {
        "lang": lang,
        "layout": layout,
        "size": spec["size"],
        "figure_size": spec["figure"],
        "results_figure_size": spec["results_figure"],
        "slides": slides,
        "first": first,
        "figure_slides": FIGURE_SLIDES,
        "result_slides": RESULT_SLIDES,
        "seats": seats,
        "results_ms": 300,
        "winners_max": WINNERS_MAX,
        "stale_s": stale_s,
        "tile_stale_s": app.settings.stale_s,
        "tile_digits": spec["tile_digits"],
        "notes_max": spec["notes_max"],
        "photos_max": min(spec["photos_max"], PHOTOS_MAX),
        "mixed": spec["mixed"],
        "revotes_max": spec["revotes_max"],
        "items_limit": ITEMS_DEFAULT,
        "items_refresh_s": refresh_s,
        "render_ms": 1000,
        "figure_ms": 2500,
        "backoff_max_ms": 10_000,
        "zone": election.zone.key,
        "day": election.day.isoformat(),
        "clock": app.clock.message(),
        "locale": i18n.LOCALES[lang],
        "colors": pcolors.sample_colorscale(
            figures.COLORSCALE, [i / COLOR_STEPS for i in range(COLOR_STEPS + 1)]
        ),
        "no_data_color": figures.NO_DATA_GREY,
        "ink": figures.INK,
        "names": {p.code: i18n.province_name(p.code, lang) for p in fx.provinces()},
        "plotly": {**figures.PLOTLY_CONFIG, "responsive": False, "displayModeBar": False},
    }


def _script_json(text: str) -> Markup:
    """JSON text safe inside <script type="application/json"> (no "</script>" possible)."""
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@route_kind("board")
async def board_page(request: Request) -> Response:
    """Without the database the page is `server.errors.error_page`, which reloads itself."""
    app = votewire(request)
    q = request.query_params
    lang, layout = board_lang(q.get("lang")), board_layout(q.get("layout"))
    seconds = bounded_int(q.get("seconds"), DEFAULT_SECONDS, SECONDS_RANGE)
    slides = parse_slides(q.get("slides"), seconds)
    stale_s = bounded_int(q.get("stale"), app.settings.board_stale_s, STALE_RANGE)
    refresh_s = bounded_int(q.get("refresh"), ITEMS_REFRESH_S, REFRESH_RANGE)
    seats = board_seats(q.get("seats"))
    picture = await public_picture(request)
    body = await public_results(request)
    items = await read_items(app, ITEMS_DEFAULT, body)
    # The results slides sit out until a unit has a public result: the board opens on
    # the first slide that has something to show.
    results = has_results(items["results"]["summary"])
    first_i = next(
        (i for i, s in enumerate(slides) if results or s["name"] not in RESULT_SLIDES), 0
    )
    first = slides[first_i]["name"]
    figure = None
    if first in RESULT_SLIDES and results:
        figure = await results_figure(request, body, first, lang, layout, seats)
    elif first in FIGURE_SLIDES and first not in RESULT_SLIDES:
        figure = await slide_figure(request, picture, first, lang, layout)
    labels = i18n.catalogue(lang)
    html = pages.render(
        "board.html",
        lang=lang,
        layout=layout,
        t=labels,
        rehearsal=bool(picture.get("rehearsal")),
        frame=_frame(picture, lang),
        tiles=_tiles(picture, lang, layout, app),
        slides=slides,
        first=first,
        slide_names=SLIDES,
        figure_slides=FIGURE_SLIDES,
        result_slides=RESULT_SLIDES,
        has_results=results,
        first_figure=_script_json(figure) if figure else None,
        tile_stale_label=labels["tile_stale"].format(n=round(app.settings.stale_s / 60)),
        boot={
            "config": page_config(
                app,
                lang=lang,
                layout=layout,
                slides=slides,
                stale_s=stale_s,
                refresh_s=refresh_s,
                seats=seats,
                first=first_i,
            ),
            "labels": labels,
            "picture": picture,
            "items": items,
        },
    )
    return HTMLResponse(html)


routes = [Route("/board", board_page)]
