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
  would stay until the next thaw).

Everything else is uvicorn's, and the lane (server/lane.py) finds what it needs on it. The
tests' in-loop servers use uvicorn's own protocol: both must serve the feed alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

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
    """uvicorn's websockets-sansio protocol, lighter while open and freed without the cycle
    collector once closed (see the module's docstring). Pass it as `uvicorn.Config(ws=...)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Mailbox()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]

    def start_keepalive(self) -> None:
        """Called once the handshake's response is written: it and the request are done."""
        super().start_keepalive()
        self.request = self.response = None  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.conn.parser.close()  # its frame refers to `conn`: a cycle otherwise
