"""A report ahead of this process's clock during a replay: the clock is read again before
the report is refused, since another process may just have moved it (a rehearsal behind
nginx) and its NOTIFY may not have arrived yet."""

from __future__ import annotations

import asyncpg

from tests.conftest import bureau, report
from tests.test_clock import set_clock


async def move_clock_quietly(db_url: str, clock: str) -> None:
    """What another process's clock setting looks like before its NOTIFY arrives."""
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "UPDATE election_clock SET clock = $1::text::timestamptz, set_at = now()", clock
        )
    finally:
        await conn.close()


async def test_a_report_after_a_clock_moved_elsewhere_is_accepted(server):
    editor = await server.token(None, role="editor")
    await set_clock(server, editor, clock="2021-05-23T10:00:00+07:00", speed=0)
    await move_clock_quietly(server.db_url, "2021-05-23T12:00:00+07:00")
    async with bureau(server, await server.token("01")) as b:
        ahead = await b.send(report(as_of="2021-05-23T11:58:00+07:00", voted=1000))
        assert ahead["type"] == "ack", ahead
        future = await b.send(report(as_of="2021-05-23T12:06:00+07:00", voted=1001))
        assert future["type"] == "error" and future["field"] == "as_of", future
