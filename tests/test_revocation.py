"""Revocation that bites (issue 12, finding 1), with real server processes and Postgres.

A revoked token's open sockets (bureau, editor with a token, editor with the desk's cookie)
are closed on every process within a second, with `auth_failed` then 4401 "revoked"; a
report in flight is acknowledged only if it committed before the revocation, never after.
The close delays are measured from the revocation's own timestamp (`tokens.revoked_at`,
stamped by the database once it holds the token) and printed (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
import websockets

from server import store
from server.auth import SESSION_COOKIE
from tests.conftest import MS, bureau, issue, report, serve_in_loop
from tests.test_cli import votewire

WITHIN_S = 1000 * MS
"""The requirement: every open socket of the token closed within one second."""


@dataclass
class Watched:
    """One open socket and what it received until it closed."""

    name: str
    token: str
    ws: websockets.ClientConnection
    messages: list[dict] = field(default_factory=list)
    code: int | None = None
    reason: str = ""
    closed_at: float = 0.0
    task: asyncio.Task | None = None

    async def _watch(self) -> None:
        try:
            while True:
                self.messages.append(json.loads(await self.ws.recv()))
        except websockets.ConnectionClosed as exc:
            self.closed_at = time.time()
            if exc.rcvd is not None:
                self.code, self.reason = exc.rcvd.code, exc.rcvd.reason

    def start(self) -> Watched:
        self.task = asyncio.create_task(self._watch())
        return self

    def assert_revoked(self) -> None:
        assert self.task is not None and self.task.done(), f"{self.name} still open"
        assert (self.code, self.reason) == (4401, "revoked"), (self.name, self.code, self.reason)
        last = self.messages[-1]
        assert last["type"] == "error" and last["code"] == "auth_failed", (self.name, last)
        assert not any(m["type"] == "ack" for m in self.messages), self.name


async def hello_socket(url: str, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(url)
    await ws.send(json.dumps({"type": "hello", "token": token, "client": "tests"}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert welcome["type"] == "welcome", welcome
    return ws


async def cookie_socket(http: str, live_url: str, token: str) -> websockets.ClientConnection:
    """The desk's own socket: signed in with the cookie, no hello."""
    async with httpx.AsyncClient(base_url=http, timeout=30) as c:
        r = await c.post("/editor/signin", json={"token": token, "name": "Biên tập viên"})
        assert r.status_code == 200, r.text
        cookie = r.cookies[SESSION_COOKIE]
    ws = await websockets.connect(
        live_url, additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}
    )
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert welcome["type"] == "welcome" and welcome["role"] == "editor", welcome
    return ws


async def open_everywhere(servers: dict, bureau_token: str, editor: str, desk: str) -> list:
    """On each server: a bureau socket, an editor socket (hello) and the desk's socket
    (cookie), each watched from now on."""
    watched = []
    for name, srv in servers.items():
        watched += [
            Watched(
                f"bureau@{name}", bureau_token, await hello_socket(srv.bureau_url, bureau_token)
            ),
            Watched(
                f"editor@{name}", editor, await hello_socket(srv.live_url(editor=True), editor)
            ),
            Watched(
                f"desk@{name}",
                desk,
                await cookie_socket(srv.http, srv.live_url(editor=True), desk),
            ),
        ]
    return [w.start() for w in watched]


async def revoked_at(db_url: str, token: str) -> float:
    conn = await asyncpg.connect(db_url)
    at = await conn.fetchval(
        "SELECT revoked_at FROM tokens WHERE hash = $1", store.token_hash(token)
    )
    await conn.close()
    assert at is not None
    return at.timestamp()


async def token_id(db_url: str, token: str) -> int:
    conn = await asyncpg.connect(db_url)
    found = await conn.fetchval("SELECT id FROM tokens WHERE hash = $1", store.token_hash(token))
    await conn.close()
    return found


async def closed_within(db_url: str, sockets: list[Watched], label: str) -> None:
    """Wait for `sockets` to close, check how, and that each closed within a second of its
    token's revocation (measured from `revoked_at`); print the delays."""
    await asyncio.wait_for(asyncio.gather(*(w.task for w in sockets)), 10)
    delays = []
    for w in sockets:
        w.assert_revoked()
        delays.append((w.name, w.closed_at - await revoked_at(db_url, w.token)))
    print(f"\n{label}: " + ", ".join(f"{n} {d * 1000:.0f} ms" for n, d in delays))
    late = [(n, d) for n, d in delays if d > WITHIN_S]
    assert not late, f"closed later than {WITHIN_S} s after the revocation: {late}"


