"""The correspondent's page `/report` (issue 5), driven in Debian's Chromium at 360×640.

Real servers against real Postgres databases; the browser is the phone. Each test fails on
a console error, except the network errors a test provokes on purpose (server stopped,
socket blocked), which are listed where they are allowed. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from playwright.async_api import Page, expect

from ingest.fixtures import province_index
from tests.conftest import ARTIFACTS, WAIT, Console, bureau, free_port, issue, report, serve_in_loop

pytestmark = pytest.mark.browser

ENV = {"VOTEWIRE_REHEARSAL": "1"}  # the election day is today, so "now" is in the window
SERVER_DOWN = (r"net::ERR_CONNECTION_REFUSED$",)  # what Chromium logs while nobody listens


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


@contextlib.asynccontextmanager
async def phone(browser, base: str, path: str = "/report", *, locale: str = "vi-VN"):
    """A fresh phone (its own storage) at 360×640, in a time zone other than Vietnam's: the
    page must write times in +07:00 whatever the phone's zone."""
    context = await browser.new_context(
        viewport={"width": 360, "height": 640},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        timezone_id="Europe/Paris",
        base_url=base,
    )
    context.set_default_timeout(WAIT)
    page = await context.new_page()
    console = Console(page, base)
    await page.goto(path)
    await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT)
    try:
        yield page, console
    finally:
        await context.close()


async def sign_in(page: Page, token: str) -> None:
    await page.locator("#token-input").fill(token)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.locator("#app")).to_be_visible(timeout=WAIT)


async def connected(page: Page, state: str = "ws") -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-state", state, timeout=WAIT)


async def fill_and_send(page: Page, kind: str, **fields: str | list[str]) -> None:
    """Choose the kind, fill its fields (inputs/textareas/selects by name, radios by
    name=value, tags as a list of checkbox values) and tap send."""
    await page.locator(f'.kind[data-kind="{kind}"]').click()
    form = page.locator(f'.kind-form[data-for="{kind}"]')
    for name, value in fields.items():
        if name == "tags":
            for tag in value:
                await form.locator(f'.chip:has(input[value="{tag}"])').click()
            continue
        target = form.locator(f'[name="{name}"]')
        if await target.first.get_attribute("type") == "radio":
            await form.locator(f'label:has(input[name="{name}"][value="{value}"])').click()
        elif await target.evaluate("n => n.tagName") == "SELECT":
            await target.select_option(value)
        else:
            await target.fill(value)
    await page.locator("#send").click()


def outbox(page: Page, state: str | None = None):
    return page.locator("#outbox-list li" + (f'[data-state="{state}"]' if state else ""))


async def outbox_ids(page: Page) -> list[str]:
    return await outbox(page).evaluate_all("items => items.map(li => li.dataset.id)")


async def log_rows(db_url: str) -> list[dict]:
    conn = await asyncpg.connect(db_url)
    rows = await conn.fetch(
        "SELECT seq, id::text AS id, province, kind, as_of, data::text AS data FROM reports"
        " ORDER BY seq"
    )
    await conn.close()
    return [{**dict(r), "data": json.loads(r["data"])} for r in rows]


async def snapshot_of(base: str, code: str = "01") -> tuple[int, dict]:
    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{base}/api/snapshot")).json()
    return body["seq"], next(p for p in body["provinces"] if p["code"] == code)


async def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    await page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"), full_page=True)


