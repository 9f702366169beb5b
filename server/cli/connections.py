"""What one HTTP connection may hold, and how many a process holds (issue 12, finding 7).

uvicorn (0.54, h11) bounds only the quiet time *between* requests (`timeout_keep_alive`);
a client that sends half a request head, or trickles a byte every few seconds, keeps its
connection (and a file descriptor) for ever: 300 such clients locked a 256-descriptor
process out. uvicorn's `limit_concurrency` only answers requests whose head has arrived,
so it cannot refuse those either. `bounded_protocol` adds, per connection:

- a **head deadline**: the request line and headers must arrive whole within
  `VOTEWIRE_HEADER_TIMEOUT_S` of the connection opening (or of the previous response);
  data arriving meanwhile does not extend it. Late: `408` and closed.
- a **body idle timeout**: while a request body is being read, a silence of
  `VOTEWIRE_BODY_IDLE_S` closes the connection (the route sees a disconnect). A slow
  but steady upload (a photo over 2G) is not cut.
- a **cap** of `VOTEWIRE_MAX_CONNECTIONS` open connections per process (WebSockets
  included: uvicorn counts them in the same set): one more is answered at once `503`
  `unavailable` (the contract's error, `Retry-After`) and closed, before it can hold
  anything. The default leaves room for the 10,000 live viewers one process serves
  (bench.fanout).

Neither timer runs while the route works on a request whose body has arrived, nor on a
WebSocket (the upgrade disarms them; pings watch sockets). nginx's `client_header_timeout`,
`client_body_timeout` and `limit_conn` guard the same in front (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from collections.abc import Callable

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ingest.errors import Invalid, Unavailable
from server.errors import RETRY_AFTER_S
from server.settings import EdgeSettings

log = logging.getLogger("votewire")

DESCRIPTORS_BESIDE_CONNECTIONS = 256
"""Files a process needs besides its connections: the pool, LISTEN, logs, Chromium's pipes."""


def _raw_response(status: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\ncache-control: no-store\r\n"
        f"{extra}connection: close\r\n\r\n"
    ).encode("latin-1") + body


BUSY = _raw_response(
    "503 Service Unavailable",
    json.dumps(
        Unavailable.of(None, "connections").to_wire(),
        ensure_ascii=False,
    ).encode(),
    f"retry-after: {RETRY_AFTER_S}\r\n",
)
SLOW = _raw_response(
    "408 Request Timeout",
    json.dumps(
        Invalid.of(None, "slow_request").to_wire(),
        ensure_ascii=False,
    ).encode(),
)


def bounded_protocol(edge: EdgeSettings) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the head deadline, body idle timeout and connection cap
    of `edge` (pass it as `uvicorn.Config(http=...)`)."""

    class BoundedH11Protocol(H11Protocol):
        _timer: asyncio.TimerHandle | None = None
        _timing: Callable[[], None] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > edge.max_connections:
                log.warning("connection refused: %d open (the cap)", edge.max_connections)
                transport.write(BUSY)
                transport.close()
                return
            self._watch()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._watch()

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._disarm()
            super().handle_websocket_upgrade(event)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _watch(self) -> None:
            """Arm the timer the connection's state calls for."""
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                self._disarm()
            elif self.conn.their_state is h11.IDLE:
                if self._timing != self._head_late:  # partial data never extends it
                    self._arm(edge.header_timeout_s, self._head_late)
            elif self.conn.their_state is h11.SEND_BODY:
                self._arm(edge.body_idle_s, self._body_idle)  # each chunk restarts it
            else:
                self._disarm()  # the route works, or the connection is done

        def _arm(self, delay: float, then: Callable[[], None]) -> None:
            self._disarm()
            self._timer, self._timing = self.loop.call_later(delay, then), then

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._timing = None

        def _head_late(self) -> None:
            self._timer = self._timing = None
            if not self.transport.is_closing():
                self.transport.write(SLOW)
                self.transport.close()

        def _body_idle(self) -> None:
            self._timer = self._timing = None
            if not self.transport.is_closing():
                self.transport.close()

    return BoundedH11Protocol


def raise_descriptor_limit(edge: EdgeSettings) -> None:
    """Let the process open as many descriptors as its cap needs (the soft limit up to the
    hard one); warn when even the hard limit is below it, since the kernel then refuses
    connections before the cap can answer them."""
    want = edge.max_connections + DESCRIPTORS_BESIDE_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    if soft != resource.RLIM_INFINITY and soft < want:
        log.warning(
            "VOTEWIRE_MAX_CONNECTIONS=%d needs %d file descriptors; the limit is %d "
            "(raise LimitNOFILE / ulimit -n, or lower the cap)",
            edge.max_connections,
            want,
            soft,
        )
