"""Security at the edges: tokens hashed, scope on every path, Origin checks, headers,
private endpoints, no secrets in logs."""

from __future__ import annotations

import json
import logging

import asyncpg
import httpx
import pytest
import websockets

from server import store
from tests.conftest import bureau, report, serve_in_loop


async def test_tokens_are_stored_hashed_never_in_clear(server):
    token = await server.token("01")
    conn = await asyncpg.connect(server.db_url)
    rows = await conn.fetch("SELECT * FROM tokens")
    await conn.close()
    dump = repr([dict(r) for r in rows])
    assert token not in dump and token.encode() not in b"".join(r["hash"] for r in rows)
    assert [r["hash"] for r in rows] == [store.token_hash(token)]


async def test_a_browser_page_of_another_origin_cannot_open_our_sockets(server):
    for path in ("/ws/bureau", "/ws/live", "/ws/live/editor"):
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(
                f"ws://127.0.0.1:{server.port}{path}", origin="https://evil.example"
            ):
                pass
        assert info.value.response.status_code == 403
    same = f"http://127.0.0.1:{server.port}"
    async with websockets.connect(server.live_url(), origin=same) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"


async def test_allowed_origins_may_open_sockets(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_ALLOWED_ORIGINS="https://board.vna.vn") as srv:
        async with websockets.connect(srv.live_url(), origin="https://board.vna.vn") as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"


async def test_pages_and_apis_carry_standard_security_headers(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        for path in ("/report", "/api/snapshot", "/healthz"):
            r = await c.get(path)
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["x-frame-options"] == "DENY", path
            assert r.headers["referrer-policy"] == "no-referrer", path
        page = await c.get("/report")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp


async def test_metrics_are_not_public(server):
    bureau_token = await server.token("01")
    editor = await server.token(role="editor")
    async with httpx.AsyncClient(base_url=server.http) as c:
        assert (await c.get("/metrics")).status_code == 401
        headers = {"Authorization": f"Bearer {bureau_token}"}
        assert (await c.get("/metrics", headers=headers)).status_code == 401
        ok = await c.get("/metrics", headers={"Authorization": f"Bearer {editor}"})
    assert ok.status_code == 200 and "votewire_reports_total" in ok.text


async def test_bureau_scope_is_enforced_on_the_http_path_too(server):
    token = await server.token("01")
    body = {**report(voted=1), "province": "79"}
    body.pop("type")
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.post("/api/reports", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


async def test_rate_limits_are_per_token(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_RATE_BURST="2", VOTEWIRE_RATE_PER_S="0.01") as srv:
        a, b = await srv.token("01"), await srv.token("01")
        async with bureau(srv, a) as ba, bureau(srv, b) as bb:
            assert [(await ba.send(report("note", text="x")))["type"] for _ in range(3)] == [
                "ack",
                "ack",
                "error",
            ]
            assert (await bb.send(report("note", text="y")))["type"] == "ack"


async def test_tokens_never_reach_the_logs(server, caplog):
    caplog.set_level(logging.DEBUG)
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report(voted=1))
    async with websockets.connect(server.bureau_url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token + "x"}))
        await ws.recv()
    assert token not in caplog.text


async def test_notes_are_never_html_in_the_snapshot_api(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report("note", text="<script>alert(1)</script><img src=x onerror=alert(2)>"))
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.get("/api/snapshot")
    assert r.headers["content-type"].startswith("application/json")


async def test_each_kind_of_page_gets_its_policy_from_one_table(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        board = await c.get("/board")
        phone = await c.get("/report")
        desk = await c.get("/editor/signin")
        api = await c.get("/api/snapshot")
    host = f"127.0.0.1:{server.port}"
    for page in (board, phone, desk):
        csp = page.headers["content-security-policy"]
        assert f"connect-src 'self' ws://{host} wss://{host}" in csp, csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "style-src 'self';" in phone.headers["content-security-policy"]  # no inline style
    assert "worker-src 'self'" in phone.headers["content-security-policy"]
    assert board.headers["cache-control"] == phone.headers["cache-control"] == "no-cache"
    assert desk.headers["cache-control"] == "no-store"
    assert desk.headers["referrer-policy"] == "same-origin"
    assert board.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in api.headers  # JSON runs no script
