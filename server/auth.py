"""Who is asking: bearer tokens (bureau / editor / admin), checked against their hashes.

Tokens are 32 random bytes, url-safe; the database keeps only their SHA-256. The lookup is
by hash (an index probe that reveals nothing about how much of a guess was right) and the
hash found is compared again with `hmac.compare_digest` (`store.find_bearer`).
"""

from __future__ import annotations

import asyncio
import json
import secrets

from starlette.websockets import WebSocket, WebSocketDisconnect

from ingest.errors import ContractError, Invalid, auth_failed, unavailable
from ingest.messages import HelloMsg, parse_frame
from server import store

HELLO_TIMEOUT_S = 15.0
CLOSE_AUTH = 4401
CLOSE_TRY_LATER = 1013


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def bearer_for(app, token: str) -> store.Bearer | None:
    """The bearer of `token`, None when unknown or revoked; `Unavailable` if the database is."""
    try:
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            bearer = await store.find_bearer(conn, token)
    except ContractError:
        raise
    except Exception as exc:
        raise unavailable() from exc
    return bearer


async def send_json(ws: WebSocket, message: dict) -> None:
    await ws.send_text(json.dumps(message, ensure_ascii=False))


async def socket_hello(ws: WebSocket, roles: tuple[str, ...]) -> store.Bearer | None:
    """Read the first frame, which must be a `hello` with a token of one of `roles`.
    Answers `auth_failed` + close 4401, or `unavailable` + close 1013; returns the bearer
    after the caller has been sent nothing yet (the caller sends `welcome`)."""
    app = ws.app.state.votewire
    try:
        message = await asyncio.wait_for(ws.receive(), HELLO_TIMEOUT_S)
    except TimeoutError:
        await _refuse(ws, auth_failed(), CLOSE_AUTH)
        return None
    except WebSocketDisconnect:
        return None
    if message["type"] == "websocket.disconnect":
        return None
    raw = message.get("text") if message.get("text") is not None else message.get("bytes")
    try:
        hello = parse_frame(raw or b"")
        if not isinstance(hello, HelloMsg):
            raise Invalid("Bản tin đầu tiên phải là hello", "The first message must be a hello")
    except ContractError:
        await _refuse(ws, auth_failed(), CLOSE_AUTH)
        return None
    try:
        bearer = await bearer_for(app, hello.token)
    except ContractError as exc:
        await _refuse(ws, exc, CLOSE_TRY_LATER)
        return None
    if bearer is None or bearer.role not in roles:
        await _refuse(ws, auth_failed(), CLOSE_AUTH)
        return None
    return bearer


async def _refuse(ws: WebSocket, error: ContractError, code: int) -> None:
    try:
        await send_json(ws, error.to_wire())
        await ws.close(code)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


async def welcome(ws: WebSocket, bearer: store.Bearer) -> bool:
    """Send `welcome` (with the server's `last_seq`); False when the database is down."""
    app = ws.app.state.votewire
    try:
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            last = await store.last_seq(conn)
    except Exception:
        await _refuse(ws, unavailable(), CLOSE_TRY_LATER)
        return False
    province = None
    if bearer.province:
        p = app.provinces[bearer.province]
        province = {"code": p.code, "name": p.name}
    await send_json(
        ws,
        {
            "type": "welcome",
            "province": province,
            "role": bearer.role,
            "server_time": app.now_local().isoformat(timespec="seconds"),
            "last_seq": last,
            "rehearsal": app.settings.election.rehearsal,
        },
    )
    return True
