"""Bureau photos: stored re-encoded, reviewed by an editor, shown when approved."""

from __future__ import annotations

import asyncpg


async def add_photo(
    conn: asyncpg.Connection,
    *,
    province: str,
    caption: str,
    jpeg: bytes,
    width: int,
    height: int,
    token_id: int | None,
) -> int:
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
    return await conn.fetchval(
        "SELECT jpeg FROM photos WHERE id = $1 AND (NOT $2 OR status = 'approved')",
        photo_id,
        approved_only,
    )


async def review_photo(
    conn: asyncpg.Connection, photo_id: int, status: str, *, token_id: int | None, actor: str | None
) -> bool:
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
