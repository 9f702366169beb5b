"""The results' figures (issue 13 item 5): hemicycle, results map, composition, one unit.

No database, no server: results bodies are built as the server builds them, with the law
(`ingest.law.decide`) over the official 2021 votes and `ingest.results_view`. The PNG
checks drive Debian's Chromium through kaleido; renders go to tests/artifacts/results/ for
a person to look at.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from datetime import datetime, timedelta

import pytest
from PIL import Image

from dashboards import export, figures, i18n
from dashboards.figures.composition import CATEGORIES as COMPOSITION
from dashboards.figures.hemicycle import Arc, fit_arc
from ingest import candidates as cand
from ingest import fixtures as fx
from ingest.law import Count, composition, decide
from ingest.results_view import results_summary, unit_result

ARTIFACTS = figures.STATIC_DIR.parent.parent / "tests" / "artifacts" / "results"
START = datetime.fromisoformat("2021-05-24T06:00:00+07:00")
TITLES = {
    "hemicycle": "res_chart_hemicycle",
    "results_map": "res_chart_results_map",
    "composition": "res_chart_composition",
    "unit": "res_chart_unit",
}


def results_body(stage_of=lambda unit: "final", *, confirm: bool = True, at: str | None = None):
    """A §5 body over the official 2021 votes. `stage_of(unit)` is "final", "provisional"
    (60 % of the official votes counted) or None (waiting); `confirm` records the Council's
    decisions of 10/6/2021 (Trần Văn Nam not confirmed). Unit i is "as of" START + i min."""
    official, valid = cand.official_results(), cand.official_valid()
    decided = {cid: o.confirmed for cid, o in official.items() if o.elected} if confirm else {}
    pairs, entries = [], []
    for i, unit in enumerate(cand.units()):
        stage = stage_of(unit)
        ballot = [(c.id, c.birth_year) for c in unit.candidates]
        if stage is None:
            outcome = decide(unit.seats, ballot, None)
            entries.append(unit_result(unit, outcome, confirmed=decided))
        else:
            ballots = valid[(unit.code, unit.unit)].middle
            votes = {c.id: official[c.id].votes for c in unit.candidates}
            if stage == "provisional":
                votes = {k: v * 6 // 10 for k, v in votes.items()}
                ballots = ballots * 6 // 10
            outcome = decide(unit.seats, ballot, Count(votes, ballots, stage))
            entries.append(
                unit_result(
                    unit,
                    outcome,
                    as_of=START + timedelta(minutes=i),
                    ballots_valid=ballots,
                    areas_counted=40 if stage == "provisional" else 60,
                    areas_total=60,
                    confirmed=decided,
                )
            )
        pairs.append((unit, outcome))
    return {
        "seq": 4242,
        "at": at,
        "rehearsal": False,
        "summary": results_summary(pairs, 2021, decided),
        "units": entries,
    }


def north_final_centre_counting(unit) -> str | None:
    """Partial night: the North final, the Central–Highlands counting, the South waiting."""
    region = fx.province_index()[unit.code].region3
    return {"North": "final", "Central": "provisional"}.get(region)


PARTIAL = north_final_centre_counting


def seat_counts(fig) -> dict[tuple[str | None, str], int]:
    """(category, state) → seats drawn, from the hemicycle's traces."""
    out = {}
    for trace in fig.data:
        meta = trace.meta or {}
        drawn = sum(x is not None for x in trace.x)
        out[(meta.get("category"), meta.get("state"))] = drawn
    return out


def texts(fig) -> str:
    title = fig.layout.title
    return json.dumps(
        [title.text, title.subtitle.text, [a.text for a in fig.layout.annotations]],
        ensure_ascii=False,
    )


# --- reference data -----------------------------------------------------------------------


def test_composition_history_is_the_councils_figures_and_2021_is_the_499_confirmed():
    rows = {r["term"]: r for r in fx.composition_history()}
    assert list(rows) == ["XIII", "XIV", "XV"]
    assert (rows["XIII"]["deputies"], rows["XIII"]["women"], rows["XIII"]["former_deputy"]) == (
        500,
        122,
        167,
    )
    assert (rows["XIV"]["deputies"], rows["XIV"]["non_party"], rows["XIV"]["under_40"]) == (
        496,
        21,
        71,
    )
    assert rows["XIII"]["first_time"] is None  # blank in the file: no figure, not 0
    assert all(r["religious"] is None for r in rows.values())
    confirmed = [
        c for c in cand.candidate_index().values() if cand.official_results()[c.id].confirmed
    ]
    ours = composition(confirmed, 2021)
    xv = rows["XV"]
    assert ours["elected"] == xv["deputies"] == 499
    for key in ("women", "ethnic_minority", "non_party", "under_40", "former_deputy"):
        assert ours[key] == xv[key], key


