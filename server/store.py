"""All SQL of votewire: migrations, tokens, the report log, pictures and the feed.

Connection failures surface as `errors.Unavailable` (the contract's `unavailable`), raised
here so callers never see an asyncpg exception. The writer's logic lives in the SQL
function `accept_report` (migrations/001), one round trip per report.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from ingest.errors import unavailable
from ingest.fixtures import Province

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 7_472_011

DB_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def connect(
    url: str, zone: str, *, application_name: str = "votewire", **kw: Any
) -> asyncpg.Connection:
    settings = {"timezone": zone, "application_name": application_name}
    conn = await asyncpg.connect(url, server_settings=settings, **kw)
    await _init_connection(conn)
    return conn


async def create_pool(url: str, zone: str, *, timeout: float, size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=size,
        timeout=timeout,
        command_timeout=timeout * 2,
        server_settings={"timezone": zone},
        init=_init_connection,
    )


@asynccontextmanager
async def acquire(pool: asyncpg.Pool, timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, or `Unavailable` when the database cannot be reached."""
    try:
        async with pool.acquire(timeout=timeout) as conn:
            yield conn
    except DB_ERRORS as exc:
        raise unavailable() from exc


async def ping(conn: asyncpg.Connection) -> bool:
    return await conn.fetchval("SELECT true")


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations in name order; safe when several processes start at once."""
    applied = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.name in done:
                continue
            await conn.execute(path.read_text(encoding="utf-8"))
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.name)
            applied.append(path.name)
    return applied


REFRESH_STATE = """
    UPDATE province_state s
       SET public = e.public, internal = e.internal,
           voted = (e.internal->>'voted')::bigint, registered = (e.internal->>'registered')::bigint,
           areas_done = (e.internal->>'areas_done')::bigint,
           areas_total = (e.internal->>'areas_total')::bigint,
           revote_units = (e.internal->>'revote_units')::bigint
      FROM provinces p, province_entries(p.code, 'infinity') e
     WHERE s.code = p.code"""
"""Recompute every province's current entries (after seeding or a reset)."""


async def seed_provinces(conn: asyncpg.Connection, provinces: Sequence[Province]) -> None:
    """Make the provinces table match the configured election, then refresh the picture."""
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM counter FOR UPDATE")
        await conn.executemany(
            """INSERT INTO provinces (code, name, name_en, region, registered)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en,
                   region = excluded.region, registered = excluded.registered""",
            [(p.code, p.name, p.name_en, p.region3, p.registered) for p in provinces],
        )
        await conn.execute(
            """INSERT INTO province_state (code, public, internal) SELECT code, '{}', '{}'
               FROM provinces ON CONFLICT (code) DO NOTHING"""
        )
        await conn.execute(REFRESH_STATE)


async def registered_defaults(conn: asyncpg.Connection) -> dict[str, int]:
    return {
        r["code"]: r["registered"]
        for r in await conn.fetch("SELECT code, registered FROM provinces")
    }


# --- tokens ---------------------------------------------------------------------------


def token_hash(token: str) -> bytes:
    """Tokens are 256-bit random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class Bearer:
    token_id: int
    role: str
    province: str | None


async def issue_token(
    conn: asyncpg.Connection, token: str, role: str, province: str | None, label: str | None
) -> int:
    return await conn.fetchval(
        "INSERT INTO tokens (hash, role, province, label) VALUES ($1, $2, $3, $4) RETURNING id",
        token_hash(token),
        role,
        province,
        label,
    )


async def revoke_tokens(
    conn: asyncpg.Connection, *, token: str | None = None, province: str | None = None
) -> int:
    if token is not None:
        status = await conn.execute(
            "UPDATE tokens SET revoked_at = now() WHERE hash = $1 AND revoked_at IS NULL",
            token_hash(token),
        )
    else:
        status = await conn.execute(
            "UPDATE tokens SET revoked_at = now() WHERE province = $1 AND revoked_at IS NULL",
            province,
        )
    return int(status.split()[-1])


async def find_bearer(conn: asyncpg.Connection, token: str) -> Bearer | None:
    """The live token whose hash is `token`'s. Found by an index probe on the hash (which
    says nothing about how close a guess was), then compared in constant time."""
    digest = token_hash(token)
    row = await conn.fetchrow(
        "SELECT id, role, province, hash FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
        digest,
    )
    if row is None or not hmac.compare_digest(bytes(row["hash"]), digest):
        return None
    return Bearer(row["id"], row["role"], row["province"])


# --- the report log ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str
    seq: int | None
    detail: dict | None


async def accept_batch(
    conn: asyncpg.Connection, items: list[dict], rehearsal: bool
) -> list[Outcome]:
    """Accept reports in one transaction (see `accept_batch` in migrations/001); each item
    has the keys of `accept_report`'s parameters, JSON-ready (id and as_of as strings)."""
    rows = await conn.fetch("SELECT * FROM accept_batch($1::jsonb, $2)", items, rehearsal)
    return [Outcome(r["outcome"], r["seq"], r["detail"]) for r in rows]


