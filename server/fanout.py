"""Fan-out: from committed feed rows to every viewer of this process.

The `feed` table holds each accepted change already encoded for each audience. One reader
task per process reads the rows after the last one it published, in `seq` order, and
builds one shared frame per audience (a `batch` when several rows arrived within one
coalescing tick), serialised once as WebSocket bytes. Viewers in step with the feed form
the audience's *lane* and get those bytes written straight to their transports in one
tight loop (`Hub._send`); every other viewer (joining, catching up, slow) gets the frame in
its own bounded list of pending items, drained by a sender task that runs only while
something is pending, and rejoins the lane when it is in step again (`Hub.idle`). A viewer
in the lane has no task, queue or event of its own: at 10,000 viewers every object per
viewer is memory and work for the cycle collector (server/collector.py).

What wakes the reader is the swappable part, two small implementations of `Wakeup`:
- `LocalWakeup`: the process's own commits (one process only);
- `PostgresWakeup`: one dedicated LISTEN connection (never pooled), so a report accepted by
  any process reaches viewers of all of them. The connection is watched (termination
  callback + a periodic `SELECT 1`); when lost it is reopened with backoff.
Either way the reader also polls every `listen_check_s`, so a lost notification delays an
update by at most that long and never loses it: the rows are in the database.

Slow viewers: a lane viewer whose transport could not take a whole frame (on `votewire
serve`: whose buffer went over its high-water mark, as its protocol tells, so the loop
makes one call per viewer, server/sockets.py) leaves the lane for its pending list, whose
sender waits for the transport to drain. The list holds at most
`viewer_queue` frames. When it is full it is emptied and the viewer is marked for resync:
it is sent `{"type": "resync"}` and a fresh snapshot, then continues live; one that
overflows `Viewer.GIVE_UP` times without reading even that is dropped. A slow viewer
therefore costs one list and one task and never delays the others; nothing waits on its
socket but its own sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import asyncpg
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode

from server import store
from server.lane import DirectWriter

log = logging.getLogger("votewire.fanout")

CHANNEL = "votewire_feed"
AUDIENCES = ("public", "internal")


@dataclass(frozen=True, slots=True)
class Frame:
    """One message for one audience: a single update or a batch of consecutive ones,
    encoded once and shared by every viewer of the audience."""

    seqs: tuple[int, ...]
    texts: tuple[str, ...]
    text: str
    first_prev: int | None = None
    wire: bytes = b""
    """The whole WebSocket text frame (server frames are unmasked: identical for all)."""

    @classmethod
    def of(cls, seqs: list[int], texts: list[str], first_prev: int | None = None) -> Frame:
        text = (
            texts[0]
            if len(texts) == 1
            else ('{"type":"batch","updates":[' + ",".join(texts) + "]}")
        )
        wire = WsFrame(Opcode.TEXT, text.encode("utf-8")).serialize(mask=False, extensions=[])
        return cls(tuple(seqs), tuple(texts), text, first_prev, wire)

    def after(self, seq: int, prev: int) -> Frame | None:
        """This frame without the updates at or before `seq`, its first update's `prev`
        set to `prev` (a viewer that joined from a snapshot or a `since=`)."""
        keep = [(s, t) for s, t in zip(self.seqs, self.texts, strict=True) if s > seq]
        if not keep:
            return None
        first = json.loads(keep[0][1])
        if first.get("prev") != prev:
            first["prev"] = prev
            keep[0] = (keep[0][0], json.dumps(first, ensure_ascii=False))
        elif len(keep) == len(self.seqs):
            return self
        return Frame.of([s for s, _ in keep], [t for _, t in keep], prev)


RESYNC = object()


class Viewer:
    """One live-feed connection as the hub sees it.

    Kept small, for 10,000 of them live in one process: slots, no queue, event or task of
    its own. What it has yet to be sent waits in `pending` (a plain list, only while there
    is something); whoever serves the connection (server/live.py) runs a sender only while
    there is (`wake`), and none at all while the viewer is in the hub's lane."""

    __slots__ = (
        "audience",
        "limit",
        "direct",
        "pending",
        "covered",
        "last",
        "dropped",
        "overflows",
        "gone",
    )

    GIVE_UP = 3

    def __init__(self, audience: str, limit: int, direct: DirectWriter | None = None) -> None:
        self.audience, self.limit, self.direct = audience, limit, direct
        self.pending: list | None = None
        """Frames, out-of-band texts and `RESYNC` its sender has yet to send (None: none)."""
        self.covered = -1
        """The highest seq already reflected in what this viewer was sent (-1: joining)."""
        self.last = -1
        """The seq this viewer last received (what the next update's `prev` must be). While
        the viewer is in the hub's lane these two are the lane's and are not kept here."""
        self.dropped = 0
        self.overflows = 0
        """Overflows since the sender last took a resync: a viewer that overflows again and
        again without reading even its resync is dropped (`gone`, `drop`)."""
        self.gone = False

    def offer(self, frame: Frame) -> None:
        """A frame of the feed: queued, unless `limit` are waiting already; then they are
        all dropped for one `RESYNC` (a fresh snapshot)."""
        if self.gone:
            return
        pending = self.pending
        if pending is not None and len(pending) >= self.limit:
            pending.clear()
            self.dropped += 1
            self.overflows += 1
            if self.overflows >= self.GIVE_UP:
                self.gone = True
                self.drop()
                return
            frame = RESYNC  # type: ignore[assignment]
        self.push(frame)

    def push(self, item: object) -> None:
        """Queue `item` whatever the limit (an out-of-band text, `RESYNC`) and wake the
        sender."""
        if self.gone:
            return
        if self.pending is None:
            self.pending = [item]
        else:
            self.pending.append(item)
        self.wake()

    def wake(self) -> None:
        """Something is pending: the connection's owner starts its sender if none runs."""

    def drop(self) -> None:
        """Given up on (`GIVE_UP` overflows): the connection's owner closes it."""


