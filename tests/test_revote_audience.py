"""An internal re-vote (contract v1.1 §1, `audience`) stays off public screens, with every
figure derived from it, until an editor publishes it."""

from __future__ import annotations

import json

import httpx
import websockets

from server import store
from tests.conftest import bureau, feed_message, report


def revote(unit: str, **extra) -> dict:
    return report(
        "revote",
        as_of="2021-05-23T16:00:00+07:00",
        unit=unit,
        level="commune",
        reason="turnout_below_half",
        **extra,
    )


async def test_an_internal_revote_reaches_only_editors_until_it_is_published(server):
    editor = await server.token(None, role="editor")
    private = revote("Xã Ba Vì, tổ 3", audience="internal")
    async with (
        websockets.connect(server.live_url()) as public,
        websockets.connect(server.live_url(editor=True)) as desk,
    ):
        await desk.send(json.dumps({"type": "hello", "token": editor}))
        assert json.loads(await desk.recv())["type"] == "welcome"
        for ws in (public, desk):
            assert (await feed_message(ws))["type"] == "snapshot"
        async with bureau(server, await server.token("01")) as b:
            assert (await b.send(private))["type"] == "ack"
            assert (await b.send(revote("Xã Sơn Tây, tổ 1")))["type"] == "ack"
        seen_by_desk = [await feed_message(desk), await feed_message(desk)]
        seen_by_public = await feed_message(public)  # the public re-vote only
        async with httpx.AsyncClient(base_url=server.http) as c:
            anyone = (await c.get("/api/snapshot")).json()
            editors = (
                await c.get("/editor/api/desk", headers={"Authorization": f"Bearer {editor}"})
            ).json()
            ticker = (await c.get("/api/board/items")).text

        conn = await store.connect(server.db_url, "Asia/Ho_Chi_Minh")
        try:
            out = await store.apply_action(
                conn, private["id"], "publish", token_id=None, actor="t", why="t", rehearsal=False
            )
        finally:
            await conn.close()
        published = await feed_message(public)
        async with httpx.AsyncClient(base_url=server.http) as c:
            after = (await c.get("/api/snapshot")).json()

    updates = [u for m in seen_by_desk for u in (m.get("updates") or [m])]
    assert [u["event"]["id"] for u in updates][0] == private["id"]
    assert updates[-1]["national"]["revote_units"] == 2
    public_updates = seen_by_public.get("updates") or [seen_by_public]
    assert private["id"] not in {u["event"]["id"] for u in public_updates}
    assert public_updates[-1]["national"]["revote_units"] == 1
    assert public_updates[-1]["province"]["revote_units"] == 1
    assert anyone["national"]["revote_units"] == 1 and anyone["provinces"][0]["revote_units"] == 1
    assert editors["national"]["revote_units"] == 2
    assert "Ba Vì" not in ticker
    assert out.outcome == "done"
    assert published["event"]["id"] == private["id"]
    assert published["national"]["revote_units"] == 2
    assert after["national"]["revote_units"] == 2 and after["provinces"][0]["revote_units"] == 2