# --- hemicycle ----------------------------------------------------------------------------


def test_seat_layout_places_every_seat_once_left_to_right():
    for band in (False, True):
        arc, px = fit_arc(500, 1500.0, 240.0 if band else 700.0, band=band)
        points = arc.positions(500)
        assert len(points) == len(set(points)) == 500
        angles = [round(math.atan2(y, x), 6) for x, y in points]
        assert angles == sorted(angles, reverse=True)  # filled left to right
        assert sum(arc.per_row(500)) == 500 and px > 0
    flat, _ = fit_arc(500, 1500.0, 240.0, band=True)
    x0, x1, y0, y1 = flat.bounds()
    assert (x1 - x0) / (y1 - y0) > 3  # the strip's arc is flat
    rows = Arc(12, 0.4, math.pi / 2).per_row(500)
    assert rows == sorted(rows) and rows[-1] > 2 * rows[0]  # outer rows hold more seats


def test_hemicycle_of_the_official_2021_body_after_confirmation():
    body = results_body()
    fig = figures.build_results("hemicycle", body, "vi")
    counts = seat_counts(fig)
    assert sum(counts.values()) == 500
    assert counts[("F", "seated")] == 151
    assert counts[("M", "seated")] == 348
    assert counts[(None, "empty")] == 1  # Trần Văn Nam's seat, not confirmed
    assert counts[("F", "leading")] == counts[("M", "leading")] == 0
    names = [n for t in fig.data for n in (t.hovertext or ()) if t.meta["state"] == "seated"]
    assert not any("Trần Văn Nam" in n for n in names)
    assert any("Nguyễn Phú Trọng" in n for n in names)
    assert "<b>499</b>" in texts(fig)
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert "Nữ · 151" in legend and "Nam · 348" in legend


def test_hemicycle_before_the_councils_decision_seats_all_500_elected():
    body = results_body(confirm=False)
    counts = seat_counts(figures.build_results("hemicycle", body, "en"))
    assert counts[("F", "seated")] == 151 and counts[("M", "seated")] == 349
    assert counts[(None, "empty")] == 0


def test_hemicycle_by_region_and_by_former_deputy():
    body = results_body()
    region_of = {p.code: p.region3 for p in fx.provinces()}
    expected = Counter(
        region_of[c.id[:2]]
        for c in cand.candidate_index().values()
        if cand.official_results()[c.id].confirmed
    )
    counts = seat_counts(figures.build_results("hemicycle", body, "en", dimension="region"))
    for region in ("North", "Central", "South"):
        assert counts[(region, "seated")] == expected[region] > 0, region
    counts = seat_counts(figures.build_results("hemicycle", body, "fr", dimension="former_deputy"))
    assert counts[("former", "seated")] == 203 and counts[("first", "seated")] == 296
    with pytest.raises(ValueError, match="unknown dimension"):
        figures.build_results("hemicycle", body, dimension="age")


def test_a_partial_body_fills_only_declared_seats_and_leaders_are_never_elected():
    body = results_body(PARTIAL)
    fig = figures.build_results("hemicycle", body, "vi")
    counts = seat_counts(fig)
    north = [u for u in cand.units() if fx.province_index()[u.code].region3 == "North"]
    elected_north = sum(
        cand.official_results()[c.id].confirmed is True for u in north for c in u.candidates
    )
    seated = counts[("F", "seated")] + counts[("M", "seated")]
    assert seated == elected_north == body["summary"]["seats_filled"]
    leading = counts[("F", "leading")] + counts[("M", "leading")]
    assert leading == sum(c["leading"] for u in body["units"] for c in u["candidates"]) > 0
    assert counts[(None, "empty")] == 500 - seated - leading
    # the leaders are lighter, named "leading", never "elected"
    for trace in fig.data:
        if trace.meta["state"] == "leading" and trace.meta["count"]:
            assert trace.marker.opacity < 1
            assert all(i18n.label("res_leading", "vi") in h for h in trace.hovertext)
            assert not any(i18n.label("res_elected", "vi") in h for h in trace.hovertext)
    assert f"<b>{seated}</b>" in texts(fig)


def test_a_hemicycle_before_any_result_is_500_empty_seats():
    body = results_body(lambda unit: None)
    fig = figures.build_results("hemicycle", body, "en", "social-square")
    counts = seat_counts(fig)
    assert counts[(None, "empty")] == 500 and sum(counts.values()) == 500
    assert i18n.label("as_of_unknown", "en") in fig.layout.title.subtitle.text
    # every category keeps its legend entry at 0
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert "Women · 0" in legend and "Men · 0" in legend


# --- results map --------------------------------------------------------------------------


