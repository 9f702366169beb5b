"""Fuzzing the bureau socket and `POST /api/reports` with hypothesis: random JSON, mutated
valid reports, wrong types, huge numbers, NaN, deep nesting, invalid UTF-8, odd Unicode,
oversize frames. Nothing crashes, nothing partial is stored, no other client is disturbed,
and every refusal has the contract's error shape."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from tests.conftest import bureau, issue, stored

CODES = {"invalid", "forbidden", "regression", "rate_limited", "too_large", "unavailable"}
ERROR_KEYS = {"type", "id", "code", "field", "message", "message_vi", "message_en"}
FUZZ = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

VALID = {
    "turnout": {"voted": 1000},
    "completion": {"areas_done": 1, "areas_total": 2},
    "revote": {"unit": "Đơn vị 4", "level": "commune", "reason": "other"},
    "security": {"severity": "info", "category": "traffic", "text": "Đường thông thoáng"},
    "note": {"text": "Cử tri đi bầu sớm", "tags": ["remote"]},
}


@st.composite
def mutated_reports(draw) -> str:
    kind = draw(st.sampled_from(sorted(VALID)))
    msg = {
        "type": "report",
        "id": str(uuid.uuid4()),
        "kind": kind,
        "as_of": "2021-05-23T11:00:00+07:00",
        "data": dict(VALID[kind]),
    }
    target = draw(st.sampled_from(["top", "data", "drop", "keep"]))
    if target == "top":
        msg[draw(st.sampled_from(["type", "id", "kind", "as_of", "data", "province"]))] = draw(
            json_values
        )
    elif target == "data":
        key = draw(st.sampled_from([*VALID[kind], "voted", "turnout_pct", "registered", "x"]))
        msg["data"][key] = draw(json_values)
    elif target == "drop":
        msg.pop(draw(st.sampled_from(["type", "id", "kind", "as_of", "data"])))
    return json.dumps(msg, ensure_ascii=draw(st.booleans()))


raw_frames = st.one_of(
    mutated_reports(),
    json_values.map(json.dumps),
    st.binary(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(
        [
            '{"type":"report","id":"' + str(uuid.uuid4()) + '","kind":"turnout",'
            '"as_of":"2021-05-23T11:00:00+07:00","data":{"voted":1e400}}',
            '{"type":"report","data":{"turnout_pct":NaN}}',
            '{"type":"report","data":{"turnout_pct":Infinity}}',
            "\ud800",
            "x" * 70_000,
            '{"type":"note","text":"\u202e\u200b\ufeff\U0001f5f3\ufe0f"}',
        ]
    ),
)


def _count_reports(db_url: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(db_url)
        try:
            return await conn.fetchval("SELECT count(*) FROM reports")
        finally:
            await conn.close()

    return asyncio.run(count())


def _hello(stack: contextlib.ExitStack, url: str, token: str):
    ws = stack.enter_context(connect(url, max_size=2**22))
    ws.send(json.dumps({"type": "hello", "token": token}))
    assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
    return ws


def test_fuzzed_bureau_frames_get_contract_answers_and_store_only_acks(spawn_server, db_url):
    proc = spawn_server(VOTEWIRE_RATE_BURST="100000", VOTEWIRE_ABUSE_LIMIT="100000")
    token = asyncio.run(issue(db_url, "01"))
    stack = contextlib.ExitStack()
    ws = _hello(stack, proc.server.bureau_url, token)
    bystander = _hello(stack, proc.server.bureau_url, token)
    viewer = stack.enter_context(connect(proc.server.live_url(), max_size=2**24))
    viewer.recv(timeout=10)
    acked: set[str] = set()
    tried = [0]

    @FUZZ
    @given(frame=raw_frames)
    def send(frame):
        tried[0] += 1
        if isinstance(frame, str):
            try:
                frame.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: invalid UTF-8 on the wire
                frame = frame.encode("utf-8", "surrogatepass")
        ws.send(frame)
        answer = json.loads(ws.recv(timeout=10))
        if answer["type"] == "ack":
            acked.add(answer["id"])
            return
        assert set(answer) == ERROR_KEYS, answer
        assert answer["code"] in CODES, answer
        assert answer["message_vi"] and answer["message_en"]

    send()
    print(f"bureau socket: {tried[0]} fuzzed frames, {len(acked)} accepted")
    assert tried[0] >= 600
    assert _count_reports(db_url) == len(acked)
    check = {
        "type": "report",
        "id": str(uuid.uuid4()),
        "kind": "note",
        "as_of": "2021-05-23T12:00:00+07:00",
        "data": {"text": "vẫn hoạt động"},
    }
    bystander.send(json.dumps(check))
    assert json.loads(bystander.recv(timeout=10))["type"] == "ack"
    seen = ""
    while check["id"] not in seen:
        seen = viewer.recv(timeout=10)
    stack.close()
    assert proc.proc.poll() is None  # the server process is alive


def test_fuzzed_http_reports_get_contract_answers(spawn_server, db_url):
    proc = spawn_server(VOTEWIRE_RATE_BURST="100000")
    token = asyncio.run(issue(db_url, "01"))
    client = httpx.Client(base_url=proc.server.http, headers={"Authorization": f"Bearer {token}"})
    status_of = {"invalid": 422, "too_large": 413, "forbidden": 403, "regression": 409}
    acked: set[str] = set()
    tried = [0]

    @FUZZ
    @given(body=raw_frames)
    def post(body):
        tried[0] += 1
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        r = client.post("/api/reports", content=raw, headers={"Content-Type": "application/json"})
        answer = r.json()
        if r.status_code == 200:
            assert answer["type"] == "ack"
            acked.add(answer["id"])
            return
        assert set(answer) == ERROR_KEYS, answer
        assert status_of[answer["code"]] == r.status_code, (answer, r.status_code)

    post()
    print(f"POST /api/reports: {tried[0]} fuzzed bodies, {len(acked)} accepted")
    client.close()
    assert _count_reports(db_url) == len(acked)
    assert proc.proc.poll() is None


def test_a_flood_of_refusals_closes_only_the_abusers_socket(spawn_server, db_url):
    proc = spawn_server(VOTEWIRE_ABUSE_LIMIT="50")
    token = asyncio.run(issue(db_url, "01"))
    stack = contextlib.ExitStack()
    abuser = _hello(stack, proc.server.bureau_url, token)
    other = _hello(stack, proc.server.bureau_url, token)
    closed_after = None
    for i in range(60):
        try:
            abuser.send("not json")
            abuser.recv(timeout=10)
        except Exception:
            closed_after = i
            break
    assert closed_after is not None and closed_after <= 51
    other.send(
        json.dumps(
            {
                "type": "report",
                "id": str(uuid.uuid4()),
                "kind": "note",
                "as_of": "2021-05-23T12:00:00+07:00",
                "data": {"text": "ok"},
            }
        )
    )
    assert json.loads(other.recv(timeout=10))["type"] == "ack"
    stack.close()


LONE = "\ud83d"
"""Half of an emoji's UTF-16 pair: JSON may escape it ("\\ud83d"), UTF-8 cannot encode it."""


