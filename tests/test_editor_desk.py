"""The editors' desk (issue 6): who may enter, what the desk's actions do to every screen,
overdue bureaus, the review queue, official figures, photos, tokens and the phase summary;
then the desk itself in Debian's Chromium.

Real servers against real Postgres. Screenshots go to tests/artifacts/editor/.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import uuid

import asyncpg
import httpx
import pytest
import websockets
from PIL import Image
from playwright.async_api import expect

from server.app import create_app
from server.auth import SESSION_COOKIE, required_scope
from server.desk.review import neighbours, out_of_line
from tests import conftest
from tests.conftest import ARTIFACTS, ROOT, WAIT, Console, bureau, feed_message, report

SHOTS = ARTIFACTS / "editor"
ERROR_KEYS = {"type", "id", "code", "field", "message", "message_vi", "message_en"}
PARAMS = {
    "report_id": str(uuid.uuid4()),
    "action": "verify",
    "photo_id": "1",
    "official_id": "1",
    "token_id": "1",
    "decision": "approve",
    "name": "map",
    "fmt": "png",
}


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: PARAMS[m.group(1)], path)


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    body = r.json()
    assert set(body) == ERROR_KEYS and body["type"] == "error" and body["code"] == code, body


@contextlib.asynccontextmanager
async def signed_in(server, role: str = "editor", name: str = "Biên tập viên A"):
    """An HTTP client holding an editor's (or admin's) session cookie."""
    token = await server.token(role=role)
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
        r = await client.post("/editor/signin", json={"token": token, "name": name})
        assert r.status_code == 200, r.text
        client.token = token  # type: ignore[attr-defined]
        yield client


async def next_update(ws) -> dict:
    msg = await feed_message(ws)
    return msg["updates"][-1] if msg["type"] == "batch" else msg


# --- who may enter ---------------------------------------------------------------------


async def test_every_editor_endpoint_refuses_bureaus_and_anonymous_callers(server):
    app = create_app(conftest.test_settings(), server.db_url)
    desk = [r for r in app.routes if r.path.startswith(("/editor", "/charts"))]
    guarded = [r for r in desk if required_scope(r.endpoint) in ("editor", "admin")]
    public = {r.path for r in desk} - {r.path for r in guarded}
    assert public == {"/editor/signin", "/editor/signout"}
    assert len(guarded) >= 17
    bureau_token = await server.token("01")
    editor_token = await server.token(role="editor")
    async with httpx.AsyncClient(base_url=server.http) as c:
        for route in guarded:
            path = concrete(route.path)
            admin_only = route.path.startswith("/editor/api/tokens")
            for method in sorted(route.methods - {"HEAD"}):
                assert_error(await c.request(method, path), 401, "auth_failed")
                forged = {"Cookie": f"{SESSION_COOKIE}=eyJ0IjoxfQ.forged.sig"}
                assert_error(await c.request(method, path, headers=forged), 401, "auth_failed")
                as_bureau = {"Authorization": f"Bearer {bureau_token}"}
                assert_error(await c.request(method, path, headers=as_bureau), 403, "forbidden")
                if admin_only:
                    as_editor = {"Authorization": f"Bearer {editor_token}"}
                    r = await c.request(method, path, headers=as_editor)
                    assert_error(r, 403, "forbidden")
        # A browser asking for the desk without a session is sent to the sign-in form.
        page = await c.get("/editor", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/editor/signin?next=%2Feditor"
        page = await c.get("/editor", headers={"Accept": "text/html", **as_bureau})
        assert page.status_code == 403 and 'action="/editor/signin' in page.text
        assert "provinces" not in page.text
        # A bureau token cannot sign in.
        r = await c.post("/editor/signin", json={"token": bureau_token})
        assert_error(r, 403, "forbidden")
        assert SESSION_COOKIE not in r.cookies


async def test_sign_in_sets_a_strict_httponly_cookie_that_dies_with_its_token(server):
    async with signed_in(server) as c:
        r = await c.post("/editor/signin", json={"token": c.token})
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert c.token not in cookie  # the cookie carries a session id, never the token
        assert (await c.get("/editor/api/desk")).status_code == 200
        page = await c.get("/editor")
        assert page.status_code == 200 and c.token not in page.text
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        # A state-changing request with the cookie from another site's page is refused.
        r = await c.post(
            "/editor/api/official",
            json={"turnout_pct": 50, "as_of": "12:00"},
            headers={"Origin": "https://evil.example"},
        )
        assert_error(r, 403, "forbidden")
        conn = await asyncpg.connect(server.db_url)
        await conn.execute("UPDATE tokens SET revoked_at = now()")
        await conn.close()
        assert_error(await c.get("/editor/api/desk"), 401, "auth_failed")
    secret = conftest.test_settings().data_dir / "secret"  # VOTEWIRE_SECRET is unset
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


async def test_the_desk_joins_the_editor_feed_with_its_cookie_and_no_token(server):
    async with signed_in(server) as c:
        cookie = f"{SESSION_COOKIE}={c.cookies[SESSION_COOKIE]}"
    origin = server.http
    async with websockets.connect(
        server.live_url(editor=True), origin=origin, additional_headers={"Cookie": cookie}
    ) as ws:
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome" and welcome["role"] == "editor"
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "snapshot"
    # Without the cookie the hello with a token is still required (contract §3).
    async with websockets.connect(server.live_url(editor=True)) as ws:
        await ws.send(json.dumps({"type": "hello", "token": "nope"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["code"] == "auth_failed"


# --- what the desk's actions do -------------------------------------------------------


async def test_retracting_through_the_desk_changes_the_national_figure_snapshot_and_feed(
    server,
):
    token = await server.token("01")
    async with bureau(server, token) as b:
        good = report(voted=1000, as_of="2021-05-23T10:00:00+07:00")
        wrong = report(voted=900_000, as_of="2021-05-23T11:00:00+07:00", correction=True)
        await b.send(good)
        await b.send(wrong)
    async with signed_in(server) as c, websockets.connect(server.live_url()) as viewer:
        snap = json.loads(await viewer.recv())
        assert snap["national"]["voted"] == 900_000
        desk = (await c.get("/editor/api/desk")).json()
        assert desk["national"]["voted"] == 900_000
        queue = (await c.get("/editor/api/queue")).json()["items"]
        item = next(i for i in queue if i["id"] == wrong["id"])
        assert item["reasons"] == ["correction"]
        r = await c.post(f"/editor/api/reports/{wrong['id']}/retract", json={"why": "nhầm số"})
        assert r.json() == {"outcome": "done", "seq": 3}
        upd = await next_update(viewer)
        assert upd["event"]["action"] == "retract" and upd["national"]["voted"] == 1000
        assert (await server.snapshot())["national"]["voted"] == 1000
        at = "2021-05-23T11:30:00+07:00"
        assert (await server.snapshot(at=at))["national"]["voted"] == 1000
        assert (await c.get("/editor/api/desk")).json()["national"]["voted"] == 1000
        again = await c.post(f"/editor/api/reports/{wrong['id']}/retract", json={})
        assert again.json()["outcome"] == "no_change"
        audit = (await c.get(f"/editor/api/reports/{wrong['id']}")).json()["audit"]
        assert [(a["action"], a["actor"], a["why"], a["role"]) for a in audit] == [
            ("retract", "Biên tập viên A", "nhầm số", "editor")
        ]
        assert_error(
            await c.post(f"/editor/api/reports/{uuid.uuid4()}/verify", json={}), 404, "not_found"
        )
        r = await c.post(f"/editor/api/reports/{good['id']}/annotate", json={})
        assert_error(r, 422, "invalid")
        r = await c.post(f"/editor/api/reports/{good['id']}/publish", json={})
        assert_error(r, 422, "invalid")


async def test_publishing_an_internal_note_through_the_desk_reaches_public_viewers(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report(voted=5000))
        note = report("note", text="Tổ bầu cử số 7 đề nghị hỗ trợ", audience="internal")
        await b.send(note)
    async with signed_in(server) as c, websockets.connect(server.live_url()) as viewer:
        snap = await viewer.recv()
        assert "Tổ bầu cử số 7" not in snap
        queue = (await c.get("/editor/api/queue")).json()["items"]
        assert [i["reasons"] for i in queue if i["id"] == note["id"]] == [["internal_note"]]
        r = await c.post(f"/editor/api/reports/{note['id']}/publish", json={"why": "đã kiểm"})
        assert r.json()["outcome"] == "done"
        upd = await next_update(viewer)
    assert upd["event"]["id"] == note["id"] and upd["event"]["action"] == "publish"
    assert upd["event"]["data"]["text"] == "Tổ bầu cử số 7 đề nghị hỗ trợ"
    async with websockets.connect(server.live_url(since=1)) as late:
        replay = await asyncio.wait_for(late.recv(), 10)
    assert "Tổ bầu cử số 7" in replay


async def test_overdue_flags_follow_the_checkpoints_and_clear_when_the_bureau_reports(server):
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(voted=10_000, as_of="2021-05-23T10:30:00+07:00"))
    async with bureau(server, await server.token("79")) as hcm:
        await hcm.send(report(voted=10_000, as_of="2021-05-23T11:05:00+07:00"))

    async with signed_in(server) as c:

        async def flags(at: str) -> dict[str, bool]:
            desk = (await c.get("/editor/api/desk", params={"at": at})).json()
            return {p["code"]: p["overdue"] for p in desk["provinces"]} | {
                "count": desk["overdue_count"],
                "checkpoint": desk["checkpoint"],
            }

        early = await flags("08:50")  # no checkpoint has passed: nobody is late
        assert early["count"] == 0 and early["checkpoint"] is None
        grace = await flags("11:10")  # 11:00 is still within its 15 minutes of grace
        assert grace["checkpoint"] == "2021-05-23T09:00:00+07:00"
        assert not grace["01"] and not grace["79"] and grace["count"] == 61
        late = await flags("11:30")
        assert late["checkpoint"] == "2021-05-23T11:00:00+07:00"
        assert late["01"] and not late["79"] and late["count"] == 62
        async with bureau(server, await server.token("01")) as hn:
            await hn.send(report(voted=20_000, as_of="2021-05-23T11:20:00+07:00"))
        cleared = await flags("11:30")
        assert not cleared["01"] and not cleared["79"] and cleared["count"] == 61
        assert (await flags("14:20"))["01"]  # and again after the 14:00 checkpoint


async def test_the_queue_flags_jumps_security_notes_and_figures_out_of_line(server):
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(voted=600_000, as_of="2021-05-23T09:00:00+07:00"))
        jump = report(voted=4_000_000, as_of="2021-05-23T10:00:00+07:00")
        await hn.send(jump)
        sec = report("security", severity="incident", category="order", text="Mất điện")
        await hn.send(sec)
        public_note = report("note", text="Cử tri cao tuổi đi bầu sớm")
        await hn.send(public_note)
    async with signed_in(server) as c:
        items = {i["id"]: i for i in (await c.get("/editor/api/queue")).json()["items"]}
        assert items[jump["id"]]["reasons"] == ["jump"]
        assert items[sec["id"]]["reasons"] == ["security"] and sec["id"] in items
        assert public_note["id"] not in items
        await c.post(f"/editor/api/reports/{jump['id']}/verify", json={"why": "đã gọi"})
        items = {i["id"]: i for i in (await c.get("/editor/api/queue")).json()["items"]}
        assert items[jump["id"]]["verified"] and items[jump["id"]]["actions"] == 1


def test_out_of_line_compares_a_province_with_its_neighbours():
    from datetime import datetime

    t = datetime.fromisoformat("2021-05-23T12:00:00+07:00")
    near = neighbours()["01"]
    assert len(near) >= 3 and "01" not in near
    latest = {code: {"as_of": t, "turnout_pct": 60.0} for code in near}
    latest["01"] = {"as_of": t, "turnout_pct": 95.0}
    assert set(out_of_line(latest, 25)) == {"01"}
    latest["01"]["turnout_pct"] = 70.0
    assert out_of_line(latest, 25) == {}


# --- official figures, photos, tokens ---------------------------------------------------


async def test_official_figures_are_shown_beside_ours_with_the_difference(server):
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(turnout_pct=90.0, as_of="2021-05-23T17:00:00+07:00"))
    async with signed_in(server) as c:
        r = await c.post(
            "/editor/api/official",
            json={"province": None, "turnout_pct": "95,65", "as_of": "17:30", "source": "HĐBCQG"},
        )
        assert r.status_code == 201, r.text
        r = await c.post(
            "/editor/api/official", json={"province": "01", "turnout_pct": 91, "as_of": "17:30"}
        )
        assert r.status_code == 201
        for bad in ({"turnout_pct": 101, "as_of": "17:30"}, {"turnout_pct": 50, "as_of": "x"}):
            assert_error(await c.post("/editor/api/official", json=bad), 422, "invalid")
        desk = (await c.get("/editor/api/desk", params={"at": "18:00"})).json()
        nat = desk["official"]
        assert nat["turnout_pct"] == 95.65 and nat["source"] == "HĐBCQG"
        assert nat["ours_pct"] == pytest.approx(90.0) and nat["diff"] == pytest.approx(-5.65)
        hn_row = next(p for p in desk["provinces"] if p["code"] == "01")
        assert hn_row["official"]["diff"] == pytest.approx(-1.0)
        before = (await c.get("/editor/api/desk", params={"at": "17:10"})).json()
        assert before["official"] is None  # announced for 17:30: not yet known at 17:10
        data = (await c.get("/charts/history.json", params={"at": "18:00"})).json()
        assert [o["turnout_pct"] for o in data["official"]] == [91, 95.65]
        fig = (await c.get("/charts/by_hour.plotly", params={"at": "18:00"})).json()
        texts = json.dumps(fig["layout"]["annotations"], ensure_ascii=False)
        assert "Số liệu công bố chính thức: 95,65% (17:30)" in texts and "−5,65" in texts
        assert any(tr.get("marker", {}).get("symbol") == "diamond" for tr in fig["data"])
        official_id = nat["id"]
        assert (await c.post(f"/editor/api/official/{official_id}/withdraw")).status_code == 200
        assert (await c.get("/editor/api/desk", params={"at": "18:00"})).json()["official"] is None


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (640, 480), (200, 30, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "votewire-test-software"  # Software
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def test_photos_are_reencoded_and_public_only_once_approved(server):
    bureau_token = await server.token("01")
    raw = jpeg_with_exif()
    assert b"SecretCam" in raw
    async with httpx.AsyncClient(base_url=server.http) as c:
        auth = {"Authorization": f"Bearer {bureau_token}"}

        async def upload(content: bytes, name: str = "a.jpg", **fields):
            files = {"photo": (name, content, "image/jpeg")}
            data = {"caption": "Cử tri xã đảo Cô Tô", **fields}
            return await c.post("/api/photos", headers=auth, files=files, data=data)

        r = await upload(raw)
        assert r.status_code == 201, r.text
        photo = r.json()
        assert photo["status"] == "pending" and (photo["width"], photo["height"]) == (640, 480)
        png = io.BytesIO()
        Image.new("RGBA", (100, 50), (0, 0, 0, 0)).save(png, "PNG")
        assert (await upload(png.getvalue(), "b.png")).status_code == 201
        gif = io.BytesIO()
        Image.new("RGB", (10, 10)).save(gif, "GIF")
        assert_error(await upload(gif.getvalue(), "c.gif"), 422, "invalid")
        assert_error(await upload(b"not an image"), 422, "invalid")
        assert_error(await upload(b"\xff" * (5 * 1024 * 1024 + 100_000)), 413, "too_large")
        assert_error(await upload(raw, province="79"), 403, "forbidden")
        r = await c.post("/api/photos", files={"photo": ("a.jpg", raw)}, data={"caption": "x"})
        assert_error(r, 401, "auth_failed")

        assert (await c.get("/api/photos?approved=1")).json() == {"photos": []}
        assert_error(await c.get(f"/photos/{photo['id']}.jpg"), 404, "not_found")
    async with signed_in(server) as ed:
        pending = (await ed.get("/editor/api/photos")).json()["photos"]
        assert [p["id"] for p in pending] == [photo["id"] + 1, photo["id"]]
        assert (await ed.get(f"/editor/photos/{photo['id']}.jpg")).status_code == 200
        r = await ed.post(f"/editor/api/photos/{photo['id']}/approve")
        assert r.json() == {"status": "approved"}
    async with httpx.AsyncClient(base_url=server.http) as c:
        listed = (await c.get("/api/photos?approved=1")).json()["photos"]
        assert [(p["id"], p["caption"], p["province"]) for p in listed] == [
            (photo["id"], "Cử tri xã đảo Cô Tô", "01")
        ]
        served = await c.get(listed[0]["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in served.content and b"votewire-test" not in served.content
    with Image.open(io.BytesIO(served.content)) as img:
        assert img.format == "JPEG" and img.size == (640, 480) and not img.getexif()


async def test_admins_issue_and_revoke_tokens_editors_cannot(server):
    async with signed_in(server, role="admin", name="Quản trị") as admin:
        r = await admin.post(
            "/editor/api/tokens", json={"role": "bureau", "province": "96", "label": "Cà Mau"}
        )
        assert r.status_code == 201
        new = r.json()
        async with bureau(server, new["token"]) as b:
            assert b.welcome["province"]["code"] == "96"
        listed = (await admin.get("/editor/api/tokens")).json()["tokens"]
        assert new["token"] not in json.dumps(listed)
        assert any(t["id"] == new["id"] and t["label"] == "Cà Mau" for t in listed)
        assert (await admin.post(f"/editor/api/tokens/{new['id']}/revoke")).status_code == 200
        assert_error(
            await admin.post("/editor/api/tokens", json={"role": "bureau"}), 422, "invalid"
        )
    with pytest.raises(AssertionError):
        async with bureau(server, new["token"]):
            pass
    async with signed_in(server, role="editor") as ed:
        assert_error(await ed.get("/editor/api/tokens"), 403, "forbidden")


# --- the phase summary ------------------------------------------------------------------


async def test_phase_summary_as_csv_and_printable_html_and_from_the_cli(server):
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(voted=100_000, as_of="2021-05-23T09:00:00+07:00"))
        await hn.send(report(voted=3_000_000, as_of="2021-05-23T15:00:00+07:00"))
        await hn.send(report("note", text="Đã công bố", as_of="2021-05-23T15:10:00+07:00"))
        await hn.send(report("note", text="Nội bộ", audience="internal"))
        await hn.send(
            report("revote", unit="Đơn vị số 4, xã Hoàng Long", level="commune", reason="other")
        )
    async with signed_in(server) as c:
        text = (await c.get("/editor/summary.csv", params={"phase": 2})).text.lstrip("\ufeff")
        html = (await c.get("/editor/summary", params={"phase": 2, "chart": "0"})).text
    assert "01,Hà Nội,3000000," in text and "Đã công bố" in text and "Nội bộ" not in text
    assert "Đơn vị số 4, xã Hoàng Long" in text
    assert "2021-05-23T15:00:00+07:00,3000000," in text  # the timeline's 15:00 point
    pct = re.search(r"^2021-05-23T15:00:00\+07:00,3000000,\d+,([^,]*),", text, re.M)
    assert pct and re.fullmatch(r"\d+\.\d\d", pct.group(1)), text  # 2 decimals, a point
    assert "<h1>Báo cáo tổng hợp – Giai đoạn 2: ngày bầu cử</h1>" in html
    assert "Đơn vị số 4, xã Hoàng Long" in html and "Nội bộ" not in html
    out = subprocess.run(
        [sys.executable, "-m", "server", "summary", "--phase", "2"],
        env={**os.environ, "DATABASE_URL": server.db_url, "VOTEWIRE_LOG": "WARNING"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.replace("\r\n", "\n") == text.replace("\r\n", "\n")


# --- the desk in a browser --------------------------------------------------------------


@pytest.mark.browser
async def test_the_desk_in_chromium_live_table_time_slider_and_download(server, tmp_path, chromium):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(voted=1_200_000, as_of="2021-05-23T09:00:00+07:00"))
        await hn.send(report(voted=3_600_000, as_of="2021-05-23T15:00:00+07:00"))
        await hn.send(report("security", severity="watch", category="traffic", text="Kẹt xe"))
    async with bureau(server, await server.token("79")) as hcm:
        await hcm.send(report(voted=2_000_000, as_of="2021-05-23T10:00:00+07:00"))
    editor_token = await server.token(role="editor")
    context = await chromium.new_context(
        viewport={"width": 1440, "height": 900},
        base_url=server.http,
        accept_downloads=True,
        timezone_id="Europe/Paris",
    )
    context.set_default_timeout(WAIT)
    page = await context.new_page()
    console = Console(page, server.http)
    await page.goto("/editor")  # no session yet: the sign-in form
    await page.screenshot(path=str(SHOTS / "signin.png"))
    await page.locator('input[name="token"]').fill(editor_token)
    await page.locator('input[name="name"]').fill("Trực ban")
    await page.locator('button[type="submit"]').click()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    rows = page.locator("#provinces tbody tr")
    await expect(rows).to_have_count(63)
    hn_row = page.locator('#provinces tr[data-code="01"]')
    await expect(hn_row.locator(".pct")).to_have_text(re.compile(r"^\d+,\d\d%$"))
    await expect(page.locator("#map .choropleth, #map .geo").first).to_be_attached()
    await expect(page.locator("#queue li[data-kind=security]")).to_have_count(1)
    await page.screenshot(path=str(SHOTS / "desk-live.png"))

    # Live: a bureau reports and the row changes without a reload.
    before = await hn_row.locator(".pct").inner_text()
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(voted=5_500_000, as_of="2021-05-23T17:00:00+07:00"))
    await expect(hn_row.locator(".pct")).not_to_have_text(before)
    pct = 5_500_000 / (await server.snapshot())["provinces"][0]["registered"] * 100
    await expect(hn_row.locator(".pct")).to_have_text(f"{pct:.2f}%".replace(".", ","))

    # Region filter and sorting.
    await page.locator('#regions button[data-region="South"]').click()
    south = await rows.count()
    assert 15 <= south < 63
    await page.locator('#regions button[data-region="all"]').click()
    await page.locator('th[data-sort="turnout_pct"] button').click()
    await expect(rows.first).to_have_attribute("data-code", "01")

    # The slider rewinds table and map to 10:00.
    slider = page.locator("#slider")
    await slider.fill(str((10 - 6) * 12))
    await expect(page.locator("#rewound")).to_be_visible()
    await expect(page.locator("#map")).to_have_attribute("data-moment", "2021-05-23T10:00:00+07:00")
    early = 1_200_000 / (await server.snapshot())["provinces"][0]["registered"] * 100
    await expect(hn_row.locator(".pct")).to_have_text(f"{early:.2f}%".replace(".", ","))
    await expect(page.locator('#provinces tr[data-code="01"]')).to_have_attribute(
        "data-overdue", "0"
    )
    await page.screenshot(path=str(SHOTS / "desk-rewound-1000.png"))

    # A download of what is shown: the map at 10:00 as a PNG.
    async with page.expect_download() as info:
        await page.locator('#downloads a[data-format="png"]').click()
    download = await info.value
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    assert download.suggested_filename == "votewire-map-vi-web-20210523-1000.png"
    with Image.open(target) as img:
        assert img.format == "PNG" and img.size == (1200, 675)
    SHOTS.joinpath("download-map-1000.png").write_bytes(target.read_bytes())

    # Back to live; the queue's security note is published from the desk.
    await page.locator("#live-btn").click()
    await expect(hn_row.locator(".pct")).to_have_text(f"{pct:.2f}%".replace(".", ","))
    item = page.locator("#queue li[data-kind=security]")
    await item.locator('button[data-action="publish"]').click()
    await expect(item.locator(".chip.pub")).to_be_visible()
    await item.locator("button.link").click()
    await expect(item.locator(".audit li")).to_have_text(re.compile("Trực ban"))
    await page.screenshot(path=str(SHOTS / "desk-published.png"), full_page=True)
    await page.locator('button[data-tab="official"]').click()
    await page.locator('#official-form input[name="turnout_pct"]').fill("95.65")
    await page.locator('#official-form input[name="as_of"]').fill("17:30")
    await page.locator('#official-form button[type="submit"]').click()
    await expect(page.locator("#nat-official")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "desk-official.png"))
    console.check()
    await context.close()
