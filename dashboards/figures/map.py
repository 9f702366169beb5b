"""The turnout map: a choropleth of the 63 provinces, Hoàng Sa and Trường Sa labelled,
and the national headline beside it; on a band (the wall board's LED strip, 1920×360),
the map at the left and the regions' turnout and the highest and lowest province beside
it, in type that reads from afar."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import (
    COLORSCALE,
    GEOJSON_DIGITS,
    INK,
    MAP_DOMAIN_FACTOR,
    MUTED,
    NO_DATA_GREY,
    REGIONS,
    Picture,
    Size,
    base_figure,
    color_range,
    colorbar,
    province_hover,
    reported,
    scale_of,
    size_px,
    stacked_lines,
    turnout_color,
)
from dashboards.i18n import label
from ingest import fixtures as fx


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
    band: bool = False,
    scale: float | None = None,
) -> go.Figure:
    """Choropleth of turnout by province, Hoàng Sa and Trường Sa included (fitbounds).

    Two choropleth traces: reported provinces on the viridis scale with a colour bar, and
    provinces without a figure in grey under a "no data" legend entry. `band` lays the
    figure out for a wide, low band (`_band_layout`): no title room, the map at the left,
    the archipelagos' labels on two lines, the regions and the extremes beside it."""
    width, height = size_px(size)
    s = scale or scale_of(width, height)
    low, high = color_range(picture)
    shown = reported(picture)
    missing = [p for p in picture["provinces"] if p.get("turnout_pct") is None]
    fig = go.Figure()
    fig.add_trace(
        go.Choropleth(
            geojson=_features([p["code"] for p in shown]),
            featureidkey="properties.code",
            locations=[p["code"] for p in shown],
            z=[p["turnout_pct"] for p in shown],
            zmin=low,
            zmax=high,
            colorscale=COLORSCALE,
            marker=dict(line=dict(color="#ffffff", width=0.6 * s)),
            text=[province_hover(p, lang) for p in shown],
            hovertemplate="%{text}<extra></extra>",
            name=label("turnout", lang),
            showlegend=False,
            colorbar=colorbar(lang, s),
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
            text=[province_hover(p, lang) for p in missing],
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
                    text=[province_hover(p, lang)] * len(lons),
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
                    text=[label(key, lang).replace(" (", "<br>(", 1) if band else label(key, lang)],
                    textposition="top center",
                    textfont=dict(size=round(11 * s), color=MUTED),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    if band:
        _band_layout(fig, picture, lang, width, height, s)
        return base_figure(
            fig,
            picture,
            lang,
            size,
            "map",
            "chart_map",
            credit=label("map_credit", lang),
            margin=BAND_MARGIN,
            scale=scale,
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
    return base_figure(
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
    stacked_lines(fig, lines, x=x, y=0.95, scale=s, plot_h=plot_h, leading=1.45)


# --- on a band -------------------------------------------------------------------------

BAND_MARGIN = {"t": 6, "b": 30, "l": 12, "r": 12}
"""A band's margins at scale 1: no title (the board shows it), the source line below."""
BAND_KEY_W = 160
"""Pixels (at scale 1) for the colour bar, its title and the "no data" key."""
BAND_GAP = 28
"""Pixels (at scale 1) between the band's columns."""
ISLAND_FONT = 11
"""The archipelagos' labels' type size at scale 1."""
HEADING = 0.62
"""A band column's heading, in proportion to its rows' type."""


def text_width(text: str, size: float) -> float:
    """Rough width in pixels of one line of `text` in Noto Sans at `size` px: wide
    (CJK) characters take a full em, the others about 0.58 of one (bold digits, capitals:
    a little generous, so that what is estimated to fit does)."""
    return size * sum(1.0 if ord(ch) >= 0x2E80 else 0.58 for ch in text)


def region_turnout(picture: Picture) -> dict[str, float | None]:
    """Turnout per North / Central / South: the voters over the registered voters of the
    region's provinces that have reported (None for a region without any)."""
    index = fx.province_index()
    sums = {r: [0, 0] for r in REGIONS}
    for p in reported(picture):
        prov = index.get(p["code"])
        if prov is None or prov.region3 not in sums or p.get("voted") is None:
            continue
        sums[prov.region3][0] += p["voted"]
        sums[prov.region3][1] += p.get("registered") or prov.registered
    return {r: (100 * v / n if n else None) for r, (v, n) in sums.items()}


@cache
def map_bounds() -> tuple[float, float, float, float]:
    """West, east, south and north ends of the map's shapes, in degrees."""
    points: list[list[float]] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            points.append(coords)
        else:
            for c in coords:
                walk(c)

    for f in fx.geometry()["features"]:
        walk(f["geometry"]["coordinates"])
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), max(lons), min(lats), max(lats)


def _merc(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _label_room(fig: go.Figure, plot_h: float, s: float) -> float:
    """Degrees of longitude to add east of the map so that the archipelagos' labels,
    centred on islands near its east edge, stay inside the map's frame (Plotly clips
    them at its edge): an invisible point that far east joins the fitted bounds."""
    _, east, south, north = map_bounds()
    px_per_rad = 0.9 * plot_h / (_merc(north) - _merc(south))
    room = 0.0
    for trace in fig.data:
        if trace.type == "scattergeo" and trace.mode == "text":
            widest = max(text_width(line, ISLAND_FONT * s) for line in trace.text[0].split("<br>"))
            lon = trace.lon[0]
            room = max(room, lon + math.degrees(widest / 2 / px_per_rad) - east)
    return room


def _band_layout(
    fig: go.Figure, picture: Picture, lang: str, width: int, height: int, s: float
) -> None:
    """The map at the left at the band's full height, its colour bar and "no data" key just
    right of it, then two columns in large type: the turnout of each region, and the
    province with the highest and the one with the lowest turnout (a coloured square on
    the map's scale before each name). The type is as large as the longest row allows."""
    m = {k: v * s for k, v in BAND_MARGIN.items()}
    plot_w, plot_h = width - m["l"] - m["r"], height - m["t"] - m["b"]
    room = _label_room(fig, plot_h, s)
    west, east, _, _ = map_bounds()
    if room > 0:
        fig.add_trace(
            go.Scattergeo(
                lon=[east + room],
                lat=[16.0],
                mode="markers",
                marker=dict(size=1, opacity=0),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    map_w = MAP_DOMAIN_FACTOR * map_aspect() * plot_h * (1 + room / (east - west))
    frac = min(0.4, map_w / plot_w)
    fig.update_geos(
        fitbounds="locations",
        visible=False,
        projection_type="mercator",
        bgcolor="#ffffff",
        domain=dict(x=[0, frac], y=[0, 1]),
    )
    key_x = frac + 6 * s / plot_w
    fig.data[0].colorbar.update(
        x=key_x, xanchor="left", y=1, yanchor="top", len=0.62, title_font_size=round(14 * s)
    )
    fig.update_layout(
        legend=dict(
            x=key_x,
            xanchor="left",
            y=0.02,
            yanchor="bottom",
            bgcolor="rgba(0,0,0,0)",
            itemsizing="constant",
            font=dict(size=round(14 * s)),
        ),
        dragmode=False,
    )
    low, high = color_range(picture)
    no_data = label("no_data_short", lang)

    def row(name: str, value: float | None) -> tuple[str, str, str]:
        color = NO_DATA_GREY if value is None else turnout_color(value, low, high)
        shown = i18n.fmt_pct(value, lang) if value is not None else no_data
        return (f"<span style='color:{color}'>■</span> {name}", name, shown)

    ranked = sorted(reported(picture), key=lambda p: (-p["turnout_pct"], p["code"]))
    regions = [row(i18n.region_name(r, lang), v) for r, v in region_turnout(picture).items()]
    top = [row(i18n.province_name(p["code"], lang), p["turnout_pct"]) for p in ranked[:1]]
    bottom = [row(i18n.province_name(p["code"], lang), p["turnout_pct"]) for p in ranked[1:][-1:]]
    # Three rows under a heading: the regions; the highest in the first row and the
    # lowest in the third, each under its heading.
    columns = [
        [(label("resb_by_region", lang), 0), *((r, i) for i, r in enumerate(regions, 1))],
        [
            (label("leaders", lang), 0),
            (top[0] if top else (no_data, no_data, ""), 1),
            (label("laggards", lang), 3),
            (bottom[0] if bottom else (no_data, no_data, ""), 3),
        ],
    ]
    # The widest row of each column sets its share of the room, and the largest type
    # (at most 30 px at scale 1) with which both columns fit.
    start = frac * plot_w + BAND_KEY_W * s
    room_px = plot_w - start - 2 * BAND_GAP * s

    def need(rows: list, size: float) -> float:
        return max(
            text_width("■ " + r[1], size) + text_width(r[2], size * 1.07) + BAND_GAP * s
            if isinstance(r, tuple)
            else text_width(r, size * HEADING)
            for r, _ in rows
        )

    size = 30 * s
    while size > 12 and need(columns[0], size) + need(columns[1], size) > room_px:
        size -= 1
    widths = [need(c, size) for c in columns]
    spare = (room_px - sum(widths)) / 2
    heading_h = HEADING * size * 1.5
    slot = min((plot_h - heading_h) / 3, 1.9 * size)
    left = start + BAND_GAP * s
    for rows, col_w in zip(columns, widths, strict=True):
        right = left + col_w + spare
        for r, row in rows:
            common = dict(xref="paper", yref="paper", showarrow=False)
            if not isinstance(r, tuple):  # a heading: at the top, or just above its row
                y = 1 if row == 0 else 1 - (heading_h + (row - 1) * slot) / plot_h
                fig.add_annotation(
                    text=r,
                    x=left / plot_w,
                    y=y,
                    xanchor="left",
                    yanchor="top" if row == 0 else "bottom",
                    font=dict(size=round(size * HEADING), color=MUTED),
                    **common,
                )
                continue
            y = 1 - (heading_h + (row - 1) * slot + (slot - 1.4 * size) / 2) / plot_h
            fig.add_annotation(
                text=r[0],
                x=left / plot_w,
                y=y,
                xanchor="left",
                yanchor="top",
                font=dict(size=round(size), color=INK),
                **common,
            )
            if not r[2]:
                continue
            fig.add_annotation(
                text=f"<b>{r[2]}</b>",
                x=(right - BAND_GAP * s / 2) / plot_w,
                y=y,
                xanchor="right",
                yanchor="top",
                font=dict(size=round(size * 1.07), color=INK),
                **common,
            )
        left = right + BAND_GAP * s
