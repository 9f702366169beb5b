"""What the real server sends matches the declared outgoing shapes (`ingest/outgoing.py`).

Each body is validated from the bytes the server wrote (`model_validate_json`), with extra
keys forbidden: a key the SQL or the fan-out adds, drops or retypes fails here first.
"""

from __future__ import annotations

import asyncio
import json
import typing

import httpx
import websockets
from pydantic import BaseModel

from ingest.errors import ContractError
from ingest.outgoing import (
    Ack,
    Batch,
    Clock,
    ClockMessage,
    Error,
    ErrorCode,
    Health,
    Picture,
    Resync,
    SnapshotMessage,
    Update,
    Welcome,
)
from server import store
from tests.conftest import bureau, report, serve_in_loop

FEED: dict[str, type[BaseModel]] = {
    "snapshot": SnapshotMessage,
    "update": Update,
    "batch": Batch,
    "resync": Resync,
    "clock": ClockMessage,
    "error": Error,
}

ONE_OF_EACH_KIND = [
    report(voted=1_000_000, registered=5_000_000, as_of="2021-05-23T10:00:00+07:00"),
    report("completion", areas_done=10, areas_total=4825, units_done=1, units_total=10),
    report("revote", unit="Đơn vị số 4", level="commune", reason="other", note="Phiếu in sai"),
    report("security", severity="watch", category="traffic", text="Ùn tắc", audience="public"),
    report("security", severity="incident", category="order", text="Nội bộ"),
    report("note", text="Cử tri 102 tuổi", tags=["elderly"]),
    report("note", text="Chỉ nội bộ", audience="internal"),
]


async def frame(ws, timeout: float = 10.0, *, clock: bool = False) -> BaseModel:
    """The next feed message, validated against the shape its `type` names; unless `clock`,
    the clock's messages are validated too, then passed over (they are out of band)."""
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout)
        message = FEED[json.loads(raw)["type"]].model_validate_json(raw)
        if clock or not isinstance(message, ClockMessage):
            return message


async def send_all(srv, reports: list[dict], province: str = "01") -> list[Ack]:
    token = await srv.token(province)
    acks = []
    async with bureau(srv, token) as b:
        for r in reports:
            await b.ws.send(json.dumps(r))
            acks.append(Ack.model_validate_json(await asyncio.wait_for(b.ws.recv(), 10)))
    return acks


