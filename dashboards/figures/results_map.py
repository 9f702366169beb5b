"""The results map: the share of each province's electoral units declared, on the province
map of `map.py`, beside the count nationally and by region.

A province none of whose units has a result is grey "no data", never 0 %: 0 % means it is
counting and none of its units is declared yet. A unit is declared when its final record
fills every seat (contract §5); a final record that leaves seats for a supplementary
election is counted apart (in the hover) and not as declared, as the summary counts it.
"""

from __future__ import annotations

import plotly.colors as pcolors
import plotly.graph_objects as go

from dashboards import i18n
from dashboards.figures.frame import (
    INK,
    MAP_DOMAIN_FACTOR,
    MUTED,
    NO_DATA_GREY,
    REGIONS,
    Size,
    base_figure,
    stacked_lines,
    wrap_name,
)
from dashboards.figures.map import archipelagos, map_aspect, map_geojson
from dashboards.figures.results_frame import (
    Results,
    frame_size,
    moment_meta,
    results_line,
    text_scale,
)
from dashboards.i18n import label
from ingest import fixtures as fx

RESULTS_COLORSCALE = "Cividis_r"
"""Light (none declared) to dark (all declared); cividis reads the same with any common
colour-vision deficiency, and differs from the turnout maps' viridis."""
STATUSES = ("declared", "supplementary", "counting", "waiting")


def province_progress(results: Results) -> dict[str, dict[str, int]]:
    """Province code → how many of its units are in each status, and `units`."""
    out: dict[str, dict[str, int]] = {
        p.code: {"units": 0, **{st: 0 for st in STATUSES}} for p in fx.provinces()
    }
    for unit in results.get("units", ()):
        row = out.setdefault(unit["code"], {"units": 0, **{st: 0 for st in STATUSES}})
        row["units"] += 1
        row[unit.get("status") or "waiting"] += 1
    return out


def declared_pct(row: dict[str, int]) -> float | None:
    """Units declared over the province's units, in %; None while every unit waits."""
    if not row["units"] or row["waiting"] == row["units"]:
        return None
    return 100 * row["declared"] / row["units"]


