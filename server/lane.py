"""The fan-out's *lane*: writing a frame's bytes straight to a viewer's transport, like
`websockets.broadcast()`, around the viewer's own task and the ASGI layers.

It reaches into uvicorn's websockets-sansio protocol, whose attributes are undocumented
(`LANE_NEEDS`); `LaneCheck` tells from each viewer's real connection whether the server
offers them, logs the answer once per process and shows it in `/metrics`; without them the
viewer is served through its queue (`server/fanout.py`), slower, never wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import metadata

from websockets.protocol import State

log = logging.getLogger("votewire.fanout")


LANE_NEEDS: dict[str, tuple[str, ...]] = {
    "protocol": ("conn", "transport", "writable", "disconnected", "close_sent"),
    "protocol.conn": ("state", "extensions"),
    "protocol.transport": ("is_closing", "write", "get_write_buffer_size"),
}
"""What the lane reads of uvicorn's websockets-sansio protocol (undocumented: `disconnected`
came in uvicorn 0.52.1, hence pyproject's lower bound)."""


def lane_refusal(send) -> str | None:
    """Why the lane cannot write to the connection behind the server's `send` (None: it
    can). `send` is uvicorn's bound `WebSocketsSansIOProtocol.send` (`security.RAW_SEND`)."""
    proto = getattr(send, "__self__", None)
    if proto is None:
        return "the server's send is not a method of its protocol"
    for path, names in LANE_NEEDS.items():
        obj = proto
        for step in path.split(".")[1:]:
            obj = getattr(obj, step)
        missing = [n for n in names if not hasattr(obj, n)]
        if missing:
            kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
            return f"{path} ({kind}) lacks {', '.join(missing)}"
    return None


class LaneCheck:
    """Whether this process's server offers what the lane needs, from the viewers' real
    connections. Each answer is logged once per process (a warning when the lane is off);
    the latest is in `/metrics` as `votewire_fanout_lane_available`."""

    def __init__(self) -> None:
        self.available: bool | None = None
        """None until the first viewer connects."""
        self.reason = ""
        self._said: set[str] = set()

    def writer(self, send) -> DirectWriter | None:
        reason = lane_refusal(send)
        self.available, self.reason = reason is None, reason or "ok"
        if self.reason not in self._said:
            self._said.add(self.reason)
            if reason is None:
                log.info("fan-out lane on (uvicorn %s)", _version("uvicorn"))
            else:
                log.warning(
                    "fan-out lane off on uvicorn %s: %s; viewers are served through their "
                    "queues (slower with thousands of viewers; see pyproject's uvicorn bound)",
                    _version("uvicorn"),
                    reason,
                )
        return None if reason is not None else DirectWriter(send.__self__)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


LANE = LaneCheck()
"""This process's answer (one server, one uvicorn per process)."""


class DirectWriter:
    """A viewer's way around its own task and the ASGI layers, like `websockets.broadcast()`:
    the fan-out writes the frame's bytes, serialised once, straight to the transport.

    It reaches into uvicorn's websockets-sansio protocol (`LANE_NEEDS`); `for_send` returns
    None for any server that lacks them, logging why (`LaneCheck`), and the viewer's queue
    is used instead, so a uvicorn change costs speed, never correctness."""

    __slots__ = ("proto", "entry")

    def __init__(self, proto) -> None:
        self.proto = proto
        t = proto.transport
        tells = hasattr(proto, "on_full")
        self.entry = (t.write, None if tells else t.get_write_buffer_size)
        """What the broadcast loop calls, bound once: the transport's `write`, and its
        buffer's size after it unless the protocol says itself when its transport is full
        (server/sockets.py `SocketProtocol.on_full`): one C call per viewer, or two."""

    @classmethod
    def for_send(cls, send) -> DirectWriter | None:
        return LANE.writer(send)

    def when_full(self, hook: Callable[[], None] | None) -> None:
        """Have the protocol call `hook` when its transport's buffer goes over its
        high-water mark, if it can (see `entry`); None: no more (the hook refers to the
        viewer: a cycle to break when the viewer goes)."""
        if self.entry[1] is None:
            self.proto.on_full = hook

    def ready(self) -> bool:
        """Open, nothing buffered, no close frame either way, no extension that would
        change the bytes (deflate is off in our config)."""
        p = self.proto
        t = p.transport
        return (
            not p.disconnected
            and not p.close_sent
            and p.writable.is_set()
            and not t.is_closing()
            and t.get_write_buffer_size() == 0
            and p.conn.state is State.OPEN
            and not p.conn.extensions
        )