class Wakeup(Protocol):
    async def start(self, wake: Callable[[str | None], None]) -> None: ...
    async def stop(self) -> None: ...
    def healthy(self) -> bool: ...


class LocalWakeup:
    """One process only: nothing to listen to, the reader is woken by this process's own
    commits (`Hub.committed`) and its poll."""

    def __init__(self) -> None:
        self._wake: Callable[[str | None], None] | None = None

    async def start(self, wake: Callable[[str | None], None]) -> None:
        self._wake = wake

    async def stop(self) -> None:
        self._wake = None

    def healthy(self) -> bool:
        return True


class PostgresWakeup:
    """One dedicated LISTEN connection, watched and reopened when lost."""

    def __init__(self, url: str, zone: str, check_s: float, timeout: float) -> None:
        self.url, self.zone, self.check_s, self.timeout = url, zone, check_s, timeout
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task | None = None
        self._lost = asyncio.Event()
        self.reconnects = 0

    async def start(self, wake: Callable[[str | None], None]) -> None:
        self._wake = wake
        with contextlib.suppress(Exception):  # if it fails, the watcher keeps trying
            await self._open()
        self._task = asyncio.create_task(self._run(), name="votewire-listen")

    def healthy(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def _open(self) -> None:
        conn = await store.connect(
            self.url, self.zone, timeout=self.timeout, application_name="votewire-listen"
        )
        conn.add_termination_listener(lambda _c: self._lost.set())
        await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._wake(payload))
        self._conn = conn
        self._lost.clear()

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                if self._conn is None:
                    await self._open()
                backoff = 0.2
                self._wake(None)  # catch up on anything committed while we were away
                while not self._lost.is_set():
                    try:
                        await asyncio.wait_for(self._lost.wait(), self.check_s)
                    except TimeoutError:
                        await asyncio.wait_for(store.ping(self._conn), self.timeout)  # type: ignore[arg-type]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: reconnect
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
            if self._conn is not None:
                self._conn.terminate()
                self._conn = None
            self.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()


