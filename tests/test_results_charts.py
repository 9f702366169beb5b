"""The results' charts (issue 13 item 5) on a real server: `/charts/{hemicycle,results_map,
composition,unit,winners}.{fmt}?at=` and `votewire chart`, fed by `result` reports over the
bureau socket and the Council's decision over `POST /api/results/confirmation`.

Public charts read public results only; "as of" is `at` when asked, else the latest result
shown (§6). Real server, real Postgres, Debian's Chromium through kaleido.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from collections import defaultdict

import httpx
from PIL import Image

from dashboards import figures, i18n
from ingest import candidates as cand
from server.charts import WINNER_FIELDS
from tests.conftest import ARTIFACTS, bureau, report, votewire

NIGHT = "2021-05-23T23:00:00+07:00"
"""Hà Nội unit 1 is provisional (60 % counted), nothing else is in."""
MORNING = "2021-05-24T12:00:00+07:00"
"""Every unit's final record is in (from 08:00, a minute apart)."""
COUNCIL = "2021-06-10T10:00:00+07:00"
"""The National Election Council's decision: Trần Văn Nam (Bình Dương 1) not confirmed."""
REFUSED = next(cid for cid, o in cand.official_results().items() if o.confirmed is False)
SHOTS = ARTIFACTS / "results"


def final_at(i: int) -> str:
    return f"2021-05-24T{8 + i // 60:02d}:{i % 60:02d}:00+07:00"


def count(unit, share: float = 1.0) -> dict:
    """A unit's official count (or `share` of it): votes by candidate and valid ballots."""
    official = cand.official_results()
    valid = cand.official_valid()[(unit.code, unit.unit)].middle
    return {
        "ballots_valid": int(valid * share),
        "votes": {c.id: int(official[c.id].votes * share) for c in unit.candidates},
    }


async def load_count(server, *, internal: tuple[str, ...] = ("79-1",), council: bool = True):
    """Hà Nội 1 provisional in the night; every unit's official final record the next
    morning, public (but `internal` ones); then the Council's decision of 10/6."""
    by_province = defaultdict(list)
    for i, unit in enumerate(cand.units()):
        by_province[unit.code].append((i, unit))
    for code, units in by_province.items():
        async with bureau(server, await server.token(code)) as b:
            if code == "01":
                night = report(
                    "result",
                    as_of=NIGHT,
                    unit=1,
                    stage="provisional",
                    areas_counted=40,
                    areas_total=60,
                    audience="public",
                    **count(units[0][1], 0.6),
                )
                answer = await b.send(night)
                assert answer["type"] == "ack", answer
            for i, unit in units:
                audience = "internal" if unit.id in internal else "public"
                answer = await b.send(
                    report(
                        "result",
                        as_of=final_at(i),
                        unit=unit.unit,
                        stage="final",
                        audience=audience,
                        **count(unit),
                    )
                )
                assert answer["type"] == "ack", (unit.id, answer)
    if council:
        token = await server.token(role="editor")
        async with httpx.AsyncClient(base_url=server.http) as c:
            r = await c.post(
                "/api/results/confirmation",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "candidate": REFUSED,
                    "confirmed": False,
                    "source": "NQ 746/NQ-HĐBCQG, 10/6/2021",
                    "as_of": COUNCIL,
                },
            )
            assert r.status_code == 200, r.text


