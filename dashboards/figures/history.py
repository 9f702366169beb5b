"""Turnout over time: the National Assembly elections I–XV with the live figure, and the
election day hour by hour (national line and chosen provinces)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import (
    HIGHLIGHT,
    HISTORY_BAR,
    INK,
    MUTED,
    PALETTE,
    Picture,
    Size,
    base_figure,
    no_data_note,
    scale_of,
    size_px,
)
from dashboards.i18n import label
from ingest import fixtures as fx


def history(
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    *,
    live_term: str | None = "XV",
    band: bool = False,
    scale: float | None = None,
) -> go.Figure:
    """Turnout at NA elections I–XV, with the live national figure as a highlighted bar.

    `live_term` is the term the picture is tracking: its historic bar is replaced by the
    live one (None keeps every historic bar and adds the live one after them). `band` (a
    wide, low band: the wall board's strip) goes without legend and axis titles, which
    the live bar's own label and the slide's title make unnecessary there."""
    width, height = size_px(size)
    s = scale or scale_of(width, height)
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
    margin = {"l": 70, "b": 90, "t": 120}
    if band:
        fig.update_layout(showlegend=False)
        fig.update_xaxes(title=None, tickfont=dict(size=round(16 * s)))
        fig.update_yaxes(title=None)
        fig.update_traces(textfont_size=round(15 * s), selector=dict(name=label("history", lang)))
        margin = {"l": 44, "b": 50, "t": 30, "r": 24}
    return base_figure(
        fig, picture, lang, size, "history", "chart_history", margin=margin, scale=scale
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
    s = scale or scale_of(width, height)
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
        no_data_note(fig, lang, s)
        fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        legend=dict(orientation="h", x=0, y=1.02, xanchor="left", yanchor="bottom"),
        hovermode="closest",
    )
    fig.update_yaxes(range=[0, 102], title=label("axis_turnout_pct", lang), gridcolor="#e6e6e6")
    fig.update_xaxes(title=label("axis_time", lang), tickformat="%H:%M", gridcolor="#f0f0f0")
    return base_figure(
        fig,
        picture,
        lang,
        size,
        "by_hour",
        "chart_by_hour",
        margin={"l": 70, "b": 90, "t": 120, "r": 80},
        scale=scale,
    )