def still_open(sockets: list[Watched]) -> None:
    assert not [w.name for w in sockets if w.task.done()], "a socket of another token closed"


async def close_all(sockets: list[Watched]) -> None:
    for w in sockets:
        await w.ws.close()
        if w.task is not None:
            await asyncio.gather(w.task, return_exceptions=True)


async def test_cli_revocation_closes_the_tokens_sockets_on_every_process_within_a_second(
    spawn_server, db_url
):
    a, b = spawn_server(), spawn_server()
    bureau_token = await issue(db_url, "01")
    other_bureau = await issue(db_url, "79")
    editor, desk = await issue(db_url, None, "editor"), await issue(db_url, None, "editor")
    servers = {"a": a.server, "b": b.server}
    sockets = await open_everywhere(servers, bureau_token, editor, desk)
    bystander = Watched(
        "bureau 79@b", other_bureau, await hello_socket(b.server.bureau_url, other_bureau)
    ).start()
    try:
        by_token = {t: [w for w in sockets if w.token == t] for t in (bureau_token, editor, desk)}
        out = await asyncio.to_thread(votewire, db_url, "tokens", "revoke", "--province", "01")
        assert out.returncode == 0 and out.stdout.strip() == "revoked 1 token(s)", out.stderr
        await closed_within(db_url, by_token[bureau_token], "CLI --province, bureau sockets")
        still_open(by_token[editor] + by_token[desk] + [bystander])
        for token in (editor, desk):
            out = await asyncio.to_thread(votewire, db_url, "tokens", "revoke", f"--token={token}")
            assert out.returncode == 0, out.stderr
            await closed_within(db_url, by_token[token], "CLI --token, editor sockets")
        still_open([bystander])
    finally:
        await close_all([*sockets, bystander])


async def test_admin_revocation_closes_the_tokens_sockets_on_every_process_within_a_second(
    spawn_server, db_url
):
    a, b = spawn_server(), spawn_server()
    admin = await issue(db_url, None, "admin")
    bureau_token = await issue(db_url, "01")
    editor, desk = await issue(db_url, None, "editor"), await issue(db_url, None, "editor")
    sockets = await open_everywhere({"a": a.server, "b": b.server}, bureau_token, editor, desk)
    try:
        async with httpx.AsyncClient(
            base_url=a.server.http, headers={"Authorization": f"Bearer {admin}"}, timeout=30
        ) as c:
            for token in (bureau_token, editor, desk):
                r = await c.post(f"/editor/api/tokens/{await token_id(db_url, token)}/revoke")
                assert r.status_code == 200, r.text
                mine = [w for w in sockets if w.token == token]
                await closed_within(db_url, mine, "admin route, sockets of one token")
            r = await c.post(f"/editor/api/tokens/{await token_id(db_url, desk)}/revoke")
            assert r.status_code == 404  # already revoked: nothing to do
    finally:
        await close_all(sockets)


async def test_a_report_sent_after_the_revocation_is_refused_even_before_the_socket_hears(
    db_url,
):
    # One process with local fan-out hears no NOTIFY and polls only every 30 s here: the
    # report reaches the writer with its token already revoked, and the database refuses it.
    async with serve_in_loop(db_url, VOTEWIRE_FANOUT="local", VOTEWIRE_LISTEN_CHECK_S="30") as srv:
        token = await srv.token("01")
        async with bureau(srv, token) as b:
            assert (await b.send(report(voted=100)))["type"] == "ack"
            conn = await asyncpg.connect(db_url)
            assert await store.revoke_tokens(conn, token=token) == 1
            await conn.close()
            late = report(voted=200, as_of="2021-05-23T12:00:00+07:00")
            answer = await b.send(late)
            assert answer["type"] == "error" and answer["code"] == "auth_failed", answer
            assert answer["id"] == late["id"]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(b.ws.recv(), 10)
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "revoked")
    conn = await asyncpg.connect(db_url)
    assert (
        await conn.fetchval("SELECT count(*) FROM reports WHERE id = $1", uuid.UUID(late["id"]))
        == 0
    )
    await conn.close()


