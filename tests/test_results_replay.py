"""The count of 2021 replayed end to end: `votewire simulate --part count --speed 0` (the
command, in its own process) against a real server, then `/api/results` as the public reads
it. Every result is stored exactly once (a second replay is all duplicates), the law on the
finals elects the official 500, the Council's decisions leave 499 with its make-up, and a
moment of the night shows the count as it stood then.

Only the count is replayed (`--part count`): the turnout day is tests/test_simulated_day.py's,
and leaving it out keeps this module to a few seconds of replay."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from datetime import datetime

import asyncpg
import httpx
import pytest

from ingest import results_timeline
from ingest.candidates import official_results
from ingest.fixtures import provinces
from tests.conftest import ROOT, issue, serve_in_loop, with_db

COMPOSITION_2021 = {
    "elected": 499, "women": 151, "ethnic_minority": 89, "non_party": 14,
    "under_40": 47, "former_deputy": 203, "religious": 12,
}  # fmt: skip
"""The National Election Council's figures for the confirmed 499 (10/6/2021)."""
BEFORE_THE_COUNCIL = "2021-06-10T09:59:00+07:00"
THE_NIGHT = "2021-05-24T06:00:00+07:00"


async def simulate(srv, tokens_file: str, editor: str) -> dict:
    """`votewire simulate --part count --speed 0`; its summary (the last line it prints)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "simulate", "--part", "count", "--speed", "0",
        "--url", srv.bureau_url, "--tokens", tokens_file, "--editor-token", editor, "--quiet",
        cwd=ROOT, env={**os.environ, "VOTEWIRE_LOG": "WARNING"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode == 0, (out.decode()[-2000:], err.decode()[-2000:])
    return json.loads(out.decode().strip().splitlines()[-1])


@pytest.fixture(scope="module")
async def counted(pg_url, template, tmp_path_factory):
    """A server on which the count has been replayed once."""
    name = f"vw_count_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    await admin.close()
    url = with_db(pg_url, name)
    try:
        async with serve_in_loop(url) as srv:
            tokens = {p.code: await issue(url, p.code) for p in provinces()}
            tokens_file = tmp_path_factory.mktemp("count") / "tokens.json"
            tokens_file.write_text(json.dumps(tokens))
            editor = await issue(url, None, "editor")
            first = await simulate(srv, str(tokens_file), editor)
            yield {"server": srv, "tokens": str(tokens_file), "editor": editor, "first": first}
    finally:
        admin = await asyncpg.connect(pg_url)
        with contextlib.suppress(Exception):
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def results(srv, at: str | None = None) -> dict:
    async with httpx.AsyncClient(base_url=srv.http, timeout=60) as c:  # public: no token
        r = await c.get("/api/results", params={"at": at} if at else None)
        r.raise_for_status()
        return r.json()


async def stored_results(db_url: str) -> list[str]:
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch("SELECT id::text FROM reports WHERE kind = 'result'")
    finally:
        await conn.close()
    return [r["id"] for r in rows]


def elected_by_unit(body: dict) -> dict[str, set[str]]:
    return {
        f"{u['code']}-{u['unit']}": {c["id"] for c in u["candidates"] if c["elected"]}
        for u in body["units"]
    }


async def test_a_replayed_count_stores_every_result_once_and_a_second_replay_only_duplicates(
    counted,
):
    timeline = results_timeline.build()
    first, srv = counted["first"], counted["server"]
    assert first["results"] == first["events"] == len(timeline["reports"])
    assert first["acked"] == first["events"] and first["duplicates"] == 0, first
    assert first["refused"] == {}, first
    assert first["confirmations"] == {"sent": 500, "ok": 500, "refused": {}}, first
    ids = await stored_results(srv.db_url)
    assert len(ids) == len(set(ids)) == len(timeline["reports"])
    assert set(ids) == {r["id"] for r in timeline["reports"]}
    before = await results(srv)

    again = await simulate(srv, counted["tokens"], counted["editor"])
    assert again["acked"] == again["duplicates"] == len(timeline["reports"]), again
    assert again["confirmations"]["ok"] == 500, again  # the same decisions: nothing changes
    assert sorted(await stored_results(srv.db_url)) == sorted(ids)
    after = await results(srv)
    assert after["summary"] == before["summary"] and after["units"] == before["units"]


async def test_the_count_declares_every_unit_and_elects_the_official_winners(counted):
    body = await results(counted["server"])
    summary = body["summary"]
    assert summary["units_total"] == summary["units_declared"] == 184, summary
    assert summary["units_reporting"] == 184 and summary["seats_total"] == 500
    assert {u["status"] for u in body["units"]} == {"declared"}
    assert {u["stage"] for u in body["units"]} == {"final"}
    official: dict[str, set[str]] = {}
    for cid, o in official_results().items():
        official.setdefault(cid.rsplit("-", 1)[0], set())
        if o.elected:
            official[cid.rsplit("-", 1)[0]].add(cid)
    assert elected_by_unit(body) == official
    votes = {c["id"]: c["votes"] for u in body["units"] for c in u["candidates"]}
    assert votes == {cid: o.votes for cid, o in official_results().items()}


async def test_the_council_leaves_499_deputies_with_its_make_up(counted):
    srv = counted["server"]
    before = (await results(srv, BEFORE_THE_COUNCIL))["summary"]
    assert before["seats_filled"] == 500 and before["composition"]["elected"] == 500, before
    body = await results(srv)
    assert body["summary"]["seats_filled"] == 499, body["summary"]
    assert body["summary"]["composition"] == COMPOSITION_2021
    decided = {c["id"]: c["confirmed"] for u in body["units"] for c in u["candidates"]}
    assert [cid for cid, ok in decided.items() if ok is False] == ["74-1-2"]
    assert sum(ok is True for ok in decided.values()) == 499
    bd1 = next(u for u in body["units"] if (u["code"], u["unit"]) == ("74", 1))
    assert bd1["status"] == "declared"  # a non-confirmation leaves the unit declared


async def test_a_moment_of_the_night_shows_the_count_as_it_stood(counted):
    body = await results(counted["server"], THE_NIGHT)
    summary = body["summary"]
    assert summary["units_reporting"] == 184 and summary["units_declared"] == 0, summary
    assert summary["seats_filled"] == 0 and summary["composition"]["elected"] == 0
    assert {u["status"] for u in body["units"]} == {"counting"}
    assert not any(c["elected"] for u in body["units"] for c in u["candidates"])
    # each unit's figures are its latest provisional report at that moment
    at = datetime.fromisoformat(THE_NIGHT)
    latest: dict[str, dict] = {}
    for r in results_timeline.build()["reports"]:
        if datetime.fromisoformat(r["t"]) <= at:
            latest[f"{r['province']}-{r['data']['unit']}"] = r["data"]
    for u in body["units"]:
        mine = latest[f"{u['code']}-{u['unit']}"]
        assert u["stage"] == "provisional"
        assert (u["ballots_valid"], u["areas_counted"]) == (
            mine["ballots_valid"],
            mine["areas_counted"],
        )
        assert {c["id"]: c["votes"] for c in u["candidates"]} == mine["votes"]


async def test_the_replay_leaves_the_election_clock_at_the_councils_decisions(counted):
    async with httpx.AsyncClient(base_url=counted["server"].http) as c:
        clock = (await c.get("/api/clock")).json()
    assert clock["mode"] == "replay" and clock["speed"] == 0, clock
    assert datetime.fromisoformat(clock["clock"]) == results_timeline.COUNCIL_AT
