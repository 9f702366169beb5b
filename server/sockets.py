"""What one WebSocket costs this process: uvicorn's websockets-sansio protocol, lighter.

`votewire serve` holds 10,000 live viewers per process (bench.fanout). Each is a uvicorn
protocol object, and with uvicorn's own (`ws="websockets-sansio"`) each one keeps, for as
long as it is open, an `asyncio.Queue` (three deques and an event, ~2.5 KB) for the few
messages a viewer ever sends, an `asyncio.Event` with its deque for write backpressure,
and the handshake's request and response with their headers. When it closes, the
`websockets` parser (a generator referring to its protocol) leaves a cycle behind that
only a full garbage collection frees, with everything the protocol refers to.

`SocketProtocol` is the same protocol with:
- `Mailbox` and `Flag` in place of the queue and the event: the calls uvicorn makes of them
  (`put_nowait`/`get`/`empty`, `set`/`clear`/`is_set`/`wait`), a list or future only while
  something waits;
- the handshake's request and response let go once the handshake is done;
- the parser closed when the connection is lost, so a closed socket is freed by reference
  counting (server/collector.py freezes long-lived objects: cyclic garbage among them
  would stay until the next thaw);
- `on_full`, called when its transport's buffer goes over the high-water mark, so the
  fan-out's lane need not ask every transport after every frame (server/lane.py).

It can also serve a socket on its own once the app is done with it but for writing
(`detach`): a live viewer in step needs no coroutine at all, and the ASGI call chain that
led to its route (uvicorn's task, every middleware's coroutine and closures, Starlette's
WebSocket, the scope: about half of what a viewer costs) is freed. The protocol then
drops what the client sends (a viewer sends nothing we need), answers pings as ever and
calls back once when the connection ends.

Everything else is uvicorn's, and the lane (server/lane.py) finds what it needs on it. The
tests' in-loop servers use uvicorn's own protocol: both must serve the feed alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Mailbox:
    """`asyncio.Queue`'s `put_nowait`, `get` and `empty`, unbounded, FIFO for items and for
    waiting getters; no container at all while empty and nobody waits."""

    __slots__ = ("_items", "_getters")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._getters: list[asyncio.Future] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        self._wake_one()

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        return item

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = [getter]
            else:
                self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                self._forget(getter)
                if self._items and not getter.cancelled():
                    self._wake_one()  # as asyncio.Queue: pass the item on
                raise
        return self.get_nowait()

    def _forget(self, getter: asyncio.Future) -> None:
        if self._getters is not None and getter in self._getters:
            self._getters.remove(getter)
        if not self._getters:
            self._getters = None

    def _wake_one(self) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break
        if not self._getters:
            self._getters = None


class Flag:
    """`asyncio.Event`'s `set`, `clear`, `is_set` and `wait`; a list of waiters only while
    someone waits."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
                if not self._waiters:
                    self._waiters = None


class SocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, lighter while open, freed without the cycle
    collector once closed, able to serve a socket the app handed over (see the module's
    docstring). Pass it as `uvicorn.Config(ws=...)`."""

    on_closed: Callable[[], None] | None = None
    """Set by `detach`: the socket is the protocol's alone; called once when it ends."""
    on_full: Callable[[], None] | None = None
    """Called when the transport's buffer goes over its high-water mark (uvicorn then waits
    before writing more): the fan-out's lane takes the viewer out then, instead of asking
    every transport its buffer's size after every frame (server/lane.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Mailbox()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]

    def detach(self, on_closed: Callable[[], None]) -> bool:
        """The app will return but the socket stays open, written to through `send` (or
        straight to the transport); `on_closed` is called once when the connection ends.
        False when the socket is closing or holds a message for the app to read: the app
        then keeps serving it as usual."""
        if (
            not self.handshake_complete
            or self.disconnected
            or self.close_sent
            or self.transport.is_closing()
            or not self.queue.empty()
        ):
            return False
        self.on_closed = on_closed
        return True

    def start_keepalive(self) -> None:
        """Called once the handshake's response is written: it and the request are done."""
        super().start_keepalive()
        self.request = self.response = None  # type: ignore[assignment]

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.on_full is not None:
            self.on_full()

    def send_receive_event_to_app(self) -> None:
        if self.on_closed is not None:  # detached: nobody reads, and reading goes on
            self.frames = []
            return
        super().send_receive_event_to_app()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.conn.parser.close()  # its frame refers to `conn`: a cycle otherwise
        self.on_full = None
        on_closed, self.on_closed = self.on_closed, None
        if on_closed is not None:
            on_closed()

    async def run_asgi(self) -> None:
        """uvicorn's, except that a detached socket outlives the app (and lets go of the
        scope, which only the app needed)."""
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.on_closed is not None and not self.disconnected:
            self.scope = {"type": "websocket", "client": self.client}  # type: ignore[typeddict-item]
            return
        if self.close_timer is None:
            self.transport.close()
