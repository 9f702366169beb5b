"""The first exchange on the token sockets (`/ws/bureau`, `/ws/live/editor`): `hello` in,
`welcome` out (protocol §1, §3). A socket's client sends its token in its first frame,
not in a header, so this is where sockets authenticate (HTTP routes: `server.auth`).

An open socket's token may be revoked later: the socket registers with the process's
`server.revocation.Revocations` before its `welcome`, whose query also looks at the token
once more, and is closed with `auth_failed` + 4401 "revoked" (`revoked`) when it is."""

from __future__ import annotations

import asyncio
import json

from starlette.websockets import WebSocket, WebSocketDisconnect

from ingest.errors import ContractError, Invalid, auth_failed, unavailable
from ingest.messages import HelloMsg, parse_frame
from server import store
from server.auth import bearer_for
from server.errors import CLOSE_TRY_LATER
from server.revocation import CLOSE_REASON
from server.state import votewire

HELLO_TIMEOUT_S = 15.0
CLOSE_AUTH = 4401


async def send_json(ws: WebSocket, message: dict) -> None:
    await ws.send_text(json.dumps(message, ensure_ascii=False))


async def socket_hello(ws: WebSocket, roles: tuple[str, ...]) -> store.Bearer | None:
    """Read the first frame, which must be a `hello` with a token of one of `roles`.
    Answers `auth_failed` + close 4401, or `unavailable` + close 1013; returns the bearer
    after the caller has been sent nothing yet (the caller sends `welcome`)."""
    try:
        message = await asyncio.wait_for(ws.receive(), HELLO_TIMEOUT_S)
    except TimeoutError:
        await refuse(ws, auth_failed(), CLOSE_AUTH)
        return None
    except WebSocketDisconnect:
        return None
    if message["type"] == "websocket.disconnect":
        return None
    raw = message.get("text") if message.get("text") is not None else message.get("bytes")
    try:
        hello = parse_frame(raw or b"")
        if not isinstance(hello, HelloMsg):
            raise Invalid.of(None, "hello_first")
    except ContractError:
        await refuse(ws, auth_failed(), CLOSE_AUTH)
        return None
    try:
        bearer = await bearer_for(votewire(ws), hello.token)
    except ContractError as exc:
        await refuse(ws, exc, CLOSE_TRY_LATER)
        return None
    if bearer is None or bearer.role not in roles:
        await refuse(ws, auth_failed(), CLOSE_AUTH)
        return None
    return bearer


async def refuse(ws: WebSocket, error: ContractError, code: int, reason: str = "") -> None:
    """Send the contract's error, then close with `code` (the client may be gone)."""
    try:
        await send_json(ws, error.to_wire())
        await ws.close(code, reason)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


async def revoked(ws: WebSocket) -> None:
    """The socket's token was revoked while it was open: `auth_failed`, then 4401."""
    await refuse(ws, auth_failed(), CLOSE_AUTH, CLOSE_REASON)


async def welcome(ws: WebSocket, bearer: store.Bearer) -> bool:
    """Send `welcome` (with the server's `last_seq`); False when the database is down or
    the token was revoked since it was checked (the socket is then closed)."""
    app = votewire(ws)
    try:
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            last = await store.last_seq(conn)
            live = await store.bearer_by_id(conn, bearer.token_id)
    except Exception:
        await refuse(ws, unavailable(), CLOSE_TRY_LATER)
        return False
    if live is None:
        await revoked(ws)
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