async def editor_client(server) -> httpx.AsyncClient:
    token = await server.token(role="editor")
    return httpx.AsyncClient(
        base_url=server.http, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def confirmed_ids() -> set[str]:
    return {cid for cid, o in cand.official_results().items() if o.confirmed}


async def public_results(server, at: str | None = None) -> dict:
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.get("/api/results", params={"at": at} if at else None)
        assert r.status_code == 200, r.text
        return r.json()


# --- winners ------------------------------------------------------------------------------


async def test_winners_csv_has_the_499_confirmed_with_their_attributes(server):
    await load_count(server, internal=())
    async with await editor_client(server) as c:
        r = await c.get("/charts/winners.csv", params={"lang": "en"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.text.startswith("\ufeff")
        rows = csv_rows(r.text)
        assert list(rows[0]) == list(WINNER_FIELDS)
        assert len(rows) == 499
        assert {row["id"] for row in rows} == confirmed_ids()
        assert sum(row["gender"] == "F" for row in rows) == 151
        assert sum(row["former_deputy"] == "True" for row in rows) == 203
        trong = next(row for row in rows if row["id"] == "01-1-3")
        assert trong["name"] == "Nguyễn Phú Trọng" and trong["province"] == "Ha Noi"
        assert (trong["unit"], trong["votes"], trong["pct"]) == ("1", "557717", "93.23")
        assert trong["confirmed"] == "" and trong["as_of"] == final_at(0)
        # before the Council's decision: all 500 elected
        before = csv_rows((await c.get("/charts/winners.csv", params={"at": MORNING})).text)
        assert len(before) == 500 and REFUSED in {row["id"] for row in before}
        data = (await c.get("/charts/winners.json", params={"at": MORNING})).json()
        assert len(data["winners"]) == 500 and data["at"] == MORNING
        assert set(data["winners"][0]) == set(WINNER_FIELDS)
        # numbers only
        for fmt in ("png", "svg", "html", "plotly"):
            assert (await c.get(f"/charts/winners.{fmt}")).status_code == 404, fmt


# --- what the charts read -------------------------------------------------------------------


async def test_chart_numbers_are_the_public_results_of_that_moment(server):
    await load_count(server)
    async with await editor_client(server) as c:
        for at in (NIGHT, MORNING, COUNCIL):
            body = await public_results(server, at)
            data = (await c.get("/charts/hemicycle.json", params={"at": at})).json()
            for key in ("seq", "at", "summary", "units"):
                assert data[key] == body[key], (at, key)
        # the internal result of HCMC unit 1 is in no public chart
        unit = (await c.get("/charts/unit.json", params={"unit": "79-1"})).json()["units"][0]
        assert unit["status"] == "waiting" and unit["as_of"] is None
        rows = csv_rows((await c.get("/charts/results_map.csv")).text)
        hcm = next(row for row in rows if row["code"] == "79")
        assert (hcm["declared"], hcm["waiting"]) == ("9", "1")
        winners = csv_rows((await c.get("/charts/winners.csv")).text)
        assert not {row["id"] for row in winners} & {
            c.id for c in cand.unit_index()[("79", 1)].candidates
        }
        assert len(winners) == 499 - 3
        fig = (await c.get("/charts/hemicycle.plotly")).json()
        drawn = {
            (t["meta"]["category"], t["meta"]["state"]): t["meta"]["count"] for t in fig["data"]
        }
        assert drawn[("F", "seated")] + drawn[("M", "seated")] == 496
        assert drawn[(None, "empty")] == 4


async def test_at_shows_the_count_of_that_moment_and_the_as_of_is_what_is_shown(server):
    await load_count(server)
    async with await editor_client(server) as c:
        fig = (await c.get("/charts/hemicycle.plotly", params={"at": NIGHT, "lang": "en"})).json()
        drawn = {
            (t["meta"]["category"], t["meta"]["state"]): t["meta"]["count"] for t in fig["data"]
        }
        # the night: Hà Nội 1 counting, its three leaders lighter, no seat filled
        assert drawn[("F", "seated")] + drawn[("M", "seated")] == 0
        assert drawn[("F", "leading")] + drawn[("M", "leading")] == 3
        assert fig["layout"]["meta"]["at"] == NIGHT
        assert i18n.as_of_label(NIGHT, "en") in fig["layout"]["title"]["subtitle"]["text"]
        # the unit chart of that moment: provisional, leading, never elected
        fig = (
            await c.get("/charts/unit.plotly", params={"unit": "01-1", "at": NIGHT, "lang": "en"})
        ).json()
        words = json.dumps([a["text"] for a in fig["layout"]["annotations"]])
        assert "Leading" in words and "Elected" not in words
        assert "Provisional count" in fig["layout"]["title"]["subtitle"]["text"]
        # without at: the unit's own latest result, not the clock
        fig = (await c.get("/charts/unit.plotly", params={"unit": "01-2"})).json()
        assert fig["layout"]["meta"]["at"] == final_at(1)
        r = await c.get("/charts/unit.png", params={"unit": "01-2"})
        assert (
            'filename="votewire-unit-01-2-vi-web-20210524-0801.png"'
            in r.headers["content-disposition"]
        )
        # the whole count: the latest result shown
        latest = max(final_at(i) for i, u in enumerate(cand.units()) if u.id != "79-1")
        fig = (await c.get("/charts/results_map.plotly")).json()
        assert fig["layout"]["meta"]["at"] == latest


# --- refusals -------------------------------------------------------------------------------


async def test_an_unknown_or_missing_unit_is_refused(server):
    async with await editor_client(server) as c:
        for params in ({"unit": "99-9"}, {"unit": "01-99"}, {"unit": "01"}, {}):
            r = await c.get("/charts/unit.png", params=params)
            assert r.status_code == 422, (params, r.text)
            body = r.json()
            assert (body["type"], body["code"], body["field"]) == ("error", "invalid", "unit")
        r = await c.get("/charts/hemicycle.png", params={"dimension": "age"})
        assert r.status_code == 422 and r.json()["field"] == "dimension"
        assert (await c.get("/charts/hemicycle.png", params={"lang": "de"})).status_code == 422
        assert (await c.get("/charts/hemicycle.gif")).status_code == 404
    async with httpx.AsyncClient(base_url=server.http) as anonymous:
        assert (await anonymous.get("/charts/winners.csv")).status_code == 401


# --- the figures, rendered ------------------------------------------------------------------


async def test_results_charts_in_the_six_languages_and_four_sizes(server):
    await load_count(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    titles = {
        "hemicycle": "res_chart_hemicycle",
        "results_map": "res_chart_results_map",
        "composition": "res_chart_composition",
    }
    async with await editor_client(server) as c:
        for name, key in titles.items():
            for lang in i18n.LANGS:
                r = await c.get(f"/charts/{name}.plotly", params={"at": COUNCIL, "lang": lang})
                assert r.status_code == 200, (name, lang, r.text)
                layout = r.json()["layout"]
                assert i18n.label(key, lang) in layout["title"]["text"], (name, lang)
                assert i18n.as_of_label(COUNCIL, lang) in layout["title"]["subtitle"]["text"]
                sources = " ".join(a["text"] for a in layout["annotations"])
                assert i18n.label("source", lang) in sources, (name, lang)
        for name, size, lang in (
            ("hemicycle", "web", "vi"),
            ("hemicycle", "social-square", "en"),
            ("results_map", "social-wide", "fr"),
            ("composition", "print", "es"),
            ("unit", "web", "ru"),
            ("composition", "social-square", "zh"),
        ):
            params = {"at": COUNCIL, "size": size, "lang": lang, "unit": "74-1"}
            r = await c.get(f"/charts/{name}.png", params=params)
            assert r.status_code == 200, r.text
            with Image.open(io.BytesIO(r.content)) as img:
                assert img.format == "PNG" and img.size == figures.SIZES[size]
            SHOTS.joinpath(f"chart-{name}-{lang}-{size}.png").write_bytes(r.content)
        r = await c.get("/charts/composition.svg", params={"at": COUNCIL, "lang": "en"})
        assert r.headers["content-type"] == "image/svg+xml"
        comp = (await public_results(server, COUNCIL))["summary"]["composition"]
        assert comp["elected"] == 496  # HCMC 1 is internal
        women = i18n.fmt_pct(100 * comp["women"] / comp["elected"], "en")
        assert f">{women}</tspan> ({comp['women']})" in r.text and "plo.vn" in r.text
        rows = csv_rows((await c.get("/charts/composition.csv", params={"at": COUNCIL})).text)
        women = {row["term"]: row for row in rows if row["category"] == "women"}
        assert (women["XIII"]["count"], women["XIV"]["count"], women["XV"]["count"]) == (
            "122",
            "133",
            str(comp["women"]),
        )
        assert women["XIII"]["pct"] == "24.40" and women["XIII"]["deputies"] == "500"
        assert women["XV"]["pct"] == f"{100 * comp['women'] / 496:.2f}"
        assert women["XV"]["deputies"] == "496"
        religious = {row["term"]: row for row in rows if row["category"] == "religious"}
        assert religious["XIII"]["count"] == "" and religious["XIII"]["pct"] == ""
        assert religious["XV"]["count"] == str(comp["religious"])
        rows = csv_rows((await c.get("/charts/unit.csv", params={"unit": "74-1"})).text)
        nam = next(row for row in rows if row["id"] == REFUSED)
        assert (nam["elected"], nam["confirmed"]) == ("True", "False")


async def test_votewire_chart_draws_the_results_from_the_shell(server, tmp_path):
    """Five independent commands, run at once."""
    await load_count(server, internal=())
    env = {**os.environ, "DATABASE_URL": server.db_url, "VOTEWIRE_LOG": "WARNING"}
    png = tmp_path / "unit.png"
    winners, unit, hemicycle, bad_unit, bad_format = await asyncio.gather(
        votewire("chart", "winners", "-o", str(tmp_path / "winners.csv"), env=env),
        votewire(
            "chart", "unit", "--unit", "01-1", "--size", "social-square", "-o", str(png), env=env
        ),
        votewire(
            "chart",
            "hemicycle",
            "--at",
            MORNING,
            "--dimension",
            "region",
            "-o",
            str(tmp_path / "h.json"),
            env=env,
        ),
        votewire("chart", "unit", "--unit", "99-9", "-o", str(tmp_path / "x.png"), env=env),
        votewire("chart", "winners", "-o", str(tmp_path / "y.png"), env=env),
    )
    assert winners.returncode == 0, winners.stderr
    rows = csv_rows((tmp_path / "winners.csv").read_text(encoding="utf-8"))
    assert len(rows) == 499 and {row["id"] for row in rows} == confirmed_ids()
    assert unit.returncode == 0, unit.stderr
    with Image.open(png) as img:
        assert img.size == (1080, 1080)
    assert hemicycle.returncode == 0, hemicycle.stderr
    data = json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))
    assert data["summary"]["seats_filled"] == 500 and data["at"] == MORNING
    assert bad_unit.returncode == 2 and "unit" in bad_unit.stderr
    assert bad_format.returncode == 2 and "data only" in bad_format.stderr
