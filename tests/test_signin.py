"""Signing in to the desk under attack (issue 12, finding 9): names that cannot forge a log
line, log lines that escape what a client sent, an audit trail and logs that say which
token acted, and wrong sign-ins limited per client address (and logged).

Real servers against a real Postgres; the client address is the one uvicorn's proxy
headers give (the tests' server trusts 127.0.0.1, as a server behind nginx does).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging

import asyncpg
import httpx

from server import logs
from server.auth import SESSION_COOKIE
from tests.conftest import bureau, report, serve_in_loop
from tests.test_editor_desk import assert_error, signed_in

FORGED = "Lan\n2021-05-23 12:00:00,000 INFO votewire.desk retract 42 by Admin"


def from_address(address: str) -> dict[str, str]:
    """Headers of a request the proxy forwarded for `address`."""
    return {"X-Forwarded-For": address}


async def count(db_url: str, table: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()


# --- names ----------------------------------------------------------------------------------


async def test_a_name_of_more_than_one_line_or_with_control_characters_is_refused(server):
    token = await server.token(role="editor")
    bad = [
        FORGED,
        "Lan\r",
        "Lan\u2028Admin",  # a line separator
        "Lan\x1b[2J",  # a terminal escape
        "Lan\u202enimdA",  # a right-to-left override
        "Lan\x85Admin",  # NEL, a C1 control
        "L" * 81,
        ["Lan"],
    ]
    async with httpx.AsyncClient(base_url=server.http) as c:
        for name in bad:
            r = await c.post("/editor/signin", json={"token": token, "name": name})
            assert_error(r, 422, "invalid")
            assert r.json()["field"] == "name", name
            assert SESSION_COOKIE not in r.cookies
        form = await c.post(
            "/editor/signin",
            data={"token": token, "name": FORGED},
            headers={"Accept": "text/html"},
        )
        assert form.status_code == 422 and "một dòng" in form.text
        assert await count(server.db_url, "sessions") == 0
        # What is allowed: one line of at most 80 characters, Vietnamese included, trimmed.
        r = await c.post("/editor/signin", json={"token": token, "name": " Nguyễn Thị Lan "})
        assert r.status_code == 200
        r = await c.post("/editor/signin", json={"token": token, "name": "L" * 80})
        assert r.status_code == 200


# --- logs -----------------------------------------------------------------------------------


def logged(fmt: str, *args, exc: BaseException | None = None) -> str:
    """What `logs.handler(fmt)` writes for one record of `args`."""
    out = io.StringIO()
    handler = logs.handler(fmt, out)
    logger = logging.getLogger(f"votewire.test.{fmt}")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("sign-in by %s", *args, exc_info=exc)
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_a_log_record_stays_one_line_whatever_its_text_holds():
    hostile = FORGED + "\r\x1b[31m\x85\u2028\u2029\u202e\x7f"
    text = logged("text", hostile)
    assert text.count("\n") == 1 and len(text.splitlines()) == 1, text
    assert "Lan\\n2021-05-23" in text and "\\x1b[31m" in text and "\\u2028" in text
    assert "\\u202e" in text and "\\x85" in text and "\\x7f" in text
    line = logged("json", hostile)
    assert line.count("\n") == 1 and len(line.splitlines()) == 1, line
    assert json.loads(line)["msg"] == "sign-in by " + hostile  # JSON keeps the text exactly
    try:
        raise ValueError(FORGED)
    except ValueError as error:
        text = logged("text", "x", exc=error)
    lines = text.splitlines()
    assert lines[0].endswith("sign-in by x") and all(li.startswith("    ") for li in lines[1:])
    assert not any(li.startswith("2021") for li in lines)


async def retracted_by_lan(server) -> tuple[str, int, list[dict]]:
    """Lan signs in and retracts a report: (its id, Lan's token id, the report's audit)."""
    async with bureau(server, await server.token("01")) as b:
        ack = await b.send(report(voted=1000))
    async with signed_in(server, name="Lan") as c:
        me = await c.post("/editor/signin", json={"token": c.token, "name": "Lan"})
        r = await c.post(f"/editor/api/reports/{ack['id']}/retract", json={"why": "x"})
        assert r.json()["outcome"] == "done"
        audit = (await c.get(f"/editor/api/reports/{ack['id']}")).json()["audit"]
    return ack["id"], me.json()["token_id"], audit


async def test_the_desk_s_log_lines_name_the_token_that_acted(server):
    out = io.StringIO()
    handler = logs.handler("text", out)
    votewire = logging.getLogger("votewire")
    votewire.addHandler(handler)
    old_level = votewire.level
    votewire.setLevel(logging.INFO)
    try:
        report_id, token_id, _ = await retracted_by_lan(server)
    finally:
        votewire.removeHandler(handler)
        votewire.setLevel(old_level)
    line = next(li for li in out.getvalue().splitlines() if f"retract {report_id}" in li)
    assert line.endswith(f"by Lan token_id={token_id}"), line


async def test_the_audit_trail_names_the_token_beside_the_name(server):
    _, token_id, audit = await retracted_by_lan(server)
    assert [(a["action"], a["actor"], a["token_id"]) for a in audit] == [
        ("retract", "Lan", token_id)
    ]


# --- guessing -------------------------------------------------------------------------------


async def test_wrong_sign_ins_are_limited_per_address_then_429_with_retry_after(server, caplog):
    caplog.set_level(logging.INFO, logger="votewire")
    token = await server.token(role="editor")
    wrong = {"token": "not-a-token-" + "x" * 30}
    attacker, other = from_address("198.51.100.7"), from_address("203.0.113.9")
    async with httpx.AsyncClient(base_url=server.http) as c:
        for _ in range(19):
            assert_error(
                await c.post("/editor/signin", json=wrong, headers=attacker), 401, "auth_failed"
            )
        # A right token from the same address is no failure and does not count.
        r = await c.post("/editor/signin", json={"token": token}, headers=attacker)
        assert r.status_code == 200
        c.cookies.clear()
        assert_error(
            await c.post("/editor/signin", json=wrong, headers=attacker), 401, "auth_failed"
        )
        r = await c.post("/editor/signin", json=wrong, headers=attacker)
        assert_error(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # Past the limit even the right token waits: a lucky guess would be refused too.
        r = await c.post("/editor/signin", json={"token": token}, headers=attacker)
        assert_error(r, 429, "rate_limited")
        page = await c.post(
            "/editor/signin",
            data={"token": "x"},
            headers={**attacker, "Accept": "text/html"},
        )
        assert page.status_code == 429 and "Retry-After" in page.headers
        assert 'action="/editor/signin' in page.text
        # Another address, and the proxy itself, are not affected.
        assert_error(await c.post("/editor/signin", json=wrong, headers=other), 401, "auth_failed")
        assert (await c.post("/editor/signin", json={"token": token}, headers=other)).is_success
        c.cookies.clear()
        assert (await c.post("/editor/signin", json={"token": token})).status_code == 200
        c.cookies.clear()
        # A minute later the oldest failures have left the window (Postgres's clock is the
        # authority: another process, which has not refused this address yet, asks it).
        conn = await asyncpg.connect(server.db_url)
        await conn.execute("UPDATE signin_attempts SET at = at - interval '61 seconds'")
        await conn.close()
        async with serve_in_loop(server.db_url) as later:
            r = await c.post(f"{later.http}/editor/signin", json=wrong, headers=attacker)
            assert_error(r, 401, "auth_failed")
    failures = [r for r in caplog.records if "sign-in failed from 198.51.100.7" in r.getMessage()]
    assert len(failures) == 21 and all(r.levelno == logging.WARNING for r in failures)
    assert any("refused for a minute" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text and wrong["token"] not in caplog.text


async def test_concurrent_guesses_on_two_processes_never_exceed_the_address_s_limit(db_url):
    limit = {"VOTEWIRE_SIGNIN_FAILURES": "5"}
    async with serve_in_loop(db_url, **limit) as one, serve_in_loop(db_url, **limit) as two:
        async with httpx.AsyncClient() as c:
            rs = await asyncio.gather(
                *(
                    c.post(
                        f"{(one, two)[i % 2].http}/editor/signin",
                        json={"token": f"guess-{i}"},
                        headers=from_address("2001:db8::1"),
                    )
                    for i in range(12)
                )
            )
            # An IPv6 client counts by its /64: a neighbour address is the same client.
            r = await c.post(
                f"{two.http}/editor/signin",
                json={"token": "g"},
                headers=from_address("2001:db8::ffff"),
            )
    # Two processes share the count (in Postgres): 5 failures in all, not 5 each.
    assert sorted(r.status_code for r in rs) == [401] * 5 + [429] * 7
    assert_error(r, 429, "rate_limited")
