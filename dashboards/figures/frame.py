"""The common frame of every figure: sizes, fonts, colours, and the title, moment, source
line and TEST badge that `base_figure` puts on each chart.

A figure's moment ("as of") is the moment its figures describe (`picture_moment`: the
picture's `at` when it was asked for one, else the latest province `as_of` it shows),
never the moment it was drawn (contract §6).

Choropleths make Plotly fetch `world_110m.json` even with our own GeoJSON (see
STACK-NOTES): a stub topology ships in `static/vendor/topojson/`. Browsers pass
`PLOTLY_CONFIG` (its `topojsonURL` is `TOPOJSON_URL`); Python exports point
`plotly.io.defaults.topojson` at `TOPOJSON_FILE_URL` (set on import of this module).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import plotly.colors as pcolors
import plotly.graph_objects as go
import plotly.io as pio

from dashboards import i18n
from dashboards.i18n import label

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
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


def scale_of(width: int, height: int) -> float:
    return min(width / 1200, height / 675)


def picture_moment(picture: Picture) -> str | None:
    """The moment a picture shows: its `at`, else the latest province `as_of`."""
    if picture.get("at"):
        return picture["at"]
    moments = [p["as_of"] for p in picture.get("provinces", ()) if p.get("as_of")]
    if not moments:
        return None
    return max(moments, key=lambda m: i18n.to_local(m))


def reported(picture: Picture) -> list[dict]:
    return [p for p in picture["provinces"] if p.get("turnout_pct") is not None]


def color_range(picture: Picture) -> tuple[float, float]:
    """Colour range shared by map, tiles and ranking: 100 at the top, the bottom at the
    lowest reported turnout rounded down to a multiple of 10 (at least 10 points wide), so
    late-day differences between 97 % and 99.9 % stay visible."""
    values = [p["turnout_pct"] for p in reported(picture)]
    if not values:
        return 0.0, 100.0
    low = math.floor(min(values) / 10) * 10
    return float(max(0, min(low, 90))), 100.0


def turnout_color(value: float, low: float, high: float) -> str:
    t = 0.0 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    return pcolors.sample_colorscale(COLORSCALE, [t])[0]


def ink_on(color: str) -> str:
    """Black or white text, whichever reads better on `color` ("rgb(r, g, b)" or "#rrggbb")."""
    if color.startswith("#"):
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (float(x) for x in color[color.index("(") + 1 : -1].split(",")[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return INK if luminance > 140 else "#ffffff"


def province_hover(p: dict, lang: str) -> str:
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


def reporting_line(picture: Picture, lang: str) -> str:
    nat = picture.get("national") or {}
    reporting = nat.get("provinces_reporting")
    total = nat.get("provinces_total") or len(picture.get("provinces", ()))
    parts = [i18n.as_of_label(picture_moment(picture), lang)]
    if reporting is not None:
        parts.append(f"{label('provinces_reporting', lang)}: {reporting}/{total}")
    return " · ".join(parts)


def base_figure(
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
    s = scale or scale_of(width, height)
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
                text=subtitle if subtitle is not None else reporting_line(picture, lang),
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


def no_data_note(fig: go.Figure, lang: str, s: float, text: str | None = None) -> None:
    fig.add_annotation(
        text=text or label("no_data", lang),
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font=dict(size=round(20 * s), color=MUTED),
    )


def colorbar(lang: str, s: float, **extra: Any) -> dict:
    return dict(
        title=dict(text=label("axis_turnout_pct", lang), side="top"),
        thickness=round(16 * s),
        len=0.7,
        outlinewidth=0,
        **extra,
    )


# --- geometry --------------------------------------------------------------------------


def wrap_name(text: str, width: int) -> str:
    """A name longer than `width` characters broken at the space that best balances two
    lines ("Thừa Thiên Huế" → "Thừa Thiên<br>Huế")."""
    if len(text) <= width or " " not in text:
        return text
    cuts = [i for i, ch in enumerate(text) if ch == " "]
    best = min(cuts, key=lambda i: max(i, len(text) - i - 1))
    return f"{text[:best]}<br>{text[best + 1 :]}"


Line = tuple[str, float, str, bool]
"""A line of text beside a figure: (text, font size at scale 1, colour, bold)."""


def stacked_lines(
    fig: go.Figure,
    lines: list[Line],
    *,
    x: float,
    y: float,
    scale: float,
    plot_h: float,
    leading: float = 1.45,
) -> float:
    """Lines of text stacked down from (`x`, `y`) in paper units (the headline figures
    beside a map); returns the `y` under the last one."""
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
            font=dict(size=round(size * scale), color=color),
        )
        y -= (size * leading + 6) * scale / plot_h
    return y
