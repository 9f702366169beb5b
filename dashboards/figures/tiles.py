"""The tile cartogram: 63 equal squares at the fixture's grid positions, coloured by
turnout (folded beside the north on landscape sizes)."""

from __future__ import annotations

import math
from functools import cache

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import (
    COLORSCALE,
    NO_DATA_GREY,
    Picture,
    Size,
    base_figure,
    color_range,
    colorbar,
    ink_on,
    province_hover,
    scale_of,
    size_px,
    turnout_color,
    wrap_name,
)
from dashboards.i18n import label
from ingest import fixtures as fx

TILE_FOLD_ROW = 7
"""Where a landscape tile grid folds: rows from here (Thừa Thiên Huế southwards) move up
beside the north, turning the 15 × 7 grid into 8 × 13 (about 16:9)."""


@cache
def folded_tile_grid() -> dict[str, tuple[int, int]]:
    """The fixture tile grid folded at `TILE_FOLD_ROW`, with one empty column between."""
    grid = fx.tile_grid()
    north_cols = max(c for r, c in grid.values() if r < TILE_FOLD_ROW)
    south_min = min(c for r, c in grid.values() if r >= TILE_FOLD_ROW)
    shift = north_cols + 2 - south_min
    return {
        code: (r, c) if r < TILE_FOLD_ROW else (r - TILE_FOLD_ROW, c + shift)
        for code, (r, c) in grid.items()
    }


def tile_grid(
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    *,
    fold: bool | None = None,
    scale: float | None = None,
) -> go.Figure:
    """The 63-tile cartogram at the fixture's (row, col): colour by turnout, text = short
    name + percentage; provinces without a figure are grey tiles reading "no data".

    `fold` (default: for landscape sizes) puts the south beside the north, so the tiles
    are big enough to read on a 16:9 screen."""
    width, height = size_px(size)
    s = scale or scale_of(width, height)
    if fold is None:
        fold = width / height > 1.2
    grid = folded_tile_grid() if fold else fx.tile_grid()
    rows = max(r for r, _ in grid.values()) + 1
    cols = max(c for _, c in grid.values()) + 1
    low, high = color_range(picture)
    z_val: list[list[float | None]] = [[None] * cols for _ in range(rows)]
    z_nil: list[list[float | None]] = [[None] * cols for _ in range(rows)]
    hover: list[list[str]] = [[""] * cols for _ in range(rows)]
    by_code = {p["code"]: p for p in picture["provinces"]}
    # Tiles are square: fit the grid into the plot area left of the colour bar, then
    # size the text so the longest line fits a tile (about 0.55 em per character).
    top, bottom = 96 * s, 46 * s
    cell = min((height - top - bottom) / rows, (width - 72 * s - 190 * s) / cols)
    names = {code: wrap_name(i18n.province_name(code, lang), 9) for code in grid}
    no_data = label("no_data_short", lang)
    longest = max(len(line) for text in [*names.values(), no_data] for line in text.split("<br>"))
    font_size = max(6, min(round(14 * s), math.floor(cell * 0.88 / (0.55 * longest))))
    fig = go.Figure()
    tiles = []
    for code, (r, c) in grid.items():
        p = by_code.get(code, {"code": code})
        pct = p.get("turnout_pct")
        hover[r][c] = province_hover(p, lang)
        if pct is None:
            z_nil[r][c] = 0
            fill, value = NO_DATA_GREY, no_data
        else:
            z_val[r][c] = pct
            fill, value = turnout_color(pct, low, high), i18n.fmt_pct(pct, lang, digits=1)
        tiles.append(
            dict(
                x=c,
                y=r,
                text=f"{names[code]}<br><b>{value}</b>",
                showarrow=False,
                font=dict(size=font_size, color=ink_on(fill)),
            )
        )
    fig.update_layout(annotations=tiles)  # one call: 63 add_annotation calls took ~0.5 s
    common = dict(
        xgap=max(1, round(3 * s)),
        ygap=max(1, round(3 * s)),
        text=hover,
        hovertemplate="%{text}<extra></extra>",
    )
    fig.add_trace(
        go.Heatmap(
            z=z_val,
            zmin=low,
            zmax=high,
            colorscale=COLORSCALE,
            colorbar=colorbar(lang, s, x=1.0, xanchor="left", y=0.6, yanchor="middle"),
            name=label("turnout", lang),
            hoverongaps=False,
            **common,
        )
    )
    fig.add_trace(
        go.Heatmap(
            z=z_nil,
            zmin=0,
            zmax=1,
            colorscale=[[0, NO_DATA_GREY], [1, NO_DATA_GREY]],
            showscale=False,
            name=label("no_data", lang),
            hoverongaps=False,
            **common,
        )
    )
    # A legend entry for the grey tiles (heatmaps have none of their own).
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker=dict(symbol="square", size=14 * s, color=NO_DATA_GREY),
            name=label("no_data", lang),
            showlegend=True,
            hoverinfo="skip",
        )
    )
    axis = dict(visible=False, showgrid=False, zeroline=False, fixedrange=True)
    fig.update_xaxes(range=[-0.5, cols - 0.5], constrain="domain", domain=[0, 0.9], **axis)
    fig.update_yaxes(
        range=[rows - 0.5, -0.5], scaleanchor="x", scaleratio=1, constrain="domain", **axis
    )
    fig.update_layout(
        legend=dict(x=1.0, xanchor="left", y=0.18, yanchor="top", bgcolor="rgba(0,0,0,0)"),
        dragmode=False,
    )
    return base_figure(fig, picture, lang, size, "tiles", "chart_tiles", scale=scale)
