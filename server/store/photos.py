"""Bureau photos: stored re-encoded, reviewed by an editor, shown when approved; what a
token and a province have used of their photo rate and quota."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

PHOTO_LOCK = 7_472_013
"""Advisory lock taken to count and insert as one step (every process adds photos)."""
RATE_WINDOW = "1 minute"
"""The window of the per-token photo rate (`PhotoLimits.per_minute`)."""
ID_MAX = 2**63 - 1
"""Largest photo id (bigserial): a larger one names no photo."""


@dataclass(frozen=True)
class PhotoLimits:
    per_minute: int
    """Photos one token may add in any minute."""
    quota: int
    """Photos one province may have in all (pending, approved and rejected)."""


@dataclass(frozen=True)
class PhotoUsage:
    recent: int
    """Photos the token added in the last minute."""
    province: int
    """Photos the province has, every status."""

    def within(self, limits: PhotoLimits) -> bool:
        return self.recent < limits.per_minute and self.province < limits.quota


async def photo_usage(conn: asyncpg.Connection, *, token_id: int, province: str) -> PhotoUsage:
    row = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE token_id = $1
                                     AND uploaded_at > now() - interval '{RATE_WINDOW}') AS recent,
                   count(*) FILTER (WHERE province = $2) AS province
            FROM photos WHERE token_id = $1 OR province = $2""",
        token_id,
        province,
    )
    return PhotoUsage(row["recent"], row["province"])


async def add_photo(
    conn: asyncpg.Connection,
    *,
    province: str,
    caption: str,
    jpeg: bytes,
    width: int,
    height: int,
    token_id: int,
    limits: PhotoLimits,
) -> int | PhotoUsage:
    """The new photo's id, or, when the token's rate or the province's quota is used up,
    the usage that refuses it (nothing stored). Counting and inserting hold `PHOTO_LOCK`,
    so concurrent uploads on any process cannot overshoot a limit together."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", PHOTO_LOCK)
        usage = await photo_usage(conn, token_id=token_id, province=province)
        if not usage.within(limits):
            return usage
        return await conn.fetchval(
            """INSERT INTO photos (province, caption, jpeg, width, height, token_id)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
            province,
            caption,
            jpeg,
            width,
            height,
            token_id,
        )


async def photos(conn: asyncpg.Connection, *, status: str | None, limit: int) -> list[dict]:
    """Photos without their bytes, newest first; `status` None = every status."""
    rows = await conn.fetch(
        """SELECT id, province, caption, width, height, length(jpeg) AS bytes, uploaded_at,
                  status, reviewer, reviewed_at
           FROM photos WHERE $1::text IS NULL OR status = $1 ORDER BY id DESC LIMIT $2""",
        status,
        limit,
    )
    return [dict(r) for r in rows]


async def photo_jpeg(
    conn: asyncpg.Connection, photo_id: int, *, approved_only: bool
) -> bytes | None:
    if not 0 < photo_id <= ID_MAX:
        return None
    return await conn.fetchval(
        "SELECT jpeg FROM photos WHERE id = $1 AND (NOT $2 OR status = 'approved')",
        photo_id,
        approved_only,
    )


async def review_photo(
    conn: asyncpg.Connection, photo_id: int, status: str, *, token_id: int | None, actor: str | None
) -> bool:
    if not 0 < photo_id <= ID_MAX:
        return False
    status_line = await conn.execute(
        """UPDATE photos SET status = $2, reviewed_by = $3, reviewer = $4, reviewed_at = now()
           WHERE id = $1""",
        photo_id,
        status,
        token_id,
        actor,
    )
    return status_line.endswith(" 1")


async def board_photos(conn: asyncpg.Connection, limit: int) -> list[dict]:
    """The latest approved photos, without their bytes, the latest approved first (the
    board's notes slide). Only `status = 'approved'`: pending and rejected photos never."""
    rows = await conn.fetch(
        """SELECT id, province, caption, width, height, uploaded_at, reviewed_at FROM photos
           WHERE status = 'approved'
           ORDER BY reviewed_at DESC NULLS LAST, id DESC LIMIT $1""",
        limit,
    )
    return [dict(r) for r in rows]