class Hub:
    """The viewers of this process and the one reader that feeds them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        wakeup: Wakeup,
        *,
        coalesce_s: float,
        poll_s: float,
        timeout: float,
        fanout_seconds: Callable[[float], None] | None = None,
    ) -> None:
        self.pool, self.wakeup = pool, wakeup
        self.coalesce_s, self.poll_s, self.timeout = coalesce_s, poll_s, timeout
        self.viewers: dict[str, set[Viewer]] = {a: set() for a in AUDIENCES}
        self.queued: dict[str, set[Viewer]] = {a: set() for a in AUDIENCES}
        """Viewers served through their pending list and sender (joining, catching up, slow)."""
        self.lanes: dict[str, dict[Viewer, tuple]] = {a: {} for a in AUDIENCES}
        """Viewers in step with the feed, written to directly (`DirectWriter.entry`)."""
        self._writing: list[Viewer] | None = None
        """While a lane is being written: where `full` notes the viewers whose transport
        went over its high-water mark (they leave the lane after the loop)."""
        self.lane_last: dict[str, int | None] = {a: None for a in AUDIENCES}
        """The last seq of the last frame broadcast to each audience: where every viewer
        of its lane stands."""
        self.published = 0
        self.newest = 0
        """The newest seq this process knows was committed: its own commits at once, other
        processes' when the reader publishes them (what the read path's bodies check)."""
        self.resets = 0
        """How many `votewire reset`s this process has heard of (the picture empties while
        `seq` continues, so a body kept for a seq is stale after one)."""
        self._event = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.fanout_seconds = fanout_seconds
        self._last_broadcast = 0.0
        self.notices: dict[str, Callable[[], Awaitable[None]]] = {}
        """What to run when a NOTIFY other than a seq arrives (e.g. 'clock': reload the
        election clock and tell the viewers); each also runs after a lost LISTEN."""
        self._notice_tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        async with store.acquire(self.pool, self.timeout) as conn:
            self.published, public = await store.last_seqs(conn)
        self.newest = self.published
        self.lane_last = {"internal": self.published, "public": public}
        await self.wakeup.start(self._notified)
        self._task = asyncio.create_task(self._run(), name="votewire-fanout")

    async def stop(self) -> None:
        await self.wakeup.stop()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def quiet_for(self) -> float:
        """Seconds since the last broadcast began."""
        return time.monotonic() - self._last_broadcast

    def _notified(self, payload: str | None) -> None:
        if payload == "reset":  # `votewire reset`: every viewer starts again from a snapshot
            self.resets += 1
            self.resync_all()
            self.lane_last = {a: None for a in AUDIENCES}  # known again at the next frame
        if payload is None or payload in self.notices:
            for name, handler in self.notices.items():
                if payload in (None, name):
                    task = asyncio.create_task(handler(), name=f"votewire-notice-{name}")
                    self._notice_tasks.add(task)
                    task.add_done_callback(self._notice_tasks.discard)
            if payload is not None:
                return  # a notice, not a change of the feed
        self._event.set()

    def notice(self, payload: str) -> None:
        """This process changed something other processes learn by NOTIFY `payload`: with
        no LISTEN connection (one process) nothing comes back, so run its handler here."""
        if isinstance(self.wakeup, LocalWakeup):
            self._notified(payload)

    def tell_all(self, text: str) -> None:
        """An out-of-band message, outside the `seq` order (the election clock), to every
        viewer of this process: written straight to the lanes, queued for the others."""
        wire = WsFrame(Opcode.TEXT, text.encode("utf-8")).serialize(mask=False, extensions=[])
        for audience in AUDIENCES:
            lane, last = self.lanes[audience], self.lane_last[audience]
            full, missed = self._write(lane, wire)
            for viewer in self.queued[audience]:
                viewer.push(text)
            for viewer in full:
                if viewer in lane and viewer not in missed:
                    self._leave(viewer, last)  # type: ignore[arg-type]
            for viewer in missed:
                if viewer in lane:
                    self._leave(viewer, last)  # type: ignore[arg-type]
                    viewer.push(text)

    def committed(self, seq: int) -> None:
        """Called by this process after each commit: wakes the local reader at once."""
        self.newest = max(self.newest, seq)
        self._event.set()

    def add(self, viewer: Viewer) -> None:
        self.viewers[viewer.audience].add(viewer)
        self.queued[viewer.audience].add(viewer)

    def remove(self, viewer: Viewer) -> None:
        self.viewers[viewer.audience].discard(viewer)
        self.queued[viewer.audience].discard(viewer)
        self.lanes[viewer.audience].pop(viewer, None)
        if viewer.direct is not None:
            viewer.direct.when_full(None)

    def full(self, viewer: Viewer) -> None:
        """The viewer's transport went over its high-water mark (its client reads slower
        than we write): it leaves the lane for its pending list, whose sender waits for
        the transport to drain; after the lane's loop if one is being written."""
        if viewer not in self.lanes[viewer.audience]:
            return
        if self._writing is not None:
            self._writing.append(viewer)
        else:
            self._leave(viewer, self.lane_last[viewer.audience])  # type: ignore[arg-type]

    def idle(self, viewer: Viewer) -> None:
        """The viewer's sender has nothing queued: if the viewer is in step with the feed
        and its connection can take bytes now, later frames are written to it directly."""
        audience = viewer.audience
        if (
            viewer.direct is not None
            and viewer in self.queued[audience]
            and not viewer.pending
            and not viewer.gone
            and viewer.last == self.lane_last[audience]
            and viewer.covered <= self.published
            and viewer.direct.ready()
        ):
            self.queued[audience].discard(viewer)
            self.lanes[audience][viewer] = viewer.direct.entry
            viewer.direct.when_full(functools.partial(self.full, viewer))

    def _leave(self, viewer: Viewer, last: int) -> None:
        del self.lanes[viewer.audience][viewer]
        viewer.covered = viewer.last = last
        self.queued[viewer.audience].add(viewer)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._event.wait(), self.poll_s)
            except TimeoutError:
                pass
            self._event.clear()
            # Leading edge goes out at once; changes arriving within `coalesce_s` of the
            # last broadcast wait for the end of that tick and share one batch frame.
            wait = self._last_broadcast + self.coalesce_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self._publish_new()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be down: retry on poll
                log.warning("fan-out could not read the feed: %s", exc)

    async def _publish_new(self) -> None:
        while True:
            async with store.acquire(self.pool, self.timeout) as conn:
                rows = await store.feed_since(conn, self.published)
            if not rows:
                return
            if rows[0]["seq"] != self.published + 1:
                log.error(
                    "feed gap after %s (next %s): resyncing viewers", self.published, rows[0]["seq"]
                )
                self.resync_all()
            started = time.perf_counter()
            self._last_broadcast = time.monotonic()
            self._broadcast(rows)
            if self.fanout_seconds:
                self.fanout_seconds(time.perf_counter() - started)
            self.published = rows[-1]["seq"]
            self.newest = max(self.newest, self.published)
            if len(rows) < 5000:
                return

    def _broadcast(self, rows: list) -> None:
        internal = Frame.of(
            [r["seq"] for r in rows], [r["internal"] for r in rows], rows[0]["seq"] - 1
        )
        public_rows = [r for r in rows if r["public"] is not None]
        public = (
            Frame.of(
                [r["seq"] for r in public_rows],
                [r["public"] for r in public_rows],
                public_rows[0]["public_prev"],
            )
            if public_rows
            else None
        )
        self._send("internal", internal)
        if public is not None:
            self._send("public", public)

    def _write(self, lane: dict[Viewer, tuple], wire: bytes) -> tuple[list, set]:
        """Write `wire` to every viewer of `lane`, in one tight loop: one C call per viewer
        (the transport's `write`) when its protocol says when its transport is full
        (`full`), else two (and its buffer's size). Returns the viewers whose transport is
        full (they got the frame, buffered) and those it could not be written to."""
        full: list[Viewer] = []
        missed: set[Viewer] = set()
        self._writing = full
        try:
            for viewer, (write, buffered) in lane.items():
                try:
                    write(wire)
                    if buffered is not None and buffered():
                        full.append(viewer)
                except Exception:  # noqa: BLE001 - a closed transport: its owner will see
                    missed.add(viewer)
        finally:
            self._writing = None
        return full, missed

    def _send(self, audience: str, frame: Frame) -> None:
        """The lane gets the frame's bytes in one tight loop; a viewer whose transport
        could not take them all (its client reads slower than we write) leaves the lane
        for its pending list, whose sender waits for the transport to drain
        (backpressure); one whose transport is closed gets the frame there too."""
        lane, before = self.lanes[audience], self.lane_last[audience]
        if lane and frame.first_prev != before:  # never expected: fall back to the queues
            log.error("frame after %s does not follow %s: lane emptied", frame.first_prev, before)
            for viewer in list(lane):
                self._leave(viewer, before)  # type: ignore[arg-type]
        top = frame.seqs[-1]
        self.lane_last[audience] = top
        for viewer in list(self.queued[audience]):
            viewer.offer(frame)
        full, missed = self._write(lane, frame.wire)
        for viewer in full:
            if viewer in lane and viewer not in missed:
                self._leave(viewer, top)
        for viewer in missed:
            if viewer in lane:
                self._leave(viewer, before)  # type: ignore[arg-type]
                viewer.offer(frame)

    def resync_all(self) -> None:
        for audience in AUDIENCES:
            for viewer in list(self.lanes[audience]):
                self._leave(viewer, self.lane_last[audience])  # type: ignore[arg-type]
            for viewer in self.viewers[audience]:
                viewer.push(RESYNC)
