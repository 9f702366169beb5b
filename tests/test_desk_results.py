"""The results on the editors' desk (issue 13 item 3) and the phase 3 summary (item 7):
the race in a unit (margin, close, tie) in Python and in the page's JavaScript, the
official final list beside ours, the desk's results API, the summary from the web and the
command line, then the desk itself in Debian's Chromium.

Pure tests build contract §5 bodies with the law (`ingest.law.decide`) over the 2021
fixture; the rest runs real servers against real Postgres. Screenshots go to
tests/artifacts/editor/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime

import httpx
import pytest
from playwright.async_api import expect

from ingest import candidates
from ingest.law import Count, composition, decide
from ingest.results_view import results_summary, unit_result
from server.desk.results import (
    CLOSE_MARGIN_PCT,
    CLOSE_PCT,
    council_composition,
    desk_units,
    official_comparison,
    phase_results,
    race,
)
from tests.conftest import ARTIFACTS, ROOT, WAIT, Console, bureau, report

SHOTS = ARTIFACTS / "editor"
YEAR = 2021
AS_OF = datetime.fromisoformat("2021-05-27T18:00:00+07:00")
NAM = "74-1-2"
"""Trần Văn Nam (Bình Dương, unit 1): elected, not confirmed by the Council."""


# --- §5 bodies from the law over the fixture ---------------------------------------------


def unit_of(code: str, number: int) -> candidates.Unit:
    return candidates.unit_index()[(code, number)]


def entry(
    unit: candidates.Unit,
    votes: Mapping[str, int] | None,
    valid: int | None = None,
    stage: str = "final",
    confirmed: Mapping[str, bool | None] | None = None,
) -> dict:
    """A unit's §5 entry (`votes` None: waiting)."""
    ballot = [(c.id, c.birth_year) for c in unit.candidates]
    count = None if votes is None else Count(votes, valid, stage)  # type: ignore[arg-type]
    return unit_result(
        unit,
        decide(unit.seats, ballot, count),
        as_of=AS_OF if votes is not None else None,
        ballots_valid=valid if votes is not None else None,
        confirmed=confirmed,
    )


def official_votes(unit: candidates.Unit) -> dict[str, int]:
    return {c.id: candidates.official_results()[c.id].votes for c in unit.candidates}


def official_body(*, confirmations: bool = True, changed: Mapping[str, int] | None = None) -> dict:
    """Every unit final with the official votes (and valid ballots), the Council's
    decisions recorded or not; `changed` overrides some candidates' votes."""
    official = candidates.official_results()
    decided = {cid: o.confirmed for cid, o in official.items()} if confirmations else {}
    units, outcomes = [], []
    for unit in candidates.units():
        votes = {
            **official_votes(unit),
            **{k: v for k, v in (changed or {}).items() if k in official_votes(unit)},
        }
        valid = candidates.official_valid()[(unit.code, unit.unit)].middle
        ballot = [(c.id, c.birth_year) for c in unit.candidates]
        outcome = decide(unit.seats, ballot, Count(votes, valid, "final"))
        outcomes.append((unit, outcome))
        units.append(
            unit_result(unit, outcome, as_of=AS_OF, ballots_valid=valid, confirmed=decided)
        )
    return {
        "seq": 500,
        "at": AS_OF.isoformat(),
        "summary": results_summary(outcomes, YEAR, decided),
        "units": units,
    }


def invented(seats: int, votes: list[int], valid: int, stage: str = "final", years=None) -> dict:
    """A unit of Hà Nội's shape with invented candidates (ids 01-99-n)."""
    people = tuple(
        dataclasses.replace(
            unit_of("01", 1).candidates[0],
            id=f"01-99-{i + 1}",
            ballot_no=i + 1,
            name=f"Ứng cử viên {i + 1}",
            birth_year=(years or [1960 + i for i in range(len(votes))])[i],
        )
        for i in range(len(votes))
    )
    unit = candidates.Unit("01", 99, seats, "invented", people)
    return entry(unit, {c.id: v for c, v in zip(people, votes, strict=True)}, valid, stage)