def region_progress(progress: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    index = fx.province_index()
    out = {r: {"units": 0, "declared": 0} for r in REGIONS}
    for code, row in progress.items():
        province = index.get(code)
        if province is None or province.region3 not in out:
            continue
        out[province.region3]["units"] += row["units"]
        out[province.region3]["declared"] += row["declared"]
    return out


def _hover(code: str, row: dict[str, int], lang: str) -> str:
    lines = [f"<b>{i18n.province_name(code, lang)}</b>"]
    pct = declared_pct(row)
    if pct is None:
        lines.append(label("no_data", lang))
    else:
        lines.append(f"{label('res_units_declared', lang)}: {row['declared']}/{row['units']}")
    for status in ("supplementary", "counting", "waiting"):
        if row[status] and pct is not None:
            lines.append(f"{label(f'res_status_{status}', lang)}: {row[status]}")
    return "<br>".join(lines)


def _features(codes: list[str]) -> dict:
    wanted = set(codes)
    return {
        "type": "FeatureCollection",
        "features": [f for f in map_geojson()["features"] if f["id"] in wanted],
    }


def results_map(
    results: Results,
    lang: str = "vi",
    size: Size = "web",
    *,
    band: bool = False,
    scale: float = 1.0,
) -> go.Figure:
    """Choropleth of the share of each province's units declared (Hoàng Sa and Trường Sa
    included), with the national and regional counts beside it."""
    width, height = frame_size(size, band)
    s = text_scale(width, height, band, scale)
    progress = province_progress(results)
    shown = [c for c, row in progress.items() if declared_pct(row) is not None]
    missing = [c for c, row in progress.items() if declared_pct(row) is None]
    fig = go.Figure()
    colorbar = dict(
        # on two lines when long: the counts stand 190 px to the right
        title=dict(text=wrap_name(label("res_axis_declared_pct", lang), 16), side="top"),
        thickness=round(16 * s),
        len=0.7,
        outlinewidth=0,
    )
    if band:  # no room for a title: the ticks say what the colours are
        colorbar.update(
            title=None,
            len=0.75,
            thickness=round(12 * s),
            tickvals=[0, 50, 100],
            ticktext=[i18n.fmt_pct(v, lang, digits=0) for v in (0, 50, 100)],
        )
    fig.add_trace(
        go.Choropleth(
            geojson=_features(shown),
            featureidkey="properties.code",
            locations=shown,
            z=[declared_pct(progress[c]) for c in shown],
            zmin=0,
            zmax=100,
            colorscale=RESULTS_COLORSCALE,
            marker=dict(line=dict(color="#ffffff", width=0.6 * s)),
            text=[_hover(c, progress[c], lang) for c in shown],
            hovertemplate="%{text}<extra></extra>",
            name=label("res_units_declared", lang),
            showlegend=False,
            colorbar=colorbar,
        )
    )
    fig.add_trace(
        go.Choropleth(
            geojson=_features(missing),
            featureidkey="properties.code",
            locations=missing,
            z=[0] * len(missing),
            zmin=0,
            zmax=1,
            colorscale=[[0, NO_DATA_GREY], [1, NO_DATA_GREY]],
            showscale=False,
            marker=dict(line=dict(color="#ffffff", width=0.6 * s)),
            text=[_hover(c, progress[c], lang) for c in missing],
            hovertemplate="%{text}<extra></extra>",
            name=label("no_data", lang),
            showlegend=True,
        )
    )
    for key, (code, centres) in archipelagos().items():
        if not centres:
            continue
        pct = declared_pct(progress[code])
        lons = [c[0] for c in centres]
        lats = [c[1] for c in centres]
        fig.add_trace(
            go.Scattergeo(
                lon=lons,
                lat=lats,
                mode="markers",
                marker=dict(
                    size=7 * s,
                    color=NO_DATA_GREY if pct is None else declared_color(pct),
                    line=dict(color=INK, width=0.8 * s),
                ),
                text=[_hover(code, progress[code], lang)] * len(lons),
                hovertemplate="%{text}<extra></extra>",
                showlegend=False,
                name=label(key, lang),
            )
        )
        if not band:  # on the strip the islands' names would be cut: their dots stay
            fig.add_trace(
                go.Scattergeo(
                    lon=[max(lons) if key == "island_truong_sa" else sum(lons) / len(lons)],
                    lat=[max(lats) + 0.35],
                    mode="text",
                    text=[label(key, lang)],
                    # Trường Sa is the map's east edge: its name runs west, uncut
                    textposition="top left" if key == "island_truong_sa" else "top center",
                    textfont=dict(size=round(11 * s), color=MUTED),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    margin = {"t": 90, "b": 34, "l": 36, "r": 36} if band else {"t": 96, "b": 46, "l": 36, "r": 36}
    plot_w = width - (margin["l"] + margin["r"]) * s
    plot_h = height - (margin["t"] + margin["b"]) * s
    frac = min(0.8, MAP_DOMAIN_FACTOR * map_aspect() * plot_h / plot_w)
    wide = band or plot_w >= 1.5 * plot_h
    if wide:  # a wide size keeps half its width for the counts beside the map
        frac = min(frac, 0.5)
    fig.update_geos(
        fitbounds="locations",
        visible=False,
        projection_type="mercator",
        bgcolor="#ffffff",
        domain=dict(x=[0, frac], y=[0, 1]),
    )
    key_x = frac + 0.02
    fig.data[0].colorbar.update(
        x=key_x, xanchor="left", y=1 if band else 0.62, yanchor="top" if band else "middle"
    )
    fig.update_layout(
        legend=dict(
            x=key_x,
            xanchor="left",
            y=0.2 if not band else 0.0,
            yanchor="top" if not band else "bottom",
            bgcolor="rgba(0,0,0,0)",
            itemsizing="constant",
            font=dict(size=round(14 * s)),
        ),
        dragmode=False,
    )
    if wide:
        beside = (150 if band else 190) * s / plot_w
        _counts(fig, results, progress, lang, s, key_x + beside, plot_w, plot_h, band)
    base_figure(
        fig,
        results,
        lang,
        (width, height),
        "results_map",
        "res_chart_results_map",
        credit=label("map_credit", lang),
        subtitle=results_line(results, lang),
        margin=margin,
        scale=s,
    )
    moment_meta(fig, results, band=band)
    return fig


def _counts(
    fig: go.Figure,
    results: Results,
    progress: dict[str, dict[str, int]],
    lang: str,
    s: float,
    x: float,
    plot_w: float,
    plot_h: float,
    band: bool,
) -> None:
    """The summary's units declared and seats filled (as given), then one bar per region:
    units declared over units."""
    summary = results.get("summary") or {}
    declared, units = summary.get("units_declared"), summary.get("units_total")
    filled, seats = summary.get("seats_filled"), summary.get("seats_total")
    lines = [
        (label("res_units_declared", lang), 16, MUTED, False),
        (f"{i18n.fmt_int(declared, lang)}/{i18n.fmt_int(units, lang)}", 44, INK, True),
        (
            f"{label('res_seats_filled', lang)}: {i18n.fmt_int(filled, lang)}"
            f"/{i18n.fmt_int(seats, lang)}",
            16,
            MUTED,
            False,
        ),
    ]
    y = stacked_lines(fig, lines, x=x, y=1.0, scale=s, plot_h=plot_h, leading=1.35)
    # one progress bar per region (name and count above it), in a column right of the
    # counts on the strip, under them otherwise
    regions = region_progress(progress)
    if band:
        x0, top, step = x + 380 * s / plot_w, 1.0, 1 / 3
    else:
        x0, top, step = x, y - 24 * s / plot_h, 62 * s / plot_h
    bar_h = 14 * s / plot_h
    for i, region in enumerate(REGIONS):
        row = regions[region]
        share = row["declared"] / row["units"] if row["units"] else 0.0
        y_text = top - i * step
        y_bar = y_text - 26 * s / plot_h
        fig.add_annotation(
            text=i18n.region_name(region, lang),
            xref="paper",
            yref="paper",
            x=x0,
            y=y_text,
            xanchor="left",
            yanchor="top",
            showarrow=False,
            font=dict(size=round(15 * s), color=INK),
        )
        fig.add_annotation(
            text=f"<b>{row['declared']}/{row['units']}</b>",
            xref="paper",
            yref="paper",
            x=0.98,
            y=y_text,
            xanchor="right",
            yanchor="top",
            showarrow=False,
            font=dict(size=round(15 * s), color=INK),
        )
        fig.add_shape(
            type="rect",
            xref="paper",
            yref="paper",
            x0=x0,
            x1=0.98,
            y0=y_bar - bar_h,
            y1=y_bar,
            fillcolor="#eeeeee",
            line=dict(width=0),
        )
        if share > 0:
            fig.add_shape(
                type="rect",
                xref="paper",
                yref="paper",
                x0=x0,
                x1=x0 + (0.98 - x0) * share,
                y0=y_bar - bar_h,
                y1=y_bar,
                fillcolor=declared_color(100 * share),
                line=dict(width=0),
            )


def declared_color(pct: float) -> str:
    return pcolors.sample_colorscale(RESULTS_COLORSCALE, [min(1.0, max(0.0, pct / 100))])[0]
