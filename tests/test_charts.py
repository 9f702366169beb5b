"""Snapshot charts of a moment (issue 6): `/charts/{name}.{fmt}?at=` and `votewire chart`.

The numbers behind a chart are the snapshot of that moment; a PNG has the requested size;
SVG and HTML open; every chart builds in every language with its title, moment and source.
Real server, real Postgres, Debian's Chromium through kaleido.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import httpx
from PIL import Image

from dashboards import export, i18n
from dashboards.figures import FIGURES, SIZES
from tests.conftest import ARTIFACTS, bureau, report, votewire

AT = "2021-05-23T15:00:00+07:00"
SHOTS = ARTIFACTS / "editor"


async def load_day(server) -> None:
    """Three provinces through the morning and afternoon, a correction, a retraction, a
    re-vote, completion figures and a public security note."""
    async with bureau(server, await server.token("01")) as hn:
        for h, voted in ((8, 900_000), (11, 2_700_000), (14, 4_100_000), (16, 5_000_000)):
            await hn.send(report(voted=voted, as_of=f"2021-05-23T{h:02d}:00:00+07:00"))
        await hn.send(report("completion", areas_done=300, areas_total=2_500, as_of=AT))
        await hn.send(
            report(
                "revote",
                unit="Đơn vị bầu cử số 4, xã Tráng Việt",
                level="commune",
                reason="violation",
                as_of="2021-05-23T13:00:00+07:00",
            )
        )
    async with bureau(server, await server.token("79")) as hcm:
        await hcm.send(report(turnout_pct=35.5, as_of="2021-05-23T10:00:00+07:00"))
        await hcm.send(report(turnout_pct=61.25, as_of="2021-05-23T13:00:00+07:00"))
        wrong = report(turnout_pct=99.0, as_of="2021-05-23T14:30:00+07:00")
        await hcm.send(wrong)
        await hcm.send(
            report(
                turnout_pct=58.0,
                correction=True,
                as_of="2021-05-23T14:45:00+07:00",
            )
        )
        await hcm.send(
            report("security", severity="watch", category="weather", text="Mưa", audience="public")
        )
    async with bureau(server, await server.token("48")) as dn:
        await dn.send(report(voted=500_000, as_of="2021-05-23T12:00:00+07:00"))
    token = await server.token(role="editor")
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.post(
            f"/editor/api/reports/{wrong['id']}/retract",
            headers={"Authorization": f"Bearer {token}"},
            json={"why": "sai"},
        )
        assert r.json()["outcome"] == "done"


async def editor_client(server) -> httpx.AsyncClient:
    token = await server.token(role="editor")
    return httpx.AsyncClient(
        base_url=server.http, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def as_written(value: float | int | None) -> float | int | None:
    """A figure as a CSV holds it: floats to two decimals, integers as they are."""
    return round(value, 2) if isinstance(value, float) else value


async def test_csv_figures_have_two_decimals_a_point_and_no_grouping_in_every_language(server):
    await load_day(server)
    snap = await server.snapshot(at=AT)
    pct = snap["national"]["turnout_pct"]
    assert pct != round(pct, 2)  # a figure with more decimals than a CSV shows
    async with await editor_client(server) as c:
        for lang in ("vi", "en", "fr", "ru"):
            r = await c.get("/charts/map.csv", params={"at": AT, "lang": lang})
            rows = csv_rows(r.text)
            assert rows[-1]["turnout_pct"] == f"{pct:.2f}", lang
            assert rows[-1]["voted"] == str(snap["national"]["voted"]), lang  # no grouping
            for row in rows:
                # a float with two decimals (or a whole percent as sent, an integer)
                assert re.fullmatch(r"(\d+(\.\d\d)?)?", row["turnout_pct"]), (lang, row)


async def test_chart_numbers_are_the_snapshot_of_that_moment(server):
    await load_day(server)
    async with await editor_client(server) as c:
        for at in (AT, "2021-05-23T11:30:00+07:00", "2021-05-23T17:00:00+07:00"):
            snap = await server.snapshot(at=at)
            data = (await c.get("/charts/map.json", params={"at": at})).json()
            for key in ("seq", "at", "national", "provinces"):
                assert data[key] == snap[key], (at, key)
            rows = csv_rows((await c.get("/charts/ranking.csv", params={"at": at})).text)
            assert len(rows) == 64 and rows[-1]["code"] == export.NATIONAL_CODE
            for row, p in zip(rows, snap["provinces"], strict=False):
                assert row["code"] == p["code"]
                for field in ("voted", "registered", "turnout_pct", "areas_done", "revote_units"):
                    assert number(row[field]) == as_written(p[field]), (at, p["code"], field)
            nat = rows[-1]
            assert number(nat["voted"]) == snap["national"]["voted"]
            assert number(nat["turnout_pct"]) == as_written(snap["national"]["turnout_pct"])
        # HH:MM is the same moment on the election day.
        short = (await c.get("/charts/map.json", params={"at": "15:00"})).json()
        assert short["national"] == (await server.snapshot(at=AT))["national"]
        # The timeline's points are the snapshots of their hours; HCMC's retracted 99 %
        # is in none of them, its correction from 14:45 on.
        data = (await c.get("/charts/by_hour.json", params={"at": AT, "provinces": "79"})).json()
        times = [p["t"] for p in data["timeline"]["national"]]
        assert times == [f"2021-05-23T{h:02d}:00:00+07:00" for h in range(7, 16)]
        for point in data["timeline"]["national"]:
            snap = await server.snapshot(at=point["t"])
            assert point["turnout_pct"] == snap["national"]["turnout_pct"], point["t"]
            assert point["provinces_reporting"] == snap["national"]["provinces_reporting"]
        hcm = {p["t"][11:16]: p["turnout_pct"] for p in data["timeline"]["79"]}
        assert hcm["10:00"] == 35.5 and hcm["14:00"] == 61.25 and hcm["15:00"] == 58.0
        assert data["revotes"] == [
            {
                "province": "01",
                "unit": "Đơn vị bầu cử số 4, xã Tráng Việt",
                "level": "commune",
                "reason": "violation",
                "status": "announced",
                "note": None,
                "as_of": "2021-05-23T13:00:00+07:00",
            }
        ]
        assert data["national"]["revote_units"] == 1


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)


async def test_png_has_the_requested_size_and_svg_and_html_open(server):
    await load_day(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with await editor_client(server) as c:
        for name, size, lang in (
            ("map", "social-square", "vi"),
            ("by_hour", "web", "en"),
            ("ranking", "social-wide", "zh"),
            ("history", "print", "ru"),
        ):
            params = {"at": AT, "size": size, "lang": lang}
            if name == "by_hour":
                params["provinces"] = "01,79"
            r = await c.get(f"/charts/{name}.png", params=params)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "image/png"
            with Image.open(io.BytesIO(r.content)) as img:
                img.load()
                assert img.format == "PNG" and img.size == SIZES[size], (name, size)
            SHOTS.joinpath(f"chart-{name}-{lang}-{size}.png").write_bytes(r.content)
        r = await c.get("/charts/completion.svg", params={"at": AT, "lang": "fr"})
        assert r.headers["content-type"] == "image/svg+xml"
        root = ET.fromstring(r.content)
        assert root.tag.endswith("svg") and root.get("width") == "1200"
        text = "".join(root.itertext())
        assert "Situation à 15:00 le 23/05/2021" in text and "Source : AVI votewire" in text
        r = await c.get("/charts/revotes.html", params={"at": AT, "download": "1"})
        assert r.headers["content-disposition"] == (
            'attachment; filename="votewire-revotes-vi-web-20210523-1500.html"'
        )
        parser = _Html()
        parser.feed(r.text)
        assert {"html", "head", "body", "script"} <= set(parser.tags)
        unit = "Đơn vị bầu cử số 4, xã Tráng Việt"
        assert unit in r.text or json.dumps(unit)[1:-1] in r.text


async def test_charts_in_the_six_languages_carry_title_moment_and_source(server):
    await load_day(server)
    async with await editor_client(server) as c:
        # Every chart in two languages, every language on two charts (the builders
        # themselves are checked in every language by tests/test_figures.py).
        cases = {(name, lang) for name in FIGURES for lang in ("vi", "zh")}
        cases |= {(name, lang) for name in ("history", "by_hour") for lang in i18n.LANGS}
        for name, lang in sorted(cases):
            r = await c.get(f"/charts/{name}.plotly", params={"at": AT, "lang": lang})
            assert r.status_code == 200, (name, lang, r.text)
            fig = r.json()
            title = fig["layout"]["title"]
            assert i18n.label(f"chart_{name}", lang) in title["text"], (name, lang)
            texts = json.dumps(
                [title.get("subtitle", {}).get("text"), fig["layout"]["annotations"]],
                ensure_ascii=False,
            )
            assert i18n.as_of_label(AT, lang) in texts, (name, lang)
            assert i18n.label("source", lang) in texts, (name, lang)


async def test_bad_chart_requests_are_refused_with_the_contract_error(server):
    async with await editor_client(server) as c:
        cases = {
            "/charts/pie.png": 404,
            "/charts/map.gif": 404,
            "/charts/map.png?lang=de": 422,
            "/charts/map.png?size=poster": 422,
            "/charts/by_hour.png?provinces=01,99": 422,
            "/charts/map.png?at=yesterday": 422,
        }
        for path, status in cases.items():
            r = await c.get(path)
            assert r.status_code == status, (path, r.text)
            assert r.json()["type"] == "error"


async def test_votewire_chart_on_the_command_line(server, tmp_path):
    await load_day(server)
    env = {**os.environ, "DATABASE_URL": server.db_url, "VOTEWIRE_LOG": "WARNING"}
    png, data = tmp_path / "map.png", tmp_path / "map.json"
    out, as_json, bad = await asyncio.gather(  # independent commands, at once
        votewire(
            "chart", "map", "--at", "15:00", "-o", str(png), "--size", "social-square", env=env
        ),
        votewire("chart", "map", "--at", "15:00", "-o", str(data), env=env),
        votewire("chart", "pie", "-o", str(tmp_path / "x.png"), env=env),
    )
    assert out.returncode == 0, out.stderr
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == (1080, 1080)
    assert as_json.returncode == 0, as_json.stderr
    snap = await server.snapshot(at=AT)
    picture = json.loads(data.read_text(encoding="utf-8"))
    assert picture["national"] == snap["national"] and picture["provinces"] == snap["provinces"]
    assert bad.returncode == 2 and "unknown chart" in bad.stderr
