"""The board's Plotly slides (map, ranking, completion, history): each built by
`dashboards.figures` from the current public picture, in a worker thread (a map takes
~0.2 s of CPU, which must not stall the live feed), and kept per (chart, language,
layout), rebuilt for a newer picture at most every `FIGURE_MIN_AGE_S`: the cost does not
grow with the number of boards.

`GET /api/board/figure/{name}?lang=&layout=`: one slide's figure as JSON.
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
from ingest.errors import Invalid
from server.board.layouts import FIGURE_SLIDES, LAYOUTS, board_lang, board_layout
from server.picture import read_picture
from server.security import route_kind
from server.state import votewire

FIGURE_MIN_AGE_S = 2.0
"""A chart is drawn again for a newer picture at most this often (a map is ~0.2 s of CPU
and ~330 kB of JSON); see `FigureCache`."""

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


async def public_picture(request: Request) -> dict:
    """The current public picture (what the board shows)."""
    return await read_picture(votewire(request), internal=False, at=None)


async def slide_figure(request: Request, picture: dict, name: str, lang: str, layout: str) -> str:
    """Slide `name`'s figure of `picture` as JSON text, from the app's cache."""
    return await _cache(request).get(
        (name, lang, layout), picture["seq"], lambda: build_figure(picture, name, lang, layout)
    )


@route_kind("read")
async def figure(request: Request) -> Response:
    name = request.path_params["name"]
    q = request.query_params
    if name not in FIGURE_SLIDES:
        raise Invalid.of("name", "no_chart", chart=name, charts=", ".join(FIGURE_SLIDES))
    picture = await public_picture(request)
    text = await slide_figure(
        request, picture, name, board_lang(q.get("lang")), board_layout(q.get("layout"))
    )
    return Response(text, media_type="application/json", headers={"Cache-Control": "no-cache"})


routes = [Route("/api/board/figure/{name}", figure)]
