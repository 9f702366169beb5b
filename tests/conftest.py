"""Real Postgres, real servers, real sockets.

- `pg_url`: the Postgres server the suite uses: `DATABASE_URL` when set (CI sets it to the
  machine's server), else an embedded one the suite starts under a temporary folder.
- `db_url`: a fresh database per test, cloned from a migrated template (made ahead while
  the previous test runs, dropped while the next one runs: `Databases`).
- `server`: the real app served by uvicorn in this event loop on a free port.
- `spawn_server`: `votewire serve` as a separate process (for SIGKILL and multi-process tests).
Timeouts are multiples of `MS`, scaled by VOTEWIRE_TESTS_TIMEOUT_FACTOR on slow machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import uvicorn
import websockets

from ingest.fixtures import provinces
from server import settings as settings_mod
from server import store
from server.app import GracefulServer, create_app
from server.auth import new_token
from server.state import Votewire

ROOT = Path(__file__).resolve().parent.parent
MS = 0.001 * float(os.environ.get("VOTEWIRE_TESTS_TIMEOUT_FACTOR", "1"))
ARTIFACTS = ROOT / "tests" / "artifacts"
TEMPLATE = f"vw_template_{os.getpid()}"
CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium: the browser tests never download one."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WAIT = 30_000 * MS * 1000
"""Playwright's timeouts are milliseconds: 30 s, scaled on slow machines."""


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """What a page must not do: console errors (CSP violations included), uncaught
    exceptions, requests outside the app's origin (no CDN, nothing external) and, with
    `failed_requests=True`, failed or 4xx/5xx requests."""

    def __init__(self, page, base: str, *, failed_requests: bool = False) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on(
            "request",
            lambda r: (
                r.url.startswith((base + "/", "data:", "blob:")) or self.foreign.append(r.url)
            ),
        )
        if failed_requests:
            page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
            page.on(
                "response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} {r.status}")
            )

    def check(self, allowed: tuple[str, ...] = ()) -> None:
        bad = [e for e in self.errors if not any(re.search(a, e) for a in allowed)]
        assert not bad, f"console errors: {bad}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.foreign, f"requests outside the app: {self.foreign}"


@pytest.fixture(scope="session", autouse=True)
def export_browser():
    """Charts drawn in this process (PNG and SVG through kaleido) share dashboards/export.py's
    one headless Chromium for the whole run: started on the first export (~2.5 s), closed
    at the end, not once per module that draws."""
    yield
    from dashboards import export

    export.stop()


@pytest.fixture(scope="session")
async def chromium():
    """One headless Chromium for the whole run; each test opens its own context."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def pg_url():
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from server.embedded import prepare

    folder = Path(tempfile.mkdtemp(prefix="votewire-tests-"))
    pg = prepare(folder)
    pg.start()
    try:
        yield pg.url
    finally:
        pg.stop("immediate")


@pytest.fixture(scope="session")
async def template(pg_url):
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    conn = await store.connect(with_db(pg_url, TEMPLATE), "Asia/Ho_Chi_Minh")
    await store.migrate(conn)
    await store.seed_provinces(conn, provinces())
    await conn.close()
    yield TEMPLATE
    await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    await admin.close()


class Databases:
    """Fresh databases cloned from the template: the next one is made while a test runs, and
    a finished test's is dropped while the next one runs (each CREATE ... TEMPLATE is
    ~0.13 s of Postgres copying and syncing files, paid by ~300 tests)."""

    def __init__(self, pg_url: str, template: str) -> None:
        self.pg_url, self.template = pg_url, template
        self.ahead: asyncio.Task[str] | None = None
        self.dropping: set[asyncio.Task[None]] = set()

    async def _admin(self, sql: str) -> None:
        admin = await asyncpg.connect(self.pg_url)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    async def _create(self) -> str:
        name = f"vw_t_{uuid.uuid4().hex[:12]}"
        await self._admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    async def take(self) -> str:
        """A database no test has used; the next one starts being made."""
        ahead, self.ahead = self.ahead, None
        name = await (ahead or self._create())
        self.ahead = asyncio.create_task(self._create())
        return name

    def drop(self, name: str) -> None:
        task = asyncio.create_task(self._drop(name))
        self.dropping.add(task)
        task.add_done_callback(self.dropping.discard)

    async def _drop(self, name: str) -> None:
        with contextlib.suppress(Exception):
            await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def close(self) -> None:
        if self.ahead is not None:
            with contextlib.suppress(Exception):
                self.drop(await self.ahead)
        await asyncio.gather(*self.dropping)


@pytest.fixture(scope="session")
async def databases(pg_url, template):
    pool = Databases(pg_url, template)
    yield pool
    await pool.close()


@pytest.fixture
async def db_url(pg_url, databases):
    name = await databases.take()
    yield with_db(pg_url, name)
    databases.drop(name)


def test_settings(**env: str) -> settings_mod.Settings:
    base = {
        "VOTEWIRE_DATA": str(Path(tempfile.gettempdir()) / "votewire-tests"),
        "VOTEWIRE_COALESCE_MS": "5",
        "VOTEWIRE_LISTEN_CHECK_S": "1",
        "VOTEWIRE_DB_TIMEOUT_S": "2",
        "VOTEWIRE_GC_QUIET_S": "0",  # apps share the test process: tests/test_collector.py
    }
    return settings_mod.load({**base, **env})


@dataclass
class Server:
    port: int
    db_url: str
    state: Votewire | None = None
    """The process's state when the server runs in this event loop (`serve_in_loop`)."""

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bureau_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/bureau"

    def live_url(self, since: int | None = None, editor: bool = False) -> str:
        path = "/ws/live/editor" if editor else "/ws/live"
        return f"ws://127.0.0.1:{self.port}{path}" + (
            f"?since={since}" if since is not None else ""
        )

    async def token(self, province: str | None = "01", role: str = "bureau") -> str:
        return await issue(self.db_url, province if role == "bureau" else None, role)

    async def snapshot(self, at: str | None = None, **params) -> dict:
        async with httpx.AsyncClient() as c:
            r = await c.get(
                f"{self.http}/api/snapshot", params={"at": at, **params} if at else params
            )
            r.raise_for_status()
            return r.json()


