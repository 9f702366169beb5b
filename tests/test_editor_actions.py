"""Editors' actions through the database layer: retract and publish reach every picture and
the live feed; every action is audited."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import websockets

from server import store
from tests.conftest import bureau, feed_message, report


async def act(db_url: str, report_id: str, action: str, why: str = "kiểm tra") -> store.Outcome:
    conn = await store.connect(db_url, "Asia/Ho_Chi_Minh")
    try:
        return await store.apply_action(
            conn, report_id, action, token_id=None, actor="tests", why=why, rehearsal=False
        )
    finally:
        await conn.close()


async def next_update(ws) -> dict:
    msg = await feed_message(ws)
    return msg["updates"][-1] if msg["type"] == "batch" else msg


async def test_retraction_leaves_every_picture_and_reaches_the_feed(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        good = report(voted=1000, as_of="2021-05-23T10:00:00+07:00")
        wrong = report(voted=900_000, as_of="2021-05-23T11:00:00+07:00")
        await b.send(good)
        await b.send(wrong)
    async with websockets.connect(server.live_url()) as viewer:
        snap = await feed_message(viewer)
        assert snap["national"]["voted"] == 900_000
        out = await act(server.db_url, wrong["id"], "retract", "số liệu nhập nhầm")
        assert out.outcome == "done" and out.seq == 3
        upd = await next_update(viewer)
    assert upd["seq"] == 3 and upd["prev"] == 2
    assert upd["event"]["action"] == "retract" and upd["event"]["id"] == wrong["id"]
    assert upd["national"]["voted"] == 1000 and upd["province"]["voted"] == 1000
    assert (await server.snapshot())["national"]["voted"] == 1000
    assert (await server.snapshot(at="2021-05-23T11:30:00+07:00"))["national"]["voted"] == 1000
    assert (await act(server.db_url, wrong["id"], "retract")).outcome == "no_change"
    conn = await asyncpg.connect(server.db_url)
    log = await store.audit_log(conn, wrong["id"])
    await conn.close()
    assert [(a["action"], a["actor"], a["why"]) for a in log] == [
        ("retract", "tests", "số liệu nhập nhầm")
    ]


async def test_publishing_an_internal_note_makes_it_reach_public_viewers(server):
    token = await server.token("01")
    async with websockets.connect(server.live_url()) as viewer:
        await feed_message(viewer)
        async with bureau(server, token) as b:
            note = report("security", severity="watch", category="traffic", text="Cầu tạm đóng")
            await b.send(note)
            await b.send(report("note", text="công khai"))
        first = await next_update(viewer)
        assert first["seq"] == 2 and "Cầu tạm đóng" not in json.dumps(first, ensure_ascii=False)
        assert (await server.snapshot())["provinces"][0]["security_level"] is None
        out = await act(server.db_url, note["id"], "publish")
        assert out.outcome == "done"
        upd = await next_update(viewer)
    assert upd["seq"] == 3 and upd["prev"] == 2
    assert upd["event"]["action"] == "publish" and upd["event"]["data"]["text"] == "Cầu tạm đóng"
    assert upd["province"]["security_level"] == "watch"
    assert (await server.snapshot())["provinces"][0]["security_level"] == "watch"
    assert (await act(server.db_url, note["id"], "publish")).outcome == "no_change"


async def test_turnout_cannot_be_published_and_verify_is_audited_but_private(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        t = report(voted=5)
        await b.send(t)
    assert (await act(server.db_url, t["id"], "publish")).outcome == "not_publishable"
    async with websockets.connect(server.live_url(since=1)):
        assert (await act(server.db_url, t["id"], "verify")).outcome == "done"
        assert (await act(server.db_url, t["id"], "annotate", "gọi lại xác nhận")).outcome == "done"
        await asyncio.sleep(0.5)
        snap = await server.snapshot()
        assert snap["seq"] == 1  # editor-only changes do not move the public picture
    assert (
        await act(server.db_url, "00000000-0000-0000-0000-000000000000", "verify")
    ).outcome == "not_found"
