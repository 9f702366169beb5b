"""One electoral unit's candidates: horizontal bars of their share of the valid ballots in
rank order, the line that decides (more than half of the valid ballots, contract §5), who is
elected or leading, the stage and the moment of the count.

A unit still waiting lists its candidates in ballot order with "no data" where the bars
would be (never a 0 % bar). The colours say the law's outcome as the body gives it:
elected (dark blue), leading while the count is provisional (light blue, never called
elected), every other candidate grey; a winner the Council did not confirm is drawn
grey and says so.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import INK, MUTED, Size, base_figure
from dashboards.figures.results_frame import (
    Results,
    frame_size,
    moment_meta,
    results_moment,
    text_scale,
    unit_name,
)
from dashboards.i18n import label
from ingest.candidates import candidate_index

ELECTED = "#0072b2"
LEADING = "#56b4e9"
OTHER = "#b9c3cc"
HALF = 50.0
"""The law's line: a candidate needs more than half of the valid ballots (votes × 2 > valid)."""


def find_unit(results: Results, unit: str | None) -> dict:
    """The unit `unit` ("01-1": province code, unit number) of a results body; ValueError
    when it is missing or not in the body."""
    for entry in results.get("units", ()):
        if f"{entry['code']}-{entry['unit']}" == unit:
            return entry
    raise ValueError(f"unknown unit {unit!r}; use code-unit, e.g. 01-1")


def _state(c: dict, lang: str) -> tuple[str, str]:
    """(colour, words) of a candidate's outcome."""
    if c.get("elected") and c.get("confirmed") is False:
        return OTHER, label("res_not_confirmed", lang)
    if c.get("elected"):
        return ELECTED, "✓ " + label("res_elected", lang)
    if c.get("leading"):
        return LEADING, label("res_leading", lang)
    if c.get("tie"):
        return OTHER, label("res_tie", lang)
    return OTHER, ""


def unit_line(entry: dict, results: Results, lang: str) -> str:
    """The subtitle: as of, stage or status, valid ballots, polling areas counted, seats."""
    parts = [i18n.as_of_label(results_moment(results, [entry]), lang)]
    status = entry.get("status") or "waiting"
    if status == "waiting":
        parts.append(label("res_status_waiting", lang))
    else:
        parts.append(label(f"res_stage_{entry.get('stage') or 'provisional'}", lang))
        if status == "supplementary":
            parts.append(label("res_status_supplementary", lang))
        parts.append(
            f"{label('res_valid_ballots', lang)}: {i18n.fmt_int(entry.get('ballots_valid'), lang)}"
        )
        if entry.get("areas_total"):
            parts.append(
                f"{label('res_areas_counted', lang)}: "
                f"{i18n.fmt_int(entry.get('areas_counted'), lang)}"
                f"/{i18n.fmt_int(entry['areas_total'], lang)}"
            )
    parts.append(f"{label('res_seats', lang)}: {entry['seats']}")
    return " · ".join(parts)


def unit_figure(
    results: Results,
    lang: str = "vi",
    size: Size = "web",
    *,
    unit: str | None = None,
    band: bool = False,
    scale: float = 1.0,
) -> go.Figure:
    """The candidates of unit `unit` ("01-1") of `results`, best first."""
    entry = find_unit(results, unit)
    width, height = frame_size(size, band)
    s = text_scale(width, height, band, scale)
    people = candidate_index()
    rows = list(entry.get("candidates", ()))
    ids = [c["id"] for c in rows]
    names = [c.get("name") or people[c["id"]].name for c in rows]
    states = [_state(c, lang) for c in rows]
    text = [
        ""
        if c.get("pct") is None
        else f"<b>{i18n.fmt_pct(c['pct'], lang)}</b> · {i18n.fmt_int(c.get('votes'), lang)}"
        for c in rows
    ]
    fig = go.Figure(
        go.Bar(
            x=[c.get("pct") for c in rows],
            y=ids,
            orientation="h",
            marker=dict(color=[color for color, _ in states]),
            text=text,
            textposition="outside",
            cliponaxis=False,
            textfont=dict(size=round(14 * s), color=INK),
            hovertext=[
                "<br>".join(x for x in (f"<b>{n}</b>", t, w) if x)
                for n, t, (_, w) in zip(names, text, states, strict=True)
            ],
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    for cid, (color, words) in zip(ids, states, strict=True):
        if words:  # the outcome inside the bar (every such bar is past the half line)
            fig.add_annotation(
                text=words,
                x=0,
                y=cid,
                xanchor="left",
                xshift=6 * s,
                showarrow=False,
                font=dict(size=round(14 * s), color="#ffffff" if color == ELECTED else INK),
            )
    for cid, c in zip(ids, rows, strict=True):
        if c.get("pct") is None:  # waiting: said, not drawn as 0 %
            fig.add_annotation(
                text=label("no_data", lang),
                x=0,
                y=cid,
                xanchor="left",
                showarrow=False,
                font=dict(size=round(13 * s), color=MUTED),
            )
    fig.add_shape(
        type="line",
        x0=HALF,
        x1=HALF,
        y0=0,
        y1=1,
        yref="paper",
        line=dict(color=INK, width=1.5 * s, dash="dash"),
        layer="below",
    )
    fig.add_annotation(
        text=label("res_half_line", lang),
        x=HALF,
        y=1,
        yref="paper",
        xanchor="left",
        yanchor="bottom",
        xshift=4 * s,
        showarrow=False,
        font=dict(size=round(13 * s), color=INK),
    )
    fig.update_yaxes(
        # ids like "01-1-3" would pass for dates: the axis is said to be categories
        type="category",
        categoryorder="array",
        categoryarray=ids,
        autorange="reversed",
        tickmode="array",
        tickvals=ids,
        ticktext=names,
        tickfont=dict(size=round(15 * s)),
        ticklabelstandoff=round(8 * s),
        fixedrange=True,
    )
    fig.update_xaxes(
        range=[0, 125],
        tickvals=[0, 25, 50, 75, 100],
        title=None if band else label("res_axis_votes_pct", lang),
        showticklabels=not band,
        gridcolor="#e6e6e6",
        zeroline=False,
        fixedrange=True,
    )
    fig.update_layout(bargap=0.3, dragmode=False)
    margin = (
        {"t": 90, "b": 34, "l": 300, "r": 24} if band else {"t": 116, "b": 80, "l": 260, "r": 36}
    )
    base_figure(
        fig,
        results,
        lang,
        (width, height),
        "unit",
        "res_chart_unit",
        subtitle=unit_line(entry, results, lang),
        margin=margin,
        scale=s,
    )
    place = unit_name(entry["code"], entry["unit"], lang)
    fig.layout.title.text = f"<b>{label('res_chart_unit', lang).format(place=place)}</b>"
    moment_meta(fig, results, [entry], unit=f"{entry['code']}-{entry['unit']}", band=band)
    return fig
