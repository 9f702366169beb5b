"""An acknowledged report is never lost: server SIGKILL, database restart, many bureaus."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import asyncpg
import pytest

from ingest.fixtures import provinces
from server import store
from server.embedded import prepare
from tests.conftest import bureau, issue, report, serve_in_loop, stored
from tests.conftest import stored as stored_reports


async def test_acked_report_survives_sigkill_of_the_server(spawn_server, db_url):
    first = spawn_server()
    token = await issue(db_url, "01")
    async with bureau(first.server, token) as b:
        acks = [
            await b.send(report(voted=1000 + i, as_of=f"2021-05-23T1{i}:00:00+07:00"))
            for i in range(3)
        ]
    first.kill()
    second = spawn_server()
    snap = await second.server.snapshot()
    assert snap["seq"] == acks[-1]["seq"] == 3
    assert snap["provinces"][0]["voted"] == 1002
    assert [r["seq"] for r in await stored(db_url)] == [1, 2, 3]


async def migrated(url: str) -> None:
    conn = await store.connect(url, "Asia/Ho_Chi_Minh")
    await store.migrate(conn)
    await store.seed_provinces(conn, provinces())
    await conn.close()


@pytest.fixture
def owned_postgres():
    """A Postgres this test may stop and start (never the machine's shared server)."""
    pg = prepare(Path(tempfile.mkdtemp(prefix="votewire-owned-")))
    pg.start()
    yield pg
    pg.stop("immediate")


async def test_database_down_is_unavailable_then_accepted_without_restart(owned_postgres):
    url = owned_postgres.url
    await migrated(url)
    token = await issue(url, "01")
    async with serve_in_loop(url, VOTEWIRE_DB_TIMEOUT_S="1") as srv:
        async with bureau(srv, token) as b:
            assert (await b.send(report(voted=10)))["type"] == "ack"
            await asyncio.to_thread(owned_postgres.stop)
            r = report(voted=20, as_of="2021-05-23T12:00:00+07:00")
            answer = await b.send(r)
            assert answer["code"] == "unavailable" and answer["id"] == r["id"]
            await asyncio.to_thread(owned_postgres.start)
            for _ in range(50):  # the pool reconnects on its own; no server restart
                answer = await b.send(r)
                if answer["type"] == "ack":
                    break
                assert answer["code"] == "unavailable"
                await asyncio.sleep(0.2)
            assert answer == {"type": "ack", "id": r["id"], "seq": 2, "duplicate": False}
        assert (await srv.snapshot())["provinces"][0]["voted"] == 20


async def test_hello_while_database_down_is_unavailable_not_auth_failed(owned_postgres):
    import json

    import websockets

    url = owned_postgres.url
    await migrated(url)
    token = await issue(url, "01")
    async with serve_in_loop(url, VOTEWIRE_DB_TIMEOUT_S="1") as srv:
        await asyncio.to_thread(owned_postgres.stop)
        async with websockets.connect(srv.bureau_url) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            assert json.loads(await ws.recv())["code"] == "unavailable"
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd.code == 1013
        await asyncio.to_thread(owned_postgres.start)


async def test_63_bureaus_sending_50_reports_each_lose_nothing(server):
    tokens = {p.code: await server.token(p.code) for p in provinces()}

    async def one(code: str) -> list[dict]:
        acks = []
        async with bureau(server, tokens[code]) as b:
            for i in range(50):
                minute = f"{7 + i // 6:02d}:{(i % 6) * 10:02d}"
                r = report(voted=100 * (i + 1), as_of=f"2021-05-23T{minute}:00+07:00")
                acks.append(await b.send(r))
        return acks

    results = await asyncio.gather(*(one(code) for code in tokens))
    acks = [a for r in results for a in r]
    assert all(a["type"] == "ack" and not a["duplicate"] for a in acks)
    seqs = sorted(a["seq"] for a in acks)
    assert seqs == list(range(1, 63 * 50 + 1))
    conn = await asyncpg.connect(server.db_url)
    assert await conn.fetchval("SELECT count(*) FROM reports") == 63 * 50
    await conn.close()
    snap = await server.snapshot()
    assert snap["national"]["provinces_reporting"] == 63
    assert snap["national"]["voted"] == 63 * 5000


async def test_graceful_shutdown_acks_every_report_it_stored(spawn_server, db_url):
    """SIGTERM while a bureau streams reports: every stored report was acked, every answer
    is an ack or `unavailable`, and the resend after restart stores nothing twice."""
    import json

    import websockets

    proc = spawn_server(VOTEWIRE_RATE_BURST="100000")
    token = await issue(db_url, "01")
    sent = [report("note", text=f"tin {i}") for i in range(400)]
    answers: dict[str, dict] = {}
    async with websockets.connect(proc.server.bureau_url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        json.loads(await ws.recv())
        for r in sent:  # pipelined: no waiting for acks
            await ws.send(json.dumps(r))
        proc.proc.send_signal(__import__("signal").SIGTERM)
        try:
            while True:
                a = json.loads(await asyncio.wait_for(ws.recv(), 15))
                answers[a["id"]] = a
        except websockets.ConnectionClosed:
            pass
    proc.proc.wait(30)
    stored = {row["id"] for row in await stored_reports(db_url)}
    acked = {i for i, a in answers.items() if a["type"] == "ack"}
    assert {a.get("code") for a in answers.values() if a["type"] == "error"} <= {"unavailable"}
    refused, silent = len(answers) - len(acked), len(sent) - len(answers)
    print(f"graceful: {len(acked)} acked, {refused} unavailable, {silent} unanswered")
    assert stored == acked, (len(stored), len(acked))
    assert acked, "the server acked nothing before it stopped"
    again = spawn_server(VOTEWIRE_RATE_BURST="100000")
    async with bureau(again.server, token) as b:
        for r in sent:
            a = await b.send(r)
            assert a["type"] == "ack" and a["duplicate"] == (r["id"] in acked)
    assert len(await stored_reports(db_url)) == len(sent)
