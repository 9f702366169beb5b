"""The hemicycle: the Assembly's seats filling as units are declared, coloured by a
dimension (women and men, region, former deputies and first-timers).

Seats are laid out as a parliament diagram: concentric rows, each with seats in
proportion to its length, filled left to right by angle, so each colour is one wedge. The
elected come first (category by category), then, lighter and outlined, the candidates
leading in units still counting ("leading", never counted as elected), then the empty
seats, white with a grey rim. The number of seats filled is the summary's, as given.

On the strip (`band=True`) the same seats lie on a flat arc (a slice of a large circle,
a few rows deep) to the right of the count and the legend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import INK, MUTED, NO_DATA_GREY, Size, base_figure
from dashboards.figures.results_frame import (
    Results,
    Seat,
    frame_size,
    moment_meta,
    results_line,
    seats,
    seats_total,
    text_scale,
    unit_name,
)
from dashboards.i18n import label

DIMENSIONS = ("gender", "region", "former_deputy")
EMPTY_FILL = "#ffffff"
LEADING_OPACITY = 0.35
"""How strongly a leading candidate's seat is filled: a tint of the category's colour."""


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    label_key: str
    color: str
    member: Callable[[Seat], bool]


CATEGORIES: dict[str, tuple[Category, ...]] = {
    # Okabe–Ito colours: distinct for every common colour-vision deficiency.
    "gender": (
        Category("F", "res_women", "#e69f00", lambda s: s.candidate.gender == "F"),
        Category("M", "res_men", "#0072b2", lambda s: s.candidate.gender == "M"),
    ),
    "region": (
        Category("North", "region_North", "#0072b2", lambda s: s.region == "North"),
        Category("Central", "region_Central", "#e69f00", lambda s: s.region == "Central"),
        Category("South", "region_South", "#009e73", lambda s: s.region == "South"),
    ),
    "former_deputy": (
        Category("former", "res_former_deputies", "#cc79a7", lambda s: s.candidate.former_deputy),
        Category("first", "res_first_time", "#009e73", lambda s: not s.candidate.former_deputy),
    ),
}
"""Dimension → its categories in wedge order (left to right)."""


# --- geometry --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arc:
    """Rows of seats on a slice of circles: angles `90° ± half_span` (at most a half
    circle), radii `inner`…1."""

    rows: int
    inner: float
    half_span: float
    """Radians either side of the vertical."""

    def bounds(self) -> tuple[float, float, float, float]:
        """(x0, x1, y0, y1) of the seats' centres."""
        h = min(self.half_span, math.pi / 2)
        return -math.sin(h), math.sin(h), self.inner * math.cos(h), 1.0

    def radii(self) -> list[float]:
        if self.rows == 1:
            return [1.0]
        step = (1 - self.inner) / (self.rows - 1)
        return [self.inner + i * step for i in range(self.rows)]

    def per_row(self, n: int) -> list[int]:
        """Seats in each row, in proportion to its length (largest remainders)."""
        radii = self.radii()
        total = sum(radii)
        exact = [n * r / total for r in radii]
        counts = [math.floor(e) for e in exact]
        order = sorted(range(len(radii)), key=lambda i: exact[i] - counts[i], reverse=True)
        for i in order[: n - sum(counts)]:
            counts[i] += 1
        return counts

    def pitch(self, n: int) -> float:
        """Distance between neighbouring seats (in radii): the closer of row to row and
        seat to seat within the most crowded row."""
        row_gap = (1 - self.inner) / (self.rows - 1) if self.rows > 1 else 1.0
        along = min(
            (
                2 * self.half_span * r / (k - 1)
                for r, k in zip(self.radii(), self.per_row(n), strict=True)
                if k > 1
            ),
            default=row_gap,
        )
        return min(row_gap, along)

    def positions(self, n: int) -> list[tuple[float, float]]:
        """`n` seat centres, ordered left to right by angle (then outwards)."""
        seats_at = []
        for r, k in zip(self.radii(), self.per_row(n), strict=True):
            for j in range(k):
                t = 0.5 if k == 1 else j / (k - 1)
                angle = math.pi / 2 + self.half_span - 2 * self.half_span * t
                seats_at.append((angle, r))
        seats_at.sort(key=lambda ar: (-round(ar[0], 9), ar[1]))
        return [(r * math.cos(a), r * math.sin(a)) for a, r in seats_at]