# --- the race in a unit -------------------------------------------------------------------


def test_the_margin_is_the_last_seat_against_the_first_loser_in_votes_and_share():
    hn1 = entry(unit_of("01", 1), official_votes(unit_of("01", 1)), 598_212)
    r = race(hn1)
    ranked = sorted(hn1["candidates"], key=lambda c: c["rank"])
    assert r["winners"] == [c["id"] for c in ranked[:3]] and all(c["elected"] for c in ranked[:3])
    assert r["margin"] == ranked[2]["votes"] - ranked[3]["votes"] > 0
    assert r["margin_pct"] == pytest.approx(r["margin"] * 100 / 598_212)
    assert not r["close"] and r["reasons"] == [] and not r["tie"]


def test_a_winner_under_51_percent_or_a_margin_under_1_percent_is_a_close_race():
    under = race(invented(1, [505, 300, 195], 1000))  # elected with 50.5 %
    assert under["winners"] == ["01-99-1"] and under["reasons"] == ["under_51"]
    assert under["close"] and under["margin"] == 205
    narrow = race(invented(2, [700, 604, 598], 1000))  # 0.6 % between seat 2 and the loser
    assert narrow["reasons"] == ["margin"] and narrow["margin"] == 6
    assert narrow["margin_pct"] == pytest.approx(0.6)
    both = race(invented(1, [504, 497], 1000, stage="provisional"))
    assert both["winners"] == ["01-99-1"] and both["reasons"] == ["under_51", "margin"]
    clear = race(invented(1, [520, 480], 1000))  # 52 %, a 4 % margin
    assert not clear["close"]


def test_a_tie_for_the_last_seat_is_flagged_with_a_zero_margin():
    tie = invented(2, [800, 600, 600], 1000, years=[1960, 1970, 1970])
    r = race(tie)
    assert r["tie"] and r["margin"] == 0 and r["close"] and r["winners"] == ["01-99-1"]
    older = race(invented(2, [800, 600, 600], 1000, years=[1960, 1965, 1970]))
    assert not older["tie"] and older["winners"] == ["01-99-1", "01-99-2"]
    assert older["margin"] == 0 and older["reasons"] == ["margin"]


def test_a_waiting_unit_has_no_winner_no_margin_and_is_not_close():
    r = race(entry(unit_of("01", 1), None))
    assert r == {
        "winners": [],
        "margin": None,
        "margin_pct": None,
        "close": False,
        "reasons": [],
        "tie": False,
    }


def test_a_unit_is_pending_when_the_editors_entry_differs_from_the_public_one():
    hn1 = unit_of("01", 1)
    counted = entry(hn1, official_votes(hn1), 598_212, stage="provisional")
    waiting = entry(hn1, None)
    hn2 = entry(unit_of("01", 2), None)
    rows = desk_units([counted, hn2], [waiting, hn2], {"01-1": {"id": "x", "audience": "internal"}})
    assert [(r["id"], r["pending"], r["report"]) for r in rows] == [
        ("01-1", True, {"id": "x", "audience": "internal"}),
        ("01-2", False, None),
    ]
    assert desk_units([counted], [counted])[0]["pending"] is False


# --- the official final list beside ours ---------------------------------------------------


def test_the_official_outcome_beside_itself_has_no_difference():
    body = official_body()
    out = official_comparison(body["units"])
    assert out == {"units_compared": 184, "not_final": 0, "differences": []}
    assert body["summary"]["composition"] == dict(council_composition(YEAR))
    assert dict(council_composition(YEAR)) == {
        "elected": 499,
        "women": 151,
        "ethnic_minority": 89,
        "non_party": 14,
        "under_40": 47,
        "former_deputy": 203,
        "religious": 12,
    }


