"""The change counter (`seq`) and the feed table the live viewers replay from."""

from __future__ import annotations

import asyncpg


async def last_seq(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT seq FROM counter")


async def last_seqs(conn: asyncpg.Connection) -> tuple[int, int]:
    """The last seq, and the last seq of a change public viewers were sent."""
    row = await conn.fetchrow("SELECT seq, public_seq FROM counter")
    return row["seq"], row["public_seq"]


async def feed_since(
    conn: asyncpg.Connection, after: int, *, limit: int = 5000
) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT seq, public_prev, public, internal FROM feed WHERE seq > $1 ORDER BY seq LIMIT $2",
        after,
        limit,
    )


async def feed_floor(conn: asyncpg.Connection) -> int:
    """The oldest seq the feed can still replay after (0 when it holds everything)."""
    return await conn.fetchval("SELECT coalesce(min(seq) - 1, 0) FROM feed")