async def test_a_report_waiting_on_the_revocation_is_refused_once_it_commits(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        conn = await asyncpg.connect(server.db_url)
        revoking = conn.transaction()
        await revoking.start()
        assert await store.revoke_tokens(conn, token=token) == 1
        racing = report(voted=300)
        await b.ws.send(json.dumps(racing))
        answer = asyncio.create_task(b.ws.recv())
        done, _ = await asyncio.wait({answer}, timeout=500 * MS)
        assert not done, "answered while the revocation was still open"
        await revoking.commit()
        refused = json.loads(await asyncio.wait_for(answer, 10))
        assert refused["type"] == "error" and refused["code"] == "auth_failed", refused
        assert refused["id"] == racing["id"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(b.ws.recv(), 10)
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "revoked")
        stored = await conn.fetchval("SELECT count(*) FROM reports")
        await conn.close()
    assert stored == 0


async def test_without_a_notice_the_poll_still_closes_the_socket(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_FANOUT="local", VOTEWIRE_LISTEN_CHECK_S="0.2") as srv:
        token = await srv.token("01")
        w = Watched("bureau", token, await hello_socket(srv.bureau_url, token)).start()
        conn = await asyncpg.connect(db_url)
        assert await store.revoke_tokens(conn, token=token) == 1
        await conn.close()
        await asyncio.wait_for(w.task, 10)
        w.assert_revoked()


async def pump(ws: websockets.ClientConnection, answers: list[tuple[dict, dict]]) -> tuple:
    """Send notes one after another, each after the previous answer, until the socket
    closes; returns the close code and reason."""
    try:
        while True:
            sent = report("note", text=f"ghi chú {len(answers)}")
            await ws.send(json.dumps(sent))
            answers.append((sent, json.loads(await asyncio.wait_for(ws.recv(), 10))))
    except websockets.ConnectionClosed as exc:
        return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")


async def test_reports_racing_the_revocation_are_acked_only_if_committed_before_it(
    spawn_server, db_url
):
    fast = {"VOTEWIRE_RATE_PER_S": "100000", "VOTEWIRE_RATE_BURST": "100000"}
    a, b = spawn_server(**fast), spawn_server(**fast)
    admin, token = await issue(db_url, None, "admin"), await issue(db_url, "01")
    sockets = [
        await hello_socket(srv.bureau_url, token) for srv in (a.server, b.server) for _ in range(3)
    ]
    answers: list[list[tuple[dict, dict]]] = [[] for _ in sockets]
    pumps = [asyncio.create_task(pump(ws, got)) for ws, got in zip(sockets, answers, strict=True)]
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(
        base_url=b.server.http, headers={"Authorization": f"Bearer {admin}"}, timeout=30
    ) as c:
        r = await c.post(f"/editor/api/tokens/{await token_id(db_url, token)}/revoke")
        assert r.status_code == 200, r.text
    closes = await asyncio.wait_for(asyncio.gather(*pumps), 10)
    assert closes == [(4401, "revoked")] * len(sockets)
    acked = {}
    for got in answers:
        kinds = [answer["type"] for _, answer in got]
        refused = [answer for _, answer in got if answer["type"] == "error"]
        assert all(answer["code"] == "auth_failed" for answer in refused), refused
        if refused:
            assert "ack" not in kinds[kinds.index("error") :], "acked after a refusal"
        acked.update({sent["id"]: answer["seq"] for sent, answer in got if answer["type"] == "ack"})
    assert acked, "no report was acked before the revocation: no race was run"
    conn = await asyncpg.connect(db_url)
    rows = await conn.fetch(
        """SELECT r.id::text AS id, r.seq, r.received_at, t.revoked_at FROM reports r
           JOIN tokens t ON t.id = r.token_id WHERE t.hash = $1""",
        store.token_hash(token),
    )
    await conn.close()
    assert {r["id"]: r["seq"] for r in rows} == acked  # every ack stored, nothing else stored
    late = [r["id"] for r in rows if r["received_at"] >= r["revoked_at"]]
    assert not late, f"reports stored after the revocation: {late}"
    refused = sum(answer["type"] == "error" for got in answers for _, answer in got)
    print(f"\n{len(acked)} reports acked before the revocation, none after; {refused} refused")
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
