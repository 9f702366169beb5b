"""Polls answered before routing (server/kept_reads.py, issue 14 item 1): the same bytes and
headers as the routed answer, only for the public body now, never stale, never an editor's."""

from __future__ import annotations

import json

import httpx

from ingest.fixtures import FIXTURES
from ingest.simulate import report_of
from server import store
from server.kept_reads import PATHS
from server.picture import routes as picture_routes
from server.results_routes import routes as results_routes
from tests.conftest import bureau, report, serve_in_loop

SCENARIO = FIXTURES / "scenarios" / "election_day_2021.json"
VARYING = {"date"}
"""Headers that may differ between two answers a second apart (uvicorn's clock)."""


def without_at(raw: bytes) -> dict:
    body = json.loads(raw)
    assert body.pop("at")
    return body


def headers_of(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VARYING}


async def fetch_both(c: httpx.AsyncClient, server, path: str, **headers: str):
    """The answer before routing and the routed one (a cookie sends a poll through the
    routes; it is not a session), each checked to have come the way it should."""
    reads = server.state.reads
    before = reads.served
    kept = await c.get(path, headers=headers)
    assert reads.served == before + 1, f"{path} was not answered before routing"
    routed = await c.get(path, headers={**headers, "Cookie": "portal=1"})
    assert reads.served == before + 1, f"{path} with a cookie was answered before routing"
    return kept, routed


def test_the_kept_paths_are_the_routes_that_keep_bodies():
    paths = {r.path for r in (*picture_routes, *results_routes)}
    assert set(PATHS) <= paths
    assert set(PATHS.values()) == {"snapshot", "results"}


async def test_a_poll_before_routing_gets_the_routed_bytes_and_headers(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report(voted=1000))
    async with httpx.AsyncClient(base_url=server.http) as c:
        for path in PATHS:
            first = await c.get(path)  # the change is newer than any kept body: routed
            kept, routed = await fetch_both(c, server, path)
            assert kept.status_code == routed.status_code == first.status_code == 200
            assert without_at(kept.content) == without_at(routed.content)
            assert json.loads(kept.content)["at"][:16] == json.loads(routed.content)["at"][:16]
            assert headers_of(kept) == headers_of(routed) == headers_of(first)
            assert kept.headers["cache-control"] == "public, max-age=1"
            assert kept.headers["x-content-type-options"] == "nosniff"  # the edge's headers

            tag = kept.headers["etag"]
            kept, routed = await fetch_both(c, server, path, **{"If-None-Match": tag})
            assert kept.status_code == routed.status_code == 304
            assert kept.content == routed.content == b""
            assert headers_of(kept) == headers_of(routed)


async def test_a_new_change_is_never_answered_from_the_older_kept_body(server):
    token = await server.token("01")
    async with bureau(server, token) as b, httpx.AsyncClient(base_url=server.http) as c:
        for voted in (1000, 2000, 3000):
            ack = await b.send(report(voted=voted))
            body = (await c.get("/api/snapshot")).json()  # the kept one is stale: routed
            again = (await c.get("/api/snapshot")).json()  # now kept, answered before routing
            for seen in (body, again):
                assert seen["seq"] == ack["seq"]
                assert next(p for p in seen["provinces"] if p["code"] == "01")["voted"] == voted


async def test_editors_and_moments_always_go_through_the_routes(server):
    editor = await server.token(None, "editor")
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report("security", severity="incident", category="order", text="x"))
    reads = server.state.reads
    async with httpx.AsyncClient(base_url=server.http) as c:
        await c.get("/api/snapshot")
        public = await c.get("/api/snapshot")
        served = reads.served
        private = await c.get("/api/snapshot", headers={"Authorization": f"Bearer {editor}"})
        private_again = await c.get("/api/snapshot", headers={"Authorization": f"Bearer {editor}"})
        moment = await c.get("/api/snapshot", params={"at": "2021-05-23T09:00:00+07:00"})
        head = await c.head("/api/snapshot")
    assert reads.served == served  # none of these four came from before routing
    assert private_again.headers["cache-control"] == "private, no-cache"
    assert private.headers["etag"] != public.headers["etag"]
    hanoi = next(p for p in private_again.json()["provinces"] if p["code"] == "01")
    assert hanoi["security_level"] == "incident"
    assert moment.headers["cache-control"] == "public, max-age=5"
    assert head.status_code in (200, 405)


async def test_answers_before_routing_equal_the_database_after_every_change_of_a_day(db_url):
    """The first 200 reports of the simulated day, one at a time: after each ack the body
    answered before routing is the database's picture at the same seq."""
    events = json.loads(SCENARIO.read_text(encoding="utf-8"))["events"][:200]
    async with serve_in_loop(db_url, VOTEWIRE_RATE_PER_S="10000") as server:
        assert await compare_each_change(server, events) > 150


async def compare_each_change(server, events: list[dict]) -> int:
    editor = await server.token(None, "editor")
    conn = await store.connect(server.db_url, "Asia/Ho_Chi_Minh")
    compared = 0
    try:
        async with bureau(server, editor) as b, httpx.AsyncClient(base_url=server.http) as c:
            for event in events:
                # an editor's token names no province: the report does
                answer = await b.send({**report_of(event), "province": event["province"]})
                if answer["type"] == "error":
                    assert answer["code"] in ("regression", "invalid"), answer
                    continue  # the day holds deliberate refusals; they change nothing
                await c.get("/api/snapshot")  # routed: reads the change
                served = server.state.reads.served
                kept = (await c.get("/api/snapshot")).json()
                assert server.state.reads.served == served + 1
                expected = await store.picture(conn, internal=False, at=None)
                assert {k: v for k, v in kept.items() if k != "at"} == {
                    **expected,
                    "rehearsal": False,
                }
                compared += 1
    finally:
        await conn.close()
    return compared
