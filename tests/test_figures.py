"""Figure builders, labels and exports: no database, no server.

The export tests drive Debian's Chromium through kaleido (skipped, with the reason, when
no browser is installed). The map and the tile grid are also written to
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import pytest
from PIL import Image

from dashboards import catalogue, export, figures, i18n
from ingest import fixtures as fx

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
MISSING = ("01", "48", "79", "02", "96")
"""Provinces without figures in the fake picture: Hà Nội, Đà Nẵng (Hoàng Sa), HCMC…"""
AT = "2021-05-23T15:00:00+07:00"


def fake_picture(missing: tuple[str, ...] = MISSING, seed: int = 23) -> dict:
    rng = random.Random(seed)
    provinces = []
    for p in fx.provinces():
        if p.code in missing:
            provinces.append(
                dict(
                    code=p.code,
                    name=p.name,
                    voted=None,
                    registered=p.registered,
                    turnout_pct=None,
                    as_of=None,
                    areas_done=None,
                    areas_total=None,
                    revote_units=None,
                    security_level=None,
                    last_report_at=None,
                )
            )
            continue
        voted = round(rng.uniform(0.55, 0.999) * p.registered)
        total = rng.randint(150, 900)
        provinces.append(
            dict(
                code=p.code,
                name=p.name,
                voted=voted,
                registered=p.registered,
                turnout_pct=100 * voted / p.registered,
                as_of=AT,
                areas_done=rng.randint(0, total),
                areas_total=total,
                revote_units=1 if p.code == "77" else 0,
                security_level="info",
                last_report_at="2021-05-23T15:02:11+07:00",
            )
        )
    hours = range(8, 16)
    return {
        "seq": 1235,
        "at": AT,
        "rehearsal": False,
        # Deliberately not the sum of the provinces: the figures must show it as given.
        "national": {
            "voted": 55_123_456,
            "registered": 69_523_133,
            "turnout_pct": 79.2863,
            "provinces_reporting": 63 - len(missing),
            "provinces_total": 63,
            "areas_done": 20_000,
            "areas_total": 84_767,
            "revote_units": 1,
        },
        "provinces": provinces,
        "revotes": [
            {
                "province": "77",
                "unit": "Đơn vị bầu cử số 3, xã Long Sơn",
                "level": "commune",
                "reason": "turnout_below_half",
                "status": "scheduled",
            }
        ],
        "timeline": {
            "national": [
                {"t": f"2021-05-23T{h:02d}:00:00+07:00", "turnout_pct": 11.0 * (h - 7)}
                for h in hours
            ],
            "46": [
                {"t": f"2021-05-23T{h:02d}:00:00+07:00", "turnout_pct": 12.0 * (h - 7)}
                for h in hours
            ],
        },
    }


def empty_picture() -> dict:
    """The morning picture: nobody has reported."""
    pic = fake_picture(missing=tuple(p.code for p in fx.provinces()))
    pic.update(at=None, revotes=[], timeline={})
    pic["national"] = {
        "voted": None,
        "registered": None,
        "turnout_pct": None,
        "provinces_reporting": 0,
        "provinces_total": 63,
        "areas_done": None,
        "areas_total": None,
        "revote_units": 0,
    }
    return pic


# --- labels ----------------------------------------------------------------------------


def test_every_label_ships_in_all_six_languages():
    for key in i18n.keys():
        for lang in i18n.LANGS:
            assert i18n.catalogue(lang)[key], (key, lang)
    assert i18n.LANGS == ("vi", "en", "fr", "es", "zh", "ru")
    assert i18n.label("election_title") == (
        "Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026"
    )


def test_label_falls_back_to_english_then_vietnamese_then_key():
    catalogue.LABELS["_only_vi"] = ("chỉ tiếng Việt",)
    catalogue.LABELS["_vi_en"] = ("tiếng Việt", "English")
    try:
        assert i18n.label("_only_vi", "fr") == "chỉ tiếng Việt"
        assert i18n.label("_vi_en", "ru") == "English"
        assert i18n.label("_vi_en", "xx") == "tiếng Việt"  # unknown language → vi
        assert i18n.label("no_such_key", "en") == "no_such_key"
    finally:
        del catalogue.LABELS["_only_vi"], catalogue.LABELS["_vi_en"]


def test_as_of_label_in_the_election_zone():
    assert i18n.as_of_label("2021-05-23T15:00:00+07:00", "vi") == "Tính đến 15:00 ngày 23/5/2021"
    assert i18n.as_of_label("2021-05-23T08:00:00Z", "en") == "As of 15:00 on 23/05/2021"
    assert i18n.as_of_label("2021-05-23T15:00:00+07:00", "zh") == "截至2021/5/23 15:00"
    new_york = ZoneInfo("America/New_York")
    assert i18n.as_of_label("2021-05-23T15:00:00+07:00", "en", new_york) == (
        "As of 04:00 on 23/05/2021"
    )
    assert i18n.as_of_label(None, "vi") == i18n.label("as_of_unknown", "vi")


def test_province_names_and_numbers():
    assert i18n.province_name("01", "vi") == "Hà Nội"
    assert i18n.province_name("01", "en") == "Ha Noi"
    assert i18n.province_name("79", "ru") == "Ho Chi Minh City"
    assert i18n.fmt_pct(99.6, "vi") == "99,60%"
    assert i18n.fmt_pct(99.6, "en") == "99.60%"
    assert i18n.fmt_int(69_523_133, "vi") == "69.523.133"
    assert i18n.fmt_pct(None, "en") == "No data"
    # CLDR through Babel: the locale's marks and spacing, Spanish groups from 5 digits.
    assert i18n.fmt_pct(99.6, "fr") == "99,60\u00a0%"
    assert i18n.fmt_int(69_523_133, "ru") == "69\u00a0523\u00a0133"
    assert (i18n.fmt_int(1234, "es"), i18n.fmt_int(12_345, "es")) == ("1234", "12.345")


def test_one_catalogue_one_meaning_per_key():
    """The phone and the desk read the board's keys: one `agency`, in every language."""
    assert (i18n.label("agency", "vi"), i18n.label("agency", "en")) == ("TTXVN", "VNA")
    assert i18n.catalogue("fr")["agency"] == "AVI"
    for key, row in catalogue.LABELS.items():
        assert len(row) in (2, len(i18n.LANGS)), key  # the newsroom's two, or all six
        assert all(row), key


