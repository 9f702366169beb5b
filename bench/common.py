"""Shared pieces of the benchmarks: a fresh database, a server process, percentiles."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server():
    """DATABASE_URL, or an embedded Postgres in a temporary folder."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from server.embedded import prepare

    pg = prepare(Path(tempfile.mkdtemp(prefix="votewire-bench-")))
    pg.start()
    try:
        yield pg.url
    finally:
        pg.stop("immediate")


@contextlib.asynccontextmanager
async def fresh_database(server_url: str):
    name = f"vw_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def start_server(db_url: str, port: int | None = None, **env: str) -> tuple[int, subprocess.Popen]:
    """`votewire serve` in its own process (so the load generator does not share its loop),
    returned once /healthz answers."""
    port = port or free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "VOTEWIRE_LOG": "WARNING",
        "VOTEWIRE_RATE_BURST": "1000000",
        "VOTEWIRE_RATE_PER_S": "1000000",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port)],
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return port, proc
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.1)


@contextlib.contextmanager
def serve(db_url: str, **env: str):
    port, proc = start_server(db_url, **env)
    try:
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(15)


async def bureau_tokens(url: str, label: str = "bench") -> dict[str, str]:
    """Migrate `url`, seed the provinces and issue one bureau token per province."""
    from server.cli import issue_bureau_tokens

    return await issue_bureau_tokens(url, "Asia/Ho_Chi_Minh", label)


async def gc_pauses(db_url: str, port: int) -> str:
    """The server's full-collection pauses, from its /metrics (an editor token is issued)."""
    from server import store
    from server.auth import new_token

    token = new_token()
    conn = await asyncpg.connect(db_url)
    await store.issue_token(conn, token, "editor", None, "bench")
    await conn.close()
    async with httpx.AsyncClient() as c:
        text = (
            await c.get(
                f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}
            )
        ).text
    values = {}
    for line in text.splitlines():
        for key in ("seconds_count", "seconds_sum", "longest_seconds"):
            if line.startswith(f'votewire_gc_pause_{key}{{generation="2"}}'):
                values[key] = float(line.split()[-1])
    n, total = values.get("seconds_count", 0.0), values.get("seconds_sum", 0.0)
    longest = values.get("longest_seconds", 0.0)
    mean = (
        f"{total / n * 1000:.0f} ms each on average, {longest * 1000:.0f} ms the longest"
        if n
        else "none"
    )
    return f"full garbage collections since start: {n:.0f}, {total:.2f} s in all ({mean})"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
