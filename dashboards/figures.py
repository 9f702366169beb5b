"""Figure builders: a picture (protocol §2 snapshot dict) → a Plotly figure.

One module, used twice: for the board's first paint (the figure's JSON goes into the
page) and for chart exports (`dashboards.export.render`). Each builder is a plain
function `builder(picture, lang="vi", size="web", **options) -> go.Figure`; `FIGURES`
maps a chart name to its builder.

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

Choropleths make Plotly fetch `world_110m.json` even with our own GeoJSON (see
STACK-NOTES): a stub topology ships in `static/vendor/topojson/`. Browsers pass
`PLOTLY_CONFIG` (its `topojsonURL` is `TOPOJSON_URL`); Python exports point
`plotly.io.defaults.topojson` at `TOPOJSON_FILE_URL` (set on import of this module).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import plotly.colors as pcolors
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from dashboards import i18n
from dashboards.i18n import label
from ingest import fixtures as fx

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
TOPOJSON_DIR = VENDOR_DIR / "topojson"
TOPOJSON_URL = "/static/vendor/topojson/"
"""Where the browser finds the stub `world_110m.json` (Plotly's `topojsonURL` config)."""
TOPOJSON_FILE_URL = TOPOJSON_DIR.as_uri() + "/"
"""The same folder for server-side exports (`plotly.io.defaults.topojson`)."""
TOPOJSON_STUB: dict = {"type": "Topology", "objects": {}, "arcs": []}
"""What `world_110m.json` holds: enough for Plotly with `visible=False` base layers."""
PLOTLY_CONFIG: dict[str, Any] = {
    "topojsonURL": TOPOJSON_URL,
    "displaylogo": False,
    "responsive": True,
}
"""Config for `Plotly.newPlot/react` on our pages."""

pio.defaults.topojson = TOPOJSON_FILE_URL

SIZES: dict[str, tuple[int, int]] = {
    "web": (1200, 675),
    "print": (2400, 1600),
    "social-wide": (1200, 630),
    "social-square": (1080, 1080),
}
FONT_FAMILY = "Noto Sans, Noto Sans CJK SC, DejaVu Sans, Arial, sans-serif"
"""Vendored in static/vendor/fonts: Noto Sans (Vietnamese, Latin, Cyrillic) as woff2 for
browsers and TTF for exports, and a subset of Noto Sans CJK SC for the zh labels. DejaVu
Sans, on every Debian image, is the fallback with full Vietnamese diacritics."""
COLORSCALE = "Viridis_r"
NO_DATA_GREY = "#cfcfcf"
INK = "#1f2328"
MUTED = "#5f6b76"
HIGHLIGHT = "#e66101"
"""The live bar and the national line: orange, apart from the viridis range for CVD."""
HISTORY_BAR = "#6b7b8c"
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
"""Okabe–Ito, for province lines in `turnout_by_hour`."""
REGIONS = ("North", "Central", "South")
MAP_DOMAIN_FACTOR = 1.27
"""Plotly draws a fitted geo map at about 90 % of its domain's height but only about 71 %
of its width: the domain must be this much wider than the map's own aspect (measured)."""
GEOJSON_DIGITS = 4
"""Coordinates are rounded to 1e-4° (about 11 m) for the figure: about 40 % less JSON."""

Picture = dict[str, Any]
Size = str | tuple[int, int]


# --- shared helpers --------------------------------------------------------------------


def size_px(size: Size) -> tuple[int, int]:
    """A `SIZES` name or an explicit (width, height) → (width, height) in pixels."""
    if isinstance(size, str):
        try:
            return SIZES[size]
        except KeyError:
            raise ValueError(f"unknown size {size!r}; use one of {sorted(SIZES)}") from None
    width, height = size
    return int(width), int(height)


def _scale(width: int, height: int) -> float:
    return min(width / 1200, height / 675)


def picture_moment(picture: Picture) -> str | None:
    """The moment a picture shows: its `at`, else the latest province `as_of`."""
    if picture.get("at"):
        return picture["at"]
    moments = [p["as_of"] for p in picture.get("provinces", ()) if p.get("as_of")]
    if not moments:
        return None
    return max(moments, key=lambda m: i18n.to_local(m))


def _reported(picture: Picture) -> list[dict]:
    return [p for p in picture["provinces"] if p.get("turnout_pct") is not None]


def color_range(picture: Picture) -> tuple[float, float]:
    """Colour range shared by map, tiles and ranking: 100 at the top, the bottom at the
    lowest reported turnout rounded down to a multiple of 10 (at least 10 points wide), so
    late-day differences between 97 % and 99.9 % stay visible."""
    values = [p["turnout_pct"] for p in _reported(picture)]
    if not values:
        return 0.0, 100.0
    low = math.floor(min(values) / 10) * 10
    return float(max(0, min(low, 90))), 100.0


def turnout_color(value: float, low: float, high: float) -> str:
    t = 0.0 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    return pcolors.sample_colorscale(COLORSCALE, [t])[0]


def _ink_on(color: str) -> str:
    """Black or white text, whichever reads better on `color` ("rgb(r, g, b)" or "#rrggbb")."""
    if color.startswith("#"):
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (float(x) for x in color[color.index("(") + 1 : -1].split(",")[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return INK if luminance > 140 else "#ffffff"


def _province_hover(p: dict, lang: str) -> str:
    name = i18n.province_name(p["code"], lang)
    if p.get("turnout_pct") is None:
        return f"<b>{name}</b><br>{label('no_data', lang)}"
    lines = [
        f"<b>{name}</b>",
        f"{label('turnout', lang)}: {i18n.fmt_pct(p['turnout_pct'], lang)}",
    ]
    if p.get("voted") is not None:
        lines.append(
            f"{label('col_voted', lang)}: {i18n.fmt_int(p['voted'], lang)}"
            f" / {i18n.fmt_int(p.get('registered'), lang)}"
        )
    if p.get("areas_total"):
        lines.append(
            f"{label('areas_done', lang)}: {i18n.fmt_int(p.get('areas_done'), lang)}"
            f" / {i18n.fmt_int(p['areas_total'], lang)}"
        )
    if p.get("as_of"):
        lines.append(i18n.as_of_label(p["as_of"], lang))
    return "<br>".join(lines)


def _reporting_line(picture: Picture, lang: str) -> str:
    nat = picture.get("national") or {}
    reporting = nat.get("provinces_reporting")
    total = nat.get("provinces_total") or len(picture.get("provinces", ()))
    parts = [i18n.as_of_label(picture_moment(picture), lang)]
    if reporting is not None:
        parts.append(f"{label('provinces_reporting', lang)}: {reporting}/{total}")
    return " · ".join(parts)


def _base_figure(
    fig: go.Figure,
    picture: Picture,
    lang: str,
    size: Size,
    chart: str,
    title_key: str,
    *,
    credit: str | None = None,
    subtitle: str | None = None,
    margin: dict[str, float] | None = None,
    scale: float | None = None,
) -> go.Figure:
    """Title, moment, source line, TEST badge, size, fonts and margins: the common frame.

    `margin` overrides t/b/l/r in pixels at web size (scaled with the figure). `scale`
    overrides the text and margin scale, which otherwise follows the size (1 at 1200×675):
    a wall board asks for larger type than the size alone would give."""
    width, height = size_px(size)
    s = scale or _scale(width, height)
    m = {"t": 96, "b": 46, "l": 36, "r": 36, **(margin or {})}
    top, bottom, side = m["t"] * s, m["b"] * s, m["l"] * s
    source = label("source", lang) + (f" · {credit}" if credit else "")
    fig.update_layout(
        width=width,
        height=height,
        autosize=False,
        separators=i18n.separators(lang),
        font=dict(family=FONT_FAMILY, size=round(14 * s), color=INK),
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        margin=dict(t=top, b=bottom, l=side, r=m["r"] * s),
        title=dict(
            text=f"<b>{label(title_key, lang)}</b>",
            x=min(side, 36 * s) / width,
            xanchor="left",
            xref="container",
            y=1 - 18 * s / height,
            yanchor="top",
            yref="container",
            font=dict(size=round(24 * s)),
            subtitle=dict(
                text=subtitle if subtitle is not None else _reporting_line(picture, lang),
                font=dict(size=round(15 * s), color=MUTED),
            ),
        ),
        hoverlabel=dict(font=dict(family=FONT_FAMILY)),
        meta=dict(chart=chart, lang=lang, seq=picture.get("seq"), at=picture_moment(picture)),
        uirevision=chart,
    )
    fig.add_annotation(
        text=source,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        xanchor="left",
        yanchor="bottom",
        xshift=-(m["l"] - 36) * s,
        yshift=-(bottom - 8 * s),
        showarrow=False,
        font=dict(size=round(12 * s), color=MUTED),
    )
    if picture.get("rehearsal"):
        fig.add_annotation(
            text=f"<b>{label('status_test', lang)}</b>",
            xref="paper",
            yref="paper",
            x=1,
            y=1,
            xanchor="right",
            yanchor="bottom",
            xshift=(m["r"] - 36) * s,
            yshift=top - 58 * s,
            showarrow=False,
            bgcolor="#b00020",
            borderpad=round(5 * s),
            font=dict(size=round(16 * s), color="#ffffff"),
        )
    return fig


def _no_data_note(fig: go.Figure, lang: str, s: float, text: str | None = None) -> None:
    fig.add_annotation(
        text=text or label("no_data", lang),
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font=dict(size=round(20 * s), color=MUTED),
    )


def _colorbar(lang: str, s: float, **extra: Any) -> dict:
    return dict(
        title=dict(text=label("axis_turnout_pct", lang), side="top"),
        thickness=round(16 * s),
        len=0.7,
        outlinewidth=0,
        **extra,
    )


# --- geometry --------------------------------------------------------------------------


def _round_coords(coords: Any, digits: int) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        return [round(coords[0], digits), round(coords[1], digits)]
    return [_round_coords(c, digits) for c in coords]


@cache
def map_geojson() -> dict:
    """The fixture GeoJSON with coordinates rounded to `GEOJSON_DIGITS` (rings stay clockwise)."""
    src = fx.geometry()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f["properties"]["code"],
                "properties": {"code": f["properties"]["code"]},
                "geometry": {
                    "type": f["geometry"]["type"],
                    "coordinates": _round_coords(f["geometry"]["coordinates"], GEOJSON_DIGITS),
                },
            }
            for f in src["features"]
        ],
    }


