import asyncio
import json

import websockets

from tests.conftest import bureau, report


async def test_viewer_gets_snapshot_then_update(server):
    token = await server.token("01")
    async with websockets.connect(server.live_url()) as viewer:
        snap = json.loads(await asyncio.wait_for(viewer.recv(), 5))
        assert snap["type"] == "snapshot" and snap["seq"] == 0
        async with bureau(server, token) as b:
            ack = await b.send(report(voted=10))
        upd = json.loads(await asyncio.wait_for(viewer.recv(), 5))
        assert upd["type"] == "update" and upd["seq"] == ack["seq"] and upd["prev"] == 0
        assert upd["national"]["voted"] == 10