@cache
def fit_arc(n: int, width: float, height: float, *, band: bool) -> tuple[Arc, float]:
    """The arc whose seats come out largest in a `width` × `height` pixel area, and the
    pixels per radius. A hemicycle is a half circle (inner radius 0.35–0.5); a band is a
    slice of 30°–90° whose rows fill the height."""
    best: tuple[float, Arc, float] | None = None
    if band:
        spans = [math.radians(d) for d in range(10, 95, 5)]
        inners = [0.60 + 0.02 * i for i in range(20)]
    else:
        spans = [math.pi / 2]
        inners = [0.35, 0.4, 0.45, 0.5]
    for half in spans:
        for inner in inners:
            for rows in range(2, 25 if band else 30):
                arc = Arc(rows, inner, half)
                if min(arc.per_row(n)) < 2:
                    continue
                x0, x1, y0, y1 = arc.bounds()
                pitch = arc.pitch(n)
                # the seats' centres plus half a seat on every side
                px = min(width / (x1 - x0 + pitch), height / (y1 - y0 + pitch))
                seat = pitch * px
                if best is None or seat > best[0]:
                    best = (seat, arc, px)
    assert best is not None
    return best[1], best[2]


# --- the figure ------------------------------------------------------------------------


def _hover(seat: Seat, lang: str, state: str) -> str:
    c = seat.candidate
    lines = [f"<b>{c.name}</b>", unit_name(seat.code, seat.unit, lang)]
    if seat.pct is not None:
        lines.append(i18n.fmt_pct(seat.pct, lang))
    lines.append(state)
    return "<br>".join(lines)


