"""The HTTP edge of a `votewire serve` process, over real sockets (issue 12, findings 6, 7
and 10): what it believes of its proxy (the cookie's `Secure`), how long a slow request may
hold a connection, how many connections it holds, the headers it sends, what `/healthz`
tells a stranger; and the nginx configuration documented beside those bounds."""

from __future__ import annotations

import asyncio
import contextlib
import re
import resource
import select
import socket
import subprocess
import sys
import time

import httpx
import pytest
import websockets

from tests.conftest import MS, ROOT, Process, bureau, feed_message, report

DEPLOY = ROOT / "docs" / "deploy.md"
SLACK_S = 5000 * MS
"""Generous bound beyond a configured timeout (2 shared cores), scaled like every test."""


def raw(port: int, data: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    if data:
        sock.sendall(data)
    return sock


def answer_and_close(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes `sock`, and how long that took."""
    start = time.monotonic()
    sock.settimeout(within)
    got = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            got += chunk
    return got, time.monotonic() - start


def answer_head(sock: socket.socket, within: float) -> bytes:
    """What the server sends until its answer's head is complete (or it closes `sock`): a
    kept-alive connection stays open for the next request, and waiting for its close is
    waiting out the keep-alive timeout."""
    sock.settimeout(within)
    got = b""
    with contextlib.suppress(ConnectionResetError):
        while b"\r\n\r\n" not in got and (chunk := sock.recv(65536)):
            got += chunk
    return got


def closed(sock: socket.socket) -> bool:
    """Has the server closed `sock` (EOF or reset), without waiting?"""
    sock.setblocking(False)
    try:
        return sock.recv(65536) == b"" or closed(sock)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def sign_in(base: str, token: str, **headers: str) -> str:
    r = httpx.post(
        f"{base}/editor/signin", json={"token": token, "name": "Trực ban"}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.headers["set-cookie"]


def is_secure(set_cookie: str) -> bool:
    return "secure" in [p.strip().lower() for p in set_cookie.split(";")]


# --- finding 6: the cookie's Secure flag and the proxy -----------------------------------


async def test_forwarded_https_from_the_trusted_proxy_makes_the_cookie_secure(spawn_server):
    p = spawn_server()  # VOTEWIRE_TRUSTED_PROXIES: 127.0.0.1 (the default)
    token = await p.server.token(role="editor")
    assert not is_secure(sign_in(p.server.http, token))
    assert is_secure(sign_in(p.server.http, token, **{"x-forwarded-proto": "https"}))


async def test_forwarded_headers_from_an_untrusted_address_are_not_believed(spawn_server):
    p = spawn_server(VOTEWIRE_TRUSTED_PROXIES="10.9.9.9")
    token = await p.server.token(role="editor")
    assert not is_secure(sign_in(p.server.http, token, **{"x-forwarded-proto": "https"}))


async def test_secure_cookies_setting_forces_secure_without_any_header(spawn_server):
    p = spawn_server(VOTEWIRE_TRUSTED_PROXIES="10.9.9.9", VOTEWIRE_SECURE_COOKIES="1")
    token = await p.server.token(role="editor")
    assert is_secure(sign_in(p.server.http, token))


# --- finding 7: slow requests and the connection cap -------------------------------------


def test_a_half_sent_request_head_is_answered_408_and_closed_even_if_trickled(spawn_server):
    p = spawn_server(VOTEWIRE_HEADER_TIMEOUT_S="1")
    with raw(p.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") as sock:
        start = time.monotonic()
        for _ in range(40):  # a header byte every 0.25 s must not extend the deadline
            if select.select([sock], [], [], 0.25)[0]:
                break  # the server speaks (or closes)
            with contextlib.suppress(OSError):
                sock.sendall(b"X")
        got, _ = answer_and_close(sock, SLACK_S)
        took = time.monotonic() - start
    assert got.startswith(b"HTTP/1.1 408"), got[:200]
    assert took < 1 + SLACK_S, took
    print(f"half-sent head answered 408 and closed after {took:.2f} s (timeout 1 s)")
    assert httpx.get(f"{p.server.http}/healthz").status_code == 200  # others unaffected


def test_a_silent_body_closes_its_connection_a_slow_steady_one_is_served(spawn_server):
    p = spawn_server(VOTEWIRE_BODY_IDLE_S="1")
    head = b"POST /api/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with raw(p.port, head + b"Content-Length: 1000\r\n\r\n{") as silent:
        got, took = answer_and_close(silent, 1 + SLACK_S)
    assert b" 200 " not in got[:20] and took < 1 + SLACK_S, (got[:200], took)
    body = b'{"type": 1}'
    with raw(p.port, head + b"Content-Length: %d\r\n\r\n" % len(body)) as steady:
        for byte in body:  # 11 bytes over ~2.2 s: longer than the idle timeout, never silent
            steady.sendall(bytes([byte]))
            time.sleep(0.2)
        got = answer_head(steady, SLACK_S + 10)
    assert re.match(rb"HTTP/1.1 4\d\d ", got), got[:200]  # answered (no token), not cut


async def test_a_websocket_outlives_the_request_timeouts(spawn_server):
    """The timers bound receiving a request, never an upgraded socket."""
    p = spawn_server(VOTEWIRE_HEADER_TIMEOUT_S="1", VOTEWIRE_BODY_IDLE_S="1")
    async with websockets.connect(p.server.live_url()) as viewer:
        await feed_message(viewer)
        await asyncio.sleep(2.5)
        async with bureau(p.server, await p.server.token("01")) as b:
            assert (await b.send(report(voted=1000)))["type"] == "ack"
        assert (await feed_message(viewer))["type"] == "update"


def test_one_connection_beyond_the_cap_gets_503_at_once_and_is_closed(spawn_server):
    p = spawn_server(VOTEWIRE_MAX_CONNECTIONS="20", VOTEWIRE_HEADER_TIMEOUT_S="60")
    held = [raw(p.port, b"GET /healthz HTTP/1.1\r\n") for _ in range(20)]
    time.sleep(0.5)
    with raw(p.port) as extra:
        got, took = answer_and_close(extra, SLACK_S)
    assert got.startswith(b"HTTP/1.1 503"), got[:200]
    print(f"connection beyond the cap answered 503 and closed in {took * 1000:.0f} ms")
    assert b"retry-after: " in got.lower() and b'"code": "unavailable"' in got
    for sock in held[:5]:
        sock.close()
    deadline = time.monotonic() + SLACK_S
    while time.monotonic() < deadline:
        if httpx.get(f"{p.server.http}/healthz").status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no room after five connections closed")
    for sock in held[5:]:
        sock.close()


class LowDescriptors(Process):
    """`votewire serve` started with at most `nofile` file descriptors (soft and hard),
    like the probe's process with 256."""

    nofile = 256

    def start(self) -> Process:
        limit = self.nofile
        popen = subprocess.Popen

        def limited(*args, **kwargs):
            kwargs["preexec_fn"] = lambda: resource.setrlimit(
                resource.RLIMIT_NOFILE, (limit, limit)
            )
            return popen(*args, **kwargs)

        subprocess.Popen = limited  # type: ignore[misc]
        try:
            return super().start()
        finally:
            subprocess.Popen = popen  # type: ignore[misc]


def test_a_crowd_of_half_sent_requests_does_not_lock_new_clients_out(db_url):
    """300 half-sent requests against a process limited to 256 descriptors (the probe):
    beyond the cap they are refused at once, the rest are closed at the head deadline,
    and a new client is served within that deadline."""
    p = LowDescriptors(
        db_url, VOTEWIRE_MAX_CONNECTIONS="150", VOTEWIRE_HEADER_TIMEOUT_S="2"
    ).start()
    crowd: list[socket.socket] = []
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                crowd.append(raw(p.port, b"GET / HTTP/1.1\r\nHost: x\r\n"))
        start = time.monotonic()
        served = None
        while time.monotonic() - start < 2 + SLACK_S:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{p.server.http}/healthz", timeout=2).status_code == 200:
                    served = time.monotonic() - start
                    break
            time.sleep(0.1)
        assert served is not None, "a new client was never served"
        deadline = time.monotonic() + SLACK_S
        while time.monotonic() < deadline and not all(closed(s) for s in crowd):
            time.sleep(0.1)
        assert all(closed(s) for s in crowd), sum(not closed(s) for s in crowd)
        print(f"new client served {served:.2f} s after 300 half-sent requests")
    finally:
        for sock in crowd:
            sock.close()
        p.stop()
        p.log.close()


# --- finding 10: headers, /healthz, the chart's HTML -------------------------------------


async def test_no_server_header_and_healthz_detail_only_for_editors_or_the_proxy(spawn_server):
    p = spawn_server(VOTEWIRE_TRUSTED_PROXIES="10.9.9.9")
    r = httpx.get(f"{p.server.http}/healthz")
    assert "server" not in r.headers, r.headers
    assert r.status_code == 200 and r.json() == {"ok": True}
    editor = await p.server.token(role="editor")
    r = httpx.get(f"{p.server.http}/healthz", headers={"authorization": f"Bearer {editor}"})
    assert r.json() == {"ok": True, "process": True, "database": True, "listen": True}
    q = spawn_server()  # 127.0.0.1 is the trusted proxy: it calls /healthz directly
    assert httpx.get(f"{q.server.http}/healthz").json()["database"] is True


async def test_a_chart_html_is_always_a_download(server):
    editor = await server.token(role="editor")
    async with httpx.AsyncClient(
        base_url=server.http, headers={"authorization": f"Bearer {editor}"}, timeout=60
    ) as c:
        r = await c.get("/charts/ranking.html")
    assert r.status_code == 200, r.text[:200]
    assert r.headers["content-disposition"].startswith("attachment;")


# --- the documented nginx ------------------------------------------------------------------


def nginx_blocks(text: str) -> str:
    return "\n".join(re.findall(r"```nginx\n(.*?)```", text, re.S))


def locations(conf: str) -> list[str]:
    """The text of every `location … { … }` block (they hold no nested braces)."""
    return re.findall(r"location [^{]*\{[^}]*\}", conf)


def test_the_documented_nginx_forwards_proto_address_and_host_and_sets_hsts():
    conf = nginx_blocks(DEPLOY.read_text())
    snippet = re.search(r"# /etc/nginx/votewire-proxy.conf.*?(?=\n\n|\Z)", conf, re.S)
    assert snippet, "the proxy snippet is documented"
    for header in ("Host $http_host", "X-Forwarded-Proto $scheme", "X-Forwarded-For"):
        assert f"proxy_set_header {header}" in re.sub(r" +", " ", snippet.group(0)), header
    blocks = locations(conf)
    assert len(blocks) >= 5
    for block in blocks:
        if "proxy_pass" in block:
            assert "include /etc/nginx/votewire-proxy.conf;" in block, block
    assert re.search(r'add_header Strict-Transport-Security "max-age=\d{7,}[^"]*" always;', conf)
    for directive in (
        "client_header_timeout",
        "client_body_timeout",
        "limit_conn ",
        "server_tokens off",
    ):
        assert directive in conf, directive


def test_the_process_bounds_are_documented_beside_nginx():
    text = DEPLOY.read_text()
    section = text[text.index("## nginx") : text.index("## Postgres")]
    for name in (
        "VOTEWIRE_TRUSTED_PROXIES",
        "VOTEWIRE_SECURE_COOKIES",
        "VOTEWIRE_HEADER_TIMEOUT_S",
        "VOTEWIRE_BODY_IDLE_S",
        "VOTEWIRE_MAX_CONNECTIONS",
    ):
        assert name in section, name


@pytest.mark.parametrize("cap", ["0", "-1", "many"])
def test_a_bad_connection_cap_stops_the_process_with_one_line(cap, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--port", "1"],
        env={"VOTEWIRE_MAX_CONNECTIONS": cap, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "VOTEWIRE_MAX_CONNECTIONS" in out.stderr, out.stderr