def test_error_messages_by_code_field_and_reason():
    assert i18n.error_message("invalid", "as_of", "en", reason="future") == (
        "as_of is in the future: check the phone's clock"
    )
    assert i18n.error_message("invalid", "as_of", "vi").startswith("Thời điểm as_of")
    assert i18n.error_message("invalid", "data.areas_done", "en") == "The report is invalid"
    assert i18n.error_pair("forbidden", "province", own="01", province="79") == (
        "Mã của văn phòng 01 không được báo cáo cho tỉnh 79",
        "This bureau token reports for province 01 only, not 79",
    )


def test_zh_labels_are_covered_by_the_vendored_cjk_subset():
    covered = (figures.VENDOR_DIR / "fonts" / "cjk_chars.txt").read_text(encoding="utf-8")
    text = "".join(i18n.catalogue("zh").values())
    missing = {ch for ch in text if 0x2E80 <= ord(ch) <= 0x9FFF and ch not in covered}
    assert not missing, f"rerun static/vendor/fonts/make_cjk_subset.py for {sorted(missing)}"


# --- figures ---------------------------------------------------------------------------


def test_map_has_63_locations_and_nulls_are_grey_not_zero():
    pic = fake_picture()
    fig = figures.turnout_map(pic, "vi")
    choropleths = [t for t in fig.data if t.type == "choropleth"]
    assert len(choropleths) == 2
    coloured, grey = choropleths
    locations = list(coloured.locations) + list(grey.locations)
    assert sorted(locations) == sorted(p.code for p in fx.provinces())
    assert set(grey.locations) == set(MISSING)
    assert not set(MISSING) & set(coloured.locations)
    assert None not in coloured.z and min(coloured.z) > 0
    assert {c for _, c in grey.colorscale} == {figures.NO_DATA_GREY}
    assert grey.showlegend and grey.name == i18n.label("no_data", "vi")
    assert coloured.featureidkey == "properties.code"
    assert fig.layout.geo.fitbounds == "locations"
    assert "Hà Nội" in grey.text[list(grey.locations).index("01")]
    # Hoàng Sa (in Đà Nẵng, which has no figure) is drawn, in grey.
    islands = [t for t in fig.data if t.name == i18n.label("island_hoang_sa", "vi")]
    assert islands and islands[0].marker.color == figures.NO_DATA_GREY


