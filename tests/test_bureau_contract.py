"""Protocol §1 against a real server and a real Postgres: every kind, every refusal.

Each refusal test checks the error's shape, that nothing was stored, and that the same
socket still accepts a valid report afterwards. The refusals of `INVALID` and the bad
hellos share one server (`shared`): each counts what is stored before it is refused.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import websockets

from tests.conftest import bureau, report, serve_in_loop, shared_server, stored

ERROR_KEYS = {"type", "id", "code", "field", "message", "message_vi", "message_en"}


@pytest.fixture(scope="module")
async def shared(pg_url, databases):
    """One server for the refusals that leave nothing behind: a fresh database each told
    nothing a count before and after does not (the reports' only writer is the test)."""
    async with shared_server(pg_url, databases) as srv:
        yield srv


def assert_error(answer: dict, code: str, field: str | None, id: str | None) -> None:
    assert set(answer) == ERROR_KEYS, answer
    assert answer["type"] == "error"
    assert answer["code"] == code, answer
    assert answer["field"] == field, answer
    assert answer["id"] == id
    vi, en = answer["message_vi"], answer["message_en"]
    assert vi and en and answer["message"] == f"{vi} / {en}"


async def still_usable(b, db_url: str, before: int) -> None:
    """Nothing was stored by the refused report, and the socket still takes reports."""
    assert len(await stored(db_url)) == before
    ack = await b.send(report("note", text="kiểm tra kết nối"))
    assert ack["type"] == "ack" and not ack["duplicate"]


@pytest.mark.parametrize(
    ("kind", "data", "entry_field", "expected"),
    [
        ("turnout", {"voted": 4_000_000}, "voted", 4_000_000),
        ("turnout", {"turnout_pct": 74.79}, "turnout_pct", 74.79),
        ("turnout", {"voted": 500, "registered": 1000, "correction": True}, "turnout_pct", 50.0),
        (
            "completion",
            {"areas_done": 10, "areas_total": 4825, "units_done": 1, "units_total": 10},
            "areas_done",
            10,
        ),
        (
            "revote",
            {
                "unit": "Đơn vị số 4, xã Hoàng Long",
                "level": "commune",
                "reason": "other",
                "note": "Phiếu in sai",
                "status": "scheduled",
            },
            "revote_units",
            1,
        ),
        (
            "security",
            {
                "severity": "watch",
                "category": "traffic",
                "text": "Ùn tắc cầu Chương Dương",
                "location": "Long Biên",
                "audience": "public",
            },
            "security_level",
            "watch",
        ),
        (
            "note",
            {"text": "Cử tri cao tuổi nhất 102 tuổi đi bầu", "tags": ["elderly"]},
            "last_report_at",
            "2021-05-23T11:00:00+07:00",
        ),
    ],
)
async def test_each_kind_is_acked_stored_and_in_the_snapshot(
    server, kind, data, entry_field, expected
):
    token = await server.token("01")
    async with bureau(server, token) as b:
        r = report(kind, **data)
        ack = await b.send(r)
    assert ack == {"type": "ack", "id": r["id"], "seq": 1, "duplicate": False}
    rows = await stored(server.db_url)
    assert [(x["id"], x["kind"], json.loads(x["data"])) for x in rows] == [(r["id"], kind, data)]
    hanoi = (await server.snapshot())["provinces"][0]
    assert hanoi["code"] == "01" and hanoi[entry_field] == expected


async def test_percent_only_turnout_gets_a_count_in_the_picture(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report(turnout_pct=74.79, registered=5_875_325))
    hanoi = (await server.snapshot())["provinces"][0]
    assert (
        hanoi["voted"] == 4_394_156
    )  # round(74.79 × 5,875,325 / 100) = 4,394,155.5675 → 4,394,156
    assert hanoi["turnout_pct"] == 74.79


INVALID = [
    ("not json", "{not json", None),
    ("a JSON array", "[1, 2]", None),
    (
        "NaN",
        '{"type":"report","id":"%s","kind":"turnout","as_of":"2021-05-23T11:00:00+07:00",'
        '"data":{"turnout_pct":NaN}}',
        None,
    ),
    ("unknown type", {"type": "reprot"}, "type"),
    ("unknown kind", report("weather", text="mưa"), "kind"),
    ("id not a uuid", {**report(voted=1), "id": "abc"}, "id"),
    ("as_of without offset", report(as_of="2021-05-23T11:00:00", voted=1), "as_of"),
    ("as_of before the window", report(as_of="2021-05-12T23:59:00+07:00", voted=1), "as_of"),
    ("as_of after the window", report(as_of="2021-06-14T00:00:00+07:00", voted=1), "as_of"),
    ("data not an object", {**report(), "data": [1]}, "data"),
    ("voted and pct", report(voted=1, turnout_pct=1.0), "data.voted"),
    ("neither voted nor pct", report(), "data.voted"),
    ("voted negative", report(voted=-1), "data.voted"),
    ("voted a string", report(voted="12"), "data.voted"),
    ("voted a bool", report(voted=True), "data.voted"),
    ("voted a float", report(voted=12.5), "data.voted"),
    ("voted huge", report(voted=10**30), "data.voted"),
    ("voted > registered", report(voted=101, registered=100), "data.voted"),
    ("voted > default registered", report(voted=60_000_000), "data.voted"),
    ("pct over 100", report(turnout_pct=100.5), "data.turnout_pct"),
    ("pct × registered over registered", report(turnout_pct=99.0, registered=0), "data.registered"),
    ("unknown data field", report(voted=1, voters=2), "data.voters"),
    ("correction not bool", report(voted=1, correction="yes"), "data.correction"),
    ("done > total", report("completion", areas_done=5, areas_total=4), "data.areas_done"),
    (
        "units without total",
        report("completion", areas_done=1, areas_total=4, units_done=1),
        "data.units_total",
    ),
    ("revote bad level", report("revote", unit="4", level="village", reason="other"), "data.level"),
    ("revote bad reason", report("revote", unit="4", level="commune", reason="why"), "data.reason"),
    (
        "revote bad status",
        report("revote", unit="4", level="commune", reason="other", status="x"),
        "data.status",
    ),
    (
        "security bad severity",
        report("security", severity="high", category="order", text="x"),
        "data.severity",
    ),
    (
        "security bad category",
        report("security", severity="info", category="war", text="x"),
        "data.category",
    ),
    (
        "security bad audience",
        report("security", severity="info", category="order", text="x", audience="everyone"),
        "data.audience",
    ),
    (
        "security empty text",
        report("security", severity="info", category="order", text=""),
        "data.text",
    ),
    ("note missing text", report("note", tags=["remote"]), "data.text"),
    ("note tags not strings", report("note", text="x", tags=[1]), "data.tags.0"),
    ("editor field province unknown", {**report(voted=1), "province": "99"}, "province"),
]


@pytest.mark.parametrize(("case", "frame", "field"), INVALID, ids=[c[0] for c in INVALID])
async def test_invalid_reports_are_refused_and_store_nothing(shared, case, frame, field):
    token = await shared.token("01")
    if isinstance(frame, str) and "%s" in frame:
        frame = frame % uuid.uuid4()
    before = len(await stored(shared.db_url))
    async with bureau(shared, token) as b:
        answer = await b.send(frame)
        sent_id = frame.get("id") if isinstance(frame, dict) else None
        assert_error(answer, "invalid", field, sent_id if case not in ("unknown type",) else None)
        await still_usable(b, shared.db_url, before)


async def test_as_of_in_the_future_is_invalid(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_WINDOW_END="2099-12-31") as srv:
        token = await srv.token("01")
        async with bureau(srv, token) as b:
            soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
            assert (await b.send(report(as_of=soon, voted=1)))["type"] == "ack"
            later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
            r = report(as_of=later, voted=2)
            assert_error(await b.send(r), "invalid", "as_of", r["id"])
            await still_usable(b, db_url, 1)


async def test_a_bureau_reporting_for_another_province_is_forbidden(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        r = {**report(voted=1), "province": "79"}
        assert_error(await b.send(r), "forbidden", "province", r["id"])
        await still_usable(b, server.db_url, 0)
        same = {**report(voted=1), "province": "01"}
        assert (await b.send(same))["type"] == "ack"


async def test_shape_is_checked_before_scope(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        r = {**report(voted=-5), "province": "79"}
        assert_error(await b.send(r), "invalid", "data.voted", r["id"])


async def test_an_editor_reports_for_any_province_by_naming_it(server):
    token = await server.token(role="editor")
    async with bureau(server, token) as b:
        assert b.welcome["role"] == "editor" and b.welcome["province"] is None
        r = report(voted=1)
        assert_error(await b.send(r), "invalid", "province", r["id"])
        ack = await b.send({**report(voted=7), "province": "79"})
        assert ack["type"] == "ack"
    hcm = [p for p in (await server.snapshot())["provinces"] if p["code"] == "79"][0]
    assert hcm["voted"] == 7


async def test_lower_turnout_is_a_regression_unless_a_correction(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report(as_of="2021-05-23T11:00:00+07:00", voted=1000))
        r = report(as_of="2021-05-23T12:00:00+07:00", voted=900)
        assert_error(await b.send(r), "regression", "data.voted", r["id"])
        await still_usable(b, server.db_url, 1)
        # an earlier moment may be lower: it is compared with what was accepted before it
        assert (await b.send(report(as_of="2021-05-23T10:00:00+07:00", voted=900)))["type"] == "ack"
        fix = report(as_of="2021-05-23T12:00:00+07:00", voted=900, correction=True)
        assert (await b.send(fix))["type"] == "ack"
    assert (await server.snapshot())["provinces"][0]["voted"] == 900
    assert (await server.snapshot(at="2021-05-23T11:30:00+07:00"))["provinces"][0]["voted"] == 1000


async def test_rate_limited_after_the_burst(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_RATE_BURST="3", VOTEWIRE_RATE_PER_S="0.01") as srv:
        token = await srv.token("01")
        async with bureau(srv, token) as b:
            for _ in range(3):
                assert (await b.send(report("note", text="x")))["type"] == "ack"
            r = report("note", text="y")
            assert_error(await b.send(r), "rate_limited", None, r["id"])
            assert len(await stored(db_url)) == 3
            # a retry of an acked report is still answered (duplicates are not rate limited)
            first = (await stored(db_url))[0]["id"]
            rows = await stored(db_url)
            assert rows[0]["id"] == first


async def test_rate_is_checked_after_history(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_RATE_BURST="1", VOTEWIRE_RATE_PER_S="0.01") as srv:
        token = await srv.token("01")
        async with bureau(srv, token) as b:
            assert (await b.send(report(voted=10)))["type"] == "ack"
            r = report(voted=5, as_of="2021-05-23T12:00:00+07:00")
            assert_error(await b.send(r), "regression", "data.voted", r["id"])


async def test_frames_over_64_kib_are_too_large(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        r = report("note", text="x" * 70_000)
        assert_error(await b.send(r), "too_large", None, r["id"])
        assert_error(await b.send("{" + "x" * 70_000), "too_large", None, None)
        await still_usable(b, server.db_url, 0)


async def test_frames_over_the_hard_limit_close_the_socket(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.ws.send("x" * (2**20 + 10))
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(b.ws.recv(), 10)
        assert info.value.rcvd.code == 1009
    assert await stored(server.db_url) == []


@pytest.mark.parametrize(
    "hello",
    [
        {"type": "hello", "token": "not-a-token"},
        {"type": "hello"},
        {"type": "report", "id": str(uuid.uuid4())},
        "garbage",
    ],
)
async def test_bad_hello_is_auth_failed_and_closes_4401(shared, hello):
    async with websockets.connect(shared.bureau_url) as ws:
        await ws.send(hello if isinstance(hello, str) else json.dumps(hello))
        answer = json.loads(await ws.recv())
        assert_error(answer, "auth_failed", "token", None)
        with pytest.raises(websockets.ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == 4401


async def test_revoked_token_is_refused(server):
    import asyncpg

    from server import store

    token = await server.token("01")
    conn = await asyncpg.connect(server.db_url)
    assert await store.revoke_tokens(conn, token=token) == 1
    await conn.close()
    async with websockets.connect(server.bureau_url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        assert json.loads(await ws.recv())["code"] == "auth_failed"


async def test_welcome_carries_the_last_seq(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        assert b.welcome["last_seq"] == 0
        assert b.welcome["server_time"].endswith("+07:00")
        await b.send(report(voted=1))
    async with bureau(server, token) as b:
        assert b.welcome["last_seq"] == 1


async def test_same_id_twice_is_one_report_and_two_acks(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        r = report(voted=100)
        first = await b.send(r)
        await b.send(report(voted=200, as_of="2021-05-23T12:00:00+07:00"))
        second = await b.send(r)  # a retry after a lost ack, even after a higher figure
    assert first == {**second, "duplicate": False}
    assert second["duplicate"] is True
    assert len(await stored(server.db_url, f"id = '{r['id']}'")) == 1


async def test_same_id_with_other_content_is_invalid_id(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        r = report(voted=100)
        await b.send(r)
        other = {**r, "data": {"voted": 101}}
        assert_error(await b.send(other), "invalid", "id", r["id"])
        await still_usable(b, server.db_url, 1)


async def test_same_id_at_the_same_moment_on_two_sockets(server):
    token = await server.token("01")
    for _ in range(5):
        r = report(voted=100)
        async with bureau(server, token) as b1, bureau(server, token) as b2:
            a1, a2 = await asyncio.gather(b1.send(r), b2.send(r))
        assert a1["seq"] == a2["seq"]
        assert sorted([a1["duplicate"], a2["duplicate"]]) == [False, True]
        assert len(await stored(server.db_url, f"id = '{r['id']}'")) == 1


async def test_http_fallback_gives_the_same_answers(server):
    import httpx

    token = await server.token("01")
    r = report(voted=100)
    body = {k: v for k, v in r.items() if k != "type"}
    async with httpx.AsyncClient(base_url=server.http) as c:
        headers = {"Authorization": f"Bearer {token}"}
        first = await c.post("/api/reports", json=body, headers=headers)
        again = await c.post("/api/reports", json=body, headers=headers)
        bad = await c.post(
            "/api/reports", json={**body, "id": str(uuid.uuid4()), "data": {}}, headers=headers
        )
        anon = await c.post("/api/reports", json=body)
    assert first.status_code == 200 and first.json()["seq"] == 1
    assert again.json() == {**first.json(), "duplicate": True}
    assert bad.status_code == 422
    assert_error(bad.json(), "invalid", "data.voted", bad.json()["id"])
    assert anon.status_code == 401 and anon.json()["code"] == "auth_failed"
    assert len(await stored(server.db_url)) == 1


NULL_OPTIONAL = [
    ("turnout", {"voted": 1, "registered": None}, "data.registered"),
    ("turnout", {"voted": 1, "correction": None}, "data.correction"),
    ("turnout", {"voted": 1, "turnout_pct": None}, "data.turnout_pct"),
    ("turnout", {"voted": None, "turnout_pct": 50.0}, "data.voted"),
    (
        "completion",
        {"areas_done": 1, "areas_total": 2, "units_done": None, "units_total": 3},
        "data.units_done",
    ),
    (
        "completion",
        {"areas_done": 1, "areas_total": 2, "units_done": None, "units_total": None},
        "data.units_done",
    ),
    ("revote", {"unit": "4", "level": "commune", "reason": "other", "note": None}, "data.note"),
    ("revote", {"unit": "4", "level": "commune", "reason": "other", "status": None}, "data.status"),
    (
        "security",
        {"severity": "info", "category": "order", "text": "x", "location": None},
        "data.location",
    ),
    (
        "security",
        {"severity": "info", "category": "order", "text": "x", "audience": None},
        "data.audience",
    ),
    ("note", {"text": "x", "tags": None}, "data.tags"),
    ("note", {"text": "x", "audience": None}, "data.audience"),
]


async def test_null_for_an_optional_field_is_invalid_not_the_default(server):
    """A client that lost a value must hear about it: `null` is not "absent"."""
    token = await server.token("01")
    editor = await server.token(role="editor")
    async with bureau(server, token) as b:
        for kind, data, field in NULL_OPTIONAL:
            r = report(kind, **data)
            answer = await b.send(r)
            assert_error(answer, "invalid", field, r["id"])
            assert "null" in answer["message_en"], answer
        r = {**report(voted=1), "province": None}
        assert_error(await b.send(r), "invalid", "province", r["id"])
        await still_usable(b, server.db_url, 0)
    async with bureau(server, editor) as b:
        r = {**report(voted=1), "province": None}
        assert_error(await b.send(r), "invalid", "province", r["id"])
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = report(voted=1, registered=None)
        answer = await c.post("/api/reports", json=r, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422
    assert_error(answer.json(), "invalid", "data.registered", r["id"])
    assert len(await stored(server.db_url)) == 1  # only still_usable's note