def test_waiting_provinces_are_no_data_and_counting_ones_are_zero_not_grey():
    body = results_body(PARTIAL)
    fig = figures.build_results("results_map", body, "vi")
    coloured, grey = [t for t in fig.data if t.type == "choropleth"]
    region_of = {p.code: p.region3 for p in fx.provinces()}
    assert set(grey.locations) == {c for c, r in region_of.items() if r == "South"}
    assert grey.name == i18n.label("no_data", "vi") and grey.showlegend
    share = dict(zip(coloured.locations, coloured.z, strict=True))
    assert set(share) == {c for c, r in region_of.items() if r != "South"}
    for code, value in share.items():
        assert value == (100.0 if region_of[code] == "North" else 0.0), code
    assert "Hà Nội" in coloured.text[list(coloured.locations).index("01")]
    # the counts beside the map are the summary's
    summary = body["summary"]
    assert f"{summary['units_declared']}/184" in texts(fig)


def test_the_full_count_colours_every_province_fully_declared():
    fig = figures.build_results("results_map", results_body(), "en")
    coloured, grey = [t for t in fig.data if t.type == "choropleth"]
    assert len(coloured.locations) == 63 and set(coloured.z) == {100.0}
    assert list(grey.locations) == []


# --- composition --------------------------------------------------------------------------


def test_composition_carries_the_13th_and_14th_assemblies_figures_and_the_source():
    body = results_body()
    fig = figures.build_results("composition", body, "en")
    bars = {t.meta["term"]: t for t in fig.data}
    assert list(bars) == ["XIII", "XIV", "XV"]
    rows = {r["term"]: r for r in fx.composition_history()}
    for term in ("XIII", "XIV"):
        for i, key in enumerate(COMPOSITION):
            want = rows[term][key]
            got = bars[term].x[i]
            if want is None:
                assert got is None, (term, key)  # never 0
            else:
                assert got == pytest.approx(100 * want / rows[term]["deputies"]), (term, key)
    comp = body["summary"]["composition"]
    ours = bars["XV"]
    assert ours.meta["now"] is True
    assert [round(v, 6) for v in ours.x] == [
        round(100 * comp[k] / comp["elected"], 6) for k in COMPOSITION
    ]
    assert "<b>30.26%</b> (151)" in ours.text[0]
    everything = texts(fig)
    assert everything.count(i18n.label("no_data", "en")) == 2  # religious, 2011 and 2016
    assert "plo.vn" in everything and "thuonghieuviet.org.vn" in everything
    assert "XIII, XIV" in everything


def test_composition_before_any_seat_is_filled_says_no_data():
    fig = figures.build_results("composition", results_body(lambda u: None), "vi")
    ours = [t for t in fig.data if t.meta["now"]][0]
    assert list(ours.x) == [None] * len(COMPOSITION)
    assert texts(fig).count(i18n.label("no_data", "vi")) >= len(COMPOSITION)


# --- one unit -----------------------------------------------------------------------------


def test_unit_chart_ranks_candidates_marks_the_elected_and_the_half_line():
    body = results_body()
    fig = figures.build_results("unit", body, "vi", unit="01-1")
    bar = fig.data[0]
    official = cand.official_results()
    ids = list(bar.y)
    assert ids == sorted(ids, key=lambda cid: -official[cid].votes)
    assert ids[0] == "01-1-3" and list(fig.layout.yaxis.ticktext)[0] == "Nguyễn Phú Trọng"
    assert fig.layout.yaxis.type == "category"  # "01-1-3" is no date
    assert bar.x[0] == pytest.approx(93.23, abs=0.005)
    elected = [cid for cid in ids if official[cid].elected]
    everything = texts(fig)
    assert everything.count(i18n.label("res_elected", "vi")) == len(elected) == 3
    assert [s.x0 for s in fig.layout.shapes] == [50]
    assert i18n.label("res_half_line", "vi") in everything
    assert i18n.label("res_stage_final", "vi") in everything
    assert "Hà Nội · ĐV 1" in fig.layout.title.text
    # the unit's own moment (§6), not the latest of the body
    assert i18n.as_of_label(START, "vi") in fig.layout.title.subtitle.text
    assert fig.layout.meta["unit"] == "01-1"


def test_unit_chart_of_a_counting_unit_says_leading_and_of_the_refused_winner_says_so():
    body = results_body(PARTIAL)
    fig = figures.build_results("unit", body, "en", unit="48-1")
    everything = texts(fig)
    assert "Leading" in everything and "✓ Elected" not in everything
    assert "Provisional count" in everything
    fig = figures.build_results("unit", results_body(), "en", unit="74-1")
    assert "Not confirmed" in texts(fig)


def test_unit_chart_of_a_waiting_unit_draws_no_zero_bars():
    body = results_body(PARTIAL)
    fig = figures.build_results("unit", body, "ru", unit="79-1")
    assert list(fig.data[0].x) == [None] * 5
    assert texts(fig).count(i18n.label("no_data", "ru")) == 5