async def test_sign_in_send_each_kind_acked_in_snapshot(browser, db_url):
    """Typed sign-in, one report of each kind, each acked with its seq and in the snapshot
    and the log exactly as entered; a mistake is caught on the phone; screenshots vi/en."""
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        registered = province_index()["01"].registered
        async with phone(browser, srv.http) as (page, console):
            await shoot(page, "report-signin-vi")
            await sign_in(page, token)
            await connected(page)
            await expect(page.locator("#who")).to_have_text("01 · Hà Nội")

            await fill_and_send(page, "turnout", voted="1.234.567")
            await fill_and_send(page, "completion", areas_done="120", areas_total="4000")
            await fill_and_send(
                page,
                "revote",
                unit="Đơn vị bầu cử số 3, xã Tản Lĩnh",
                level="commune",
                reason="turnout_below_half",
            )
            await fill_and_send(
                page,
                "security",
                severity="watch",
                category="weather",
                security_text="Mưa lớn ở huyện Ba Vì; điểm bỏ phiếu chuyển vào nhà văn hóa",
            )
            await fill_and_send(
                page,
                "note",
                note_text="Đồng bào Dao ở xã Ba Vì đi bầu từ sáng sớm",
                tags=["ethnic", "remote"],
            )
            await expect(outbox(page, "sent")).to_have_count(5, timeout=WAIT)
            for item in await outbox(page, "sent").all():
                await expect(item.locator(".seq")).to_have_text(re.compile(r"^#\d+$"))

            rows = await log_rows(db_url)
            assert [r["kind"] for r in rows] == [
                "turnout",
                "completion",
                "revote",
                "security",
                "note",
            ]
            assert sorted(r["id"] for r in rows) == sorted(await outbox_ids(page))
            assert [r["data"] for r in rows] == [
                {"voted": 1234567},
                {"areas_done": 120, "areas_total": 4000},
                {
                    "unit": "Đơn vị bầu cử số 3, xã Tản Lĩnh",
                    "level": "commune",
                    "reason": "turnout_below_half",
                    "status": "announced",
                },
                {
                    "severity": "watch",
                    "category": "weather",
                    "audience": "internal",
                    "text": "Mưa lớn ở huyện Ba Vì; điểm bỏ phiếu chuyển vào nhà văn hóa",
                },
                {
                    "text": "Đồng bào Dao ở xã Ba Vì đi bầu từ sáng sớm",
                    "tags": ["ethnic", "remote"],
                    "audience": "public",
                },
            ]
            now = datetime.now(UTC)
            for r in rows:  # as_of defaults to now, on the minute, whatever the phone's zone
                assert r["as_of"].second == 0 and r["province"] == "01"
                assert now - timedelta(minutes=3) <= r["as_of"] <= now

            seq, entry = await snapshot_of(srv.http)
            assert entry["voted"] == 1234567 and entry["registered"] == registered
            assert (entry["areas_done"], entry["areas_total"]) == (120, 4000)
            assert entry["revote_units"] == 1
            assert entry["security_level"] is None  # the security note is internal
            assert seq == rows[-1]["seq"]

            # My province, live: the turnout from the feed and the bearer's own reports.
            await expect(page.locator("#p-turnout")).to_have_text(re.compile(r"^\d+,\d\d%$"))
            await expect(page.locator("#p-areas")).to_have_text("120 / 4.000")
            await expect(page.locator("#my-reports li")).to_have_count(5, timeout=WAIT)

            await page.locator('.kind[data-kind="turnout"]').click()
            await page.evaluate("window.scrollTo(0, 0)")
            await shoot(page, "report-vi")
            await page.locator("#lang-switch").click()
            await expect(page.locator("#send")).to_have_text("Send report")
            await expect(page.locator("#p-areas")).to_have_text("120 / 4,000")
            await shoot(page, "report-en")

            # Caught on the phone (in English now): more voters than registered; nothing queued.
            await fill_and_send(page, "turnout", voted=str(registered + 1))
            await expect(page.locator('[data-err="voted"]')).not_to_be_empty()
            await expect(outbox(page)).to_have_count(5)
            await expect(page.locator("#form-msg")).to_have_text("Fix the marked fields")

            console.check()


