"""docs/deploy.md's nginx in front of two `votewire serve` processes, for real (issue 14).

Debian's nginx runs the documented configuration (tests/nginx.py: only ports, paths and a
self-signed certificate change) on loopback, over TLS, with an upstream of two processes
sharing one Postgres. Clients connect from 127.0.0.2, so the address the app sees tells the
forwarded client from the proxy (127.0.0.1). The processes' own access lines count the
requests that really reached them.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import websockets

from server import settings as settings_mod
from server.auth import SESSION_COOKIE
from server.cli.serve import uvicorn_config
from tests.conftest import ROOT, feed_message, free_port, issue, report, stored, with_db
from tests.nginx import HTTP, MAIN, LoggedProcess, Nginx, blocks, ensure_nginx

CLIENT = "127.0.0.2"
"""Where the tests' clients connect from: not the proxy's own address."""
FORGED = "203.0.113.9"
"""An X-Forwarded-For a client makes up: nginx must replace it, never pass it on."""
MAX_AGE_S = 1
"""The app's `Cache-Control: public, max-age=1` on the public reads."""
EXPIRED_AFTER_S = MAX_AGE_S + 1.2
"""nginx counts whole seconds: an answer kept for max-age 1 is gone 2 s later at most."""
FANOUT_BUREAUS = 63
"""bench.fanout's bureau sockets (one per province) beside its viewers, and one probe."""


@dataclass
class Front:
    nginx: Nginx
    processes: list[LoggedProcess]
    db_url: str

    def hits(self, path: str) -> int:
        """Requests for `path` that reached a process (their access lines, any status)."""
        return sum(p.requests(f'"GET {path} HTTP/') for p in self.processes)

    async def holder(self, before: list[int], path: str) -> LoggedProcess:
        """The process whose count of accepted `path` sockets grew since `before`."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            grew = [p for p, n in zip(self.processes, before, strict=True) if accepted(p, path) > n]
            if grew:
                assert len(grew) == 1, "one socket, one process"
                return grew[0]
            await asyncio.sleep(0.02)
        raise AssertionError(f"no process logged the {path} socket")

    def accepted(self, path: str) -> list[int]:
        return [accepted(p, path) for p in self.processes]


def accepted(process: LoggedProcess, path: str) -> int:
    """WebSockets on `path` the process accepted (uvicorn logs each, with the client)."""
    return len(
        re.findall(rf'"WebSocket {re.escape(path)}(\?[^"]*)?" \[accepted\]', process.output())
    )


@pytest.fixture(scope="module")
async def proxied_db(pg_url, template):
    """One database for the module's processes (they outlive a test)."""
    name = f"vw_proxy_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    await admin.close()
    yield with_db(pg_url, name)
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.close()


@pytest.fixture(scope="module")
def front(proxied_db, tmp_path_factory):
    """nginx and two processes, shared by the module's tests (starting them is most of the
    time); the test that kills one comes last."""
    ensure_nginx()
    folder = tmp_path_factory.mktemp("proxy")
    processes: list[LoggedProcess] = []
    for i in range(2):
        process = LoggedProcess(proxied_db, folder / f"serve-{i}.log")
        while process.port in {p.port for p in processes}:  # free twice: not free for both
            process.port = free_port()
        processes.append(process)
    nginx = None
    try:
        for p in processes:
            p.launch()
        for p in processes:
            p.ready()
        nginx = Nginx(folder / "nginx", [p.port for p in processes]).start()
        yield Front(nginx, processes, proxied_db)
    finally:
        if nginx is not None:
            nginx.stop()
        for p in processes:
            if p.proc is not None and p.proc.poll() is None:
                p.proc.terminate()
        for p in processes:
            p.stop()
            if p.log is not None:
                p.log.close()


def connect(front: Front, path: str, **kw):
    """A WebSocket through nginx (TLS), from `CLIENT`, as a page of the site would open it."""
    kw.setdefault("origin", front.nginx.base)
    return websockets.connect(
        f"{front.nginx.wss}{path}",
        ssl=front.nginx.tls(),
        local_addr=(CLIENT, 0),
        max_size=2**22,
        open_timeout=10,
        **kw,
    )


