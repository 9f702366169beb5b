"""The read path's kept bodies (server/bodies.py, issue 14 item 1): `/api/snapshot` and
`/api/results` served from memory equal what the database gives at the same `seq`, after
every change of a simulated day; they follow changes of this process at once (read your
writes) and of other processes within the feed's latency; editors get their own."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import httpx

from ingest.fixtures import FIXTURES
from server import store
from server.bodies import ReadCache
from server.jsonio import dumps
from tests.conftest import bureau, report, serve_in_loop

SCENARIO = FIXTURES / "scenarios" / "election_day_2021.json"


def without_at(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "at"}


async def from_database(db_url: str, internal: bool = False) -> dict:
    """The snapshot as the database builds it now (seq, national, provinces)."""
    conn = await store.connect(db_url, "Asia/Ho_Chi_Minh")
    try:
        return await store.picture(conn, internal=internal, at=None)
    finally:
        await conn.close()


async def test_the_kept_snapshot_equals_the_databases_after_every_change_of_the_day(db_url):
    """Every event of the simulated 2021 day, one at a time, through one editor socket:
    after each ack the snapshot served (from memory when nothing newer is known) is the
    database's picture at the same seq, for the public and for editors."""
    events = json.loads(SCENARIO.read_text(encoding="utf-8"))["events"]
    async with serve_in_loop(db_url, VOTEWIRE_RATE_PER_S="10000") as server:
        await replay_and_compare(server, events)


async def replay_and_compare(server, events: list[dict]) -> None:
    """After each ack, the two served bodies and the two database pictures are asked for at
    once (nothing changes until the next event is sent)."""
    editor = await server.token(None, "editor")
    auth = {"Authorization": f"Bearer {editor}"}
    conn = await store.connect(server.db_url, "Asia/Ho_Chi_Minh")
    conn_internal = await store.connect(server.db_url, "Asia/Ho_Chi_Minh")
    compared = 0
    try:
        async with (
            bureau(server, editor) as b,
            httpx.AsyncClient(base_url=server.http) as c,
        ):
            for event in events:
                sent = {
                    "type": "report",
                    "id": event["id"],
                    "kind": event["kind"],
                    "as_of": event["t"],
                    "province": event["province"],
                    "data": event["data"],
                }
                answer = await b.send(sent)
                if answer["type"] == "error":
                    assert answer["code"] in ("regression", "invalid"), answer
                    continue  # the day holds deliberate refusals; they change nothing
                public, internal, expected_public, expected_internal = await asyncio.gather(
                    c.get("/api/snapshot"),
                    c.get("/api/snapshot", headers=auth),
                    store.picture(conn, internal=False, at=None),
                    store.picture(conn_internal, internal=True, at=None),
                )
                public, internal = public.json(), internal.json()
                assert public["seq"] <= answer["seq"] == internal["seq"]
                assert without_at(public) == {**expected_public, "rehearsal": False}
                assert without_at(internal) == {**expected_internal, "rehearsal": False}
                compared += 1
    finally:
        await conn.close()
        await conn_internal.close()
    assert compared > 1000


async def test_the_cache_reads_once_per_change_and_concurrent_readers_share_the_read():
    fresh = [(0, 1)]
    reads = []

    async def read() -> dict:
        reads.append(fresh[0])
        await asyncio.sleep(0.01)
        return {"seq": fresh[0][1], "at": "x", "national": {"voted": len(reads)}}

    cache = ReadCache(lambda: fresh[0])
    bodies = await asyncio.gather(*(cache.now("snapshot:public", read, dumps) for _ in range(50)))
    assert len(reads) == 1 and len({b.render("T") for b in bodies}) == 1
    assert json.loads(bodies[0].render("2021-05-23T07:00:00+07:00")) == {
        "seq": 1,
        "at": "2021-05-23T07:00:00+07:00",
        "national": {"voted": 1},
    }
    await cache.now("snapshot:public", read, dumps)
    assert len(reads) == 1  # nothing newer known: served from memory
    fresh[0] = (0, 2)
    assert json.loads((await cache.now("snapshot:public", read, dumps)).render("T"))["seq"] == 2
    fresh[0] = (1, 2)  # a reset: same seq, read again
    await cache.now("snapshot:public", read, dumps)
    assert len(reads) == 3
    await cache.moment("snapshot:public", "2021-05-23T09:00:00+07:00", read, dumps)
    await cache.moment("snapshot:public", "2021-05-23T09:00:00+07:00", read, dumps)
    assert len(reads) == 4  # a moment asked twice is read once while nothing changes
    fresh[0] = (1, 3)
    await cache.moment("snapshot:public", "2021-05-23T09:00:00+07:00", read, dumps)
    assert len(reads) == 5  # a change may rewrite the past: moments are read again


