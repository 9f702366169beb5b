"""What a live viewer costs on `votewire serve` (issue 14 item 3), with the server configured
as deployed (server/cli/serve.py: `SocketProtocol`, server/sockets.py) in this event loop:
a viewer in step has no task of its own, few objects, and leaves no cycle behind; the feed
is the same as through uvicorn's own protocol (tests/test_live_feed.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import sys

import pytest
import websockets

from server.app import GracefulServer, create_app
from server.cli.serve import uvicorn_config
from server.live import LiveViewer
from server.sockets import Flag, Mailbox, SocketProtocol
from tests.conftest import ROOT, Server, bureau, free_port, report
from tests.conftest import test_settings as settings_for_tests
from tests.test_live_feed import DIRECT, assert_chain, metric, recv, updates

VIEWERS = 'votewire_viewers{audience="public"}'


@contextlib.asynccontextmanager
async def serve_as_deployed(db_url: str, **env: str):
    """The app in this event loop under `votewire serve`'s own uvicorn configuration."""
    settings = settings_for_tests(**env)
    port = free_port()
    config = uvicorn_config(create_app(settings, db_url), settings, "127.0.0.1", port)
    config.log_level = "warning"
    config.configure_logging()
    srv = GracefulServer(config, config.app.state.votewire)
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Server(port, db_url), config.app.state.votewire
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 30)