async def issue(db_url: str, province: str | None, role: str = "bureau") -> str:
    conn = await asyncpg.connect(db_url)
    token = new_token()
    await store.issue_token(conn, token, role, province, "test")
    await conn.close()
    return token


class InLoopServer(GracefulServer):
    """`GracefulServer` whose main loop notices `should_exit` at once instead of at uvicorn's
    next tick (every 0.1 s): a test stopping a server waits for its shutdown only. The ticks
    themselves (default headers, the exit check) are uvicorn's.

    Before the shutdown, connections already closing (a WebSocket whose peer's close was
    just answered) are let go: uvicorn's websockets-sansio `shutdown()` sends a 1012 close
    on such a socket and raises `InvalidState` (its `close_sent` only knows the app's own
    closes). uvicorn's tick used to leave them the time; a test that has just closed its
    browser or left a page would otherwise fail at teardown now and then."""

    _exit = False
    _waiter: asyncio.Future | None = None

    @property
    def should_exit(self) -> bool:
        return self._exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._exit = value
        if value and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def main_loop(self) -> None:
        loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            self._waiter = waiter = loop.create_future()
            tick = loop.call_later(0.1, lambda w=waiter: w.done() or w.set_result(None))
            try:
                await waiter
            finally:
                tick.cancel()
                self._waiter = None
            should_exit = await self.on_tick(counter)
        deadline = loop.time() + 1.0
        while loop.time() < deadline and any(
            getattr(c, "transport", None) is not None and c.transport.is_closing()
            for c in self.server_state.connections
        ):
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def serve_in_loop(db_url: str, port: int | None = None, **env: str):
    """The real app in this event loop, on `port` (a free one when None: pass a port to
    start a server again where a stopped one was)."""
    settings = test_settings(**env)
    port = port or free_port()
    config = uvicorn.Config(
        create_app(settings, db_url),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=settings.hard_frame,
        ws_per_message_deflate=False,
        lifespan="on",
    )
    srv = InLoopServer(config, config.app.state.votewire)
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Server(port, db_url, config.app.state.votewire)
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def server(db_url):
    async with serve_in_loop(db_url) as srv:
        yield srv


@contextlib.asynccontextmanager
async def shared_server(pg_url: str, databases: Databases, **env: str):
    """A server on a fresh database for a whole module whose tests only read what every
    server holds from the start (the fixtures' candidates, the seeded provinces): a module
    overrides `server` with it instead of paying a database and a server a test."""
    name = await databases.take()
    try:
        async with serve_in_loop(with_db(pg_url, name), **env) as srv:
            yield srv
    finally:
        databases.drop(name)


class Process:
    """`votewire serve` in its own process."""

    def __init__(self, db_url: str, port: int | None = None, **env: str) -> None:
        self.db_url, self.port = db_url, port or free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "VOTEWIRE_LOG": "WARNING",
            "VOTEWIRE_LISTEN_CHECK_S": "1",
            "VOTEWIRE_DB_TIMEOUT_S": "2",
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy in 30 s")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def server(self) -> Server:
        return Server(self.port, self.db_url)


@pytest.fixture
def spawn_server(db_url):
    started: list[Process] = []

    def spawn(**env: str) -> Process:
        p = Process(db_url, **env).start()
        started.append(p)
        return p

    yield spawn
    for p in started:
        p.stop()
        p.log.close()


async def votewire(
    *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess:
    """`votewire *args` (`python -m server`) in its own process, without blocking this event
    loop: independent commands run at once under `asyncio.gather`."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "server", *args),
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return subprocess.CompletedProcess(
        list(args), proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
    )


async def feed_message(ws, timeout: float = 10.0) -> dict:
    """The live feed's next message about the picture: `clock` messages (contract §6, out of
    band, after the first snapshot and whenever the clock is set) are passed over;
    tests/test_clock.py is where they are checked."""
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg.get("type") != "clock":
            return msg


# --- the bureau protocol, spoken by hand -------------------------------------------------


class Bureau:
    """A raw `/ws/bureau` connection for tests: hello, then report/answer pairs."""

    def __init__(self, ws, welcome: dict) -> None:
        self.ws, self.welcome = ws, welcome

    async def send(self, report: dict | str) -> dict:
        await self.ws.send(report if isinstance(report, str) else json.dumps(report))
        return json.loads(await asyncio.wait_for(self.ws.recv(), 10))


@contextlib.asynccontextmanager
async def bureau(srv: Server, token: str):
    async with websockets.connect(srv.bureau_url, max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "client": "tests"}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome", welcome
        yield Bureau(ws, welcome)


def report(kind: str = "turnout", as_of: str = "2021-05-23T11:00:00+07:00", **data) -> dict:
    return {"type": "report", "id": str(uuid.uuid4()), "kind": kind, "as_of": as_of, "data": data}


async def stored(db_url: str, where: str = "true") -> list[dict]:
    conn = await asyncpg.connect(db_url)
    rows = await conn.fetch(
        f"SELECT seq, id::text, province, kind, data::text FROM reports WHERE {where} ORDER BY seq"
    )
    await conn.close()
    return [dict(r) for r in rows]