def _features(codes: Sequence[str]) -> dict:
    """The part of `map_geojson()` for these provinces: each trace carries only its own
    shapes, so a map's JSON holds the country once (about 300 kB), not once per trace."""
    wanted = set(codes)
    features = [f for f in map_geojson()["features"] if f["id"] in wanted]
    return {"type": "FeatureCollection", "features": features}


@cache
def archipelagos() -> dict[str, tuple[str, tuple[tuple[float, float], ...]]]:
    """Islands too small to see at national scale: label key → (province code, centres).

    Hoàng Sa is part of 48 Đà Nẵng and Trường Sa of 56 Khánh Hòa; their polygons are the
    parts of those provinces east of 110.5°E."""
    out = {}
    for key, code in (("island_hoang_sa", "48"), ("island_truong_sa", "56")):
        feature = next(f for f in fx.geometry()["features"] if f["properties"]["code"] == code)
        polygons = feature["geometry"]["coordinates"]
        if feature["geometry"]["type"] == "Polygon":
            polygons = [polygons]
        centres = []
        for poly in polygons:
            ring = poly[0]
            lon = sum(pt[0] for pt in ring) / len(ring)
            lat = sum(pt[1] for pt in ring) / len(ring)
            if lon > 110.5:
                centres.append((round(lon, 4), round(lat, 4)))
        out[key] = (code, tuple(centres))
    return out