async def hello(ws, token: str) -> dict:
    await ws.send(json.dumps({"type": "hello", "token": token, "client": "tests"}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert welcome["type"] == "welcome", welcome
    return welcome


async def answer(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


class Viewer:
    """A board's live feed through nginx: every update it saw, with the chain of `prev`."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.seqs: list[int] = []
        self.last = 0

    async def start(self) -> Viewer:
        snap = await feed_message(self.ws)
        assert snap["type"] == "snapshot", snap
        self.last = snap["seq"]
        return self

    async def until(self, seq: int, timeout: float = 15) -> None:
        """Read updates until `seq` is seen, checking every `prev`."""
        while self.last < seq:
            msg = await feed_message(self.ws, timeout)
            assert msg["type"] in ("update", "batch"), msg
            for u in msg["updates"] if msg["type"] == "batch" else [msg]:
                assert u["prev"] == self.last, (self.last, u)
                self.seqs.append(u["seq"])
                self.last = u["seq"]


PUBLIC_READS = ("/api/snapshot", "/api/results")


async def test_nginx_keeps_the_public_reads_for_their_max_age_only(front):
    token = await issue(front.db_url, "01")
    async with front.nginx.client(CLIENT) as c:
        for path in PUBLIC_READS:
            hits = front.hits(path)
            one, two = await c.get(path), await c.get(path)
            assert one.headers["cache-control"] == "public, max-age=1", path
            assert one.headers["x-cache-status"] != "HIT", path
            assert two.headers["x-cache-status"] == "HIT", path
            assert two.content == one.content and two.headers["etag"] == one.headers["etag"]
            assert front.hits(path) == hits + 1, f"{path}: the second read never left nginx"
            same = await c.get(path, headers={"If-None-Match": one.headers["etag"]})
            assert same.status_code == 304 and front.hits(path) == hits + 1

        # a report through nginx; after max-age the next reader gets it, from a process
        r = await c.post(
            "/api/reports",
            json=report(voted=1234, as_of="2021-05-23T09:00:00+07:00"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        seq = r.json()["seq"]
        await asyncio.sleep(EXPIRED_AFTER_S)
        hits = front.hits("/api/snapshot")
        fresh = await c.get("/api/snapshot")
        assert fresh.headers["x-cache-status"] in ("EXPIRED", "REVALIDATED", "MISS")
        assert fresh.json()["seq"] == seq and front.hits("/api/snapshot") == hits + 1
        again = await c.get("/api/snapshot")
        assert again.headers["x-cache-status"] == "HIT" and again.json()["seq"] == seq


async def test_a_request_with_a_token_or_a_cookie_always_reaches_a_process_and_is_never_kept(
    front,
):
    editor = await issue(front.db_url, None, "editor")
    async with front.nginx.client(CLIENT) as c:
        signin = await c.post("/editor/signin", json={"token": editor, "name": "Lan"})
        assert signin.status_code == 200, signin.text
        cookie = f"{SESSION_COOKIE}={signin.cookies[SESSION_COOKIE]}"
        c.cookies.clear()
        public = {path: await c.get(path) for path in PUBLIC_READS}
        credentials = {
            "bearer": {"Authorization": f"Bearer {editor}"},
            "desk cookie": {"Cookie": cookie},
            "any cookie": {"Cookie": "theme=dark"},
        }
        await asyncio.sleep(EXPIRED_AFTER_S)  # what nginx kept of the public reads is stale
        for path in PUBLIC_READS:
            hits = front.hits(path)
            for how, headers in credentials.items():
                for _ in range(2):
                    r = await c.get(path, headers=headers)
                    assert r.status_code == 200, (how, path, r.text)
                    assert r.headers["x-cache-status"] == "BYPASS", (how, path)
                if path == "/api/results" and how != "any cookie":  # the editors' own answer
                    assert r.headers["cache-control"].startswith("private"), how
                    assert r.headers["etag"] != public[path].headers["etag"], how
            assert front.hits(path) == hits + 2 * len(credentials), f"{path}: all reached a process"
            # none of those answers was kept: the next public reader goes to a process too
            anyone = await c.get(path)
            assert anyone.headers["x-cache-status"] != "HIT", path
            assert front.hits(path) == hits + 2 * len(credentials) + 1, path
            assert anyone.headers["cache-control"] == "public, max-age=1", path
            assert anyone.headers["etag"] == public[path].headers["etag"], path


async def test_the_app_sees_the_client_scheme_and_host_that_nginx_forwards(front):
    editor = await issue(front.db_url, None, "editor")
    base = front.nginx.base
    async with front.nginx.client(CLIENT) as c:
        # X-Forwarded-For: the client as nginx saw it, whatever the client claims
        wrong = await c.post(
            "/editor/signin",
            json={"token": "not-a-token", "name": "Lan"},
            headers={"X-Forwarded-For": FORGED},
        )
        assert wrong.status_code == 401
        logs = "".join(p.output() for p in front.processes)
        assert f"desk sign-in failed from {CLIENT}" in logs
        assert FORGED not in logs
        health = await c.get("/healthz")
        assert health.json() == {"ok": True}, "the app saw the client, not its trusted proxy"

        # X-Forwarded-Proto: over TLS at nginx the desk's cookie is Secure; Host keeps the
        # port, so the page's own Origin passes the app's check and a foreign one does not
        signin = await c.post(
            "/editor/signin", json={"token": editor, "name": "Lan"}, headers={"Origin": base}
        )
        assert signin.status_code == 200, signin.text
        assert "secure" in signin.headers["set-cookie"].lower()
        foreign = await c.post(
            "/editor/signin",
            json={"token": editor, "name": "Lan"},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        c.cookies.clear()
        page = await c.get("/board")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert f"wss://127.0.0.1:{front.nginx.ports.https}" in csp

        # what nginx adds, everywhere: pages, refusals, answers it kept
        await c.get("/api/snapshot")
        kept = await c.get("/api/snapshot")
        assert kept.headers["x-cache-status"] == "HIT"
        for r in (page, wrong, kept):
            assert r.headers["strict-transport-security"].startswith("max-age=31536000")
            assert r.headers["server"] == "nginx", "no version"
            assert r.headers["x-content-type-options"] == "nosniff"
        assert (await c.get("/metrics")).status_code == 403, "scrapers only from 10.0.0.0/8"
        big = await c.post("/api/reports", content=b"x" * 70_000)
        assert big.status_code == 413

    # directly, over plain HTTP, the same sign-in gives a cookie that is not Secure
    async with httpx.AsyncClient(base_url=front.processes[0].server.http) as c:
        plain = await c.post("/editor/signin", json={"token": editor, "name": "Lan"})
        assert "secure" not in plain.headers["set-cookie"].lower()
        assert set((await c.get("/healthz")).json()) == {"ok", "process", "database", "listen"}
    async with httpx.AsyncClient() as c:
        r = await c.get(f"http://127.0.0.1:{front.nginx.ports.http}/board?x=1")
    assert r.status_code == 301 and r.headers["location"].startswith("https://127.0.0.1")

    # the upgrade headers: a board's socket through nginx, its Origin checked by the app
    async with connect(front, "/ws/live") as ws:
        assert (await feed_message(ws))["type"] == "snapshot"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(front, "/ws/live", origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


def test_sockets_through_nginx_outlive_the_apps_ping_interval_many_times():
    """A board can sit idle for an hour at night: nginx must not cut a socket that only
    carries the app's pings (uvicorn's `ws_ping_interval`), nor time out writing to it."""
    ws = re.search(r"location /ws/ \{(.*?)\}", blocks()[HTTP], re.S)
    assert ws, "deploy.md proxies /ws/"
    ping = uvicorn_config(object(), settings_mod.load({}), "127.0.0.1", 0).ws_ping_interval
    assert ping and ping > 0
    for directive in ("proxy_read_timeout", "proxy_send_timeout"):
        found = re.search(rf"{directive} (\d+)s;", ws.group(1))
        assert found, directive
        assert int(found.group(1)) >= 60 * ping, directive
    for directive in ("proxy_http_version 1.1", "proxy_set_header Upgrade $http_upgrade"):
        assert directive in ws.group(1)


def test_the_connection_cap_leaves_room_for_the_fanout_bench():
    """bench.fanout holds its largest number of viewers, 63 bureaus and a probe on one
    process; behind nginx each of them is two connections of one worker."""
    source = (ROOT / "bench" / "fanout.py").read_text(encoding="utf-8")
    viewers = re.search(r'"--viewers", default="([\d,]+)"', source)
    assert viewers, "bench.fanout's --viewers default"
    needed = max(int(n) for n in viewers.group(1).split(",")) + FANOUT_BUREAUS + 1
    assert needed > 10_000
    assert settings_mod.load({}).edge.max_connections >= needed
    main = blocks()[MAIN]
    workers = int(re.search(r"worker_connections (\d+);", main).group(1))
    nofile = int(re.search(r"worker_rlimit_nofile (\d+);", main).group(1))
    assert workers >= 2 * needed and nofile >= workers


async def test_a_killed_process_behind_nginx_loses_no_update_and_a_resend_is_acked_once(front):
    """Last in the module: it kills one of the shared processes."""
    token = await issue(front.db_url, "79")
    before = front.accepted("/ws/bureau")
    bureau = await connect(front, "/ws/bureau")
    base = (await hello(bureau, token))["last_seq"]
    doomed = await front.holder(before, "/ws/bureau")
    survivor = next(p for p in front.processes if p is not doomed)

    # boards until one follows each process (least_conn spreads them)
    boards: dict[int, Viewer] = {}
    extra = []
    for _ in range(3):
        before = front.accepted("/ws/live")
        ws = await connect(front, "/ws/live")
        port = (await front.holder(before, "/ws/live")).port
        if port in boards:
            extra.append(ws)  # kept open: least_conn then sends the next to the other
        else:
            boards[port] = await Viewer(ws).start()
        if len(boards) == 2:
            break
    assert set(boards) == {doomed.port, survivor.port}, "the upstream serves both processes"
    cut, kept = boards[doomed.port], boards[survivor.port]
    assert cut.last == kept.last == base

    first = report(voted=100, as_of="2021-05-23T08:00:00+07:00")
    await bureau.send(json.dumps(first))
    assert await answer(bureau) == ack(first, base + 1, duplicate=False)
    lost = report(voted=200, as_of="2021-05-23T09:00:00+07:00")
    await bureau.send(json.dumps(lost))  # committed, but its ack is never read
    await kept.until(base + 2)
    racing = report(voted=300, as_of="2021-05-23T10:00:00+07:00")
    await bureau.send(json.dumps(racing))  # committed or not: the kill races it
    doomed.kill()

    with pytest.raises(websockets.ConnectionClosed):
        await cut.until(base + 99, timeout=10)
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await answer(bureau)

    # the bureau reconnects through nginx, reaches the survivor at once, and resends (a
    # COMMIT the dead process had sent may still land meanwhile: then it is a duplicate)
    async with connect(front, "/ws/bureau") as again:
        welcome = await hello(again, token)
        assert welcome["last_seq"] in (base + 2, base + 3)
        await again.send(json.dumps(lost))
        assert await answer(again) == ack(lost, base + 2, duplicate=True)
        await again.send(json.dumps(racing))
        got = await answer(again)
        assert isinstance(got.get("duplicate"), bool), got
        assert got == ack(racing, base + 3, duplicate=got["duplicate"])
        if welcome["last_seq"] == base + 3:
            assert got["duplicate"] is True, "it was committed before the bureau came back"
        await again.send(json.dumps(racing))  # a second resend changes nothing either
        assert await answer(again) == ack(racing, base + 3, duplicate=True)
        after = report(voted=400, as_of="2021-05-23T11:00:00+07:00")
        await again.send(json.dumps(after))
        assert await answer(again) == ack(after, base + 4, duplicate=False)

    # the board on the survivor never noticed; the cut one resumes with since=
    await kept.until(base + 4)
    assert kept.seqs == [base + 1, base + 2, base + 3, base + 4]
    before = front.accepted("/ws/live")
    async with connect(front, f"/ws/live?since={cut.last}") as ws:
        assert await front.holder(before, "/ws/live") is survivor
        resumed = Viewer(ws)
        resumed.last = cut.last
        await resumed.until(base + 4)
    assert cut.seqs + resumed.seqs == [base + 1, base + 2, base + 3, base + 4]
    for ws in (kept.ws, bureau, *extra):
        await ws.close()

    ids = [first["id"], lost["id"], racing["id"], after["id"]]
    rows = [r for r in await stored(front.db_url) if r["id"] in ids]
    assert [(r["id"], r["seq"]) for r in rows] == [(i, base + n) for n, i in enumerate(ids, 1)]
    async with front.nginx.client(CLIENT) as c:  # HTTP too: nginx passes over the dead one
        answers = [await c.get("/healthz") for _ in range(4)]
    assert [r.status_code for r in answers] == [200] * 4


def ack(sent: dict, seq: int, *, duplicate: bool) -> dict:
    return {"type": "ack", "id": sent["id"], "seq": seq, "duplicate": duplicate}
