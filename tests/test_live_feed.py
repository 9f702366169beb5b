"""Protocol §3 with real servers: snapshot then updates, resume, scale-out, faults, audiences."""

from __future__ import annotations

import asyncio
import json
import socket

import asyncpg
import httpx
import websockets

from tests.conftest import bureau, feed_message, issue, report, serve_in_loop


async def recv(ws, timeout: float = 10.0) -> dict:
    return await feed_message(ws, timeout)


async def updates(ws, count: int, timeout: float = 15.0) -> list[dict]:
    """The next `count` updates, unpacking batches."""
    got: list[dict] = []
    while len(got) < count:
        msg = await recv(ws, timeout)
        assert msg["type"] in ("update", "batch"), msg
        got.extend(msg["updates"] if msg["type"] == "batch" else [msg])
    return got


def assert_chain(start: int, got: list[dict]) -> None:
    prev = start
    for u in got:
        assert u["prev"] == prev, (prev, u["seq"], u["prev"])
        prev = u["seq"]


async def test_snapshot_then_one_update_per_report_in_seq_order(server):
    token = await server.token("01")
    async with websockets.connect(server.live_url()) as viewer:
        snap = await recv(viewer)
        assert snap["type"] == "snapshot" and snap["seq"] == 0 and len(snap["provinces"]) == 63
        async with bureau(server, token) as b:
            acks = [
                await b.send(report(voted=100 * i, as_of=f"2021-05-23T{8 + i:02d}:00:00+07:00"))
                for i in range(1, 6)
            ]
        got = await updates(viewer, 5)
    assert [u["seq"] for u in got] == [a["seq"] for a in acks]
    assert_chain(0, got)
    last = got[-1]
    assert last["event"]["id"] == acks[-1]["id"] and last["event"]["kind"] == "turnout"
    assert last["event"]["province"] == "01" and last["event"]["data"] == {"voted": 500}
    assert last["province"]["code"] == "01" and last["province"]["voted"] == 500
    assert last["national"]["voted"] == 500 and last["national"]["provinces_reporting"] == 1


async def test_resume_with_since_gets_exactly_the_missed_updates(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        for i in range(1, 4):
            await b.send(report("note", text=f"ghi chú {i}"))
        async with websockets.connect(server.live_url(since=1)) as viewer:
            got = await updates(viewer, 2)
            assert [u["seq"] for u in got] == [2, 3]
            assert got[0]["prev"] == 1
            await b.send(report("note", text="sau"))
            live = await updates(viewer, 1)
            assert live[0]["seq"] == 4 and live[0]["prev"] == 3
        async with websockets.connect(server.live_url(since=4)) as viewer:
            await b.send(report("note", text="mới"))
            got = await updates(viewer, 1)
            assert got[0]["seq"] == 5 and got[0]["prev"] == 4


async def test_since_too_old_or_unknown_gets_a_snapshot(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_FEED_RETAIN="2") as srv:
        token = await srv.token("01")
        async with bureau(srv, token) as b:
            for i in range(5):
                await b.send(report("note", text=f"{i}"))
        for since in (0, 1, 99):
            async with websockets.connect(srv.live_url(since=since)) as viewer:
                msg = await recv(viewer)
                assert msg["type"] == "snapshot" and msg["seq"] == 5, since
        async with websockets.connect(srv.live_url(since=3)) as viewer:
            assert [u["seq"] for u in await updates(viewer, 2)] == [4, 5]


async def test_internal_items_never_reach_a_public_viewer(server):
    token = await server.token("01")
    editor = await server.token(role="editor")
    async with (
        websockets.connect(server.live_url()) as public,
        websockets.connect(server.live_url(editor=True)) as desk,
    ):
        await desk.send(json.dumps({"type": "hello", "token": editor}))
        assert (await recv(desk))["type"] == "welcome"
        assert (await recv(desk))["type"] == "snapshot"
        await recv(public)
        async with bureau(server, token) as b:
            await b.send(
                report("security", severity="incident", category="security", text="BÍ MẬT")
            )
            await b.send(report("note", text="nội bộ", audience="internal"))
            await b.send(report("note", text="công khai"))
        seen_by_desk = await updates(desk, 3)
        seen_by_public = await updates(public, 1)
        assert [u["seq"] for u in seen_by_desk] == [1, 2, 3]
        assert [u["seq"] for u in seen_by_public] == [3]
        assert seen_by_public[0]["prev"] == 0
        assert seen_by_public[0]["province"]["security_level"] is None
        assert seen_by_desk[-1]["province"]["security_level"] == "incident"
        with_fresh_public = await asyncio.wait_for(_public_snapshot(server), 10)
        assert "BÍ MẬT" not in json.dumps(with_fresh_public, ensure_ascii=False)
        assert with_fresh_public["seq"] == 3


async def _public_snapshot(server) -> dict:
    async with websockets.connect(server.live_url()) as ws:
        return await recv(ws)


async def test_editor_feed_needs_an_editor_token(server):
    bureau_token = await server.token("01")
    for token in ("nope", bureau_token):
        async with websockets.connect(server.live_url(editor=True)) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            assert (await recv(ws))["code"] == "auth_failed"
            try:
                await recv(ws)
            except websockets.ConnectionClosed as exc:
                assert exc.rcvd.code == 4401


async def test_two_processes_on_one_database_behave_as_one(spawn_server, db_url):
    a, b = spawn_server(), spawn_server()
    tokens = [await issue(db_url, code) for code in ("01", "79")]
    async with (
        websockets.connect(a.server.live_url()) as va,
        websockets.connect(b.server.live_url()) as vb,
    ):
        assert (await recv(va))["type"] == (await recv(vb))["type"] == "snapshot"
        async with bureau(a.server, tokens[0]) as ba, bureau(b.server, tokens[1]) as bb:
            for i in range(10):
                await (ba if i % 2 else bb).send(
                    report(voted=10 + i, as_of=f"2021-05-23T{8 + i:02d}:00:00+07:00")
                )
        seq_a = [u["seq"] for u in await updates(va, 10)]
        seq_b = [u["seq"] for u in await updates(vb, 10)]
    assert seq_a == seq_b == list(range(1, 11))


async def test_killing_the_listen_connection_does_not_leave_viewers_silent(spawn_server, db_url):
    a, b = spawn_server(), spawn_server()
    token = await issue(db_url, "01")
    async with websockets.connect(b.server.live_url()) as viewer:
        await recv(viewer)
        conn = await asyncpg.connect(db_url)
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'votewire-listen' AND datname = current_database()"
        )
        await conn.close()
        assert killed == 2
        async with bureau(a.server, token) as ba:
            for i in range(3):
                await ba.send(report("note", text=f"sau khi mất LISTEN {i}"))
        got = await updates(viewer, 3, timeout=20)
        assert [u["seq"] for u in got] == [1, 2, 3]
    async with httpx.AsyncClient() as c:
        for _ in range(100):
            health = (await c.get(f"{b.server.http}/healthz")).json()
            if health["listen"]:
                break
            await asyncio.sleep(0.1)
    assert health == {"ok": True, "process": True, "database": True, "listen": True}