# --- the figures -----------------------------------------------------------------------


def turnout_map(
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    *,
    show_archipelagos: bool = True,
    headline: bool = True,
    scale: float | None = None,
) -> go.Figure:
    """Choropleth of turnout by province, Hoàng Sa and Trường Sa included (fitbounds).

    Two choropleth traces: reported provinces on the viridis scale with a colour bar, and
    provinces without a figure in grey under a "no data" legend entry."""
    width, height = size_px(size)
    s = scale or _scale(width, height)
    low, high = color_range(picture)
    reported = _reported(picture)
    missing = [p for p in picture["provinces"] if p.get("turnout_pct") is None]
    fig = go.Figure()
    fig.add_trace(
        go.Choropleth(
            geojson=_features([p["code"] for p in reported]),
            featureidkey="properties.code",
            locations=[p["code"] for p in reported],
            z=[p["turnout_pct"] for p in reported],
            zmin=low,
            zmax=high,
            colorscale=COLORSCALE,
            marker=dict(line=dict(color="#ffffff", width=0.6 * s)),
            text=[_province_hover(p, lang) for p in reported],
            hovertemplate="%{text}<extra></extra>",
            name=label("turnout", lang),
            showlegend=False,
            colorbar=_colorbar(lang, s),
        )
    )
    fig.add_trace(
        go.Choropleth(
            geojson=_features([p["code"] for p in missing]),
            featureidkey="properties.code",
            locations=[p["code"] for p in missing],
            z=[0] * len(missing),
            zmin=0,
            zmax=1,
            colorscale=[[0, NO_DATA_GREY], [1, NO_DATA_GREY]],
            showscale=False,
            marker=dict(line=dict(color="#ffffff", width=0.6 * s)),
            text=[_province_hover(p, lang) for p in missing],
            hovertemplate="%{text}<extra></extra>",
            name=label("no_data", lang),
            showlegend=True,
        )
    )
    if show_archipelagos:
        by_code = {p["code"]: p for p in picture["provinces"]}
        for key, (code, centres) in archipelagos().items():
            if not centres:
                continue
            p = by_code.get(code, {"code": code})
            pct = p.get("turnout_pct")
            color = NO_DATA_GREY if pct is None else turnout_color(pct, low, high)
            lons = [c[0] for c in centres]
            lats = [c[1] for c in centres]
            fig.add_trace(
                go.Scattergeo(
                    lon=lons,
                    lat=lats,
                    mode="markers",
                    marker=dict(size=7 * s, color=color, line=dict(color=INK, width=0.8 * s)),
                    text=[_province_hover(p, lang)] * len(lons),
                    hovertemplate="%{text}<extra></extra>",
                    showlegend=False,
                    name=label(key, lang),
                )
            )
            fig.add_trace(
                go.Scattergeo(
                    lon=[sum(lons) / len(lons)],
                    lat=[max(lats) + 0.35],
                    mode="text",
                    text=[label(key, lang)],
                    textposition="top center",
                    textfont=dict(size=round(11 * s), color=MUTED),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    # The map keeps its shape: it takes the height of the plot area and the width that
    # goes with it (at most 80 %); colour bar and legend sit just right of it, and on wide
    # sizes the national headline (as given) fills the space beyond.
    plot_w = width - 2 * 36 * s
    plot_h = height - (96 + 46) * s
    frac = min(0.8, MAP_DOMAIN_FACTOR * map_aspect() * plot_h / plot_w)
    fig.update_geos(
        fitbounds="locations",
        visible=False,
        projection_type="mercator",
        bgcolor="#ffffff",
        domain=dict(x=[0, frac], y=[0, 1]),
    )
    fig.data[0].colorbar.update(x=frac + 0.02, xanchor="left", y=0.62, yanchor="middle")
    fig.update_layout(
        legend=dict(
            x=frac + 0.02,
            xanchor="left",
            y=0.2,
            yanchor="top",
            bgcolor="rgba(0,0,0,0)",
            itemsizing="constant",
        ),
        dragmode=False,
    )
    if headline and frac < 0.55:
        _national_headline(fig, picture, lang, s, x=frac + 0.02 + 200 * s / plot_w, plot_h=plot_h)
    return _base_figure(
        fig,
        picture,
        lang,
        size,
        "map",
        "chart_map",
        credit=label("map_credit", lang),
        scale=scale,
    )


@cache
def map_aspect() -> float:
    """Width / height of the fitted map (Mercator, all 63 provinces and both archipelagos)."""
    lons, lats = [], []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            lons.append(coords[0])
            lats.append(coords[1])
        else:
            for c in coords:
                walk(c)

    for f in fx.geometry()["features"]:
        walk(f["geometry"]["coordinates"])

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    return math.radians(max(lons) - min(lons)) / (merc(max(lats)) - merc(min(lats)))


def _national_headline(
    fig: go.Figure, picture: Picture, lang: str, s: float, x: float, plot_h: float
) -> None:
    """The national turnout (from `picture["national"]`, never recomputed) as a big figure."""
    nat = picture.get("national") or {}
    lines = [
        (label("national_turnout", lang), 18, MUTED, False),
        (i18n.fmt_pct(nat.get("turnout_pct"), lang), 54, INK, True),
    ]
    if nat.get("voted") is not None:
        lines.append(
            (
                f"{i18n.fmt_int(nat['voted'], lang)} / {i18n.fmt_int(nat.get('registered'), lang)}",
                15,
                MUTED,
                False,
            )
        )
    if nat.get("provinces_reporting") is not None:
        lines.append(
            (
                f"{label('provinces_reporting', lang)}: {nat['provinces_reporting']}"
                f"/{nat.get('provinces_total') or len(picture['provinces'])}",
                15,
                MUTED,
                False,
            )
        )
    if nat.get("areas_total"):
        lines.append(
            (
                f"{label('areas_done', lang)}: {i18n.fmt_int(nat.get('areas_done'), lang)}"
                f"/{i18n.fmt_int(nat['areas_total'], lang)}",
                15,
                MUTED,
                False,
            )
        )
    y = 0.95
    for text, size, color, bold in lines:
        fig.add_annotation(
            text=f"<b>{text}</b>" if bold else text,
            xref="paper",
            yref="paper",
            x=x,
            y=y,
            xanchor="left",
            yanchor="top",
            showarrow=False,
            font=dict(size=round(size * s), color=color),
        )
        y -= (size * 1.45 + 6) * s / plot_h


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
    s = scale or _scale(width, height)
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
    names = {code: _wrap(i18n.province_name(code, lang), 9) for code in grid}
    no_data = label("no_data_short", lang)
    longest = max(len(line) for text in [*names.values(), no_data] for line in text.split("<br>"))
    font_size = max(6, min(round(14 * s), math.floor(cell * 0.88 / (0.55 * longest))))
    fig = go.Figure()
    tiles = []
    for code, (r, c) in grid.items():
        p = by_code.get(code, {"code": code})
        pct = p.get("turnout_pct")
        hover[r][c] = _province_hover(p, lang)
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
                font=dict(size=font_size, color=_ink_on(fill)),
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
            colorbar=_colorbar(lang, s, x=1.0, xanchor="left", y=0.6, yanchor="middle"),
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
    return _base_figure(fig, picture, lang, size, "tiles", "chart_tiles", scale=scale)


def _wrap(text: str, width: int) -> str:
    """A name longer than `width` characters broken at the space that best balances two
    lines ("Thừa Thiên Huế" → "Thừa Thiên<br>Huế")."""
    if len(text) <= width or " " not in text:
        return text
    cuts = [i for i, ch in enumerate(text) if ch == " "]
    best = min(cuts, key=lambda i: max(i, len(text) - i - 1))
    return f"{text[:best]}<br>{text[best + 1 :]}"


def _ranked(picture: Picture) -> list[dict]:
    return sorted(_reported(picture), key=lambda p: (-p["turnout_pct"], p["code"]))


def _bars(rows: list[dict], lang: str, low: float, high: float, s: float) -> go.Bar:
    return go.Bar(
        x=[p["turnout_pct"] for p in rows],
        y=[i18n.province_name(p["code"], lang) for p in rows],
        orientation="h",
        marker=dict(
            color=[p["turnout_pct"] for p in rows], colorscale=COLORSCALE, cmin=low, cmax=high
        ),
        text=[i18n.fmt_pct(p["turnout_pct"], lang) for p in rows],
        textposition="inside",
        insidetextanchor="end",
        textfont=dict(size=round(13 * s)),
        hovertext=[_province_hover(p, lang) for p in rows],
        hovertemplate="%{hovertext}<extra></extra>",
        showlegend=False,
    )


def ranking(
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    *,
    mode: str = "leaders_laggards",
    n: int = 10,
    scale: float | None = None,
) -> go.Figure:
    """Leaders and laggards (the `n` highest and lowest turnouts side by side), or with
    `mode="full"` every reporting province in one bar chart. Provinces without a figure
    are left out and counted in the subtitle."""
    width, height = size_px(size)
    s = scale or _scale(width, height)
    low, high = color_range(picture)
    ranked = _ranked(picture)
    axis_title = label("axis_turnout_pct", lang)
    if mode == "leaders_laggards" and 0 < len(ranked) <= n:
        mode = "full"  # too few figures for two panels: no empty "laggards" panel
    if mode == "full":
        fig = go.Figure(_bars(ranked, lang, low, high, s))
        tick = 15 if len(ranked) <= 20 else 9  # 63 names need small type; a few do not
        fig.update_yaxes(autorange="reversed", tickfont=dict(size=max(7, round(tick * s))))
        fig.update_xaxes(range=[0, 100], title=axis_title)
    elif mode == "leaders_laggards":
        leaders = ranked[:n]
        laggards = list(reversed(ranked[max(n, len(ranked) - n) :]))
        fig = make_subplots(
            rows=1,
            cols=2,
            horizontal_spacing=0.2,
            subplot_titles=(label("leaders", lang), label("laggards", lang)),
        )
        fig.add_trace(_bars(leaders, lang, low, high, s), row=1, col=1)
        fig.add_trace(_bars(laggards, lang, low, high, s), row=1, col=2)
        fig.update_yaxes(autorange="reversed")
        fig.update_xaxes(range=[0, 100], title=axis_title)
        for ann in fig.layout.annotations:
            ann.font = dict(size=round(17 * s), color=INK)
            ann.xanchor = "left"
            ann.x = 0 if ann.text == label("leaders", lang) else 0.6
    else:
        raise ValueError(f"unknown ranking mode {mode!r}")
    if not ranked:
        _no_data_note(fig, lang, s)
        fig.update_yaxes(showticklabels=False, showgrid=False)
    fig.update_layout(bargap=0.25)
    fig.update_xaxes(gridcolor="#e6e6e6", zeroline=False)
    return _base_figure(
        fig,
        picture,
        lang,
        size,
        "ranking",
        "chart_ranking",
        margin={"l": 150, "b": 80, "t": 110},
        scale=scale,
    )


def region_completion(picture: Picture) -> dict[str, dict[str, int]]:
    """Per North / Central / South: polling areas done and total over the provinces that
    have reported completion, and how many did."""
    out = {r: {"done": 0, "total": 0, "reporting": 0, "provinces": 0} for r in REGIONS}
    index = fx.province_index()
    for p in picture["provinces"]:
        prov = index.get(p["code"])
        if prov is None or prov.region3 not in out:
            continue
        row = out[prov.region3]
        row["provinces"] += 1
        if p.get("areas_done") is not None and p.get("areas_total"):
            row["done"] += p["areas_done"]
            row["total"] += p["areas_total"]
            row["reporting"] += 1
    return out


def completion_by_region(
    picture: Picture, lang: str = "vi", size: Size = "web", *, scale: float | None = None
) -> go.Figure:
    """Polling areas done / total for each region, and the national figure as given."""
    width, height = size_px(size)
    s = scale or _scale(width, height)
    regions = region_completion(picture)
    nat = picture.get("national") or {}
    rows = [
        (i18n.region_name(r, lang), v["done"], v["total"], v["reporting"], v["provinces"])
        for r, v in regions.items()
    ]
    rows.append(
        (
            label("national", lang),
            nat.get("areas_done"),
            nat.get("areas_total"),
            nat.get("provinces_reporting"),
            nat.get("provinces_total"),
        )
    )
    names, done_pct, left_pct, text, hover = [], [], [], [], []
    for name, done, total, reporting, provinces in rows:
        names.append(name)
        if done is None or not total:
            done_pct.append(None)
            left_pct.append(None)
            text.append("")
            hover.append(f"<b>{name}</b><br>{label('no_data', lang)}")
            continue
        pct = 100 * done / total
        done_pct.append(pct)
        left_pct.append(100 - pct)
        text.append(
            f"\u00a0\u00a0{i18n.fmt_int(done, lang)}/{i18n.fmt_int(total, lang)}"
            f" ({i18n.fmt_pct(pct, lang, digits=1)})"
        )
        hover.append(
            f"<b>{name}</b><br>{label('areas_done', lang)}: {i18n.fmt_int(done, lang)}"
            f" / {i18n.fmt_int(total, lang)} ({i18n.fmt_pct(pct, lang)})"
            + (
                f"<br>{label('provinces_reporting', lang)}: {reporting}/{provinces}"
                if reporting is not None
                else ""
            )
        )
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names,
            x=done_pct,
            orientation="h",
            name=label("areas_done", lang),
            marker_color=turnout_color(85, 0, 100),
            text=text,
            textposition="inside",
            insidetextanchor="start",
            textfont=dict(size=round(15 * s), color="#ffffff"),
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=left_pct,
            orientation="h",
            name=label("areas_remaining", lang),
            marker_color="#e3e3e3",
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    for name, value in zip(names, done_pct, strict=True):
        if value is None:
            fig.add_annotation(
                x=2,
                y=name,
                text=label("no_data", lang),
                showarrow=False,
                xanchor="left",
                font=dict(color=MUTED),
            )
    fig.update_layout(
        barmode="stack",
        bargap=0.35,
        legend=dict(
            orientation="h", x=0, y=1.02, xanchor="left", yanchor="bottom", traceorder="normal"
        ),
    )
    fig.update_xaxes(range=[0, 100], title=label("axis_areas_pct", lang), gridcolor="#e6e6e6")
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=round(15 * s)), ticksuffix="  ")
    return _base_figure(
        fig,
        picture,
        lang,
        size,
        "completion",
        "chart_completion",
        margin={"l": 230, "b": 80, "t": 120},
        scale=scale,
    )


