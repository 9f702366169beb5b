"""Editors' sessions and sign-in attempts (migrations/006_sessions.sql).

A session is alive while it is not ended, not expired and its token not revoked: the one
query `session_bearer` asks on every request, in whichever process serves it, so signing
out or revoking takes effect everywhere at the next request. Only the SHA-256 of a
session's random id is stored (like tokens'). Times are Postgres's `now()`, one clock for
every process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg

from server.store.tokens import Bearer


def session_hash(session_id: str) -> bytes:
    """Session ids are 256-bit random strings: one SHA-256 stores them safely."""
    return hashlib.sha256(session_id.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class Session:
    """A live session: its number (for logs), the name signed in with, its token's bearer."""

    id: int
    name: str | None
    bearer: Bearer


async def open_session(
    conn: asyncpg.Connection, session_id: str, token_id: int, name: str | None, lasts_s: int
) -> int:
    """Record a new session of `token_id` lasting `lasts_s` seconds; its number."""
    return await conn.fetchval(
        """INSERT INTO sessions (hash, token_id, name, expires_at)
           VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id""",
        session_hash(session_id),
        token_id,
        name,
        float(lasts_s),
    )


async def session_bearer(conn: asyncpg.Connection, session_id: str) -> Session | None:
    """The live session with this id, None when unknown, ended, expired or its token revoked."""
    row = await conn.fetchrow(
        """SELECT s.id, s.name, t.id AS token_id, t.role, t.province
           FROM sessions s JOIN tokens t ON t.id = s.token_id
           WHERE s.hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
             AND t.revoked_at IS NULL""",
        session_hash(session_id),
    )
    if row is None:
        return None
    return Session(row["id"], row["name"], Bearer(row["token_id"], row["role"], row["province"]))


async def end_session(conn: asyncpg.Connection, session_id: str) -> int | None:
    """End the session with this id (signing out); its number, None if none was live."""
    return await conn.fetchval(
        """UPDATE sessions SET ended_at = now()
           WHERE hash = $1 AND ended_at IS NULL AND expires_at > now() RETURNING id""",
        session_hash(session_id),
    )


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in attempt charged to an address (`id`), or refused (`id` None, `retry_after`
    seconds until the address may try again). `used`: attempts in the window."""

    id: int | None
    used: int
    retry_after: float | None


async def signin_attempt(
    conn: asyncpg.Connection, address: str, quota: int, per_s: float
) -> Attempt:
    """Charge one sign-in attempt to `address` unless it had `quota` failures in the last
    `per_s` seconds (migrations/006: check and charge are one step under a lock)."""
    row = await conn.fetchrow(
        "SELECT * FROM signin_attempt($1, $2, make_interval(secs => $3))",
        address,
        quota,
        float(per_s),
    )
    return Attempt(row["attempt"], row["used"], row["retry_after"])


async def signin_succeeded(conn: asyncpg.Connection, attempt_id: int) -> None:
    """The attempt was no failure: it stops counting."""
    await conn.execute("DELETE FROM signin_attempts WHERE id = $1", attempt_id)
