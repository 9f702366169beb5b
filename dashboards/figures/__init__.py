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

and the results' figures, from a results body (protocol §5 `/api/results`) through
`build_results(name, results, ...)`, on the same frame:

    results_frame.py  the moment, the seats and the subtitle of a results body; the strip
    hemicycle.py      hemicycle (the 500 seats filling, by gender, region or former deputy)
    results_map.py    results_map (share of each province's units declared)
    composition.py    composition (the elected beside the 13th and 14th Assemblies)
    unit.py           unit (one unit's candidates)

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
from dashboards.figures.composition import composition
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
from dashboards.figures.hemicycle import DIMENSIONS, hemicycle
from dashboards.figures.history import history, turnout_by_hour
from dashboards.figures.map import archipelagos, map_aspect, map_geojson, turnout_map
from dashboards.figures.ranking import ranking
from dashboards.figures.results_frame import BAND_SIZE, Results, results_moment
from dashboards.figures.results_map import results_map
from dashboards.figures.revotes import revotes_table
from dashboards.figures.tiles import TILE_FOLD_ROW, folded_tile_grid, tile_grid
from dashboards.figures.unit import find_unit, unit_figure

__all__ = [
    "BAND_SIZE",
    "COLORSCALE",
    "DIMENSIONS",
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
    "RESULT_FIGURES",
    "SIZES",
    "STATIC_DIR",
    "TILE_FOLD_ROW",
    "TOPOJSON_DIR",
    "TOPOJSON_FILE_URL",
    "TOPOJSON_STUB",
    "TOPOJSON_URL",
    "VENDOR_DIR",
    "Picture",
    "Results",
    "Size",
    "archipelagos",
    "build",
    "build_results",
    "color_range",
    "completion_by_region",
    "composition",
    "find_unit",
    "folded_tile_grid",
    "hemicycle",
    "history",
    "map_aspect",
    "map_geojson",
    "picture_moment",
    "ranking",
    "region_completion",
    "results_map",
    "results_moment",
    "revotes_table",
    "size_px",
    "tile_grid",
    "turnout_by_hour",
    "turnout_color",
    "turnout_map",
    "unit_figure",
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


RESULT_FIGURES = ("hemicycle", "results_map", "composition", "unit")
"""The results' charts, built from a results body by `build_results`."""


def build_results(
    name: str,
    results: Results,
    lang: str = "vi",
    size: Size = "web",
    *,
    band: bool = False,
    dimension: str = "gender",
    unit: str | None = None,
    scale: float = 1.0,
) -> go.Figure:
    """Results chart `name` of `results` (a §5 `/api/results` body) in `lang` and `size`.

    `band=True` is the LED strip's shape (drawn for `BAND_SIZE`, 1920×360, when `size` is
    left at "web"): the hemicycle as a flat arc, the map beside its counts and regional
    bars, the composition as a row of small bar panels, no labels cut. `dimension` colours
    the hemicycle ("gender", "region", "former_deputy"); `unit` ("01-1") is the unit chart's
    unit. `scale` multiplies the size's natural text scale (1 at 1200×675, and on a band its
    height / 300): a wall board asks for larger type. The moment shown is the body's `at`,
    else the latest `as_of` among the units shown (§6): a caller that wants "as of" the
    figures rather than "now" passes the body with `at` set to None."""
    if name not in RESULT_FIGURES:
        raise ValueError(f"unknown chart {name!r}; use one of {list(RESULT_FIGURES)}")
    if lang not in i18n.LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {list(i18n.LANGS)}")
    if name == "hemicycle":
        return hemicycle(results, lang, size, dimension=dimension, band=band, scale=scale)
    if name == "results_map":
        return results_map(results, lang, size, band=band, scale=scale)
    if name == "composition":
        return composition(results, lang, size, band=band, scale=scale)
    return unit_figure(results, lang, size, unit=unit, band=band, scale=scale)