def revotes_table(
    picture: Picture, lang: str = "vi", size: Size = "web", *, scale: float | None = None
) -> go.Figure:
    """Re-votes: one row per announced unit (from `picture["revotes"]` when present),
    otherwise one row per province with re-vote units; "No re-votes reported" when none."""
    width, height = size_px(size)
    s = scale or _scale(width, height)
    revotes = picture.get("revotes") or []
    fig = go.Figure()
    header_style = dict(
        fill_color="#2f3b48",
        font=dict(color="#ffffff", size=round(14 * s)),
        align="left",
        height=34 * s,
    )
    cell_style = dict(
        fill_color=[["#ffffff", "#f3f4f6"] * 64],
        align="left",
        font=dict(size=round(13 * s), color=INK),
        height=30 * s,
    )
    if revotes:

        def name(r: dict) -> str:
            code = r.get("province")
            return i18n.province_name(code, lang) if code else ""

        columns = [
            [name(r) for r in revotes],
            [html.escape(r.get("unit") or "") for r in revotes],
            [label(f"level_{r['level']}", lang) if r.get("level") else "" for r in revotes],
            [label(f"reason_{r['reason']}", lang) if r.get("reason") else "" for r in revotes],
            [label(f"revote_status_{r.get('status') or 'announced'}", lang) for r in revotes],
        ]
        fig.add_trace(
            go.Table(
                columnwidth=[2, 4, 2, 3, 2],
                header=dict(
                    values=[
                        f"<b>{label(k, lang)}</b>"
                        for k in (
                            "col_province",
                            "col_unit",
                            "col_level",
                            "col_reason",
                            "col_status",
                        )
                    ],
                    **header_style,
                ),
                cells=dict(values=columns, **cell_style),
            )
        )
    else:
        rows = [p for p in picture["provinces"] if p.get("revote_units")]
        if rows:
            fig.add_trace(
                go.Table(
                    columnwidth=[3, 2],
                    header=dict(
                        values=[
                            f"<b>{label('col_province', lang)}</b>",
                            f"<b>{label('col_revote_units', lang)}</b>",
                        ],
                        **header_style,
                    ),
                    cells=dict(
                        values=[
                            [i18n.province_name(p["code"], lang) for p in rows],
                            [i18n.fmt_int(p["revote_units"], lang) for p in rows],
                        ],
                        **cell_style,
                    ),
                )
            )
        else:
            _no_data_note(fig, lang, s, label("no_revotes", lang))
            fig.update_xaxes(visible=False)
            fig.update_yaxes(visible=False)
    nat = picture.get("national") or {}
    subtitle = _reporting_line(picture, lang)
    if nat.get("revote_units") is not None:
        subtitle += f" · {label('revote_units', lang)}: {i18n.fmt_int(nat['revote_units'], lang)}"
    return _base_figure(
        fig, picture, lang, size, "revotes", "chart_revotes", subtitle=subtitle, scale=scale
    )


