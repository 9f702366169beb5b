"""Polling areas done, by region (North, Central–Highlands, South), beside the national
figure as the picture gives it."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import (
    MUTED,
    REGIONS,
    Picture,
    Size,
    base_figure,
    scale_of,
    size_px,
    turnout_color,
)
from dashboards.i18n import label
from ingest import fixtures as fx


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
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    *,
    band: bool = False,
    scale: float | None = None,
) -> go.Figure:
    """Polling areas done / total for each region, and the national figure as given.
    `band` (a wide, low band: the wall board's strip) drops the axis title and sets the
    regions in larger type."""
    width, height = size_px(size)
    s = scale or scale_of(width, height)
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
    margin = {"l": 230, "b": 80, "t": 120}
    if band:
        fig.update_xaxes(title=None)
        fig.update_yaxes(tickfont=dict(size=round(17 * s)))
        fig.update_traces(textfont_size=round(16 * s), selector=dict(type="bar"))
        fig.update_layout(legend_font_size=round(15 * s))
        margin = {"l": 250, "b": 50, "t": 34, "r": 24}
    return base_figure(
        fig, picture, lang, size, "completion", "chart_completion", margin=margin, scale=scale
    )
