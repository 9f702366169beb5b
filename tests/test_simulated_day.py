"""A full simulated election day through real sockets, with cut connections."""

from __future__ import annotations

import asyncpg
import websockets

from ingest import scenario, simulate
from ingest.fixtures import provinces
from tests.conftest import feed_message, issue


async def drain(viewer, until_seq: int) -> list[dict]:
    got: list[dict] = []
    while not got or got[-1]["seq"] < until_seq:
        msg = await feed_message(viewer, 20)
        assert msg["type"] in ("update", "batch"), msg["type"]
        got.extend(msg["updates"] if msg["type"] == "batch" else [msg])
    return got


async def test_a_day_with_dropped_sockets_stores_each_report_exactly_once(server):
    day = scenario.load()
    tokens = {p.code: await issue(server.db_url, p.code) for p in provinces()}
    async with websockets.connect(server.live_url(), max_size=2**24) as viewer:
        first = await feed_message(viewer)
        summary = await simulate.run(
            server.bureau_url, tokens, day, speed=0, seed=7, drop_rate=0.05
        )
        seen = await drain(viewer, until_seq=(await server.snapshot())["seq"])
    assert summary["cuts"] > 10, summary  # the faults really happened
    assert summary["acked"] == summary["events"] == len(day["events"])
    assert summary["refused"] == {}
    conn = await asyncpg.connect(server.db_url)
    ids = [r["id"] for r in await conn.fetch("SELECT id::text FROM reports")]
    await conn.close()
    assert len(ids) == len(set(ids)) == len(day["events"])
    assert set(ids) == {e["id"] for e in day["events"]}
    expected = scenario.expected_final(day)
    national = (await server.snapshot())["national"]
    assert national["voted"] == expected["voted"] == 69_243_604
    assert national["registered"] == expected["registered"] == 69_523_133
    assert national["provinces_reporting"] == 63
    at_1730 = (await server.snapshot(at="2021-05-23T17:30:00+07:00"))["national"]
    assert round(at_1730["turnout_pct"], 2) == 95.65 and at_1730["provinces_reporting"] == 63
    assert seen[-1]["national"] == national  # the viewer's last picture is the snapshot's
    seqs = [u["seq"] for u in seen]
    assert seqs == sorted(set(seqs)) and seen[0]["prev"] == first["seq"]
    prev = first["seq"]
    for u in seen:
        assert u["prev"] == prev
        prev = u["seq"]
