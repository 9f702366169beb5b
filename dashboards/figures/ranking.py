"""The turnout ranking: leaders and laggards side by side, or every reporting province."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import i18n
from dashboards.figures.frame import (
    COLORSCALE,
    INK,
    Picture,
    Size,
    base_figure,
    color_range,
    no_data_note,
    province_hover,
    reported,
    scale_of,
    size_px,
)
from dashboards.i18n import label


def _ranked(picture: Picture) -> list[dict]:
    return sorted(reported(picture), key=lambda p: (-p["turnout_pct"], p["code"]))


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
        hovertext=[province_hover(p, lang) for p in rows],
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
    band: bool = False,
    scale: float | None = None,
) -> go.Figure:
    """Leaders and laggards (the `n` highest and lowest turnouts side by side), or with
    `mode="full"` every reporting province in one bar chart. Provinces without a figure
    are left out and counted in the subtitle. `band` (a wide, low band: the wall board's
    strip) drops the axis title and sets names and figures in larger type."""
    width, height = size_px(size)
    s = scale or scale_of(width, height)
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
        no_data_note(fig, lang, s)
        fig.update_yaxes(showticklabels=False, showgrid=False)
    fig.update_layout(bargap=0.25)
    fig.update_xaxes(gridcolor="#e6e6e6", zeroline=False)
    margin = {"l": 150, "b": 80, "t": 110}
    if band:
        fig.update_xaxes(title=None)
        fig.update_yaxes(tickfont=dict(size=round(17 * s)))
        fig.update_traces(textfont_size=round(16 * s))
        margin = {"l": 170, "b": 50, "t": 32, "r": 24}
    return base_figure(
        fig, picture, lang, size, "ranking", "chart_ranking", margin=margin, scale=scale
    )
