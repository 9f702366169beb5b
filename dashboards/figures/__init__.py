"""Figure builders: a picture (protocol §2 snapshot dict) → a Plotly figure.

Used twice: for the board's first paint (the figure's JSON goes into the page) and for
chart exports (`dashboards.export.render`). Each builder is a plain function
`builder(picture, lang="vi", size="web", **options) -> go.Figure`; `FIGURES` maps a chart
name to its builder. One module per chart, on a shared frame:

    frame.py       sizes, fonts, colours; title, "as of", source line, TEST badge
    map.py         turnout_map (choropleth, archipelagos, national headline)
    tiles.py       tile_grid (the 63-tile cartogram)
    ranking.py     ranking (leaders and laggards)
    completion.py  completion_by_region
    revotes.py     revotes_table
    history.py     history (NA I–XV) and turnout_by_hour

Every figure carries its title, the moment it shows (`as_of_label` of `picture["at"]`,
or of the latest province `as_of` when `at` is null) and a source line, in the requested
language; a rehearsal picture also carries a TEST badge, so a rehearsal chart cannot be
mistaken for the real thing.

Rules kept here:
- Provinces that have not reported carry nulls (never zeros). They are drawn in a
  neutral grey labelled "no data", never as 0 %.
- National figures are taken from `picture["national"]` as given; they are computed in
  one place on the server, never here.
- Colours: one colour-blind-safe sequential scale (viridis, darker = higher turnout)
  for every turnout colour, over a range shared by map, tiles and ranking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.completion import completion_by_region, region_completion
from dashboards.figures.frame import (
    COLORSCALE,
    FONT_FAMILY,
    HIGHLIGHT,
    INK,
    MAP_DOMAIN_FACTOR,
    MUTED,
    NO_DATA_GREY,
    PALETTE,
    PLOTLY_CONFIG,
    REGIONS,
    SIZES,
    STATIC_DIR,
    TOPOJSON_DIR,
    TOPOJSON_FILE_URL,
    TOPOJSON_STUB,
    TOPOJSON_URL,
    VENDOR_DIR,
    Picture,
    Size,
    color_range,
    picture_moment,
    size_px,
    turnout_color,
)
from dashboards.figures.history import history, turnout_by_hour
from dashboards.figures.map import archipelagos, map_aspect, map_geojson, turnout_map
from dashboards.figures.ranking import ranking
from dashboards.figures.revotes import revotes_table
from dashboards.figures.tiles import TILE_FOLD_ROW, folded_tile_grid, tile_grid

__all__ = [
    "COLORSCALE",
    "FIGURES",
    "FONT_FAMILY",
    "HIGHLIGHT",
    "INK",
    "MAP_DOMAIN_FACTOR",
    "MUTED",
    "NO_DATA_GREY",
    "PALETTE",
    "PLOTLY_CONFIG",
    "REGIONS",
    "SIZES",
    "STATIC_DIR",
    "TILE_FOLD_ROW",
    "TOPOJSON_DIR",
    "TOPOJSON_FILE_URL",
    "TOPOJSON_STUB",
    "TOPOJSON_URL",
    "VENDOR_DIR",
    "Picture",
    "Size",
    "archipelagos",
    "build",
    "color_range",
    "completion_by_region",
    "folded_tile_grid",
    "history",
    "map_aspect",
    "map_geojson",
    "picture_moment",
    "ranking",
    "region_completion",
    "revotes_table",
    "size_px",
    "tile_grid",
    "turnout_by_hour",
    "turnout_color",
    "turnout_map",
]

FIGURES: dict[str, Callable[..., go.Figure]] = {
    "map": turnout_map,
    "tiles": tile_grid,
    "ranking": ranking,
    "completion": completion_by_region,
    "revotes": revotes_table,
    "history": history,
    "by_hour": turnout_by_hour,
}
"""Chart name → builder: `FIGURES[name](picture, lang, size, **options)`."""


def build(
    name: str, picture: Picture, lang: str = "vi", size: Size = "web", **options: Any
) -> go.Figure:
    """`FIGURES[name](...)`, with a clear error for an unknown chart name or language."""
    try:
        builder = FIGURES[name]
    except KeyError:
        raise ValueError(f"unknown chart {name!r}; use one of {sorted(FIGURES)}") from None
    if lang not in i18n.LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {list(i18n.LANGS)}")
    return builder(picture, lang, size, **options)
