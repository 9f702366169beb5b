"""Tokens: issued, looked up by hash, revoked. Only a token's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import asyncpg


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
    conn: asyncpg.Connection,
    *,
    token: str | None = None,
    province: str | None = None,
    token_id: int | None = None,
) -> int:
    """Revoke one token (by its secret or its id) or every token of a province; returns how
    many were live. `revoke_tokens` (migrations/005) waits for any report being written
    with them, stamps the revocation after it and NOTIFYs every server process, which
    closes the tokens' open sockets (`server.revocation`)."""
    return await conn.fetchval(
        "SELECT revoke_tokens($1, $2, $3)",
        None if token is None else token_hash(token),
        province,
        token_id,
    )


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


async def revoked_among(conn: asyncpg.Connection, token_ids: list[int]) -> set[int]:
    """Which of `token_ids` are revoked (the tokens of a process's open sockets)."""
    rows = await conn.fetch(
        "SELECT id FROM tokens WHERE id = ANY($1::bigint[]) AND revoked_at IS NOT NULL", token_ids
    )
    return {r["id"] for r in rows}