async def test_a_viewer_that_never_reads_is_dropped_without_slowing_readers(db_url):
    async with serve_in_loop(
        db_url, VOTEWIRE_VIEWER_QUEUE="8", VOTEWIRE_COALESCE_MS="0", VOTEWIRE_RATE_BURST="100000"
    ) as srv:
        token = await srv.token("01")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # no autotuning: fills fast
        sock.connect(("127.0.0.1", srv.port))
        stuck = await websockets.connect(srv.live_url(), sock=sock, max_queue=1, max_size=2**24)
        reader = await websockets.connect(srv.live_url(), max_size=2**24)
        await recv(reader)
        n = 400
        got: list[dict] = []

        async def read_all() -> None:
            got.extend(await updates(reader, n, timeout=30))

        reading = asyncio.create_task(read_all())
        text = "ố" * 4000  # 12 KB of UTF-8 per update
        async with bureau(srv, token) as b:
            for _ in range(n):
                assert (await b.send(report("note", text=text)))["type"] == "ack"
        await asyncio.wait_for(reading, 60)
        assert [u["seq"] for u in got] == list(range(1, n + 1))
        assert_chain(0, got)
        dropped = await metric(srv, "votewire_dropped_viewers_total")
        kinds = []
        try:
            while True:
                kinds.append((await recv(stuck, 2))["type"])
        except (TimeoutError, websockets.ConnectionClosed):
            pass
        assert "resync" in kinds or stuck.close_code is not None or dropped >= 1
        assert len([k for k in kinds if k in ("update", "batch")]) < n
        assert await metric(srv, DIRECT) <= 1.0  # the stuck one left the fast path
        await stuck.close()
        await reader.close()


async def test_viewers_in_step_are_written_directly_in_order(server):
    token = await server.token("01")
    readers = [await websockets.connect(server.live_url()) for _ in range(2)]
    for r in readers:
        await recv(r)
    async with bureau(server, token) as b:
        assert (await b.send(report("note", text="x")))["type"] == "ack"
        for r in readers:
            assert (await updates(r, 1))[0]["seq"] == 1
        assert await metric(server, DIRECT) == 2.0  # in step, no backlog: the fast path
        for _ in range(20):
            assert (await b.send(report("note", text="y")))["type"] == "ack"
    for r in readers:
        got = await updates(r, 20)
        assert [u["seq"] for u in got] == list(range(2, 22))
        assert_chain(1, got)
        await r.close()


DIRECT = 'votewire_viewers_direct{audience="public"}'


async def metric(srv, sample: str) -> float:
    """One sample of the server's /metrics (read with an editor token)."""
    async with httpx.AsyncClient() as c:
        editor = await srv.token(role="editor")
        metrics = await c.get(f"{srv.http}/metrics", headers={"Authorization": f"Bearer {editor}"})
    return float(next(x for x in metrics.text.splitlines() if x.startswith(sample)).split()[-1])


async def test_local_fanout_serves_one_process_too(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_FANOUT="local") as srv:
        token = await srv.token("01")
        async with websockets.connect(srv.live_url()) as viewer:
            await recv(viewer)
            async with bureau(srv, token) as b:
                acks = [await b.send(report("note", text=f"{i}")) for i in range(3)]
            got = await updates(viewer, 3)
        assert [u["seq"] for u in got] == [a["seq"] for a in acks]
        assert_chain(0, got)


async def test_reset_gives_every_viewer_live_zeros(server):
    import subprocess
    import sys

    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report(voted=1000))
    async with websockets.connect(server.live_url()) as viewer:
        assert (await recv(viewer))["national"]["voted"] == 1000
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "server", "reset", "--rehearsal"],
            env={**__import__("os").environ, "DATABASE_URL": server.db_url},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert (await recv(viewer))["type"] == "resync"
        fresh = await recv(viewer)
    assert fresh["type"] == "snapshot" and fresh["national"]["voted"] is None
    assert len(fresh["provinces"]) == 63 and all(p["voted"] is None for p in fresh["provinces"])
    async with bureau(server, token) as b:
        ack = await b.send(report(voted=5))
    assert ack["seq"] == 2  # seq continues: no viewer can confuse old and new
    assert (await server.snapshot())["national"]["voted"] == 5
