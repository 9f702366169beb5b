"""The wall board `/board` (issue 4) and the two small public APIs it reads.

- `GET /board`: the page, first painted on the server from the current public picture
  (frame, tiles) with the first slide's figure embedded; `dashboards/static/board.js`
  then follows `/ws/live` as a public viewer. URL parameters:
  `lang` (vi default, en, fr, es, zh, ru), `layout` (`full` 1920×1080 default, `strip`
  1920×360), `slides` (order, e.g. `map,tiles:20,ranking`: a name with optional seconds),
  `seconds` (default seconds per slide), `stale` (seconds without an update before the
  board says STALE; default `VOTEWIRE_BOARD_STALE_S`), `refresh` (seconds between two
  reads of `/api/board/items`; default `ITEMS_REFRESH_S`).
- `GET /api/board/items?limit=30`: the latest public notes and re-vote reports, newest
  first (the ticker and the notes slide), the re-vote units the picture counts (the
  re-votes slide), and the latest `PHOTOS_MAX` photos an editor approved, the latest
  approved first (the notes slide). Internal items never: the SQL asks for
  `audience = 'public'`, and for `status = 'approved'` photos. A photo's approval is no
  live event (photos take no seq): the board sees it at its next read of the items.
- `GET /api/board/figure/{name}?lang=&layout=`: one slide's Plotly figure as JSON, built by
  `dashboards.figures` from the current public picture. National figures come from the
  picture as given; nothing is recomputed here or in the browser.

Figures are built in a worker thread (a map takes ~0.2 s of CPU, which must not stall the
live feed) and kept per (chart, language, layout) on the app, rebuilt for a newer picture
at most every `FIGURE_MIN_AGE_S`: the cost does not grow with the number of boards.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import plotly.colors as pcolors
import plotly.io as pio
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from dashboards import figures, i18n, pages
from ingest import fixtures as fx
from ingest.errors import ContractError, Invalid
from server import store

SLIDES = ("map", "tiles", "ranking", "completion", "revotes", "history", "notes")
"""Every slide, in the default order."""
FIGURE_SLIDES = ("map", "ranking", "completion", "history")
"""Slides drawn by Plotly from a `dashboards.figures` builder; the others are HTML."""
DEFAULT_SECONDS = 12
SECONDS_RANGE = (1, 3600)
STALE_RANGE = (2, 86_400)
ITEMS_DEFAULT = 30
ITEMS_MAX = 100
REVOTES_MAX = 100
PHOTOS_MAX = 6
"""The board's notes slide shows at most this many approved photos (their bytes are served
by `/photos/{id}.jpg`, server/editor.py)."""
ITEMS_REFRESH_S = 60
REFRESH_RANGE = (2, 3600)
FIGURE_MIN_AGE_S = 2.0
"""A chart is drawn again for a newer picture at most this often (a map is ~0.2 s of CPU
and ~330 kB of JSON); see `FigureCache`."""

LAYOUTS: dict[str, dict[str, Any]] = {
    "full": {
        "size": (1920, 1080),
        "figure": (1352, 800),
        "scale": 1.3,
        "ranking_n": 10,
        "tile_digits": 2,
        "notes_max": 6,
        "photos_max": 6,
        "mixed": (4, 3),
        "revotes_max": 8,
    },
    "strip": {
        "size": (1920, 360),
        "figure": (1352, 262),
        "scale": 0.95,
        "ranking_n": 5,
        "tile_digits": 1,
        "notes_max": 3,
        "photos_max": 3,
        "mixed": (2, 1),
        "revotes_max": 5,
    },
}
"""Board size, figure size (the slide's plot area, matched by board.css), text scale of the
figures, and how much each HTML slide shows. A strip has room for fewer rows. The notes
slide shows up to `notes_max` notes, or up to `photos_max` photos, or, when there are
both, `mixed` = (photos, notes), as board.css lays them out."""
MAP_LABEL_ROOM = 220
"""Pixels (at scale 1) added to the map's width for the archipelagos' labels."""
STRIP_COLUMNS = 21
"""The strip lays the 63 tiles out north to south in three rows of 21."""

LOCALES = {"vi": "vi-VN", "en": "en-GB", "fr": "fr-FR", "es": "es-ES", "zh": "zh-CN", "ru": "ru-RU"}
DATE_PATTERNS = {
    "vi": "{d}/{m}/{y}",
    "en": "{d}/{m}/{y}",
    "fr": "{d}/{m}/{y}",
    "es": "{d}/{m}/{y}",
    "zh": "{y}年{m}月{d}日",
    "ru": "{dd}.{mm}.{y}",
}
"""i18n's date formats for the page's JavaScript ({dd}, {mm}: zero-padded); a test keeps
them equal to `i18n.as_of_label`."""
COLOR_STEPS = 20


# --- page parameters -----------------------------------------------------------------------


def _int(raw: str | None, default: int, bounds: tuple[int, int]) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        value = default
    return max(bounds[0], min(bounds[1], value))


def parse_slides(raw: str | None, seconds: int) -> list[dict[str, Any]]:
    """`map,tiles:20,ranking` → [{name, seconds}]; unknown names are ignored, and nothing
    usable means every slide in the default order."""
    out = []
    for part in (raw or "").split(","):
        name, _, secs = part.strip().partition(":")
        if name in SLIDES:
            out.append({"name": name, "seconds": _int(secs, seconds, SECONDS_RANGE)})
    return out or [{"name": name, "seconds": seconds} for name in SLIDES]


def _lang(raw: str | None) -> str:
    return raw if raw in i18n.LANGS else i18n.DEFAULT_LANG


def _layout(raw: str | None) -> str:
    return "strip" if raw == "strip" else "full"


# --- figures -------------------------------------------------------------------------------


def build_figure(picture: dict, name: str, lang: str, layout: str) -> str:
    """One slide's figure as JSON text. The board shows the slide title, the moment and
    the TEST mark itself, so the figure goes without its title and badge."""
    spec = LAYOUTS[layout]
    scale = spec["scale"]
    options: dict[str, Any] = {"scale": scale}
    if name == "map":
        options["headline"] = False
    elif name == "ranking":
        options["n"] = spec["ranking_n"]
    picture = {**picture, "at": None, "rehearsal": False}
    width, height = spec["figure"]
    fig = figures.build(name, picture, lang, (width, height), **options)
    top = {"map": 12, "ranking": 40, "completion": 48, "history": 48}[name] * scale
    fig.update_layout(title=None, margin_t=top)
    if name == "map":
        _refit_map(fig, width, height, scale)
        if layout == "strip":
            # So small a map clips a long label centred on the easternmost islands: the
            # archipelagos' labels go on two lines ("QĐ. Trường Sa" / "(Khánh Hòa)").
            for trace in fig.data:
                if trace.type == "scattergeo" and trace.mode == "text":
                    trace.text = [t.replace(" (", "<br>(", 1) for t in trace.text]
    return pio.to_json(fig, validate=False)


def _refit_map(fig, width: int, height: int, scale: float) -> None:
    """Give the map the plot area freed by the title (sized as `turnout_map` sizes it),
    widened so that the archipelagos' labels, centred on islands at the map's east edge,
    are not clipped (the fitted map sits in the middle), with colour bar and "no data"
    key just right of it."""
    m = fig.layout.margin
    plot_w, plot_h = width - m.l - m.r, height - m.t - m.b
    fitted = figures.MAP_DOMAIN_FACTOR * figures.map_aspect() * plot_h / plot_w
    frac = min(0.8, fitted + MAP_LABEL_ROOM * scale / plot_w)
    fig.update_geos(domain_x=[0, frac])
    right = frac + 10 / plot_w
    fig.data[0].colorbar.x = right
    fig.layout.legend.x = right


class FigureCache:
    """The latest figure per (chart, language, layout). It is drawn again when the picture
    has moved on, but at most once per `min_age_s`: however many boards are open and
    however fast reports arrive, a chart costs at most one build per key and interval
    (boards still get the newer picture a moment later, as the figure's `meta.seq` tells
    them it is behind). One build per key at a time; concurrent askers share it."""

    def __init__(self, min_age_s: float = FIGURE_MIN_AGE_S) -> None:
        self.min_age_s = min_age_s
        self.latest: dict[tuple, tuple[int, float, str]] = {}
        self.pending: dict[tuple, asyncio.Future] = {}

    async def get(self, key: tuple, seq: int, build: Callable[[], str]) -> str:
        hit = self.latest.get(key)
        if hit is not None and (hit[0] == seq or time.monotonic() - hit[1] < self.min_age_s):
            return hit[2]
        task = self.pending.get(key)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(build))
            self.pending[key] = task
            task.add_done_callback(functools.partial(self._done, key, seq))
        return await asyncio.shield(task)

    def _done(self, key: tuple, seq: int, task: asyncio.Future) -> None:
        self.pending.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            self.latest[key] = (seq, time.monotonic(), task.result())


def _cache(request: Request) -> FigureCache:
    state = request.app.state
    cache = getattr(state, "board_figures", None)
    if cache is None:
        cache = state.board_figures = FigureCache()
    return cache


async def _picture(app) -> dict:
    from server.app import read_picture  # server.app imports this module

    return await read_picture(app, internal=False, at=None)


async def _figure(request: Request, picture: dict, name: str, lang: str, layout: str) -> str:
    return await _cache(request).get(
        (name, lang, layout), picture["seq"], lambda: build_figure(picture, name, lang, layout)
    )


# --- items ---------------------------------------------------------------------------------


def _item(row: dict, zone) -> dict:
    return {
        "id": row["id"],
        "seq": row["seq"],
        "kind": row["kind"],
        "province": row["province"],
        "as_of": row["as_of"].astimezone(zone).isoformat(timespec="seconds"),
        "data": row["data"],
    }


def _unit(row: dict, zone) -> dict:
    return {
        "province": row["province"],
        "as_of": row["as_of"].astimezone(zone).isoformat(timespec="seconds"),
        "data": {k: row[k] for k in ("unit", "level", "reason", "status", "note") if row[k]},
    }


def _photo(row: dict, zone) -> dict:
    """An approved photo as the board shows it: no reviewer, no status, no bytes. `as_of`
    is when the bureau sent it, `approved_at` when an editor approved it."""
    approved = row["reviewed_at"]
    return {
        "id": row["id"],
        "url": f"/photos/{row['id']}.jpg",
        "caption": row["caption"],
        "province": row["province"],
        "width": row["width"],
        "height": row["height"],
        "as_of": row["uploaded_at"].astimezone(zone).isoformat(timespec="seconds"),
        "approved_at": approved.astimezone(zone).isoformat(timespec="seconds")
        if approved
        else None,
    }


async def read_items(app, limit: int) -> dict:
    """The ticker's items and the re-vote units the picture counts (`store.revotes_at`:
    cancelled units left out, as in `revote_units`), newest first; and the latest approved
    photos, the latest approved first."""
    zone = app.settings.election.zone
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        items = await store.board_items(conn, limit)
        units = await store.revotes_at(conn, None)
        photos = await store.board_photos(conn, PHOTOS_MAX)
    units.sort(key=lambda u: u["as_of"], reverse=True)
    return {
        "items": [_item(r, zone) for r in items],
        "revotes": [_unit(u, zone) for u in units[:REVOTES_MAX]],
        "photos": [_photo(p, zone) for p in photos],
    }


# --- the page ------------------------------------------------------------------------------


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


def _time_label(moment: str | None, app) -> str:
    local = i18n.to_local(moment)
    if local is None:
        return ""
    if local.date() == app.settings.election.day:
        return f"{local:%H:%M}"
    return f"{local.day}/{local.month}"


def _tiles(picture: dict, lang: str, layout: str, app) -> list[dict]:
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
    app,
    *,
    lang: str,
    layout: str,
    slides: list[dict],
    stale_s: int,
    refresh_s: int = ITEMS_REFRESH_S,
) -> dict:
    spec = LAYOUTS[layout]
    election = app.settings.election
    return {
        "lang": lang,
        "layout": layout,
        "size": spec["size"],
        "figure_size": spec["figure"],
        "slides": slides,
        "figure_slides": FIGURE_SLIDES,
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
        "server_now": datetime.now(election.zone).isoformat(timespec="milliseconds"),
        "locale": LOCALES[lang],
        "date_pattern": DATE_PATTERNS[lang],
        "pct_pattern": i18n.fmt_pct(0, lang, 0).replace("0", "{}"),
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


def _csp(request: Request) -> str:
    host = request.headers.get("host", "")
    # Plotly.js writes <style> rules and style attributes: inline styles must be allowed.
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"font-src 'self'; img-src 'self' data:; connect-src 'self' ws://{host} wss://{host}; "
        "object-src 'none'; base-uri 'none'; form-action 'none'"
    )


UNAVAILABLE_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="10"><title>votewire</title></head>
<body style="background:#111;color:#eee;font:32px sans-serif;padding:2em">
Máy chủ tạm thời không đọc được dữ liệu; trang sẽ tự tải lại.<br>
The database is unavailable; this page reloads by itself.</body></html>"""


