"""The re-votes table: one row per announced unit (or per province with re-vote units)."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import (
    INK,
    Picture,
    Size,
    base_figure,
    no_data_note,
    reporting_line,
    scale_of,
    size_px,
)
from dashboards.i18n import label


def revotes_table(
    picture: Picture, lang: str = "vi", size: Size = "web", *, scale: float | None = None
) -> go.Figure:
    """Re-votes: one row per announced unit (from `picture["revotes"]` when present),
    otherwise one row per province with re-vote units; "No re-votes reported" when none."""
    width, height = size_px(size)
    s = scale or scale_of(width, height)
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
            no_data_note(fig, lang, s, label("no_revotes", lang))
            fig.update_xaxes(visible=False)
            fig.update_yaxes(visible=False)
    nat = picture.get("national") or {}
    subtitle = reporting_line(picture, lang)
    if nat.get("revote_units") is not None:
        subtitle += f" · {label('revote_units', lang)}: {i18n.fmt_int(nat['revote_units'], lang)}"
    return base_figure(
        fig, picture, lang, size, "revotes", "chart_revotes", subtitle=subtitle, scale=scale
    )