def hemicycle(
    results: Results,
    lang: str = "vi",
    size: Size = "web",
    *,
    dimension: str = "gender",
    band: bool = False,
    scale: float = 1.0,
) -> go.Figure:
    """The seats of the Assembly, coloured by `dimension` ("gender", "region",
    "former_deputy"), with the count of seats filled and a legend of every category."""
    if dimension not in CATEGORIES:
        raise ValueError(f"unknown dimension {dimension!r}; use one of {list(DIMENSIONS)}")
    width, height = frame_size(size, band)
    s = text_scale(width, height, band, scale)
    seated, leading = seats(results)
    total = max(seats_total(results), len(seated) + len(leading))
    categories = CATEGORIES[dimension]
    # who sits where: category by category, elected then leading; then the empty seats
    order: list[tuple[Category, Seat | None, str]] = []
    for cat in categories:
        order += [(cat, seat, "seated") for seat in seated if cat.member(seat)]
        order += [(cat, seat, "leading") for seat in leading if cat.member(seat)]
    empty = total - len(order)
    # margins (web pixels, scaled): band: title row above, count and legend on the left
    margin = {"t": 90, "b": 34, "l": 420, "r": 24} if band else {"t": 96, "b": 46, "l": 36, "r": 36}
    plot_w = width - (margin["l"] + margin["r"]) * s
    plot_h = height - (margin["t"] + margin["b"]) * s
    legend_w = 0 if band else 250 * s
    legend_h = 0 if band else 64 * s
    # the legend goes right of a web hemicycle, or below one on a tall size: whichever
    # leaves the larger seats
    side = fit_arc(total, plot_w - legend_w, plot_h, band=band)
    below = fit_arc(total, plot_w, plot_h - legend_h, band=band)
    legend_right = band or side[0].pitch(total) * side[1] >= below[0].pitch(total) * below[1]
    arc, px = side if legend_right else below
    points = arc.positions(total)
    diameter = max(3.0, 0.82 * arc.pitch(total) * px)
    line_w = max(1.0, 0.12 * diameter)

    fig = go.Figure()
    elected_label = label("res_elected", lang)
    leading_label = label("res_leading", lang)
    for cat in categories:
        for state in ("seated", "leading"):
            idx = [i for i, (c, _, st) in enumerate(order) if c is cat and st == state]
            count = len(idx)
            name = f"{label(cat.label_key, lang)} · {i18n.fmt_int(count, lang)}"
            fig.add_trace(
                go.Scatter(
                    # a category nobody fills yet keeps its legend entry ("· 0")
                    x=[points[i][0] for i in idx] or [None],
                    y=[points[i][1] for i in idx] or [None],
                    mode="markers",
                    marker=dict(
                        size=diameter,
                        color=cat.color,
                        opacity=1.0 if state == "seated" else LEADING_OPACITY,
                        line=dict(color=cat.color, width=line_w),
                    ),
                    hovertext=[
                        _hover(
                            order[i][1], lang, elected_label if state == "seated" else leading_label
                        )
                        for i in idx
                    ],
                    hovertemplate="%{hovertext}<extra></extra>",
                    name=name,
                    legendgroup=cat.key,
                    showlegend=state == "seated",
                    meta=dict(category=cat.key, state=state, count=count),
                )
            )
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker=dict(
                size=diameter,
                color=MUTED,
                opacity=LEADING_OPACITY,
                line=dict(color=MUTED, width=line_w),
            ),
            name=f"{leading_label} · {i18n.fmt_int(len(leading), lang)}",
            hoverinfo="skip",
            showlegend=bool(leading),
            meta=dict(category=None, state="leading_key", count=len(leading)),
        )
    )
    free = range(len(order), total)
    fig.add_trace(
        go.Scatter(
            x=[points[i][0] for i in free],
            y=[points[i][1] for i in free],
            mode="markers",
            marker=dict(
                size=diameter, color=EMPTY_FILL, line=dict(color=NO_DATA_GREY, width=line_w)
            ),
            hovertext=[label("res_seat_empty", lang)] * len(free),
            hovertemplate="%{hovertext}<extra></extra>",
            name=f"{label('res_seat_empty', lang)} · {i18n.fmt_int(empty, lang)}",
            meta=dict(category=None, state="empty", count=empty),
        )
    )
    # the seats' exact box (centres plus half a seat), in pixels and as axis ranges
    x0, x1, y0, y1 = arc.bounds()
    pad = arc.pitch(total) / 2
    box_w = (x1 - x0 + 2 * pad) * px / plot_w
    box_h = (y1 - y0 + 2 * pad) * px / plot_h
    fig.update_xaxes(range=[x0 - pad, x1 + pad], visible=False, fixedrange=True)
    fig.update_yaxes(range=[y0 - pad, y1 + pad], visible=False, fixedrange=True)
    summary = results.get("summary") or {}
    filled = summary.get("seats_filled", len(seated))
    count_text = f"<b>{i18n.fmt_int(filled, lang)}</b>"
    of_text = label("res_of_seats", lang).format(total=i18n.fmt_int(total, lang))
    legend = dict(
        bgcolor="rgba(0,0,0,0)",
        itemsizing="constant",
        font=dict(size=round(15 * s)),
        tracegroupgap=0,
    )
    if band:
        # count, caption and legend stacked in the left margin, the arc on the right
        left = -(margin["l"] - 36) * s / plot_w
        fig.add_annotation(
            text=count_text,
            xref="paper",
            yref="paper",
            x=left,
            y=1,
            xanchor="left",
            yanchor="top",
            showarrow=False,
            font=dict(size=round(44 * s), color=INK),
        )
        digits = len(i18n.fmt_int(filled, lang))
        fig.add_annotation(  # beside the number, on its baseline
            text=of_text,
            xref="paper",
            yref="paper",
            x=left + (12 + 28 * digits) * s / plot_w,
            y=1 - 44 * s / plot_h,
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=round(15 * s), color=MUTED),
        )
        legend.update(x=left, xanchor="left", y=1 - 60 * s / plot_h, yanchor="top")
        fig.update_xaxes(domain=[(1 - box_w) / 2, (1 + box_w) / 2])
        fig.update_yaxes(domain=[(1 - box_h) / 2, (1 + box_h) / 2])
    else:
        # the count in the hemicycle's hollow
        fig.add_annotation(
            text=count_text,
            x=0,
            y=arc.inner * 0.32,
            yanchor="bottom",
            showarrow=False,
            font=dict(size=round(52 * s), color=INK),
        )
        fig.add_annotation(
            text=of_text,
            x=0,
            y=arc.inner * 0.32,
            yanchor="top",
            showarrow=False,
            font=dict(size=round(16 * s), color=MUTED),
        )
        # the seats and their legend, together, in the middle of the plot area
        if legend_right:
            gap = 24 * s / plot_w
            start = max(0.0, (1 - box_w - gap - legend_w / plot_w) / 2)
            fig.update_xaxes(domain=[start, start + box_w])
            fig.update_yaxes(domain=[(1 - box_h) / 2, (1 + box_h) / 2])
            legend.update(x=start + box_w + gap, xanchor="left", y=0.5, yanchor="middle")
        else:
            bottom = max(0.0, (1 - box_h - legend_h / plot_h) / 2) + legend_h / plot_h
            fig.update_xaxes(domain=[(1 - box_w) / 2, (1 + box_w) / 2])
            fig.update_yaxes(domain=[bottom, min(1.0, bottom + box_h)])
            legend.update(orientation="h", x=0.5, xanchor="center", y=bottom, yanchor="top")
    fig.update_layout(legend=legend, dragmode=False, showlegend=True)
    subtitle = results_line(results, lang)
    subtitle += f" · {label(f'res_by_{dimension}', lang)}"
    base_figure(
        fig,
        results,
        lang,
        (width, height),
        "hemicycle",
        "res_chart_hemicycle",
        subtitle=subtitle,
        margin=margin,
        scale=s,
    )
    moment_meta(fig, results, dimension=dimension, band=band)
    return fig