async def until(check, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_deployed_viewers_get_the_feed_in_order_and_leave_the_hub(db_url):
    async with serve_as_deployed(db_url) as (srv, app):
        token = await srv.token("01")
        viewers = [await websockets.connect(srv.live_url()) for _ in range(20)]
        for v in viewers:
            assert (await recv(v))["type"] == "snapshot"

        async def all_in_lane() -> bool:
            return await metric(srv, DIRECT) == 20.0

        await until(all_in_lane)
        async with bureau(srv, token) as b:
            acks = [await b.send(report("note", text=f"{i}")) for i in range(5)]
        for v in viewers:
            got = await updates(v, 5)
            assert [u["seq"] for u in got] == [a["seq"] for a in acks]
            assert_chain(0, got)
        resumed = await websockets.connect(srv.live_url(since=2))
        got = await updates(resumed, 3)
        assert [u["seq"] for u in got] == [3, 4, 5] and got[0]["prev"] == 2
        for v in [*viewers, resumed]:
            await v.close()

        async def none_left() -> bool:
            return await metric(srv, VIEWERS) == 0.0

        await until(none_left)
        assert not any(app.hub.viewers.values()) and not any(app.hub.lanes.values())


class RawViewers:
    """N minimal WebSocket clients in a child process (bench.fanout's load generator), so
    that this process holds only the server's side of them."""

    def __init__(self, url: str, n: int) -> None:
        self.url, self.n = url, n

    async def __aenter__(self) -> RawViewers:
        self.proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bench.fanout", "--viewers-of", self.url),
            *("--count", str(self.n), "--source", "127.0.0.1", "--client", "raw"),
            *("--snapshot", "1"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        assert line.strip() == b"ready", line
        return self

    async def __aexit__(self, *exc) -> None:
        self.proc.stdin.write(b"quit\n")
        await self.proc.stdin.drain()
        await asyncio.wait_for(self.proc.wait(), 30)


async def test_a_viewer_in_step_has_no_task_and_few_objects(db_url):
    """About 40 tracked objects per viewer (its protocol, transport, parser and ping timer,
    the viewer and its writer), no task; it was 166 objects and four tasks with a task,
    queue and event per viewer and the ASGI call chain held open."""
    async with serve_as_deployed(db_url) as (srv, app):
        n = 200
        gc.collect()
        tasks, objects = len(asyncio.all_tasks()), len(gc.get_objects())
        async with RawViewers(srv.live_url(), n):

            async def all_in_lane() -> bool:
                return len(app.hub.lanes["public"]) == n

            await until(all_in_lane, 30)
            await asyncio.sleep(0.2)
            gc.collect()
            per_viewer = (len(gc.get_objects()) - objects) / n
            assert len(asyncio.all_tasks()) <= tasks + 2  # none of its own (200 viewers)
        print(f"\n{per_viewer:.0f} tracked objects per viewer")
        assert per_viewer < 70


async def test_a_closed_viewer_is_freed_without_the_cycle_collector(db_url):
    async with serve_as_deployed(db_url) as (srv, app):
        gc.collect()
        gc.disable()  # a cycle left behind would stay visible in gc.get_objects()
        try:
            viewers = [await websockets.connect(srv.live_url()) for _ in range(30)]
            for v in viewers:
                await recv(v)
            held = [o for o in gc.get_objects() if isinstance(o, SocketProtocol | LiveViewer)]
            assert len(held) >= 60
            del held
            for v in viewers:
                await v.close()

            async def none_left() -> bool:
                return not any(app.hub.viewers.values())

            await until(none_left)
            await asyncio.sleep(0.2)  # the connections' last callbacks
            left = [o for o in gc.get_objects() if isinstance(o, SocketProtocol | LiveViewer)]
            assert left == []
        finally:
            gc.enable()


async def test_a_deployed_viewer_that_never_reads_is_dropped_without_slowing_readers(db_url):
    async with serve_as_deployed(
        db_url, VOTEWIRE_VIEWER_QUEUE="8", VOTEWIRE_COALESCE_MS="0", VOTEWIRE_RATE_BURST="100000"
    ) as (srv, app):
        token = await srv.token("01")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.port))
        stuck = await websockets.connect(srv.live_url(), sock=sock, max_queue=1, max_size=2**24)
        reader = await websockets.connect(srv.live_url(), max_size=2**24)
        await recv(reader)
        n = 400
        reading = asyncio.create_task(updates(reader, n, timeout=30))
        text = "ố" * 4000
        async with bureau(srv, token) as b:
            for _ in range(n):
                assert (await b.send(report("note", text=text)))["type"] == "ack"
        got = await asyncio.wait_for(reading, 60)
        assert [u["seq"] for u in got] == list(range(1, n + 1))
        assert_chain(0, got)

        async def stuck_dropped() -> bool:
            return len(app.hub.viewers["public"]) == 1

        await until(stuck_dropped, 20)  # closed, or cut when it could not take the close
        assert await metric(srv, "votewire_dropped_viewers_total") >= 1
        await reader.close()
        # Gone as a stuck client goes: its connection dropped. A close handshake would wait
        # out websockets' 10 s close_timeout behind the backlog it never read.
        stuck.transport.abort()


async def test_mailbox_is_a_fifo_queue_for_items_and_waiters():
    box = Mailbox()
    assert box.empty() and box.qsize() == 0
    first = asyncio.create_task(box.get())
    second = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    box.put_nowait("a")
    box.put_nowait("b")
    assert await first == "a" and await second == "b"
    waiting = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    box.put_nowait("c")
    waiting.cancel()  # woken, then cancelled before it ran: "c" goes to the next getter
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await asyncio.wait_for(box.get(), 1) == "c"
    with pytest.raises(asyncio.QueueEmpty):
        box.get_nowait()


async def test_flag_wakes_every_waiter_like_an_event():
    flag = Flag()
    assert not flag.is_set()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    flag.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    flag.clear()
    late = asyncio.create_task(flag.wait())
    await asyncio.sleep(0.01)
    assert not late.done()
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    assert Flag(True).is_set() and await Flag(True).wait()


async def test_a_detached_viewer_is_closed_1012_when_the_server_stops(db_url):
    async with serve_as_deployed(db_url) as (srv, app):
        viewer = await websockets.connect(srv.live_url())
        await recv(viewer)

        async def in_lane() -> bool:
            return len(app.hub.lanes["public"]) == 1

        await until(in_lane)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(viewer.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    assert not any(app.hub.viewers.values())
