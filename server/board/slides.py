"""The board's Plotly slides: the turnout's (map, ranking, completion, history), each built
by `dashboards.figures` from the current public picture, and the results' (hemicycle,
results map, composition), built by `dashboards.figures.build_results` from the current
public results (`server.results.read_results`, internal results never). Built in a worker
thread (a map takes ~0.2 s of CPU, which must not stall the live feed), and kept per
(chart, language, layout[, seats]), rebuilt for a newer picture at most every
`FIGURE_MIN_AGE_S` (results: `RESULTS_MIN_AGE_S`): the cost does not grow with the number
of boards.

`GET /api/board/figure/{name}?lang=&layout=[&seats=]`: one slide's figure as JSON; its
`layout.meta.seq` is the seq of the picture (or results) it shows, which tells a board
whether it is behind.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

import plotly.io as pio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboards import figures
from dashboards.figures.results_frame import text_scale
from ingest.errors import Invalid
from server import store
from server.board.layouts import (
    FIGURE_SLIDES,
    LAYOUTS,
    RESULT_SLIDES,
    board_lang,
    board_layout,
    board_seats,
)
from server.picture import read_picture
from server.results import read_results
from server.security import route_kind
from server.state import votewire

FIGURE_MIN_AGE_S = 2.0
"""A chart is drawn again for a newer picture at most this often (a map is ~0.2 s of CPU
and ~330 kB of JSON); see `FigureCache`."""

RESULTS_MIN_AGE_S = 0.25
"""The results' figures are drawn again at most this often: a declared unit is on the
board's hemicycle within a second of its ack (results come far less often than turnout
figures on the day, and a hemicycle is quick to draw)."""

MAP_LABEL_ROOM = 220
"""Pixels (at scale 1) added to the map's width for the archipelagos' labels."""


def build_figure(picture: dict, name: str, lang: str, layout: str) -> str:
    """One slide's figure as JSON text. The board shows the slide title, the moment and
    the TEST mark itself, so the figure goes without its title and badge."""
    spec = LAYOUTS[layout]
    scale = spec["scale"]
    band = layout == "strip"
    options: dict[str, Any] = {"scale": scale}
    if name == "map":
        options["headline"] = False
    elif name == "ranking":
        options["n"] = spec["ranking_n"]
    if band:
        options["band"] = True
    picture = {**picture, "at": None, "rehearsal": False}
    width, height = spec["figure"]
    fig = figures.build(name, picture, lang, (width, height), **options)
    if band:
        fig.update_layout(title=None)  # a band's figure keeps its own (small) top margin
    else:
        top = {"map": 12, "ranking": 40, "completion": 48, "history": 48}[name] * scale
        fig.update_layout(title=None, margin_t=top)
        if name == "map":
            _refit_map(fig, width, height, scale)
    return pio.to_json(fig, validate=False)


TITLE_ROOM = 66
"""Pixels (at text scale 1) that `dashboards.figures.frame.base_figure` gives the title and
its subtitle at the top of a figure (18 + 24 × 1.2 + 15 × 1.3): the board shows its own
title, and gives that room to the figure's plot area instead."""


def build_results_figure(results: dict, name: str, lang: str, layout: str, seats: str) -> str:
    """One results slide's figure as JSON text, from a public results body: drawn for the
    slide's plot area (on the strip, as a band) without its title (the board shows it),
    "as of" the latest result it shows rather than the moment it was drawn; `meta.seq` is
    the body's seq.

    The figure is drawn `TITLE_ROOM` taller, then that room is taken off its top margin:
    its plot area (which the builder fits the hemicycle, the map, the panels to) is the
    one the board shows, at the text scale the layout asks for."""
    spec = LAYOUTS[layout]
    band = layout == "strip"
    width, height = spec["results_figure"]
    s = text_scale(width, height, band, spec["results_scale"])
    crop = round(TITLE_ROOM * s)
    tall = height + crop
    body = {**results, "at": None, "rehearsal": False}
    fig = figures.build_results(
        name,
        body,
        lang,
        (width, tall),
        band=band,
        dimension=seats,
        scale=s / text_scale(width, tall, band, 1.0),
    )
    meta = dict(fig.layout.meta or {})
    meta["seq"] = results["seq"]
    top = max(4.0, fig.layout.margin.t - crop)
    fig.update_layout(title=None, meta=meta, height=height, margin_t=top)
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


def _cache(request: Request, results: bool = False) -> FigureCache:
    state = request.app.state
    name = "board_result_figures" if results else "board_figures"
    cache = getattr(state, name, None)
    if cache is None:
        cache = FigureCache(RESULTS_MIN_AGE_S if results else FIGURE_MIN_AGE_S)
        setattr(state, name, cache)
    return cache


async def public_picture(request: Request) -> dict:
    """The current public picture (what the board shows)."""
    return await read_picture(votewire(request), internal=False, at=None)


async def public_results(request: Request) -> dict:
    """The current public results (what the board shows): internal results never. The body
    is kept for its seq, the last public one (`store.last_seqs`): until something public
    happens, boards asking for a figure or their items share one read of the results."""
    app = votewire(request)
    kept = getattr(request.app.state, "board_results", None)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        _, public = await store.last_seqs(conn)
    if kept is not None and kept["seq"] == public:
        return kept
    body = await read_results(app, internal=False, at=None)
    request.app.state.board_results = body
    return body


async def slide_figure(request: Request, picture: dict, name: str, lang: str, layout: str) -> str:
    """Slide `name`'s figure of `picture` as JSON text, from the app's cache."""
    return await _cache(request).get(
        (name, lang, layout), picture["seq"], lambda: build_figure(picture, name, lang, layout)
    )


async def results_figure(
    request: Request, results: dict, name: str, lang: str, layout: str, seats: str
) -> str:
    """Results slide `name`'s figure of `results` as JSON text, from the app's cache."""
    return await _cache(request, results=True).get(
        (name, lang, layout, seats),
        results["seq"],
        lambda: build_results_figure(results, name, lang, layout, seats),
    )


@route_kind("read")
async def figure(request: Request) -> Response:
    name = request.path_params["name"]
    q = request.query_params
    if name not in FIGURE_SLIDES:
        raise Invalid.of("name", "no_chart", chart=name, charts=", ".join(FIGURE_SLIDES))
    lang, layout = board_lang(q.get("lang")), board_layout(q.get("layout"))
    if name in RESULT_SLIDES:
        results = await public_results(request)
        seats = board_seats(q.get("seats"))
        text = await results_figure(request, results, name, lang, layout, seats)
    else:
        picture = await public_picture(request)
        text = await slide_figure(request, picture, name, lang, layout)
    return Response(text, media_type="application/json", headers={"Cache-Control": "no-cache"})


routes = [Route("/api/board/figure/{name}", figure)]