def test_every_difference_from_the_official_list_is_named():
    hn1 = unit_of("01", 1)
    loser = max(
        (c for c in hn1.candidates if not candidates.official_results()[c.id].elected),
        key=lambda c: candidates.official_results()[c.id].votes,
    )
    body = official_body(confirmations=False, changed={loser.id: 590_000, "01-2-5": 1})
    diffs = official_comparison(body["units"])["differences"]
    by = {(d["candidate"], tuple(d["fields"])): d for d in diffs}
    official = candidates.official_results()
    # votes only (a candidate far from a seat), votes and elected (the loser now wins),
    # and the winner the loser pushed out.
    assert by[("01-2-5", ("votes",))]["ours"]["votes"] == 1
    assert by[("01-2-5", ("votes",))]["official"]["votes"] == official["01-2-5"].votes
    won = by[(loser.id, ("votes", "elected"))]
    assert (won["code"], won["unit"], won["name"]) == ("01", 1, loser.name)
    assert won["ours"] == {"votes": 590_000, "elected": True, "confirmed": None}
    assert won["official"] == {
        "votes": official[loser.id].votes,
        "elected": False,
        "confirmed": None,
    }
    pushed = [
        d for d in diffs if d["code"] == "01" and d["unit"] == 1 and d["fields"] == ["elected"]
    ]
    assert len(pushed) == 1 and pushed[0]["ours"]["elected"] is False
    # The Council's non-confirmation not recorded yet is a difference; no decision is not.
    nam = by[(NAM, ("confirmed",))]
    assert nam["ours"]["confirmed"] is None and nam["official"]["confirmed"] is False
    assert len(diffs) == 4
    # A unit not final is counted, not compared; valid ballots off the official range are named.
    units = official_body()["units"]
    units[0] = entry(hn1, official_votes(hn1), 598_212, stage="provisional")
    bn = next(i for i, u in enumerate(units) if (u["code"], u["unit"]) == ("27", 1))
    units[bn] = {**units[bn], "ballots_valid": units[bn]["ballots_valid"] + 5000}
    out = official_comparison(units)
    assert out["units_compared"] == 183 and out["not_final"] == 1
    [valid] = out["differences"]
    assert valid["candidate"] is None and valid["fields"] == ["ballots_valid"]
    span = candidates.official_valid()[("27", 1)]
    assert valid["official"] == {"ballots_valid": span.middle, "low": span.low, "high": span.high}


def test_the_phase_results_count_list_and_compare_the_elected():
    body = official_body()
    out = phase_results(body, YEAR)
    assert out["complete"] and out["units_supplementary"] == 0
    assert len(out["elected"]) == 500 and out["summary"]["seats_filled"] == 499
    assert [e for e in out["elected"] if e["id"] == NAM][0]["confirmed"] is False
    assert out["elected"][0]["code"] == "01" and out["elected"][-1]["code"] == "96"
    assert out["official"]["differences"] == []
    assert all(r["reasons"] or r["tie"] for r in out["close"])
    margins = [r["margin_pct"] for r in out["close"]]
    assert margins == sorted(margins)
    seated = [
        candidates.candidate_index()[e["id"]] for e in out["elected"] if e["confirmed"] is not False
    ]
    assert composition(seated, YEAR) == out["council"]