def history(
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    *,
    live_term: str | None = "XV",
    scale: float | None = None,
) -> go.Figure:
    """Turnout at NA elections I–XV, with the live national figure as a highlighted bar.

    `live_term` is the term the picture is tracking: its historic bar is replaced by the
    live one (None keeps every historic bar and adds the live one after them)."""
    width, height = size_px(size)
    s = scale or _scale(width, height)
    rows = [h for h in fx.na_history() if h["term_roman"] != live_term]
    live_name = f"{live_term or ''} ({label('live', lang)})".strip()
    nat_pct = (picture.get("national") or {}).get("turnout_pct")
    x = [h["term_roman"] for h in rows]
    y = [h["turnout_pct"] for h in rows]
    hover = [
        f"<b>{h['term_roman']}</b> · {h['date'][:4]}<br>"
        f"{label('turnout', lang)}: {i18n.fmt_pct(h['turnout_pct'], lang)}"
        for h in rows
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x,
            y=y,
            name=label("history", lang),
            marker_color=HISTORY_BAR,
            text=[i18n.fmt_pct(v, lang) if v is not None else label("no_data", lang) for v in y],
            textposition="outside",
            textfont=dict(size=round(12 * s), color=INK),
            cliponaxis=False,
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=[live_name],
            y=[nat_pct],
            name=label("national_turnout", lang),
            marker_color=HIGHLIGHT,
            text=[f"<b>{i18n.fmt_pct(nat_pct, lang)}</b>"],
            textposition="outside",
            textfont=dict(size=round(14 * s), color=HIGHLIGHT),
            cliponaxis=False,
            hovertext=[
                f"<b>{live_name}</b><br>{label('national_turnout', lang)}: "
                f"{i18n.fmt_pct(nat_pct, lang)}"
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    if nat_pct is None:
        fig.add_annotation(
            x=live_name,
            y=0,
            yanchor="bottom",
            text=label("no_data", lang),
            showarrow=False,
            textangle=-90,
            font=dict(color=MUTED),
        )
    fig.update_layout(
        barmode="overlay",
        bargap=0.25,
        showlegend=True,
        legend=dict(orientation="h", x=1, y=1.02, xanchor="right", yanchor="bottom"),
    )
    fig.update_yaxes(
        range=[0, 108],
        title=label("axis_turnout_pct", lang),
        gridcolor="#e6e6e6",
        tickvals=[0, 20, 40, 60, 80, 100],
    )
    fig.update_xaxes(
        title=label("axis_term", lang),
        type="category",
        categoryorder="array",
        categoryarray=[*x, live_name],
    )
    return _base_figure(
        fig,
        picture,
        lang,
        size,
        "history",
        "chart_history",
        margin={"l": 70, "b": 90, "t": 120},
        scale=scale,
    )


def _local_naive(moment: str) -> str:
    """ "2021-05-23T04:00:00Z" → "2021-05-23 11:00:00" (election zone; Plotly has no zones)."""
    local = i18n.to_local(moment)
    assert local is not None
    return f"{local:%Y-%m-%d %H:%M:%S}"


def turnout_by_hour(
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    *,
    codes: Sequence[str] = (),
    scale: float | None = None,
) -> go.Figure:
    """Turnout through the day from `picture["timeline"]`: the national line (as given)
    and the provinces in `codes`."""
    width, height = size_px(size)
    s = scale or _scale(width, height)
    timeline = picture.get("timeline") or {}
    fig = go.Figure()
    series = [("national", label("national", lang), HIGHLIGHT, 4 * s)]
    for i, code in enumerate(codes):
        series.append((code, i18n.province_name(code, lang), PALETTE[i % len(PALETTE)], 2.2 * s))
    drawn = 0
    for key, name, color, line_width in series:
        points = sorted(
            (p for p in timeline.get(key) or () if p.get("t")),
            key=lambda p: i18n.to_local(p["t"]),
        )
        xs = [_local_naive(p["t"]) for p in points]
        ys = [p.get("turnout_pct") for p in points]
        if any(v is not None for v in ys):
            drawn += 1
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=name,
                line=dict(color=color, width=line_width),
                marker=dict(size=6 * s, color=color),
                hovertext=[
                    f"<b>{name}</b><br>{i18n.as_of_label(p['t'], lang)}<br>"
                    f"{label('turnout', lang)}: {i18n.fmt_pct(p.get('turnout_pct'), lang)}"
                    for p in points
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                connectgaps=False,
            )
        )
        last = next((p for p in reversed(points) if p.get("turnout_pct") is not None), None)
        if key == "national" and last is not None:
            fig.add_annotation(
                x=_local_naive(last["t"]),
                y=last["turnout_pct"],
                text=f"<b>{i18n.fmt_pct(last['turnout_pct'], lang)}</b>",
                showarrow=False,
                xanchor="left",
                xshift=8 * s,
                font=dict(color=HIGHLIGHT, size=round(15 * s)),
            )
    if not drawn:
        _no_data_note(fig, lang, s)
        fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        legend=dict(orientation="h", x=0, y=1.02, xanchor="left", yanchor="bottom"),
        hovermode="closest",
    )
    fig.update_yaxes(range=[0, 102], title=label("axis_turnout_pct", lang), gridcolor="#e6e6e6")
    fig.update_xaxes(title=label("axis_time", lang), tickformat="%H:%M", gridcolor="#f0f0f0")
    return _base_figure(
        fig,
        picture,
        lang,
        size,
        "by_hour",
        "chart_by_hour",
        margin={"l": 70, "b": 90, "t": 120, "r": 80},
        scale=scale,
    )


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
