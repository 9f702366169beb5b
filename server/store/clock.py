"""The election clock's one row (contract §6; `server/migrations/004_clock.sql`)."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def election_clock(conn: asyncpg.Connection) -> dict | None:
    """The replay's setting (`clock`, `speed`, `set_at`), or None when the clock is live."""
    row = await conn.fetchrow("SELECT clock, speed, set_at FROM election_clock")
    return None if row is None else dict(row)


async def set_election_clock(
    conn: asyncpg.Connection, clock: datetime | None, speed: float, token_id: int | None
) -> None:
    """Store a replay's setting (None: back to live) and NOTIFY 'clock' on the feed's
    channel, so that every process reloads it and tells its viewers."""
    await conn.execute("SELECT set_election_clock($1, $2, $3)", clock, speed, token_id)