async def board_page(request: Request) -> Response:
    app = request.app.state.votewire
    q = request.query_params
    lang, layout = _lang(q.get("lang")), _layout(q.get("layout"))
    seconds = _int(q.get("seconds"), DEFAULT_SECONDS, SECONDS_RANGE)
    slides = parse_slides(q.get("slides"), seconds)
    stale_s = _int(q.get("stale"), app.settings.board_stale_s, STALE_RANGE)
    refresh_s = _int(q.get("refresh"), ITEMS_REFRESH_S, REFRESH_RANGE)
    try:
        picture = await _picture(app)
        items = await read_items(app, ITEMS_DEFAULT)
        first = slides[0]["name"]
        figure = (
            await _figure(request, picture, first, lang, layout) if first in FIGURE_SLIDES else None
        )
    except ContractError:
        return HTMLResponse(UNAVAILABLE_PAGE, status_code=503, headers={"Retry-After": "10"})
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
        slide_names=SLIDES,
        figure_slides=FIGURE_SLIDES,
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
            ),
            "labels": labels,
            "picture": picture,
            "items": items,
        },
    )
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": _csp(request),
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- the APIs ------------------------------------------------------------------------------


def _refusal(exc: ContractError) -> JSONResponse:
    return JSONResponse(exc.to_wire(), status_code=503 if exc.code == "unavailable" else 400)


