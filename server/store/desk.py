"""What the editors' desk reads and records: the review queue, each province's current
turnout report (the neighbours rule), and official figures beside ours."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def review_queue(conn: asyncpg.Connection, *, jump_pp: float, limit: int) -> list[dict]:
    """What the desk must look at, newest first: corrections, turnout figures that move by
    more than `jump_pp` points from the province's previous accepted figure, every security
    note, every internal note, and anything an editor has already acted on. Each row carries
    the previous figure (`prev_pct`, `prev_as_of`) and the number of actions taken."""
    rows = await conn.fetch(
        """WITH moves AS (
               SELECT r.id, p.turnout_pct AS prev_pct, p.as_of AS prev_as_of
               FROM reports r
               LEFT JOIN LATERAL (
                   SELECT q.turnout_pct, q.as_of FROM reports q
                   WHERE q.province = r.province AND q.kind = 'turnout' AND NOT q.retracted
                     AND q.id <> r.id AND (q.as_of, q.seq) < (r.as_of, r.seq)
                   ORDER BY q.as_of DESC, q.seq DESC LIMIT 1) p ON true
               WHERE r.kind = 'turnout')
           SELECT r.seq, r.id::text AS id, r.province, r.kind, r.as_of, r.data, r.audience,
                  r.retracted, r.verified, r.correction, r.received_at, r.turnout_pct,
                  m.prev_pct, m.prev_as_of,
                  (SELECT count(*) FROM actions a WHERE a.report_id = r.id) AS actions
           FROM reports r LEFT JOIN moves m ON m.id = r.id
           WHERE r.kind = 'security'
              OR (r.kind = 'note' AND r.audience = 'internal')
              OR r.correction
              OR abs(r.turnout_pct - m.prev_pct) > $1
              OR EXISTS (SELECT 1 FROM actions a WHERE a.report_id = r.id)
           ORDER BY r.seq DESC LIMIT $2""",
        jump_pp,
        limit,
    )
    return [dict(r) for r in rows]


async def latest_turnout(conn: asyncpg.Connection) -> list[dict]:
    """Each province's current turnout report (the one its picture shows), with its id."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (r.province) r.seq, r.id::text AS id, r.province, r.kind,
                  r.as_of, r.data, r.audience, r.retracted, r.verified, r.correction,
                  r.received_at, r.turnout_pct,
                  (SELECT count(*) FROM actions a WHERE a.report_id = r.id) AS actions
           FROM reports r WHERE r.kind = 'turnout' AND NOT r.retracted
           ORDER BY r.province, r.as_of DESC, r.seq DESC"""
    )
    return [dict(r) for r in rows]


async def add_official(
    conn: asyncpg.Connection,
    *,
    province: str | None,
    as_of: datetime,
    turnout_pct: float,
    voted: int | None,
    registered: int | None,
    source: str,
    token_id: int | None,
    actor: str | None,
) -> int:
    return await conn.fetchval(
        """INSERT INTO official_figures
               (province, as_of, turnout_pct, voted, registered, source, token_id, actor)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        province,
        as_of,
        turnout_pct,
        voted,
        registered,
        source,
        token_id,
        actor,
    )


async def withdraw_official(conn: asyncpg.Connection, official_id: int) -> int:
    status = await conn.execute(
        "UPDATE official_figures SET withdrawn_at = now() WHERE id = $1 AND withdrawn_at IS NULL",
        official_id,
    )
    return int(status.split()[-1])


async def officials(conn: asyncpg.Connection, at: datetime | None, *, latest: bool) -> list[dict]:
    """Official figures announced for moments at or before `at` (None = all), each beside
    our own figure for the same scope at the same moment (`ours_pct`, from the public
    picture of that moment) and `diff` = ours − official (null when we had none).
    `latest`: only the latest per scope (nation, each province)."""
    rows = await conn.fetch(
        """WITH o AS (
               SELECT * FROM official_figures
               WHERE withdrawn_at IS NULL
                 AND as_of <= coalesce($1::timestamptz, 'infinity'::timestamptz)),
           pick AS (
               SELECT * FROM o WHERE NOT $2
               UNION ALL
               SELECT * FROM (SELECT DISTINCT ON (province) * FROM o
                              ORDER BY province, as_of DESC, id DESC) l WHERE $2)
           SELECT x.*, x.ours_pct - x.turnout_pct AS diff FROM (
               SELECT pick.id, pick.province, pick.as_of, pick.turnout_pct, pick.voted,
                      pick.registered, pick.source, pick.actor, pick.recorded_at,
                      CASE WHEN pick.province IS NULL
                           THEN (picture(pick.as_of, false)->'national'->>'turnout_pct')::float8
                           ELSE (province_entry(pick.province, pick.as_of, false)
                                 ->>'turnout_pct')::float8 END AS ours_pct
               FROM pick) x
           ORDER BY x.as_of DESC, x.id DESC""",
        at,
        latest,
    )
    return [dict(r) for r in rows]