async def last_seq(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT seq FROM counter")


async def last_seqs(conn: asyncpg.Connection) -> tuple[int, int]:
    """The last seq, and the last seq of a change public viewers were sent."""
    row = await conn.fetchrow("SELECT seq, public_seq FROM counter")
    return row["seq"], row["public_seq"]


# --- editors' actions ---------------------------------------------------------------------


async def apply_action(
    conn: asyncpg.Connection,
    report_id: str,
    action: str,
    *,
    token_id: int | None,
    actor: str | None,
    why: str | None,
    rehearsal: bool,
) -> Outcome:
    """verify / publish / retract / annotate one report (migrations/002), audited."""
    row = await conn.fetchrow(
        "SELECT * FROM apply_action($1::uuid, $2, $3, $4, $5, $6)",
        report_id,
        action,
        token_id,
        actor,
        why,
        rehearsal,
    )
    return Outcome(row["outcome"], row["seq"], None)


async def audit_log(conn: asyncpg.Connection, report_id: str) -> list[dict]:
    rows = await conn.fetch(
        """SELECT a.id, a.seq, a.action, a.actor, a.why, a.at, t.role
           FROM actions a LEFT JOIN tokens t ON t.id = a.token_id
           WHERE a.report_id = $1::uuid ORDER BY a.id""",
        report_id,
    )
    return [dict(r) for r in rows]


async def reset_reports(conn: asyncpg.Connection) -> int:
    """Delete every report and feed change ("live zeros"); tokens stay, `seq` continues so
    no viewer mistakes the empty picture for an old one. Returns how many reports went."""
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM counter FOR UPDATE")
        count = await conn.fetchval("SELECT count(*) FROM reports")
        await conn.execute("TRUNCATE reports, feed CASCADE")
        await conn.execute(REFRESH_STATE)
        await conn.execute("UPDATE counter SET public_seq = seq")
        await conn.execute("SELECT pg_notify('votewire_feed', 'reset')")
    return count


# --- pictures ----------------------------------------------------------------------------


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


# --- the live feed ----------------------------------------------------------------------


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


# --- the mobile page ---------------------------------------------------------------------


async def reports_of_token(conn: asyncpg.Connection, token_id: int, limit: int) -> list[dict]:
    """The reports sent with one token, newest first (the correspondent's "my reports")."""
    rows = await conn.fetch(
        """SELECT seq, id::text AS id, province, kind, as_of, data, audience, retracted,
                  received_at
           FROM reports WHERE token_id = $1 ORDER BY seq DESC LIMIT $2""",
        token_id,
        limit,
    )
    return [dict(r) for r in rows]


# --- the board ---------------------------------------------------------------------------


async def board_items(conn: asyncpg.Connection, limit: int) -> list[dict]:
    """The latest public notes and re-vote reports, newest first (the board's ticker).

    Only `audience = 'public'` rows: an internal note never leaves here."""
    rows = await conn.fetch(
        """SELECT seq, id::text AS id, province, kind, as_of, data FROM reports
           WHERE kind IN ('note', 'revote') AND audience = 'public' AND NOT retracted
             AND seq IS NOT NULL
           ORDER BY as_of DESC, seq DESC LIMIT $1""",
        limit,
    )
    return [dict(r) for r in rows]


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


# --- the editors' desk ---------------------------------------------------------------------
# Sessions, tokens by id, the review queue, timelines, re-votes at a moment, official
# figures, photos and the phase summary's notes (server/editor.py, server/charts.py).


async def bearer_by_id(conn: asyncpg.Connection, token_id: int) -> Bearer | None:
    """The bearer of a token id (an editor's session names its token), None when revoked."""
    row = await conn.fetchrow(
        "SELECT id, role, province FROM tokens WHERE id = $1 AND revoked_at IS NULL", token_id
    )
    return Bearer(row["id"], row["role"], row["province"]) if row else None


async def list_tokens(conn: asyncpg.Connection) -> list[dict]:
    """Every token ever issued, newest first (never the secret: only its hash is kept)."""
    rows = await conn.fetch(
        """SELECT id, role, province, label, created_at, revoked_at FROM tokens
           ORDER BY id DESC"""
    )
    return [dict(r) for r in rows]


async def revoke_token_id(conn: asyncpg.Connection, token_id: int) -> int:
    status = await conn.execute(
        "UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
    )
    return int(status.split()[-1])


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


async def revotes_at(conn: asyncpg.Connection, at: datetime | None) -> list[dict]:
    """The re-vote units counted by the picture at `at` (None = now): the latest report of
    each (province, level, unit), cancelled ones left out, as `province_entry` counts them."""
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
               ORDER BY r.province, r.data->>'level', lower(r.data->>'unit'),
                        r.as_of DESC, r.seq DESC) u
           WHERE u.status <> 'cancelled'
           ORDER BY u.province, u.level, u.unit""",
        at,
    )
    return [dict(r) for r in rows]


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


async def report_by_id(conn: asyncpg.Connection, report_id: str) -> dict | None:
    row = await conn.fetchrow(
        """SELECT seq, id::text AS id, province, kind, as_of, data, audience, retracted,
                  verified, correction, received_at, turnout_pct, token_id
           FROM reports WHERE id = $1::uuid""",
        report_id,
    )
    return dict(row) if row else None


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


async def published_notes(conn: asyncpg.Connection, start: datetime, end: datetime) -> list[dict]:
    """Public notes and public security notes whose as_of falls in [start, end)."""
    rows = await conn.fetch(
        """SELECT seq, id::text AS id, province, kind, as_of, data FROM reports
           WHERE kind IN ('note', 'security') AND audience = 'public' AND NOT retracted
             AND as_of >= $1 AND as_of < $2
           ORDER BY as_of, seq""",
        start,
        end,
    )
    return [dict(r) for r in rows]