def test_tile_grid_has_63_tiles_and_grey_no_data():
    pic = fake_picture()
    for fold in (True, False):
        fig = figures.tile_grid(pic, "vi", fold=fold)
        heatmaps = [t for t in fig.data if t.type == "heatmap"]
        filled = [
            (r, c)
            for t in heatmaps
            for r, row in enumerate(t.z)
            for c, v in enumerate(row)
            if v is not None
        ]
        assert len(filled) == len(set(filled)) == 63
        grey = heatmaps[1]
        assert sum(v is not None for row in grey.z for v in row) == len(MISSING)
        texts = [a.text for a in fig.layout.annotations]
        assert sum(i18n.label("no_data_short", "vi") in t for t in texts) == len(MISSING)
        assert any(t.startswith("Thừa Thiên") or "Thừa" in t for t in texts)


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_every_figure_builds_in_every_language(name, lang):
    pic = fake_picture()
    fig = figures.build(name, pic, lang, codes=["46"]) if name == "by_hour" else None
    fig = fig or figures.build(name, pic, lang)
    assert isinstance(fig, go.Figure)
    title = {
        "map": "chart_map",
        "tiles": "chart_tiles",
        "ranking": "chart_ranking",
        "completion": "chart_completion",
        "revotes": "chart_revotes",
        "history": "chart_history",
        "by_hour": "chart_by_hour",
    }[name]
    assert i18n.label(title, lang) in fig.layout.title.text
    assert i18n.as_of_label(AT, lang) in fig.layout.title.subtitle.text
    assert any(i18n.label("source", lang) in a.text for a in fig.layout.annotations)
    assert (fig.layout.width, fig.layout.height) == figures.SIZES["web"]
    assert fig.layout.meta["chart"] == name
    fig.to_json()  # serialisable for the board's first paint


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_every_figure_builds_before_anyone_reports(name):
    fig = figures.build(name, empty_picture(), "en", "social-square")
    assert (fig.layout.width, fig.layout.height) == (1080, 1080)
    assert i18n.label("as_of_unknown", "en") in fig.layout.title.subtitle.text


def test_national_turnout_is_taken_as_given():
    pic = fake_picture()
    live = figures.history(pic, "vi").data[1]
    assert list(live.y) == [79.2863]
    map_texts = [a.text for a in figures.turnout_map(pic, "vi").layout.annotations]
    assert any("79,29%" in t for t in map_texts)
    by_hour = figures.turnout_by_hour(pic, "en")
    assert by_hour.data[0].name == "National" and by_hour.data[0].y[-1] == 88.0


def test_rehearsal_pictures_carry_a_test_badge():
    pic = fake_picture() | {"rehearsal": True}
    for name in figures.FIGURES:
        texts = [a.text for a in figures.build(name, pic, "vi").layout.annotations]
        assert any(i18n.label("status_test", "vi") in t for t in texts), name


def test_unknown_chart_size_or_language_is_refused():
    with pytest.raises(ValueError, match="unknown chart"):
        figures.build("pie", fake_picture())
    with pytest.raises(ValueError, match="unknown language"):
        figures.build("map", fake_picture(), "de")
    with pytest.raises(ValueError, match="unknown size"):
        figures.build("map", fake_picture(), "vi", "poster")


def test_revotes_table_without_revotes_says_so():
    pic = fake_picture()
    pic["revotes"] = []
    for p in pic["provinces"]:
        p["revote_units"] = 0 if p["revote_units"] is not None else None
    fig = figures.revotes_table(pic, "en")
    assert any(a.text == "No re-votes reported" for a in fig.layout.annotations)


# --- data exports ----------------------------------------------------------------------


def test_picture_json_keeps_diacritics():
    text = export.picture_json(fake_picture())
    assert "Hà Nội" in text and json.loads(text)["seq"] == 1235


# --- rendered exports ------------------------------------------------------------------


@pytest.mark.parametrize("size", [(600, 400), "web"])
def test_png_export_has_the_requested_size(size):
    width, height = figures.size_px(size)
    fig = figures.ranking(fake_picture(), "vi", size)
    png = export.render(fig, "png", width, height)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size == (width, height)


def test_svg_export():
    svg = export.render(figures.history(fake_picture(), "vi"), "svg")
    assert svg.lstrip().startswith((b"<svg", b"<?xml"))
    assert "Quốc hội".encode() in svg


def test_html_export_is_self_contained():
    fig = figures.turnout_map(fake_picture(), "vi")
    page = export.render(fig, "html").decode("utf-8")
    assert "<title>Tỷ lệ cử tri đi bầu theo tỉnh, thành</title>" in page
    assert '<html lang="vi">' in page
    assert "<script src=" not in page  # plotly.js inlined, nothing fetched
    assert "window.PlotlyGeoAssets" in page and "data:font/woff2;base64," in page


def test_map_and_tile_grid_render_to_artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    pic = fake_picture()
    for name, lang, size in [
        ("map", "vi", "web"),
        ("tiles", "vi", "web"),
        ("tiles", "vi", "social-square"),
        ("map", "zh", "social-square"),
    ]:
        png = export.export_chart(name, pic, lang, size, "png")
        path = ARTIFACTS / f"{name}-{lang}-{size}.png"
        path.write_bytes(png)
        with Image.open(path) as im:
            assert im.size == figures.SIZES[size]
            grey = tuple(int(figures.NO_DATA_GREY[i : i + 2], 16) for i in (1, 3, 5))
            colours = {c for _, c in im.convert("RGB").getcolors(1 << 20)}
            assert grey in colours  # the no-data provinces are drawn, in grey
