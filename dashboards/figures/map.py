"""The turnout map: a choropleth of the 63 provinces, Hoàng Sa and Trường Sa labelled,
and the national headline beside it."""

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
    Picture,
    Size,
    base_figure,
    color_range,
    colorbar,
    province_hover,
    reported,
    scale_of,
    size_px,
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
    scale: float | None = None,
) -> go.Figure:
    """Choropleth of turnout by province, Hoàng Sa and Trường Sa included (fitbounds).

    Two choropleth traces: reported provinces on the viridis scale with a colour bar, and
    provinces without a figure in grey under a "no data" legend entry."""
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
