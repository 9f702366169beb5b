"""The live feed sockets (protocol §3): `/ws/live` (public) and `/ws/live/editor`.

A viewer is registered with the hub *before* its snapshot (or replay) is read, so every
change committed after that read is already on its way to its pending list; frames at or
before what the viewer was sent are dropped, and the first one that follows carries
`prev` equal to the last `seq` this viewer was sent. A sender task runs only while the
viewer has something pending (`LiveViewer`); in step with the feed, the hub writes to it
directly (server/fanout.py). The socket is read so that a vanished client is noticed: by
its own task, or, on `votewire serve`, by its protocol once the route hands a public
viewer's socket over (server/sockets.py `SocketProtocol.detach`), so that a viewer in
step costs no coroutine at all. Pings stay on (uvicorn's `ws_ping_interval`).

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


class LiveViewer(Viewer):
    """A viewer on one of this process's sockets.

    A sender task exists only while something is pending (joining, catching up, a slow
    client, a resync): in step, the hub writes to the viewer directly. The socket's own
    task then only reads it (a vanished client is noticed there), and not even that on
    `votewire serve`: its protocol (server/sockets.py `SocketProtocol.detach`) serves a
    public viewer's socket on its own and calls `closed` when it ends, so a viewer in step
    costs no coroutine at all. Editors' sockets stay with their task (they are few, and
    their token's revocation is watched there)."""

    __slots__ = ("app", "ws", "since", "sender", "open")

    def __init__(self, ws: WebSocket, audience: str, since: int | None) -> None:
        self.app = votewire(ws)
        # The server's send is taken out of the scope: the scope is the protocol's, and a
        # bound method of the protocol in it would make a cycle to free after closing.
        direct = DirectWriter.for_send(ws.scope.pop(RAW_SEND, None))
        super().__init__(audience, self.app.settings.viewer_queue, direct)
        self.ws: WebSocket | None = ws
        """The route's socket while its task serves it; None once detached."""
        self.since = since
        self.sender: asyncio.Task | None = None
        self.open = True

    def wake(self) -> None:
        if self.sender is None and not self.gone:
            self.sender = asyncio.get_running_loop().create_task(_send(self))

    def drop(self) -> None:
        self.stop()
        _spawn(_close(self, 1008))

    def stop(self) -> None:
        """No more sending: the socket is going (called from outside the sender)."""
        self.gone = True
        if self.sender is not None:
            self.sender.cancel()

    def detach(self) -> bool:
        """Hand the socket to its protocol, if it can serve it alone (see the class)."""
        detach = getattr(self.direct.proto, "detach", None) if self.direct else None
        if detach is None or not detach(self.closed):
            return False
        self.ws = None
        return True

    def closed(self) -> None:
        """The socket ended (or its task is done with it): out of the hub, once."""
        if not self.open:
            return
        self.open = False
        self.app.hub.remove(self)
        self.stop()
        self.app.metrics.viewers.labels(self.audience).dec()
        self.app.metrics.dropped_viewers.inc(self.dropped)

    async def send_text(self, text: str) -> None:
        """Through the server's own send when the lane could reach it (the route's socket
        may be gone: detached), else through the route's socket."""
        if self.direct is not None:
            await self.direct.proto.send({"type": "websocket.send", "text": text})
        else:
            await self.ws.send_text(text)  # type: ignore[union-attr]

    async def close(self, code: int) -> None:
        if self.direct is not None:
            await self.direct.proto.send({"type": "websocket.close", "code": code, "reason": ""})
        else:
            await self.ws.close(code)  # type: ignore[union-attr]


CLOSING: set[asyncio.Task] = set()
"""Closings under way (`drop`, revocation): kept referenced until done."""


def _spawn(coro) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    CLOSING.add(task)
    task.add_done_callback(CLOSING.discard)


async def _close(viewer: LiveViewer, code: int, say=None) -> None:
    """Close the viewer's socket (after `say`, e.g. `revoked`), within a second; a client
    that reads nothing cannot take even the close frame: its connection is then cut."""
    try:
        await asyncio.wait_for(say(viewer.ws) if say else viewer.close(code), 1.0)
    except Exception:  # noqa: BLE001 - gone already, or not reading
        if viewer.direct is not None:
            viewer.direct.proto.transport.abort()