async def items(request: Request) -> Response:
    app = request.app.state.votewire
    raw = request.query_params.get("limit")
    try:
        limit = int(raw) if raw not in (None, "") else ITEMS_DEFAULT
    except ValueError:
        limit = 0
    try:
        if not 1 <= limit <= ITEMS_MAX:
            raise Invalid(
                f"limit phải là số nguyên từ 1 đến {ITEMS_MAX}",
                f"limit must be an integer from 1 to {ITEMS_MAX}",
                field="limit",
            )
        body = await read_items(app, limit)
    except ContractError as exc:
        return _refusal(exc)
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


async def figure(request: Request) -> Response:
    app = request.app.state.votewire
    name = request.path_params["name"]
    q = request.query_params
    try:
        if name not in FIGURE_SLIDES:
            raise Invalid(
                f"Không có biểu đồ {name!r}; chọn một trong {', '.join(FIGURE_SLIDES)}",
                f"No chart {name!r}; use one of {', '.join(FIGURE_SLIDES)}",
                field="name",
            )
        picture = await _picture(app)
        text = await _figure(request, picture, name, _lang(q.get("lang")), _layout(q.get("layout")))
    except ContractError as exc:
        return _refusal(exc)
    return Response(text, media_type="application/json", headers={"Cache-Control": "no-cache"})


routes = [
    Route("/board", board_page),
    Route("/api/board/items", items),
    Route("/api/board/figure/{name}", figure),
]