async def test_the_empty_picture_has_nulls_not_zeros(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        picture = Picture.model_validate_json((await c.get("/api/snapshot")).content)
    assert picture.seq == 0 and len(picture.provinces) == 63
    assert picture.national.voted is None and picture.national.turnout_pct is None
    assert all(p.voted is None and p.as_of is None for p in picture.provinces)
    assert all(p.revote_units == 0 for p in picture.provinces)


async def test_snapshot_now_and_at_a_moment_match_the_picture(server):
    await send_all(server, ONE_OF_EACH_KIND)
    await send_all(server, [report(turnout_pct=61.5)], "79")
    async with httpx.AsyncClient(base_url=server.http) as c:
        now = Picture.model_validate_json((await c.get("/api/snapshot")).content)
        at = Picture.model_validate_json(
            (await c.get("/api/snapshot", params={"at": "2021-05-23T10:30:00+07:00"})).content
        )
        hhmm = Picture.model_validate_json(
            (await c.get("/api/snapshot", params={"at": "15:00"})).content
        )
    hanoi = now.provinces[0]
    assert hanoi.voted == 1_000_000 and hanoi.security_level == "watch"  # public notes only
    assert hanoi.units_total == 10 and hanoi.revote_units == 1
    assert now.national.provinces_reporting == 2
    assert at.provinces[0].voted == 1_000_000 and at.provinces[0].areas_done is None
    assert hhmm.seq == now.seq


async def test_the_live_feed_sends_snapshot_update_and_batch_shapes(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_COALESCE_MS="300") as srv:
        async with websockets.connect(srv.live_url()) as viewer:
            assert isinstance(await frame(viewer), SnapshotMessage)
            await send_all(srv, ONE_OF_EACH_KIND)
            seen: list[BaseModel] = []
            while sum(len(m.updates) if isinstance(m, Batch) else 1 for m in seen) < 5:
                message = await frame(viewer)
                assert isinstance(message, Update | Batch), message
                seen.append(message)
    assert any(isinstance(m, Batch) for m in seen), "several reports within a tick: a batch"
    updates = [u for m in seen for u in (m.updates if isinstance(m, Batch) else [m])]
    kinds = [u.event.kind for u in updates]
    # the internal security note and the internal note never reach the public feed
    assert kinds == ["turnout", "completion", "revote", "security", "note"]
    assert updates[0].province.voted == 1_000_000 and updates[0].national.voted == 1_000_000


async def test_the_editor_feed_sends_welcome_internal_updates_and_actions(server):
    editor = await server.token(role="editor")
    async with websockets.connect(server.live_url(editor=True)) as desk:
        await desk.send(json.dumps({"type": "hello", "token": editor}))
        welcome = Welcome.model_validate_json(await asyncio.wait_for(desk.recv(), 10))
        assert welcome.role == "editor" and welcome.province is None
        assert isinstance(await frame(desk), SnapshotMessage)
        acks = await send_all(server, ONE_OF_EACH_KIND)
        updates: list[Update] = []
        while len(updates) < len(ONE_OF_EACH_KIND):
            message = await frame(desk)
            updates.extend(message.updates if isinstance(message, Batch) else [message])
        assert updates[-1].province.security_level == "incident"
        conn = await store.connect(server.db_url, "Asia/Ho_Chi_Minh")
        try:
            await store.apply_action(
                conn, acks[0].id, "retract", token_id=None, actor="t", why="t", rehearsal=False
            )
        finally:
            await conn.close()
        message = await frame(desk)
        action = message.updates[-1] if isinstance(message, Batch) else message
    assert isinstance(action, Update) and action.event.action == "retract"
    assert action.province.voted is None and action.national.voted is None


async def test_a_resync_is_the_resync_shape_then_a_snapshot(server):
    await send_all(server, [report(voted=1000)])
    async with websockets.connect(server.live_url()) as viewer:
        assert isinstance(await frame(viewer), SnapshotMessage)
        conn = await store.connect(server.db_url, "Asia/Ho_Chi_Minh")
        try:
            await store.reset_reports(conn)  # `votewire reset --rehearsal`: every viewer resyncs
        finally:
            await conn.close()
        assert isinstance(await frame(viewer), Resync)
        fresh = await frame(viewer)
    assert isinstance(fresh, SnapshotMessage) and fresh.national.voted is None


async def test_the_bureau_socket_answers_welcome_ack_and_error_shapes(server):
    token = await server.token("01")
    async with websockets.connect(server.bureau_url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "client": "tests"}))
        welcome = Welcome.model_validate_json(await asyncio.wait_for(ws.recv(), 10))
        assert welcome.province is not None and welcome.province.code == "01"
        r = report(voted=10)
        for expected_duplicate in (False, True):
            await ws.send(json.dumps(r))
            ack = Ack.model_validate_json(await asyncio.wait_for(ws.recv(), 10))
            assert ack.duplicate is expected_duplicate and ack.id == r["id"]
        for bad in ("{not json", json.dumps(report(voted=-1)), json.dumps(report(voted=5))):
            await ws.send(bad)
            Error.model_validate_json(await asyncio.wait_for(ws.recv(), 10))
    async with websockets.connect(server.bureau_url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": "not-a-token"}))
        assert Error.model_validate_json(await ws.recv()).code == "auth_failed"


async def test_posted_reports_answer_ack_and_error_shapes(server):
    token = await server.token("01")
    r = {k: v for k, v in report(voted=10).items() if k != "type"}
    async with httpx.AsyncClient(base_url=server.http) as c:
        bearer = {"Authorization": f"Bearer {token}"}
        Ack.model_validate_json((await c.post("/api/reports", json=r, headers=bearer)).content)
        bad = await c.post("/api/reports", json={**r, "data": {}}, headers=bearer)
        anon = await c.post("/api/reports", json=r)
    assert bad.status_code == 422 and Error.model_validate_json(bad.content).field == "data.voted"
    assert anon.status_code == 401 and Error.model_validate_json(anon.content)


async def test_health_is_the_health_shape(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        assert Health.model_validate_json((await c.get("/healthz")).content).ok


async def test_the_clock_is_the_clock_shape_over_http_and_on_the_feed(server):
    editor = await server.token(role="editor")
    async with httpx.AsyncClient(base_url=server.http) as c:
        live = await c.get("/api/clock")
        assert live.status_code == 200, live.text
        assert Clock.model_validate_json(live.content).mode == "live"
        async with websockets.connect(server.live_url()) as viewer:
            assert isinstance(await frame(viewer), SnapshotMessage)
            assert isinstance(await frame(viewer, clock=True), ClockMessage)
            set_ = await c.post(
                "/api/clock",
                json={"clock": "2021-05-23T07:00:00+07:00", "speed": 60},
                headers={"Authorization": f"Bearer {editor}"},
            )
            assert set_.status_code == 200, set_.text
            told = await frame(viewer, clock=True)
        replay = Clock.model_validate_json((await c.get("/api/clock")).content)
    assert isinstance(told, ClockMessage) and told.mode == "replay" and told.speed == 60
    assert replay.mode == "replay"


def test_the_declared_error_codes_are_the_codes_of_the_refusals():
    def family(cls: type[ContractError]) -> set[type[ContractError]]:
        return {cls}.union(*(family(sub) for sub in cls.__subclasses__()))

    codes = {cls.code for cls in family(ContractError)}  # server's NotFound is imported
    assert set(typing.get_args(ErrorCode)) == codes