def test_an_unknown_or_missing_unit_is_refused():
    body = results_body()
    for unit in ("99-9", None, "01-99"):
        with pytest.raises(ValueError, match="unknown unit"):
            figures.build_results("unit", body, unit=unit)


# --- every figure, every language ---------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("name", figures.RESULT_FIGURES)
def test_every_results_figure_builds_in_every_language(name, lang):
    at = "2021-05-24T09:00:00+07:00"
    body = results_body(PARTIAL, at=at)
    fig = figures.build_results(name, body, lang, unit="01-1")
    title = i18n.label(TITLES[name], lang)
    if name == "unit":
        title = title.format(place=f"{i18n.province_name('01', lang)} · ").split(" · ")[0]
    assert title in fig.layout.title.text
    assert i18n.as_of_label(at, lang) in fig.layout.title.subtitle.text
    assert any(i18n.label("source", lang) in a.text for a in fig.layout.annotations)
    assert (fig.layout.width, fig.layout.height) == figures.SIZES["web"]
    assert fig.layout.meta["chart"] == name and fig.layout.meta["at"] == at
    fig.to_json()


def test_the_moment_is_at_when_asked_else_the_latest_result_shown():
    body = results_body(PARTIAL)
    latest = max(u["as_of"] for u in body["units"] if u["as_of"])
    for name in ("hemicycle", "results_map", "composition"):
        fig = figures.build_results(name, body, "en")
        assert fig.layout.meta["at"] == latest
        assert i18n.as_of_label(latest, "en") in fig.layout.title.subtitle.text


def test_rehearsal_results_carry_a_test_badge():
    body = results_body() | {"rehearsal": True}
    for name in figures.RESULT_FIGURES:
        fig = figures.build_results(name, body, "vi", unit="01-1")
        assert i18n.label("status_test", "vi") in texts(fig), name


def test_unknown_results_chart_or_language_is_refused():
    with pytest.raises(ValueError, match="unknown chart"):
        figures.build_results("pie", results_body())
    with pytest.raises(ValueError, match="unknown language"):
        figures.build_results("hemicycle", results_body(), "de")


# --- rendered: sizes, the strip, nothing cut at the edges --------------------------------


def _edges_are_white(img: Image.Image, width: int = 3) -> bool:
    """Nothing drawn on the outermost pixels: a label cut by the figure's edge leaves ink
    there."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    boxes = [(0, 0, w, width), (0, h - width, w, h), (0, 0, width, h), (w - width, 0, w, h)]
    for box in boxes:
        colours = rgb.crop(box).getcolors(1 << 16)
        if any(c != (255, 255, 255) for _, c in colours):
            return False
    return True


def _ink(img: Image.Image) -> float:
    """Share of pixels that are not white."""
    grey = img.convert("L")
    hist = grey.histogram()
    return 1 - hist[255] / sum(hist)


@pytest.mark.parametrize("name", figures.RESULT_FIGURES)
def test_the_strip_versions_fit_1920_by_360_and_are_drawn(name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    body = results_body(PARTIAL)
    for lang in ("vi", "en", "ru"):
        fig = figures.build_results(name, body, lang, band=True, unit="48-1")
        assert (fig.layout.width, fig.layout.height) == figures.BAND_SIZE
        png = export.render(fig, "png")
        (ARTIFACTS / f"{name}-band-{lang}.png").write_bytes(png)
        with Image.open(io.BytesIO(png)) as img:
            assert img.size == (1920, 360)
            assert _ink(img) > 0.04, (name, lang)  # a drawing, not a blank strip
            assert _edges_are_white(img), (name, lang)


@pytest.mark.parametrize("size", sorted(figures.SIZES))
def test_results_figures_render_at_the_four_sizes(size):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    body = results_body(PARTIAL)
    for name in figures.RESULT_FIGURES:
        fig = figures.build_results(name, body, "vi", size, unit="01-1")
        png = export.render(fig, "png")
        (ARTIFACTS / f"{name}-vi-{size}.png").write_bytes(png)
        with Image.open(io.BytesIO(png)) as img:
            assert img.size == figures.SIZES[size], (name, size)
            assert _ink(img) > 0.02, (name, size)
            assert _edges_are_white(img), (name, size)


def test_the_hemicycle_draws_women_in_their_colour():
    """The PNG itself: the women's colour is on the page (kaleido draws what the figure says)."""
    fig = figures.build_results("hemicycle", results_body(), "en")
    png = export.render(fig, "png")
    women = (0xE6, 0x9F, 0x00)
    with Image.open(io.BytesIO(png)) as img:
        colours = Counter(dict((c, n) for n, c in img.convert("RGB").getcolors(1 << 20)))
    assert colours[women] > 151 * 50  # 151 seats of some 20 px across