async def _serve_viewer(
    ws: WebSocket, audience: str, token_revoked: asyncio.Event | None = None
) -> None:
    """Serve the viewer until it goes, is dropped or its token is revoked: hand it to its
    protocol when it can (`LiveViewer.detach`), else read the socket here. Whatever ends
    the viewer closes the socket, and the disconnect ends it (no exception on the way
    out: nothing left for the cycle collector)."""
    app = votewire(ws)
    viewer = LiveViewer(ws, audience, _since(ws))
    app.hub.add(viewer)  # before the snapshot is read: see the module's docstring
    app.metrics.viewers.labels(audience).inc()
    viewer.sender = asyncio.create_task(_send(viewer))
    if token_revoked is None and viewer.detach():
        return
    watcher = (
        asyncio.create_task(_revoke_when(viewer, token_revoked))
        if token_revoked is not None
        else None
    )
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass  # viewers send nothing we need
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        viewer.closed()
        tasks = [t for t in (viewer.sender, watcher) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)


async def _revoke_when(viewer: LiveViewer, token_revoked: asyncio.Event) -> None:
    """An editor's token revoked: out of the hub at once, then `auth_failed` and 4401."""
    await token_revoked.wait()
    viewer.app.hub.remove(viewer)
    viewer.stop()
    await _close(viewer, 4401, revoked)


async def _join(viewer: LiveViewer, since: int | None) -> tuple[int, int]:
    """Send the snapshot or the missed updates. Returns (covered, last): the highest seq
    already reflected in what was sent and the seq the viewer last received."""
    app = viewer.app
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
                    await viewer.send_text(frame.text)  # type: ignore[union-attr]
                    last = texts[-1][0]
                covered = rows[-1]["seq"] if rows else since
                return max(covered, since), last
        picture = await store.picture(conn, internal=internal, at=None)
        covered = await store.last_seq(conn)
    await viewer.send_text(snapshot_message(app, picture))
    return max(covered, picture["seq"]), picture["seq"]


async def _send(viewer: LiveViewer) -> None:
    """The viewer's sender while something is pending: its snapshot or replay, then
    whatever the fan-out could not write directly (the viewer was joining or catching up,
    or its transport was full). It ends when nothing is left, the viewer in the hub's lane
    if it is in step (`Hub.idle`); `LiveViewer.wake` starts another when needed."""
    app = viewer.app
    try:
        if viewer.covered < 0:
            viewer.covered, viewer.last = await _join(viewer, viewer.since)
            await viewer.send_text(app.clock.frame())  # contract §6: the clock after the snapshot
        while True:
            pending = viewer.pending
            if not pending:
                viewer.pending = None
                app.hub.idle(viewer)
                return
            item = pending.pop(0)
            if isinstance(item, str):  # an out-of-band message (`Hub.tell_all`): the clock
                await viewer.send_text(item)
                continue
            if item is RESYNC:
                viewer.overflows = 0
                pending.clear()
                await viewer.send_text('{"type":"resync"}')
                viewer.covered, viewer.last = await _join(viewer, None)
                await viewer.send_text(app.clock.frame())
                continue
            covered, last = viewer.covered, viewer.last
            frame = (
                item.after(covered, last) if item.seqs[0] <= covered or covered != last else item
            )
            if frame is None:
                continue
            await viewer.send_text(frame.text)
            viewer.covered = viewer.last = frame.seqs[-1]
    except ContractError:
        viewer.gone = True
        with contextlib.suppress(Exception):
            await viewer.send_text(json.dumps(unavailable().to_wire(), ensure_ascii=False))
            await viewer.close(1013)
    except (WebSocketDisconnect, RuntimeError, OSError):
        viewer.gone = True  # the client went: its disconnect ends the viewer
        with contextlib.suppress(Exception):
            await asyncio.wait_for(viewer.close(1011), 1.0)
    except Exception:
        log.exception("a live viewer's sender failed; closing its socket")
        viewer.gone = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(viewer.close(1011), 1.0)
    finally:
        if viewer.sender is asyncio.current_task():
            viewer.sender = None


routes = [
    WebSocketRoute("/ws/live", public_live),
    WebSocketRoute("/ws/live/editor", editor_live),
]
