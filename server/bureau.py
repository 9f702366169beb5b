"""The bureau socket `/ws/bureau` and its HTTP twin `POST /api/reports` (protocol §1).

Each socket handles its frames one at a time, so acks come back in the order reports were
sent. A refused report never closes the socket; only auth failures and abuse do (a run of
`abuse_limit` refusals, or a frame over the hard limit, which uvicorn closes with 1009).

Revocation: while idle the socket waits for its next frame *or* its token's revocation
(`server.revocation`), and is then closed with `auth_failed` + 4401 "revoked". A report
being answered at that moment gets its own answer first: an `ack` only if it committed
before the revocation, else `auth_failed` with its id (the database decides, see
`server.reports`), and the socket closes after it.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ingest.errors import ContractError, Invalid, too_large
from ingest.messages import HelloMsg, loads, parse_frame, parse_report
from server import auth, hello, store
from server.revocation import CLOSE_REASON
from server.state import votewire

log = logging.getLogger("votewire.bureau")

CLOSE_ABUSE = 1008
ABUSIVE = ("invalid", "too_large", "forbidden")
"""Refusals that count towards closing a socket for abuse (not the server's own
`unavailable`, nor `rate_limited` / `regression`, which a correct client can meet)."""


def _frame_id(raw: str | bytes) -> str | None:
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and len(value) <= 100 else None


async def bureau_socket(ws: WebSocket) -> None:
    await ws.accept()
    app = votewire(ws)
    try:
        bearer = await hello.socket_hello(ws, roles=("bureau", "editor", "admin"))
        if bearer is None:
            return
        with app.desk.revocations.watch(bearer.token_id) as revoked:
            if await hello.welcome(ws, bearer):
                await _serve(ws, bearer, revoked)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return


async def _serve(ws: WebSocket, bearer: store.Bearer, revoked: asyncio.Event) -> None:
    """Answer the socket's reports, one at a time, until it closes or its token is revoked.

    One watcher per socket waits for the revocation and interrupts the socket's task only
    while it waits for a frame (never in the middle of an answer: a frame that arrived is
    still answered, and the database refuses it if its token is revoked by then)."""
    app = votewire(ws)
    refusals = 0
    me = asyncio.current_task()
    waiting = False

    async def watch() -> None:
        await revoked.wait()
        if waiting and me is not None:
            me.cancel(CLOSE_REASON)

    watcher = asyncio.create_task(watch())
    try:
        while True:
            if revoked.is_set():
                await hello.revoked(ws)
                return
            waiting = True
            try:
                message = await ws.receive()
            except asyncio.CancelledError as exc:
                if not (revoked.is_set() and exc.args == (CLOSE_REASON,)) or me is None:
                    raise
                me.uncancel()
                await hello.revoked(ws)
                return
            finally:
                waiting = False
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            with app.desk.answering():
                with app.metrics.ack_latency.time():
                    answer = await _answer(app, bearer, raw)
                await hello.send_json(ws, answer)
            app.metrics.count(answer)
            if answer.get("code") == "auth_failed":  # its token was revoked: the error is sent
                await ws.close(hello.CLOSE_AUTH, CLOSE_REASON)
                return
            refusals = refusals + 1 if answer.get("code") in ABUSIVE else 0
            if refusals >= app.settings.abuse_limit:
                log.warning(
                    "closing bureau socket of token %s: %d refusals", bearer.token_id, refusals
                )
                await ws.close(CLOSE_ABUSE)
                return
    finally:
        watcher.cancel()


async def _answer(app, bearer, raw: str | bytes) -> dict:
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > app.settings.max_frame:
        return too_large(app.settings.max_frame, _frame_id(raw)).to_wire()
    try:
        message = parse_frame(raw)
        if isinstance(message, HelloMsg):
            raise Invalid.of("type", "authenticated")
        return await app.desk.submit(message, bearer)
    except ContractError as exc:
        return exc.to_wire()


async def post_report(request: Request) -> JSONResponse:
    """The same report body as on the socket, with the token as a bearer header; the same
    answers (`ack` 200, or the contract `error` with its HTTP status, rendered by
    `server.errors.handler`). The body's size is checked before the token."""
    app = votewire(request)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > app.settings.max_frame:
            raise too_large(app.settings.max_frame)
    try:
        bearer = auth.check(request, "authenticated").bearer
        answer = await app.desk.submit(parse_report(loads(body)), bearer)
    except ContractError as exc:
        app.metrics.count(exc.to_wire())
        raise
    app.metrics.count(answer)
    return JSONResponse(answer)


routes = [
    WebSocketRoute("/ws/bureau", bureau_socket),
    Route("/api/reports", post_report, methods=["POST"]),
]
