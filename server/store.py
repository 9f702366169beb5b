"""All SQL of votewire: migrations, tokens, the report log, pictures and the feed.

Connection failures surface as `errors.Unavailable` (the contract's `unavailable`), raised
here so callers never see an asyncpg exception. The writer's logic lives in the SQL
function `accept_report` (migrations/001), one round trip per report.
"""

from __future__ import annotations

import asyncio
import hashlib
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
            """INSERT INTO province_state (code, public, internal)
               SELECT code, province_entry(code, 'infinity', false),
                      province_entry(code, 'infinity', true) FROM provinces
               ON CONFLICT (code) DO UPDATE SET public = excluded.public,
                   internal = excluded.internal"""
        )


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
    row = await conn.fetchrow(
        "SELECT id, role, province FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
        token_hash(token),
    )
    return Bearer(row["id"], row["role"], row["province"]) if row else None


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


async def report_log(conn: asyncpg.Connection, province: str | None = None) -> list[dict]:
    rows = await conn.fetch(
        """SELECT seq, id::text AS id, province, kind, as_of, data, voted, registered,
                  audience, retracted, received_at
           FROM reports WHERE $1::text IS NULL OR province = $1 ORDER BY seq""",
        province,
    )
    return [dict(r) for r in rows]


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
