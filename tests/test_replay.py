"""A replay at speed, as `votewire demo` runs one: the simulator sets the election clock
(contract §6), and every screen speaks of the replayed morning of 23 May 2021, not of the
wall clock years later."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import httpx
import pytest
from playwright.async_api import expect

from dashboards import i18n
from ingest import scenario, simulate
from ingest.fixtures import provinces
from tests.conftest import WAIT, Console, issue

pytestmark = pytest.mark.browser

UNTIL = "2021-05-23T11:20"
"""The replay stops here: the 09:00 and 11:00 checkpoints (and their grace) have passed."""
SPEED = 3600  # 07:00 → 11:20 in about 4.5 s


def morning() -> dict:
    day = scenario.load()
    return {**day, "events": [e for e in day["events"] if e["t"] < UNTIL]}


def latest_turnout(events: list[dict]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for e in events:
        if e["kind"] == "turnout":
            t = datetime.fromisoformat(e["t"])
            out[e["province"]] = max(out.get(e["province"], t), t)
    return out


async def test_a_replay_at_speed_shows_replayed_times_on_every_screen(server, chromium):
    day = morning()
    tokens = {p.code: await issue(server.db_url, p.code) for p in provinces()}
    editor = await issue(server.db_url, None, "editor")
    summary = await simulate.run(server.bureau_url, tokens, day, speed=SPEED, editor_token=editor)
    assert summary["acked"] == summary["events"] == len(day["events"]), summary["refused"]

    async with httpx.AsyncClient(
        base_url=server.http, headers={"Authorization": f"Bearer {editor}"}, timeout=60
    ) as c:
        clock = (await c.get("/api/clock")).json()
        desk = (await c.get("/editor/api/desk")).json()
        snapshot = (await c.get("/api/snapshot")).json()
        svg = (await c.get("/charts/map.svg", params={"lang": "en"})).content

    # The replay ended and held the clock at its last moment: late morning, 23 May 2021.
    now = datetime.fromisoformat(clock["clock"])
    assert clock["mode"] == "replay" and clock["speed"] == 0, clock
    assert datetime.fromisoformat("2021-05-23T11:15:00+07:00") <= now
    assert now <= datetime.fromisoformat("2021-05-23T12:30:00+07:00"), clock

    # The desk: no province that reported on the replayed schedule is overdue.
    assert desk["live"] and desk["checkpoint"] == "2021-05-23T11:00:00+07:00"
    last = latest_turnout(day["events"])
    checkpoint = datetime.fromisoformat(desk["checkpoint"])
    for p in desk["provinces"]:
        on_time = p["code"] in last and last[p["code"]] >= checkpoint
        assert p["overdue"] is not on_time, (p["code"], last.get(p["code"]))
    assert desk["overdue_count"] < 63

    # A chart drawn now says "as of" the latest figure it shows, not the moment it was drawn.
    shown = max(
        (p["as_of"] for p in snapshot["provinces"] if p["as_of"]), key=datetime.fromisoformat
    )
    text = "".join(ET.fromstring(svg).itertext())
    assert i18n.as_of_label(shown, "en") in text, text[:300]
    assert "2026" not in text and str(datetime.now().year) not in text

    # The board's header shows the replayed clock (in Vietnam's time, whatever the PC's).
    context = await chromium.new_context(
        viewport={"width": 1920, "height": 1080}, timezone_id="America/New_York"
    )
    context.set_default_timeout(WAIT)
    try:
        page = await context.new_page()
        console = Console(page, server.http, failed_requests=True)
        await page.goto(f"{server.http}/board?lang=en")
        await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT)
        await expect(page.locator("#clock")).to_have_text(now.strftime("%H:%M:%S"))
        await expect(page.locator("#date")).to_contain_text("2021")
        console.check()
    finally:
        await context.close()
