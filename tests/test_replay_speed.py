"""A replay at a high speed loses nothing, even when the server is slow to take the clock.

The server refuses an `as_of` more than 5 minutes after its election clock (contract §1, the
limit counted from the clock of §6), and during a replay the simulator sets that clock. The
server anchors a setting when it stores it, so a setting that takes 0.2 s to arrive leaves
the server's clock 12 replayed minutes behind the moment the simulator posted, at 3600
replayed seconds per second. The old simulator counted its clock from when it *sent* the
setting and sent the night's results on that count: most of them were refused as
`invalid as_of` (seen in `votewire demo --speed 900` on a busy machine, where a setting
occasionally took 0.1 s). The replay counts from when the answer came back (the server's
clock is never behind that) and moves the clock first when a report would be too far ahead.
"""

from __future__ import annotations

import asyncio

import httpx

from ingest import results_timeline, scenario, simulate
from ingest.fixtures import provinces
from server import store
from tests.conftest import issue

SLOW = 0.2
"""Seconds the server takes to store each setting of the clock (a busy pool or process)."""
SPEED = 900
"""The night of the count runs at 4 × 900, capped at 3600: 0.2 s are 12 replayed minutes."""
UNTIL = "2021-05-24T01:00"
"""The slice replayed: the count's first six hours (about 500 results, 6 s at 3600)."""


async def test_a_fast_replay_of_the_night_loses_no_result_when_the_clock_is_slow_to_set(
    server, monkeypatch
):
    stored = store.set_election_clock

    async def slowly(*args, **kwargs):
        await asyncio.sleep(SLOW)  # before the setting is stored: its `set_at` is this late
        await stored(*args, **kwargs)

    monkeypatch.setattr(store, "set_election_clock", slowly)
    timeline = results_timeline.build()
    night = {"reports": [r for r in timeline["reports"] if r["t"] < UNTIL], "decisions": []}
    tokens = {p.code: await issue(server.db_url, p.code) for p in provinces()}
    editor = await issue(server.db_url, None, "editor")

    summary = await simulate.run(
        server.bureau_url,
        tokens,
        {**scenario.load(), "events": []},  # the count alone, as `--part count`
        speed=SPEED,
        start="19:00",
        editor_token=editor,
        count=night,
    )

    assert summary["refused"] == {}, summary["refused"]
    assert summary["acked"] == summary["events"] == len(night["reports"]) > 400, summary
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as c:
        clock = (await c.get("/api/clock")).json()
    # The clock was the replay's throughout, and is held where the night's slice ended.
    assert clock["mode"] == "replay" and clock["speed"] == 0, clock
    assert clock["clock"][:10] == "2021-05-24", clock
