"""The picture and its history: now or at a moment (`picture`), national and provincial
turnout at many moments in one query (`timeline`), and the re-vote units counted at a
moment (`revotes_at`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg


async def picture(conn: asyncpg.Connection, *, internal: bool, at: datetime | None) -> dict:
    """The picture now (`at` None) or at a moment, with the `seq` it includes, read in one
    consistent snapshot of the database."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        counter = await conn.fetchrow("SELECT seq, public_seq FROM counter")
        body = await conn.fetchval("SELECT picture($1, $2)", at, internal)
        if at is None:
            seq = counter["seq"] if internal else counter["public_seq"]
        else:
            seq = await conn.fetchval(
                """SELECT coalesce(max(seq), 0) FROM reports
                   WHERE as_of <= $1 AND NOT retracted AND ($2 OR audience = 'public')""",
                at,
                internal,
            )
    return {"seq": seq, **body}


async def timeline(
    conn: asyncpg.Connection, moments: Sequence[datetime], codes: Sequence[str] = ()
) -> list[dict]:
    """Turnout at each moment in one query: the national figures (`national_of`, the one
    definition) and the entries of the provinces in `codes`, each as the picture at that
    moment would give them (latest accepted turnout figure at or before it, corrections
    applied, retractions left out)."""
    rows = await conn.fetch(
        """SELECT m.t,
                  national_of(jsonb_agg(jsonb_build_object(
                      'voted', x.voted, 'registered', x.registered))) AS national,
                  coalesce(jsonb_object_agg(pr.code, jsonb_build_object(
                      'voted', x.voted, 'registered', x.registered,
                      'turnout_pct', x.turnout_pct, 'as_of', x.as_of))
                      FILTER (WHERE pr.code = ANY($2::text[])), '{}') AS provinces
           FROM unnest($1::timestamptz[]) AS m(t)
           CROSS JOIN provinces pr
           LEFT JOIN LATERAL (
               SELECT r.voted, r.registered, r.turnout_pct, r.as_of FROM reports r
               WHERE r.province = pr.code AND r.kind = 'turnout' AND NOT r.retracted
                 AND r.as_of <= m.t
               ORDER BY r.as_of DESC, r.seq DESC LIMIT 1) x ON true
           GROUP BY m.t ORDER BY m.t""",
        list(moments),
        list(codes),
    )
    return [dict(r) for r in rows]


async def revotes_at(
    conn: asyncpg.Connection, at: datetime | None, *, internal: bool = False
) -> list[dict]:
    """The re-vote units counted by the picture at `at` (None = now) for the public (or,
    `internal`, for editors): the latest report of each (province, level, unit) the reader
    may see, cancelled ones left out, as `province_entries` counts them."""
    rows = await conn.fetch(
        """SELECT * FROM (
               SELECT DISTINCT ON (r.province, r.data->>'level', lower(r.data->>'unit'))
                      r.province, r.data->>'unit' AS unit, r.data->>'level' AS level,
                      r.data->>'reason' AS reason,
                      coalesce(r.data->>'status', 'announced') AS status,
                      r.data->>'note' AS note, r.as_of
               FROM reports r
               WHERE r.kind = 'revote' AND NOT r.retracted
                 AND r.as_of <= coalesce($1::timestamptz, 'infinity'::timestamptz)
                 AND ($2 OR r.audience = 'public')
               ORDER BY r.province, r.data->>'level', lower(r.data->>'unit'),
                        r.as_of DESC, r.seq DESC) u
           WHERE u.status <> 'cancelled'
           ORDER BY u.province, u.level, u.unit""",
        at,
        internal,
    )
    return [dict(r) for r in rows]
