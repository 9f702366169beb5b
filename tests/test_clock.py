"""The election clock (contract §6): wall time on the day, the replayed moment in a replay,
kept in Postgres so every process agrees, and read by every check that speaks of "now"."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import websockets

from tests.conftest import MS, bureau, report, serve_in_loop

REPLAY = "2021-05-23T07:00:00+07:00"


async def get_clock(srv) -> dict:
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{srv.http}/api/clock")
    assert r.status_code == 200, r.text
    return r.json()


async def set_clock(srv, token: str | None, **body) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as c:
        return await c.post(f"{srv.http}/api/clock", json=body, headers=headers)


async def next_of_type(ws, kind: str) -> dict:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] == kind:
            return msg


async def test_the_clock_is_wall_time_in_the_election_zone_until_a_replay_sets_it(server):
    body = await get_clock(server)
    assert body["mode"] == "live" and body["speed"] == 1
    clock = datetime.fromisoformat(body["clock"])
    assert clock.utcoffset() == timedelta(hours=7)
    assert abs((clock - datetime.now(UTC)).total_seconds()) < 5


async def test_only_an_editor_sets_the_clock_and_a_bad_body_is_refused_naming_the_field(server):
    assert (await set_clock(server, None, clock=REPLAY, speed=60)).status_code == 401
    bureau_token = await server.token("01")
    assert (await set_clock(server, bureau_token, clock=REPLAY, speed=60)).status_code == 403
    editor = await server.token(None, role="editor")
    for body, field in (
        ({"clock": "tomorrow", "speed": 60}, "clock"),
        ({"clock": "2021-05-23T07:00:00", "speed": 60}, "clock"),  # no offset
        ({"clock": REPLAY, "speed": -1}, "speed"),
        ({"clock": REPLAY, "speed": "fast"}, "speed"),
        ({"speed": 1}, "clock"),
    ):
        r = await set_clock(server, editor, **body)
        assert r.status_code == 422, (body, r.text)
        error = r.json()
        assert error["code"] == "invalid" and error["field"] == field, error
        assert error["message_vi"] and error["message_en"], error  # both languages
    assert (await get_clock(server))["mode"] == "live"  # nothing was stored


async def test_a_replay_runs_forward_at_its_speed_holds_at_zero_and_ends_with_delete(server):
    editor = await server.token(None, role="editor")
    r = await set_clock(server, editor, clock=REPLAY, speed=60)
    assert r.status_code == 200, r.text
    assert r.json()["mode"] == "replay"
    first = await get_clock(server)
    assert first["mode"] == "replay" and first["speed"] == 60
    await asyncio.sleep(1000 * MS)
    later = await get_clock(server)
    ran = (
        datetime.fromisoformat(later["clock"]) - datetime.fromisoformat(first["clock"])
    ).total_seconds()
    assert 40 <= ran <= 60 * 30, ran  # about 60 replayed seconds per real second
    assert datetime.fromisoformat(first["clock"]) >= datetime.fromisoformat(REPLAY)

    await set_clock(server, editor, clock="2021-05-23T12:00:00+07:00", speed=0)
    held = [await get_clock(server) for _ in range(2)]
    assert held[0]["clock"] == held[1]["clock"]
    assert datetime.fromisoformat(held[0]["clock"]) == datetime.fromisoformat(
        "2021-05-23T12:00:00+07:00"
    )

    async with httpx.AsyncClient() as c:
        assert (await c.delete(f"{server.http}/api/clock")).status_code == 401
        r = await c.delete(
            f"{server.http}/api/clock", headers={"Authorization": f"Bearer {editor}"}
        )
    assert r.status_code == 200 and r.json()["mode"] == "live"
    assert (await get_clock(server))["mode"] == "live"


async def test_live_viewers_hear_the_clock_after_their_snapshot_and_whenever_it_is_set(server):
    editor = await server.token(None, role="editor")
    async with (
        websockets.connect(server.live_url()) as public,
        websockets.connect(server.live_url(editor=True)) as internal,
    ):
        await internal.send(json.dumps({"type": "hello", "token": editor}))
        assert json.loads(await internal.recv())["type"] == "welcome"
        for ws in (public, internal):
            assert json.loads(await ws.recv())["type"] == "snapshot"
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["type"] == "clock" and first["mode"] == "live", first
        await set_clock(server, editor, clock=REPLAY, speed=0)
        for ws in (public, internal):
            msg = await next_of_type(ws, "clock")
            assert msg["mode"] == "replay" and msg["speed"] == 0
            assert datetime.fromisoformat(msg["clock"]) == datetime.fromisoformat(REPLAY)


async def test_every_process_agrees_on_the_clock(db_url):
    async with serve_in_loop(db_url) as a, serve_in_loop(db_url) as b:
        editor = await a.token(None, role="editor")
        async with websockets.connect(b.live_url()) as viewer:
            assert json.loads(await viewer.recv())["type"] == "snapshot"
            assert (await next_of_type(viewer, "clock"))["mode"] == "live"
            await set_clock(a, editor, clock=REPLAY, speed=0)
            heard = await next_of_type(viewer, "clock")  # through Postgres, not process memory
        assert heard["mode"] == "replay"
        assert (await get_clock(b))["clock"] == (await get_clock(a))["clock"]


async def test_the_future_limit_and_the_welcome_count_from_the_election_clock(server):
    editor = await server.token(None, role="editor")
    await set_clock(server, editor, clock="2021-05-23T10:00:00+07:00", speed=0)
    token = await server.token("01")
    async with bureau(server, token) as b:
        assert b.welcome["server_time"].startswith("2021-05-23T10:00")
        late = await b.send(report(as_of="2021-05-23T10:10:00+07:00", voted=1000))
        assert late["type"] == "error" and late["code"] == "invalid", late
        assert late["field"] == "as_of"
        ok = await b.send(report(as_of="2021-05-23T10:04:00+07:00", voted=1000))
        assert ok["type"] == "ack", ok


async def test_the_desk_flags_overdue_bureaus_against_the_replayed_moment(server):
    """At a replayed 11:30 the 11:00 checkpoint has passed (15 minutes' grace): Hà Nội's
    10:30 figure is overdue, Hồ Chí Minh City's 11:05 one is not. By the wall clock (years
    after the day) every checkpoint would have passed and both would be flagged."""
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(voted=10_000, as_of="2021-05-23T10:30:00+07:00"))
    async with bureau(server, await server.token("79")) as hcm:
        await hcm.send(report(voted=10_000, as_of="2021-05-23T11:05:00+07:00"))
    editor = await server.token(None, role="editor")
    await set_clock(server, editor, clock="2021-05-23T11:30:00+07:00", speed=0)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {editor}"}) as c:
        desk = (await c.get(f"{server.http}/editor/api/desk")).json()
    flags = {p["code"]: p["overdue"] for p in desk["provinces"]}
    assert desk["live"] and desk["checkpoint"] == "2021-05-23T11:00:00+07:00"
    assert flags["01"] and not flags["79"] and desk["overdue_count"] == 62