async def test_an_unchanged_snapshot_answers_304_and_an_ack_changes_it(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        first = await c.get("/api/snapshot")
        again = await c.get("/api/snapshot")
        cached = await c.get("/api/snapshot", headers={"If-None-Match": first.headers["etag"]})
    assert first.headers["etag"] == again.headers["etag"]
    assert first.headers["etag"].startswith('W/"p')
    assert cached.status_code == 304 and cached.content == b""
    token = await server.token("01")
    async with bureau(server, token) as b:
        ack = await b.send(report(voted=1000))
    async with httpx.AsyncClient(base_url=server.http) as c:
        after = await c.get("/api/snapshot", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200  # read your writes: the ack's change is in the answer
    assert after.json()["seq"] == ack["seq"]
    assert after.headers["etag"] != first.headers["etag"]


async def test_editors_get_the_internal_picture_privately_under_their_own_etag(server):
    token = await server.token("01")
    editor = await server.token(None, "editor")
    async with bureau(server, token) as b:
        await b.send(report("security", severity="incident", category="order", text="x"))
    async with httpx.AsyncClient(base_url=server.http) as c:
        public = await c.get("/api/snapshot")
        private = await c.get("/api/snapshot", headers={"Authorization": f"Bearer {editor}"})
        wrong = await c.get(
            "/api/snapshot",
            headers={
                "Authorization": f"Bearer {editor}",
                "If-None-Match": public.headers["etag"],
            },
        )
    hanoi = next(p for p in private.json()["provinces"] if p["code"] == "01")
    assert hanoi["security_level"] == "incident"  # an internal note counts for editors
    hanoi = next(p for p in public.json()["provinces"] if p["code"] == "01")
    assert hanoi["security_level"] is None
    assert private.headers["cache-control"].startswith("private")
    assert public.headers["cache-control"].startswith("public")
    assert private.headers["etag"] != public.headers["etag"]
    assert wrong.status_code == 200  # the public ETag never validates an editor's body


async def test_the_kept_body_says_the_clocks_now(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        first = (await c.get("/api/snapshot")).json()
        await asyncio.sleep(1.1)
        second = (await c.get("/api/snapshot")).json()
    assert first["seq"] == second["seq"] and first["at"] < second["at"]


async def test_another_processs_change_reaches_the_kept_body_within_the_feeds_latency(
    spawn_server,
):
    one, two = spawn_server(), spawn_server()  # each already started and answering
    token = await one.server.token("01")
    async with httpx.AsyncClient() as c:
        before = (await c.get(f"{two.server.http}/api/snapshot")).json()
        async with bureau(one.server, token) as b:
            ack = await b.send(report(voted=4242))
        for _ in range(100):
            seen = (await c.get(f"{two.server.http}/api/snapshot")).json()
            if seen["seq"] == ack["seq"]:
                break
            await asyncio.sleep(0.05)
    assert before["seq"] < ack["seq"] == seen["seq"]
    hanoi = next(p for p in seen["provinces"] if p["code"] == "01")
    assert hanoi["voted"] == 4242


async def test_a_reset_empties_the_kept_body_though_seq_goes_on(spawn_server):
    """`votewire reset` keeps `seq` and empties the picture: a body kept for that seq would
    be wrong; the NOTIFY 'reset' makes the process read again."""
    proc = spawn_server()
    token = await proc.server.token("01")
    async with bureau(proc.server, token) as b:
        await b.send(report(voted=1000))
    async with httpx.AsyncClient() as c:
        full = (await c.get(f"{proc.server.http}/api/snapshot")).json()
        conn = await asyncpg.connect(proc.server.db_url)
        try:
            await store.reset_reports(conn)
        finally:
            await conn.close()
        for _ in range(100):
            empty = (await c.get(f"{proc.server.http}/api/snapshot")).json()
            if empty["national"]["voted"] is None:
                break
            await asyncio.sleep(0.05)
    assert full["national"]["voted"] == 1000
    assert empty["national"]["voted"] is None and empty["seq"] == full["seq"]