def race_cases() -> list[dict]:
    """Units to put to both definitions of a race: the 184 of 2021 final, the same counted
    halfway (provisional), waiting, and invented edges (under 51 %, a narrow margin, a tie,
    nobody over half, no valid ballot)."""
    final = official_body()["units"]
    halfway = []
    for unit in candidates.units()[::3]:
        valid = candidates.official_valid()[(unit.code, unit.unit)].middle // 2
        votes = {k: v // 2 for k, v in official_votes(unit).items()}
        halfway.append(entry(unit, votes, valid, stage="provisional"))
    return [
        *final,
        *halfway,
        entry(unit_of("01", 1), None),
        invented(1, [505, 300, 195], 1000),
        invented(2, [700, 604, 598], 1000),
        invented(1, [504, 497], 1000, stage="provisional"),
        invented(2, [800, 600, 600], 1000, years=[1960, 1970, 1970]),
        invented(2, [400, 300, 200], 1000),
        invented(1, [0, 0], 0),
    ]


@pytest.mark.browser
async def test_the_pages_race_is_the_servers_race(server, chromium):
    """The desk applies live updates with editor-results.js `race`; it must say what
    server/desk/results.py `race` says, unit for unit."""
    cases = race_cases()
    context = await chromium.new_context(base_url=server.http)
    page = await context.new_page()
    await page.goto("/healthz")
    got = await page.evaluate(
        """async ([cases, closePct, marginPct]) => {
            const m = await import("/static/editor-results.js");
            return cases.map((u) => m.race(u, closePct, marginPct));
        }""",
        [json.loads(json.dumps(cases)), CLOSE_PCT, CLOSE_MARGIN_PCT],
    )
    await context.close()
    want = [race(u) for u in cases]
    assert len(got) == len(want) == 184 + 62 + 7
    assert got == want
    assert sum(r["close"] for r in want) >= 6 and any(r["tie"] for r in want)


# --- the desk's results API and the phase 3 summary ----------------------------------------


FINAL_AT = "2021-05-25T10:00:00+07:00"
NIGHT_AT = "2021-05-23T22:00:00+07:00"
COUNCIL_AT = "2021-06-10T09:00:00+07:00"
BD1_LOSER = "74-1-5"
"""Bình Dương unit 1's last candidate: far from a seat, the difference injected."""
CLOSE_HN1 = {"01-1-3": 900, "01-1-2": 800, "01-1-1": 502, "01-1-4": 498, "01-1-5": 100}
"""Hà Nội unit 1 invented: the third seat's leader at 50.2 %, 4 votes (0.4 %) ahead."""


@contextlib.asynccontextmanager
async def signed_in(server, name: str = "Biên tập viên A"):
    """An HTTP client holding an editor's session cookie (and its token)."""
    token = await server.token(role="editor")
    async with httpx.AsyncClient(base_url=server.http, timeout=60) as client:
        r = await client.post("/editor/signin", json={"token": token, "name": name})
        assert r.status_code == 200, r.text
        client.token = token  # type: ignore[attr-defined]
        yield client


def result(code: str, number: int, *, as_of: str = FINAL_AT, **data) -> dict:
    """A `result` report for a unit of the fixture: final, the official votes and valid
    ballots unless given."""
    unit = unit_of(code, number)
    body = {
        "unit": number,
        "ballots_valid": candidates.official_valid()[(code, number)].middle,
        "votes": official_votes(unit),
        "stage": "final",
        **data,
    }
    return report("result", as_of=as_of, **body)


def bd1_injected() -> dict:
    """Bình Dương unit 1, final, the official count but 1,000 more votes for its last
    candidate (internal: a bureau's default)."""
    votes = official_votes(unit_of("74", 1))
    votes[BD1_LOSER] += 1000
    return result("74", 1, votes=votes)


def hn1_close() -> dict:
    return result(
        "01",
        1,
        as_of=NIGHT_AT,
        votes=CLOSE_HN1,
        ballots_valid=1000,
        stage="provisional",
        areas_counted=12,
        areas_total=40,
        audience="public",
    )


async def send(server, code: str, *reports: dict) -> None:
    async with bureau(server, await server.token(code)) as b:
        for r in reports:
            ack = await b.send(r)
            assert ack["type"] == "ack", ack


def by_unit(body: dict) -> dict[str, dict]:
    return {u["id"]: u for u in body["units"]}


async def test_the_desk_marks_internal_results_close_races_and_names_official_differences(
    server,
):
    bd1 = bd1_injected()
    await send(server, "74", bd1)
    await send(server, "01", hn1_close())
    async with signed_in(server) as c:
        desk = (await c.get("/editor/api/results")).json()
        units = by_unit(desk)
        assert len(units) == 184 and desk["close_pct"] == 51.0
        bd, hn = units["74-1"], units["01-1"]
        elected = {
            c.id for c in unit_of("74", 1).candidates if candidates.official_results()[c.id].elected
        }
        assert bd["status"] == "declared" and bd["pending"]
        assert bd["report"]["id"] == bd1["id"] and bd["report"]["audience"] == "internal"
        assert bd["report"]["stage"] == "final"  # sent before the page: still publishable
        assert set(bd["race"]["winners"]) == elected and not bd["race"]["close"]
        assert hn["status"] == "counting" and not hn["pending"]
        assert hn["race"]["reasons"] == ["under_51", "margin"] and hn["race"]["margin"] == 4
        assert hn["race"]["winners"] == ["01-1-3", "01-1-2", "01-1-1"]
        assert desk["summary"]["seats_filled"] == 3 and desk["public_summary"]["seats_filled"] == 0
        async with httpx.AsyncClient(base_url=server.http) as anonymous:
            public = by_unit_plain((await anonymous.get("/api/results")).json())
        assert public["74-1"]["status"] == "waiting" and public["01-1"]["status"] == "counting"

        official = (await c.get("/editor/api/results/official")).json()
        assert official["units_compared"] == 1 and official["not_final"] == 183
        assert not official["complete"] and official["council"]["elected"] == 499
        named = {(d["candidate"], tuple(d["fields"])) for d in official["differences"]}
        assert named == {(BD1_LOSER, ("votes",)), (NAM, ("confirmed",))}
        loser = next(d for d in official["differences"] if d["candidate"] == BD1_LOSER)
        want = candidates.official_results()[BD1_LOSER].votes
        assert loser["ours"]["votes"] == want + 1000 and loser["official"]["votes"] == want
        assert (loser["code"], loser["unit"]) == ("74", 1)

        # The desk publishes the unit's result; the Council's decision closes the difference.
        r = await c.post(f"/editor/api/reports/{bd1['id']}/publish", json={"why": "đã đối chiếu"})
        assert r.json()["outcome"] == "done"
        r = await c.post(
            "/api/results/confirmation",
            json={"candidate": NAM, "confirmed": False, "source": "NQ 746/NQ-HĐBCQG"},
        )
        assert r.status_code == 200 and r.json()["confirmed"] is False
        after = by_unit((await c.get("/editor/api/results")).json())
        assert not after["74-1"]["pending"]
        assert [x["confirmed"] for x in after["74-1"]["candidates"] if x["id"] == NAM] == [False]
        official = (await c.get("/editor/api/results/official")).json()
        assert [d["candidate"] for d in official["differences"]] == [BD1_LOSER]
        assert official["summary"]["seats_filled"] == 2


def by_unit_plain(body: dict) -> dict[str, dict]:
    return {f"{u['code']}-{u['unit']}": u for u in body["units"]}


async def test_the_phase_3_summary_covers_the_results_on_the_web_and_the_command_line(server):
    await send(
        server, "74", {**bd1_injected(), "data": {**bd1_injected()["data"], "audience": "public"}}
    )
    await send(server, "01", hn1_close())
    await send(server, "79", result("79", 1, audience="internal"))  # internal: left out
    async with signed_in(server) as c:
        r = await c.post(
            "/api/clock",
            json={"clock": COUNCIL_AT, "speed": 0},
            headers={"Authorization": f"Bearer {c.token}"},
        )
        assert r.status_code == 200, r.text
        r = await c.post(
            "/api/results/confirmation",
            json={"candidate": NAM, "confirmed": False, "source": "NQ 746/NQ-HĐBCQG"},
        )
        assert r.status_code == 200, r.text
        text = (await c.get("/editor/summary.csv", params={"phase": 3})).text.lstrip("\ufeff")
        html = (await c.get("/editor/summary", params={"phase": 3, "chart": "0"})).text
        en = (await c.get("/editor/summary", params={"phase": 3, "chart": "0", "lang": "en"})).text
    lines = text.replace("\r\n", "\n")
    rows = lines.split("\n")
    block = rows.index("# Kết quả bầu cử đại biểu Quốc hội")
    assert (
        rows[block + 1]
        == "units_total,units_reporting,units_declared,units_supplementary,seats_total,seats_filled"
    )
    assert rows[block + 2] == "184,2,1,0,500,2"  # 74-1 declared, 01-1 counting; Nam not seated
    assert "elected,2," in text  # the composition: ours, the Council's column left empty
    assert f"74,1,{NAM},Trần Văn Nam (Trần Quốc Tuấn)," in text and f"{NAM}" in text
    assert re.search(rf"^74,1,{NAM},[^\n]*,False$", lines, re.M)
    assert re.search(r"^01,1,counting,4,0\.40,under_51 margin,False$", lines, re.M)
    want = candidates.official_results()[BD1_LOSER].votes
    assert f"74,1,{BD1_LOSER},Nguyễn Phú Thịnh,votes,{want + 1000},{want}," in text
    assert "79,1," not in text  # an internal result stays out of what the agency files
    assert '<h2 id="results">Kết quả bầu cử đại biểu Quốc hội</h2>' in html
    assert "Trần Văn Nam (Trần Quốc Tuấn)" in html and "Không xác nhận" in html
    assert "Nguyễn Phú Thịnh" in html and "Sát nút" not in html  # reasons are spelled out
    assert "Cách biệt ghế cuối dưới 1 % phiếu hợp lệ" in html
    assert "National Assembly results" in en and "Differences from the official list" in en
    out = subprocess.run(
        [sys.executable, "-m", "server", "summary", "--phase", "3"],
        env={**os.environ, "DATABASE_URL": server.db_url, "VOTEWIRE_LOG": "WARNING"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.replace("\r\n", "\n") == text.replace("\r\n", "\n")


# --- the desk in a browser ---------------------------------------------------------------


@pytest.mark.browser
async def test_the_desks_results_table_in_chromium_live_close_confirmed_and_official(
    server, chromium
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    await send(server, "79", result("79", 1))  # internal, before the desk opens
    editor_token = await server.token(role="editor")
    context = await chromium.new_context(
        viewport={"width": 1366, "height": 768}, base_url=server.http, timezone_id="Europe/Paris"
    )
    context.set_default_timeout(WAIT)
    page = await context.new_page()
    console = Console(page, server.http)
    await page.goto("/editor")
    await page.locator('input[name="token"]').fill(editor_token)
    await page.locator('input[name="name"]').fill("Trực ban kết quả")
    await page.locator('button[type="submit"]').click()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await page.locator('#views button[data-view="results"]').click()
    rows = page.locator("#results tbody tr")
    await expect(rows).to_have_count(184)
    await expect(page.locator('#results tr[data-status="waiting"]')).to_have_count(183)
    hcm = page.locator('#results tr[data-unit="79-1"]')
    await expect(hcm).to_have_attribute("data-pending", "1")
    await expect(hcm.locator(".rchip.int")).to_have_text("Nội bộ · chưa công bố")
    await page.locator("#res-status").select_option("pending")
    await expect(rows).to_have_count(1)
    await page.locator("#res-status").select_option("")
    await expect(page.locator("#summary-link")).to_have_attribute("href", re.compile("phase=3"))

    # Live: a bureau's final result (internal) and another's close provisional count.
    bd1 = bd1_injected()
    await send(server, "74", bd1)
    bd_row = page.locator('#results tr[data-unit="74-1"]')
    await expect(bd_row).to_have_attribute("data-status", "declared")
    await expect(bd_row).to_have_attribute("data-pending", "1")
    await expect(bd_row.locator(".winners .line")).to_have_count(3)
    await send(server, "01", hn1_close())
    hn_row = page.locator('#results tr[data-unit="01-1"]')
    await expect(hn_row).to_have_attribute("data-close", "1")
    await expect(hn_row).to_have_attribute("data-status", "counting")
    await expect(hn_row.locator(".rchip.close")).to_have_text("Sát nút")
    await expect(hn_row.locator(".margin")).to_have_text(re.compile(r"^4\s*0,40\s*%$"))
    await expect(hn_row.locator("td.status")).to_contain_text("12/40")
    await page.locator("#res-close-first").check()
    await expect(rows.first).to_have_attribute("data-unit", "01-1")
    await page.screenshot(path=str(SHOTS / "results-live-close.png"))
    await page.locator("#res-close-first").uncheck()

    # Publish the unit's result from the table.
    await bd_row.locator('button[data-action="publish"]').click()
    await expect(bd_row).to_have_attribute("data-pending", "0")
    async with httpx.AsyncClient(base_url=server.http) as anonymous:
        public = by_unit_plain((await anonymous.get("/api/results")).json())
    assert public["74-1"]["status"] == "declared"

    # The Council's decision on a winner, recorded from the unit's panel.
    await bd_row.click()
    panel = page.locator("#res-unit")
    await expect(panel.locator("h3")).to_contain_text("Bình Dương")
    nam = panel.locator(f'tr[data-confirm-for="{NAM}"] .confirmation')
    await expect(nam).to_have_attribute("data-state", "none")
    await nam.locator("input.source").fill("NQ 746/NQ-HĐBCQG, 10/6/2021")
    await nam.locator('button[data-confirm="false"]').click()
    await expect(nam).to_have_attribute("data-state", "no")
    await expect(nam.locator(".rchip")).to_have_text("Không xác nhận")
    await expect(bd_row.locator(".conf.no")).to_have_count(1)
    seated = unit_of("79", 1).seats + 3 - 1  # Nam is no longer seated
    await expect(page.locator("#res-counts")).to_contain_text(f"{seated}/500")
    await page.screenshot(path=str(SHOTS / "results-unit-confirmation.png"))

    # The official list beside ours names the injected difference.
    await page.locator('#res-tabs button[data-rtab="official"]').click()
    diff = page.locator(f'#res-official tr[data-candidate="{BD1_LOSER}"]')
    await expect(diff).to_have_count(1)
    want = candidates.official_results()[BD1_LOSER].votes
    await expect(diff).to_contain_text(f"{want + 1000:,}".replace(",", "."))
    await expect(diff).to_contain_text(f"{want:,}".replace(",", "."))
    await expect(diff).to_contain_text("Nguyễn Phú Thịnh")
    await expect(page.locator("#res-official tbody tr[data-candidate]")).to_have_count(1)
    await page.screenshot(path=str(SHOTS / "results-official.png"))

    # The same desk in English.
    await page.goto("/editor?view=results&lang=en")
    await expect(page.locator("#results tbody tr")).to_have_count(184)
    await page.locator("#res-status").select_option("close")
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    await page.locator('#results tr[data-unit="01-1"]').click()
    await expect(page.locator("#res-unit .rchip.leading")).to_have_count(3)
    await page.screenshot(path=str(SHOTS / "results-en-close.png"))
    console.check()
    await context.close()


# --- the desk's words ------------------------------------------------------------------------

DESK_SOURCES = (
    ROOT / "dashboards/static/editor-results.js",
    ROOT / "dashboards/templates/editor.html",
    ROOT / "dashboards/templates/editor_summary.html",
    ROOT / "server/desk/summary.py",
)
DRAWN_BY_NAME = ("dres_status_", "dres_stage_", "dres_close_", "dres_comp_", "dres_field_")
"""Keys the code names with a value after the prefix (a status, a stage, a reason…)."""


def test_every_desk_results_word_is_in_vietnamese_and_english_and_every_one_is_used():
    from dashboards.catalogue import LABELS

    ours = {k: v for k, v in LABELS.items() if k.startswith("dres_")}
    assert all(len(v) == 2 and all(x.strip() for x in v) for v in ours.values()), ours
    text = "\n".join(p.read_text(encoding="utf-8") for p in DESK_SOURCES)
    named = set(re.findall(r"\bdres_[a-z0-9_]+[a-z0-9]", text))
    missing = {k for k in named if k not in LABELS and not k.endswith(DRAWN_BY_NAME)}
    missing -= {p.rstrip("_") for p in DRAWN_BY_NAME}
    assert not missing, f"named but not in the catalogue: {sorted(missing)}"
    unused = {k for k in ours if k not in named and not k.startswith(DRAWN_BY_NAME)}
    assert not unused, f"unused: {sorted(unused)}"
    for prefix, values in {
        "dres_status_": ("waiting", "counting", "declared", "supplementary"),
        "dres_stage_": ("provisional", "final"),
        "dres_close_": ("under_51", "margin"),
        "dres_field_": ("votes", "elected", "confirmed", "ballots_valid"),
        "dres_comp_": tuple(council_composition(YEAR)),
    }.items():
        assert {prefix + v for v in values} == {k for k in ours if k.startswith(prefix)}
