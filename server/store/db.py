"""The connection to Postgres: pools, connections, migrations and the provinces' seed.

Connection failures surface as `errors.Unavailable` (the contract's `unavailable`), raised
by `acquire` so callers never see an asyncpg exception.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from ingest.errors import unavailable
from ingest.fixtures import Province
from server.store.results import seed_units

MIGRATIONS = Path(__file__).parent.parent / "migrations"

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
           revote_units = (e.internal->>'revote_units')::bigint,
           revote_units_public = (e.public->>'revote_units')::bigint
      FROM provinces p, province_entries(p.code, 'infinity') e
     WHERE s.code = p.code"""
"""Recompute every province's current entries (after seeding or a reset)."""


async def seed_provinces(conn: asyncpg.Connection, provinces: Sequence[Province]) -> None:
    """Make the provinces and units tables match the configured election, then refresh the
    picture and the results."""
    async with conn.transaction():
        # The writers' lock order (migrations/009, 008): province rows, the national
        # results' row, then the counter. A server starting while others ingest takes
        # them in the same order, so neither side is aborted as a deadlock.
        await conn.execute("SELECT 1 FROM province_state ORDER BY code FOR UPDATE")
        await conn.execute("SELECT 1 FROM results_total FOR UPDATE")
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
        await seed_units(conn)


async def registered_defaults(conn: asyncpg.Connection) -> dict[str, int]:
    return {
        r["code"]: r["registered"]
        for r in await conn.fetch("SELECT code, registered FROM provinces")
    }
