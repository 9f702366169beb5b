"""The make-up of the elected (women, ethnic minorities, non-party, under 40, former
deputies, religious), as a share of the seats filled, beside the two Assemblies before
(`fixtures/na_composition_history.csv`, the National Election Council's figures, named on
the figure).

The counts of the count are the summary's `composition`, as given; a share is the count
over `composition.elected` (the seats filled). A figure the history does not have (the
religious deputies of 2011 and 2016) is written "no data", never drawn as 0; before any
seat is filled the count's own bars are "no data" too.

The term of the count is the last row of the history file (XV, 2021: the election the
reference data describe); the two rows before it are the comparison.
"""

from __future__ import annotations

import re

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import i18n
from dashboards.figures.frame import HIGHLIGHT, INK, MUTED, Size, base_figure
from dashboards.figures.results_frame import (
    Results,
    frame_size,
    moment_meta,
    results_line,
    text_scale,
)
from dashboards.i18n import label
from ingest import fixtures as fx

CATEGORIES = ("women", "ethnic_minority", "non_party", "under_40", "former_deputy", "religious")
"""The summary's composition keys, in the order shown."""
HISTORY_COLORS = ("#b9c3cc", "#7b8a99")
"""The earlier Assemblies in greys (older lighter); the count in the live orange."""
BARGAP = 0.22
ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def term_number(roman: str) -> int:
    """ "XIV" → 14."""
    values = [ROMAN[ch] for ch in roman]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def term_label(row: dict, lang: str, key: str = "res_term") -> str:
    return label(key, lang).format(term=row["term"], n=term_number(row["term"]), year=row["year"])


def sources(rows: list[dict]) -> str:
    """The web hosts the rows' `source` cite, in order: "plo.vn, thuonghieuviet.org.vn"."""
    hosts: list[str] = []
    for row in rows:
        for host in re.findall(
            r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:vn|org|com|net)\b", row["source"]
        ):
            if host not in hosts:
                hosts.append(host)
    return ", ".join(hosts)


def composition_series(results: Results) -> list[dict]:
    """[{label row, shares: {category: % or None}, counts: {category: n or None}}, …]: the
    two Assemblies before, then the count's (its row is `now`)."""
    history = fx.composition_history()
    earlier, current = list(history[-3:-1]), history[-1]
    out = []
    for row in earlier:
        deputies = row["deputies"]
        counts = {c: row.get(c) for c in CATEGORIES}
        shares = {
            c: (100 * n / deputies if n is not None and deputies else None)
            for c, n in counts.items()
        }
        out.append({"row": row, "now": False, "counts": counts, "shares": shares})
    comp = (results.get("summary") or {}).get("composition") or {}
    elected = comp.get("elected") or 0
    counts = {c: comp.get(c) if elected else None for c in CATEGORIES}
    shares = {c: (100 * n / elected if n is not None else None) for c, n in counts.items()}
    out.append({"row": current, "now": True, "counts": counts, "shares": shares})
    return out


def _text(share: float | None, count: int | None, lang: str, now: bool) -> str:
    if share is None:
        return label("no_data", lang)
    text = i18n.fmt_pct(share, lang)
    return f"<b>{text}</b> ({i18n.fmt_int(count, lang)})" if now else text


def _no_data(
    fig: go.Figure, lang: str, s: float, xref: str, yref: str, y: str, shift: float
) -> None:
    fig.add_annotation(
        text=label("no_data", lang),
        xref=xref,
        yref=yref,
        x=0,
        y=y,
        yshift=shift,
        xanchor="left",
        showarrow=False,
        font=dict(size=round(13 * s), color=MUTED),
    )


