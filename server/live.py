"""The live feed sockets (protocol §3): `/ws/live` (public) and `/ws/live/editor`.

A viewer is registered with the hub *before* its snapshot (or replay) is read, so every
change committed after that read is already on its way to its queue; frames at or before
what the viewer was sent are dropped, and the first one that follows carries `prev` equal
to the last `seq` this viewer was sent. A receiver task reads the socket so a vanished
client is noticed; pings stay on (uvicorn's `ws_ping_interval`).

An editor's socket is registered with the process's `server.revocation.Revocations` by its
token (given in `hello`, or named by the desk's session cookie) and, once that token is
revoked, leaves the hub and is closed with `auth_failed` + 4401 "revoked": a revoked
editor receives no internal item after the revocation reaches this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ingest.errors import ContractError, unavailable
from server import store
from server.auth import EDITOR_ROLES, Caller, same_origin
from server.fanout import RESYNC, Frame, Viewer
from server.hello import revoked, socket_hello, welcome
from server.lane import DirectWriter
from server.picture import snapshot_body
from server.security import RAW_SEND
from server.state import Votewire, votewire

log = logging.getLogger("votewire.live")


def snapshot_message(app: Votewire, picture: dict) -> str:
    return json.dumps({"type": "snapshot", **snapshot_body(app, picture, None)}, ensure_ascii=False)


async def public_live(ws: WebSocket) -> None:
    await ws.accept()
    await _serve_viewer(ws, "public")


def session_bearer(ws: WebSocket) -> store.Bearer | None:
    """The editor signed in with the desk's cookie on a same-origin socket, else None
    (`server.auth.TokenBackend` has read the cookie)."""
    user = ws.user
    if not isinstance(user, Caller) or user.via != "session" or not same_origin(ws):
        return None
    return user.bearer if user.bearer.role in EDITOR_ROLES else None


async def editor_live(ws: WebSocket) -> None:
    await ws.accept()
    app = votewire(ws)
    try:
        # The editors' desk page signs in with its session cookie and sends no hello.
        bearer = session_bearer(ws) or await socket_hello(ws, roles=EDITOR_ROLES)
        if bearer is None:
            return
        with app.desk.revocations.watch(bearer.token_id) as token_revoked:
            if await welcome(ws, bearer):
                await _serve_viewer(ws, "internal", token_revoked)
    except (ContractError, WebSocketDisconnect, RuntimeError, OSError):
        return


def _since(ws: WebSocket) -> int | None:
    raw = ws.query_params.get("since")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


async def _serve_viewer(
    ws: WebSocket, audience: str, token_revoked: asyncio.Event | None = None
) -> None:
    """Serve the viewer until it goes, is dropped (`gone`) or its token is revoked."""
    app = votewire(ws)
    viewer = Viewer(
        audience, app.settings.viewer_queue, DirectWriter.for_send(ws.scope.get(RAW_SEND))
    )
    app.hub.add(viewer)
    app.metrics.viewers.labels(audience).inc()
    receiver = asyncio.create_task(_drain(ws))
    sender = asyncio.create_task(_send(ws, app, viewer, _since(ws)))
    gone = asyncio.create_task(viewer.gone.wait())
    tasks = {receiver, sender, gone}
    if token_revoked is not None:
        tasks.add(asyncio.create_task(token_revoked.wait()))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        app.hub.remove(viewer)
        app.metrics.viewers.labels(audience).dec()
        app.metrics.dropped_viewers.inc(viewer.dropped)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            if token_revoked is not None and token_revoked.is_set():
                await asyncio.wait_for(revoked(ws), 1.0)
            else:
                await asyncio.wait_for(ws.close(1008 if viewer.gone.is_set() else 1000), 1.0)


async def _drain(ws: WebSocket) -> None:
    """Viewers send nothing we need; reading notices a closed socket at once."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _join(ws: WebSocket, app: Votewire, viewer: Viewer, since: int | None) -> tuple[int, int]:
    """Send the snapshot or the missed updates. Returns (covered, last): the highest seq
    already reflected in what was sent and the seq the viewer last received."""
    internal = viewer.audience == "internal"
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        if since is not None:
            top = await store.last_seq(conn)
            floor = await store.feed_floor(conn)
            if floor <= since <= top and top - since <= app.settings.feed_retain:
                rows = await store.feed_since(conn, since, limit=app.settings.feed_retain + 1)
                texts = [(r["seq"], r["internal"] if internal else r["public"]) for r in rows]
                texts = [(s, t) for s, t in texts if t is not None]
                last = since
                if texts:
                    frame = Frame.of([s for s, _ in texts], [t for _, t in texts]).after(
                        since, since
                    )
                    await ws.send_text(frame.text)  # type: ignore[union-attr]
                    last = texts[-1][0]
                covered = rows[-1]["seq"] if rows else since
                return max(covered, since), last
        picture = await store.picture(conn, internal=internal, at=None)
        covered = await store.last_seq(conn)
    await ws.send_text(snapshot_message(app, picture))
    return max(covered, picture["seq"]), picture["seq"]


async def _send(ws: WebSocket, app: Votewire, viewer: Viewer, since: int | None) -> None:
    """The viewer's own sender: its snapshot or replay, then whatever the fan-out could not
    write directly (the viewer was busy, joining, or its transport was full)."""
    try:
        viewer.covered, viewer.last = await _join(ws, app, viewer, since)
        await ws.send_text(app.clock.frame())  # contract §6: the clock after the snapshot
        while True:
            if viewer.queue.empty():
                app.hub.idle(viewer)
            item = await viewer.queue.get()
            if isinstance(item, str):  # an out-of-band message (`Hub.tell_all`): the clock
                await ws.send_text(item)
                continue
            if item is RESYNC:
                viewer.overflows = 0
                while not viewer.queue.empty():
                    viewer.queue.get_nowait()
                await ws.send_text('{"type":"resync"}')
                viewer.covered, viewer.last = await _join(ws, app, viewer, None)
                await ws.send_text(app.clock.frame())
                continue
            covered, last = viewer.covered, viewer.last
            frame = (
                item.after(covered, last) if item.seqs[0] <= covered or covered != last else item
            )
            if frame is None:
                continue
            await ws.send_text(frame.text)
            viewer.covered = viewer.last = frame.seqs[-1]
    except ContractError:
        with contextlib.suppress(Exception):
            await ws.send_text(json.dumps(unavailable().to_wire(), ensure_ascii=False))
            await ws.close(1013)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return


routes = [
    WebSocketRoute("/ws/live", public_live),
    WebSocketRoute("/ws/live/editor", editor_live),
]
