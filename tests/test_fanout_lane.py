"""The fan-out lane checks that the uvicorn it runs on offers what it needs, and says so:
in the log (once per answer per process) and in /metrics."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import uvicorn
import websockets
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from server.lane import LaneCheck
from tests.test_live_feed import recv

LANE_ON = 'votewire_fanout_lane_available{reason="ok"}'


async def lane_samples(srv) -> list[str]:
    """The `votewire_fanout_lane_available` samples of the server's /metrics."""
    editor = await srv.token(role="editor")
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{srv.http}/metrics", headers={"Authorization": f"Bearer {editor}"})
    return [x for x in r.text.splitlines() if x.startswith("votewire_fanout_lane_available{")]


async def test_the_real_server_reports_the_lane_on(server):
    async with websockets.connect(server.live_url()) as viewer:
        await recv(viewer)
        assert await lane_samples(server) == [f"{LANE_ON} 1.0"]


async def uvicorn_protocol() -> tuple[WebSocketsSansIOProtocol, socket.socket]:
    """The protocol object uvicorn serves `ws="websockets-sansio"` with, on a real
    connected transport (one end of a socket pair)."""
    config = uvicorn.Config(lambda *a: None, ws="websockets-sansio", lifespan="off")
    config.load()
    loop = asyncio.get_running_loop()
    proto = WebSocketsSansIOProtocol(config, ServerState(), {}, loop)
    ours, theirs = socket.socketpair()
    await loop.connect_accepted_socket(lambda: proto, ours)
    return proto, theirs


async def test_a_protocol_without_disconnected_turns_the_lane_off_with_a_logged_reason(caplog):
    proto, peer = await uvicorn_protocol()
    try:
        check = LaneCheck()
        with caplog.at_level(logging.INFO, logger="votewire.fanout"):
            assert check.writer(proto.send) is not None  # this uvicorn: on
            assert check.available is True and check.reason == "ok"
            del proto.disconnected  # what uvicorn 0.52.0's protocol looks like
            assert check.writer(proto.send) is None
            assert check.available is False
            assert "lacks disconnected" in check.reason
            assert check.writer(proto.send) is None  # said once per process, not per viewer
        off = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(off) == 1 and "fan-out lane off" in off[0].getMessage()
        assert "protocol (" in off[0].getMessage() and "lacks disconnected" in off[0].getMessage()
        assert sum("fan-out lane on" in r.getMessage() for r in caplog.records) == 1
    finally:
        proto.transport.close()
        peer.close()


async def test_a_send_that_is_no_protocol_method_keeps_the_viewer_on_its_queue():
    check = LaneCheck()
    assert check.writer(print) is None and check.available is False
    assert check.writer(None) is None and "not a method" in check.reason