def composition(
    results: Results,
    lang: str = "vi",
    size: Size = "web",
    *,
    band: bool = False,
    scale: float = 1.0,
) -> go.Figure:
    """Horizontal bars: each category's share of the seats filled beside the two earlier
    Assemblies' (grouped bars; on the strip, one small panel per category)."""
    width, height = frame_size(size, band)
    s = text_scale(width, height, band, scale)
    series = composition_series(results)
    colors = [*HISTORY_COLORS, HIGHLIGHT]
    names = [term_label(x["row"], lang, "res_term_now" if x["now"] else "res_term") for x in series]
    top = max([v for x in series for v in x["shares"].values() if v is not None], default=50)
    x_max = top * 1.45 + 1
    if band:
        fig = make_subplots(
            rows=1,
            cols=len(CATEGORIES),
            shared_yaxes=True,
            horizontal_spacing=0.012,
            subplot_titles=[label(f"res_comp_{c}", lang) for c in CATEGORIES],
        )
        short = [term_label(x["row"], lang) for x in series]
        for col, cat in enumerate(CATEGORIES, start=1):
            shares = [x["shares"][cat] for x in series]
            fig.add_trace(
                go.Bar(
                    x=shares,
                    y=short,
                    orientation="h",
                    marker=dict(color=colors),
                    text=[_text(x["shares"][cat], x["counts"][cat], lang, False) for x in series],
                    textposition="outside",
                    cliponaxis=False,
                    textfont=dict(size=round(14 * s), color=INK),
                    hoverinfo="skip",
                    showlegend=False,
                    meta=dict(category=cat),
                ),
                row=1,
                col=col,
            )
        for ann in fig.layout.annotations:
            ann.font = dict(size=round(15 * s), color=INK)
            ann.xanchor = "left"
            ann.x = ann.x - (1 - 0.012 * 5) / 12  # over the panel's left edge
        for col, cat in enumerate(CATEGORIES, start=1):
            axis = "" if col == 1 else str(col)
            for x, name in zip(series, short, strict=True):
                if x["shares"][cat] is None:
                    _no_data(fig, lang, s, f"x{axis}", f"y{axis}", name, 0)
        fig.update_yaxes(
            autorange="reversed",
            tickfont=dict(size=round(14 * s)),
            ticklabelstandoff=round(8 * s),
            fixedrange=True,
        )
        fig.update_xaxes(range=[0, x_max], visible=False, fixedrange=True)
        margin = {"t": 118, "b": 34, "l": 200, "r": 24}
    else:
        cats = [label(f"res_comp_{c}", lang) for c in CATEGORIES]
        fig = go.Figure()
        for x, name, color in zip(series, names, colors, strict=True):
            fig.add_trace(
                go.Bar(
                    x=[x["shares"][c] for c in CATEGORIES],
                    y=cats,
                    orientation="h",
                    name=name,
                    marker=dict(color=color),
                    text=[
                        _text(x["shares"][c], x["counts"][c], lang, x["now"]) for c in CATEGORIES
                    ],
                    textposition="outside",
                    cliponaxis=False,
                    textfont=dict(size=round(13 * s), color=INK if x["now"] else MUTED),
                    hovertemplate=f"{name}<br>%{{y}}: %{{text}}<extra></extra>",
                    meta=dict(now=x["now"], term=x["row"]["term"]),
                )
            )
        fig.update_layout(
            barmode="group",
            bargap=BARGAP,
            bargroupgap=0.06,
            legend=dict(
                orientation="h",
                x=0,
                xanchor="left",
                y=1.0,
                yanchor="bottom",
                traceorder="normal",
                font=dict(size=round(14 * s)),
            ),
        )
        # categories top to bottom; in each group the earlier terms above the count
        fig.update_yaxes(autorange="reversed", tickfont=dict(size=round(15 * s)), ticks="")
        fig.update_xaxes(
            range=[0, x_max],
            title=label("res_axis_pct_deputies", lang),
            gridcolor="#e6e6e6",
            zeroline=False,
            fixedrange=True,
        )
        fig.update_yaxes(fixedrange=True, ticklabelstandoff=round(8 * s))
        margin = {"t": 130, "b": 80, "l": 220, "r": 36}
        # a missing figure says so where its bar would be
        plot_h = height - (margin["t"] + margin["b"]) * s
        slot = plot_h / len(CATEGORIES) * (1 - BARGAP) / len(series)
        for i, x in enumerate(series):
            for cat, name in zip(CATEGORIES, cats, strict=True):
                if x["shares"][cat] is None:
                    _no_data(fig, lang, s, "x", "y", name, (len(series) - 1) / 2 * slot - i * slot)
    fig.update_layout(dragmode=False)
    earlier = [x["row"] for x in series if not x["now"]]
    credit = label("res_history_credit", lang).format(
        terms=", ".join(r["term"] for r in earlier), sources=sources(earlier)
    )
    base_figure(
        fig,
        results,
        lang,
        (width, height),
        "composition",
        "res_chart_composition",
        credit=credit,
        subtitle=results_line(results, lang),
        margin=margin,
        scale=s,
    )
    moment_meta(fig, results, band=band)
    return fig