async def test_outage_queues_survives_reload_and_delivers_once(browser, db_url):
    """Server stopped: reports are shown queued, stay queued across a reload (the page
    itself comes from the service worker), and once a server is back on the same port each
    is delivered exactly once, without a tap."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = await issue(db_url, "01")
    async with contextlib.AsyncExitStack() as phones:
        async with serve_in_loop(db_url, port=port, **ENV):
            page, console = await phones.enter_async_context(
                phone(browser, base, f"/report#token={token}")
            )
            await connected(page)
            assert "token" not in page.url  # the link's token leaves the address bar
            await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        # The server is stopped.
        await expect(page.locator("#conn")).not_to_have_attribute("data-state", "ws")
        await fill_and_send(page, "turnout", voted="1000")
        await fill_and_send(page, "completion", areas_done="10", areas_total="100")
        await expect(outbox(page, "queued")).to_have_count(2)

        await page.reload()
        await expect(page.locator("body[data-ready=true]")).to_be_attached()
        await expect(outbox(page, "queued")).to_have_count(2)
        await fill_and_send(page, "note", note_text="Mất mạng ở xã đảo Minh Châu")
        await expect(outbox(page, "queued")).to_have_count(3)
        await expect(page.locator("#queued-count")).to_have_text("3 chờ gửi")
        await shoot(page, "report-offline-vi")
        ids = await outbox_ids(page)

        async with serve_in_loop(db_url, port=port, **ENV) as srv:
            await expect(outbox(page, "sent")).to_have_count(3, timeout=2 * WAIT)
            await connected(page)
            rows = await log_rows(db_url)
            assert sorted(r["id"] for r in rows) == sorted(ids)  # each exactly once
            assert [r["kind"] for r in rows] == ["turnout", "completion", "note"]
            seqs = await outbox(page).evaluate_all(
                "items => Object.fromEntries(items.map(li =>"
                " [li.dataset.id, li.querySelector('.seq').textContent]))"
            )
            assert seqs == {r["id"]: f"#{r['seq']}" for r in rows}
            seq, entry = await snapshot_of(srv.http)
            assert seq == rows[-1]["seq"] and entry["voted"] == 1000
            assert (entry["areas_done"], entry["areas_total"]) == (10, 100)
        console.check(allowed=SERVER_DOWN)


async def test_refusal_shows_server_message_and_regression_resent_as_correction(browser, db_url):
    """A turnout lower than the accepted one is refused: the page shows the server's message
    in its own language (the Vietnamese half of the contract's two) and offers to resend it
    as a correction, under a new id."""
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http) as (page, console):
            refusals: list[dict] = []
            sent: dict[str, dict] = {}

            def watch(ws) -> None:
                def received(payload) -> None:
                    msg = json.loads(payload)
                    if msg.get("type") == "error":
                        refusals.append(msg)

                def went(payload) -> None:
                    msg = json.loads(payload)
                    if msg.get("type") == "report":
                        sent[msg["id"]] = msg

                ws.on("framereceived", received)
                ws.on("framesent", went)

            page.on("websocket", watch)
            await sign_in(page, token)
            await connected(page)
            await fill_and_send(page, "turnout", voted="5000")
            await expect(outbox(page, "sent")).to_have_count(1)
            await fill_and_send(page, "turnout", voted="4000")
            refused = outbox(page, "refused")
            await expect(refused).to_have_count(1)
            [error] = refusals
            assert error["code"] == "regression"
            await expect(refused.locator(".refusal")).to_have_text(error["message_vi"])
            await shoot(page, "report-refused-vi")

            await refused.get_by_role("button", name="Gửi lại là đính chính").click()
            await expect(outbox(page, "sent")).to_have_count(2)
            await expect(refused.locator(".note")).to_have_text("Đã gửi lại là đính chính")
            await expect(refused.get_by_role("button")).to_have_count(0)

            rows = await log_rows(db_url)
            assert [r["data"] for r in rows] == [
                {"voted": 5000},
                {"voted": 4000, "correction": True},
            ]
            assert error["id"] not in {r["id"] for r in rows}
            refused_as_of = datetime.fromisoformat(sent[error["id"]]["as_of"])
            assert rows[1]["as_of"] == refused_as_of  # the same figure, corrected
            _, entry = await snapshot_of(srv.http)
            assert entry["voted"] == 4000
            console.check()


async def test_blocked_websocket_delivers_through_http(browser, db_url):
    """When /ws/bureau cannot be opened, the same reports go through POST /api/reports."""
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http) as (page, console):
            attempts = 0

            async def refuse(ws) -> None:
                nonlocal attempts
                attempts += 1
                await ws.close(code=1011, reason="blocked by the network")

            await page.route_web_socket(re.compile(r"/ws/bureau$"), refuse)
            posts: list[dict] = []
            page.on(
                "request",
                lambda r: (
                    r.method == "POST"
                    and r.url.endswith("/api/reports")
                    and posts.append(json.loads(r.post_data))
                ),
            )
            await sign_in(page, token)
            await fill_and_send(page, "turnout", mode="pct", turnout_pct="45,5")
            await fill_and_send(
                page, "security", security_text="Ùn tắc ở cầu Long Biên", security_audience="public"
            )
            await expect(outbox(page, "sent")).to_have_count(2)
            await expect(outbox(page, "sent").locator(".via")).to_have_text(["qua HTTP"] * 2)
            await connected(page, "http")
            assert attempts >= 1

            rows = await log_rows(db_url)
            assert sorted(r["id"] for r in rows) == sorted(p["id"] for p in posts)
            assert [r["data"] for r in rows] == [
                {"turnout_pct": 45.5},
                {
                    "severity": "info",
                    "category": "security",
                    "audience": "public",
                    "text": "Ùn tắc ở cầu Long Biên",
                },
            ]
            _, entry = await snapshot_of(srv.http)
            assert entry["turnout_pct"] == 45.5 and entry["security_level"] == "info"
            console.check()


async def test_me_and_my_reports_answer_the_bearer_only(server):
    """`/api/me` and `/api/my/reports` (bearer header): who the token is, its own reports
    newest first in +07:00, and the contract's error shape when refused."""
    token, other = await server.token("01"), await server.token("01")
    editor = await server.token(role="editor")
    async with bureau(server, token) as b:
        acks = [await b.send(report(voted=v)) for v in (10, 20, 30)]
    async with bureau(server, other) as b:
        await b.send(report(voted=40, as_of="2021-05-23T12:00:00+07:00"))

    mine_auth = {"Authorization": f"Bearer {token}"}
    bad_auth = ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {token}"})
    async with httpx.AsyncClient(base_url=server.http) as c:
        me = (await c.get("/api/me", headers=mine_auth)).json()
        assert me["role"] == "bureau"
        assert me["province"]["code"] == "01" and me["province"]["name"] == "Hà Nội"
        assert me["province"]["registered"] > 0 and me["server_time"].endswith("+07:00")
        ed = (await c.get("/api/me", headers={"Authorization": f"Bearer {editor}"})).json()
        assert ed["role"] == "editor" and ed["province"] is None

        r = await c.get("/api/my/reports?limit=2", headers=mine_auth)
        mine = r.json()["reports"]
        assert [m["seq"] for m in mine] == [acks[2]["seq"], acks[1]["seq"]]
        assert mine[0]["id"] == acks[2]["id"] and mine[0]["kind"] == "turnout"
        assert mine[0]["data"] == {"voted": 30} and mine[0]["as_of"] == "2021-05-23T11:00:00+07:00"
        assert mine[0]["received_at"].endswith("+07:00") and mine[0]["retracted"] is False
        r = await c.get("/api/my/reports", headers=mine_auth)
        assert len(r.json()["reports"]) == 3  # not the other token's

        for path in ("/api/me", "/api/my/reports"):
            for headers in bad_auth:
                r = await c.get(path, headers=headers)
                assert r.status_code == 401
                body = r.json()
                assert (body["type"], body["code"], body["id"]) == ("error", "auth_failed", None)
                assert body["field"] == "token" and " / " in body["message"]
        for bad in ("0", "abc", "101"):
            r = await c.get(f"/api/my/reports?limit={bad}", headers=mine_auth)
            assert r.status_code == 422
            assert (r.json()["code"], r.json()["field"]) == ("invalid", "limit")

        page = await c.get("/report")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert '<html lang="vi">' in page.text and "Báo cáo bầu cử" in page.text
        assert '<html lang="en">' in (await c.get("/report?lang=en")).text
        for asset in ("/static/report.js", "/static/report.css", "/report-sw.js"):
            assert (await c.get(asset)).status_code == 200, asset


async def test_default_as_of_is_the_election_clock_and_is_accepted(browser, db_url):
    """During a replay (an editor set the election clock, contract §6) the phone offers the
    replayed time (not its own clock, nor its own zone), and a report sent as offered
    carries it and is accepted."""
    token = await issue(db_url, "01")
    editor = await issue(db_url, None, "editor")
    async with serve_in_loop(db_url) as srv:
        async with httpx.AsyncClient() as c:
            set_ = await c.post(
                f"{srv.http}/api/clock",
                json={"clock": "2021-05-23T03:30:00Z", "speed": 0},
                headers={"Authorization": f"Bearer {editor}"},
            )
        assert set_.status_code == 200, set_.text
        context = await browser.new_context(
            viewport={"width": 360, "height": 640}, timezone_id="Europe/Paris", base_url=srv.http
        )
        context.set_default_timeout(WAIT)
        page = await context.new_page()
        console = Console(page, srv.http)
        try:
            await page.goto(f"/report#token={token}")
            await connected(page)
            await expect(page.locator('[name="as_of_date"]')).to_have_value("2021-05-23")
            await expect(page.locator('[name="as_of_time"]')).to_have_value("10:30")
            await fill_and_send(page, "turnout", voted="1000")
            await expect(outbox(page, "sent")).to_have_count(1)
            rows = await log_rows(db_url)
            assert [r["as_of"] for r in rows] == [datetime(2021, 5, 23, 3, 30, tzinfo=UTC)]
            console.check()
        finally:
            await context.close()