def _lone_surrogate_cases() -> list[tuple[dict, str, bool]]:
    """(report, the field named in the refusal, whether the refusal can echo the id)."""

    def note(**changes) -> dict:
        return {
            "type": "report",
            "id": str(uuid.uuid4()),
            "kind": "note",
            "as_of": "2021-05-23T11:00:00+07:00",
            "data": {"text": "ghi chú"},
            **changes,
        }

    return [
        (note(id=LONE), "id", False),
        (note(id="6b1f4a6e" + LONE), "id", False),
        (note(kind=LONE), "kind", True),
        (note(kind="note" + LONE), "kind", True),
        (note(province="0" + LONE), "province", True),
        (note(as_of=LONE), "as_of", True),
        (note(data={"text": "cắt giữa emoji " + LONE}), "data.text", True),
        (note(data={"text": "x", "tags": [LONE]}), "data.tags.0", True),
        (note(data={"text": "x", LONE: 1}), "data.\ufffd", True),
        (note(client_note=LONE), "client_note", True),
    ]


async def test_a_lone_surrogate_anywhere_in_a_report_is_invalid_on_the_socket(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        for frame, field, echoes_id in _lone_surrogate_cases():
            sent = json.dumps(frame)  # ASCII: the surrogate travels as the escape \ud83d
            assert "\\ud83d" in sent
            answer = await b.send(sent)
            assert set(answer) == ERROR_KEYS, answer
            assert answer["code"] == "invalid" and answer["field"] == field, (frame, answer)
            assert answer["id"] == (frame["id"] if echoes_id else None), answer
        over = {"type": "report", "id": LONE, "data": {"text": "x" * 70_000}}
        answer = await b.send(json.dumps(over))
        assert answer["code"] == "too_large" and answer["id"] is None, answer
        ok = await b.send({**_lone_surrogate_cases()[0][0], "id": str(uuid.uuid4())})
        assert ok["type"] == "ack", ok
    assert len(await stored(server.db_url)) == 1


async def test_a_lone_surrogate_in_a_posted_report_is_invalid_not_a_server_error(server):
    token = await server.token("01")
    async with httpx.AsyncClient(
        base_url=server.http, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        for frame, field, echoes_id in _lone_surrogate_cases():
            r = await c.post(
                "/api/reports",
                content=json.dumps(frame),
                headers={"Content-Type": "application/json"},
            )
            assert r.status_code == 422, (frame, r.status_code, r.text)
            answer = r.json()
            assert set(answer) == ERROR_KEYS and answer["field"] == field, answer
            assert answer["id"] == (frame["id"] if echoes_id else None), answer
    assert await stored(server.db_url) == []
