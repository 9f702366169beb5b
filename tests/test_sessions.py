"""Desk sessions that end (issue 12, finding 4): signing out, revoking the token or reaching
the expiry ends the session in every server process at once, and a copy of the old cookie
is refused on every desk route and on the desk's live socket.

Real servers (two apps sharing only Postgres and the secret) against a real Postgres.
"""

from __future__ import annotations

import asyncio
import base64
import json

import asyncpg
import httpx
import websockets

from server.app import create_app
from server.auth import SESSION_COOKIE, required_scope
from tests import conftest
from tests.conftest import serve_in_loop
from tests.test_editor_desk import assert_error, concrete, signed_in

OFFICIAL = {"turnout_pct": 50, "as_of": "12:00", "source": "Hội đồng bầu cử"}


def copy_of(client: httpx.AsyncClient) -> dict[str, str]:
    """The session cookie as a header, as a thief (or a second tab) would replay it."""
    return {"Cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}"}


async def sql(db_url: str, query: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(query)
    finally:
        await conn.close()


async def test_signing_out_refuses_a_copy_of_the_cookie_on_every_desk_route(server):
    app = create_app(conftest.test_settings(), server.db_url)
    guarded = [
        r
        for r in app.routes
        if r.path.startswith(("/editor", "/charts"))
        and required_scope(r.endpoint) in ("editor", "admin")
    ]
    async with signed_in(server) as c:
        old = copy_of(c)
        async with httpx.AsyncClient(base_url=server.http, headers=old) as thief:
            assert (await thief.get("/editor/api/desk")).status_code == 200
            r = await thief.post("/editor/api/official", json=OFFICIAL)
            assert r.status_code == 201, r.text
            signout = await c.post("/editor/signout")
            assert signout.status_code == 303 and SESSION_COOKIE not in c.cookies
            assert_error(await thief.get("/editor/api/desk"), 401, "auth_failed")
            assert_error(
                await thief.post("/editor/api/official", json=OFFICIAL), 401, "auth_failed"
            )
            for route in guarded:
                for method in sorted(route.methods - {"HEAD"}):
                    r = await thief.request(method, concrete(route.path))
                    assert_error(r, 401, "auth_failed")
            # The desk page itself sends the browser back to the sign-in form.
            page = await thief.get("/editor", headers={"Accept": "text/html"})
            assert page.status_code == 303 and page.headers["location"].startswith("/editor/signin")


async def test_signing_out_in_one_process_ends_the_session_in_another_at_once(db_url):
    async with serve_in_loop(db_url) as a, serve_in_loop(db_url) as b:
        async with signed_in(a) as c:
            old = copy_of(c)
            async with httpx.AsyncClient(base_url=b.http, headers=old) as other:
                assert (await other.get("/editor/api/desk")).status_code == 200
                await c.post("/editor/signout")
                assert_error(await other.get("/editor/api/desk"), 401, "auth_failed")


async def test_revoking_the_token_through_the_admin_route_ends_its_sessions_everywhere(db_url):
    async with serve_in_loop(db_url) as a, serve_in_loop(db_url) as b:
        async with signed_in(a) as editor, signed_in(a, role="admin") as admin:
            token_id = (await editor.post("/editor/signin", json={"token": editor.token})).json()[
                "token_id"
            ]
            async with httpx.AsyncClient(base_url=b.http, headers=copy_of(editor)) as other:
                assert (await other.get("/editor/api/desk")).status_code == 200
                r = await admin.post(f"/editor/api/tokens/{token_id}/revoke")
                assert r.status_code == 200, r.text
                assert_error(await other.get("/editor/api/desk"), 401, "auth_failed")
                assert_error(await editor.get("/editor/api/desk"), 401, "auth_failed")
            assert (await admin.get("/editor/api/desk")).status_code == 200


async def test_a_session_past_its_expiry_is_refused_whatever_the_cookie_says(server):
    async with signed_in(server) as c:
        assert (await c.get("/editor/api/desk")).status_code == 200
        await sql(server.db_url, "UPDATE sessions SET expires_at = now()")
        assert_error(await c.get("/editor/api/desk"), 401, "auth_failed")


async def test_the_cookie_carries_a_random_session_id_and_the_database_only_its_hash(server):
    async with signed_in(server, name="Biên tập viên A") as c:
        again = await c.post("/editor/signin", json={"token": c.token, "name": "Biên tập viên A"})
        assert again.status_code == 200
        value = c.cookies[SESSION_COOKIE]
    payload = value.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) == {"s"} and len(data["s"]) >= 43  # 256 random bits, nothing else
    conn = await asyncpg.connect(server.db_url)
    rows = [dict(r) for r in await conn.fetch("SELECT * FROM sessions ORDER BY id")]
    await conn.close()
    assert len(rows) == 2 and all(r["name"] == "Biên tập viên A" for r in rows)
    assert data["s"] not in repr(rows) and data["s"].encode() not in b"".join(
        r["hash"] for r in rows
    )


async def test_the_desk_socket_refuses_the_cookie_of_an_ended_session(server):
    async with signed_in(server) as c:
        old = copy_of(c)
        await c.post("/editor/signout")
    async with websockets.connect(
        server.live_url(editor=True), origin=server.http, additional_headers=old
    ) as ws:
        # No welcome on the cookie: the socket wants a hello with a token (contract §3).
        await ws.send(json.dumps({"type": "hello", "token": "nope"}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "error" and first["code"] == "auth_failed", first


async def test_signing_out_without_a_session_is_harmless(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.post("/editor/signout")
        assert r.status_code == 303
        forged = {"Cookie": f"{SESSION_COOKIE}=eyJzIjoieCJ9.forged.sig"}
        assert (await c.post("/editor/signout", headers=forged)).status_code == 303
