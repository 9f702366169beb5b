"""docs/deploy.md's nginx configuration, run for real in front of `votewire serve` processes.

The configuration is read from the fenced `nginx` blocks of docs/deploy.md (never a copy):
the main context (`# /etc/nginx/nginx.conf`), the proxy snippet
(`# /etc/nginx/votewire-proxy.conf`) and the http context (`# /etc/nginx/conf.d/votewire.conf`).
`configuration` changes only what a test must change, each rewrite checked to apply: the
ports (loopback), the upstream servers, the paths (a prefix under the test's folder), the
certificate (self-signed for 127.0.0.1, made with `openssl`), and, as root, `user` (so the
workers can read the test's folder). Debian's `nginx` is used (`ensure_nginx`: installed with
apt-get when missing and root, as .ci/deps does; otherwise the test is skipped).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Process, free_port

DEPLOY = ROOT / "docs" / "deploy.md"
NGINX = Path("/usr/sbin/nginx")
OPENSSL = Path("/usr/bin/openssl")
MAIN = "# /etc/nginx/nginx.conf"
SNIPPET = "# /etc/nginx/votewire-proxy.conf"
HTTP = "# /etc/nginx/conf.d/votewire.conf"
OPENSSL_REQ = (
    "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
    " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
)


def ensure_nginx() -> None:
    """Debian's nginx (and openssl for the certificate): installed as root when missing,
    like .ci/deps; a user who cannot install them skips the test."""
    missing = [p for p in (NGINX, OPENSSL) if not p.exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        pytest.skip(
            f"needs Debian's {', '.join(p.name for p in missing)} (not root: cannot install)"
        )
    subprocess.run(["bash", str(ROOT / ".ci" / "deps")], check=True, stdin=subprocess.DEVNULL)
    assert all(p.exists() for p in missing), f"{missing} still missing after .ci/deps"


def blocks(text: str | None = None) -> dict[str, str]:
    """deploy.md's nginx blocks by their first line (the file each one is)."""
    text = DEPLOY.read_text(encoding="utf-8") if text is None else text
    found = {}
    for block in re.findall(r"```nginx\n(.*?)```", text, re.S):
        first = block.split("\n", 1)[0]
        for name in (MAIN, SNIPPET, HTTP):
            if first.startswith(name):
                found[name] = block
    missing = {MAIN, SNIPPET, HTTP} - set(found)
    assert not missing, f"docs/deploy.md lacks the nginx blocks {missing}"
    return found


def rewrite(text: str, pattern: str, replacement: str, count: int = 1) -> str:
    """`re.sub` that must apply exactly `count` times: a change in the doc that the test no
    longer understands fails loudly instead of testing something else."""
    new, n = re.subn(pattern, lambda _m: replacement, text, flags=re.M)
    assert n == count, f"{pattern!r} matched {n} times in deploy.md's nginx config, not {count}"
    return new


@dataclass(frozen=True)
class Ports:
    https: int
    http: int


def configuration(prefix: Path, ports: Ports, upstreams: list[int], cert: Path, key: Path) -> str:
    """nginx.conf for a test: deploy.md's three blocks, with ports, paths and certificate
    of the test."""
    doc = blocks()
    (prefix / "votewire-proxy.conf").write_text(doc[SNIPPET])
    http = doc[HTTP]
    http = rewrite(
        http,
        r"include /etc/nginx/votewire-proxy\.conf;",
        f"include {prefix}/votewire-proxy.conf;",
        6,
    )
    http = rewrite(
        http, r"proxy_cache_path /var/cache/nginx/votewire ", f"proxy_cache_path {prefix}/cache "
    )
    upstream = re.search(r"upstream votewire \{(.*?)\}", http, re.S)
    assert upstream, "deploy.md's nginx config has an upstream `votewire`"
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+( [^;]*)?;\n", upstream.group(1), re.M)
    assert len(servers) >= 2, "the upstream lists the processes"
    params = servers[0]
    lines = "".join(f"    server 127.0.0.1:{p}{params};\n" for p in upstreams)
    body = re.sub(r"^\s*server 127\.0\.0\.1:\d+( [^;]*)?;\n", "", upstream.group(1), flags=re.M)
    http = http.replace(upstream.group(0), "upstream votewire {" + body + lines + "}")
    http = rewrite(http, r"listen 443 ssl http2;", f"listen 127.0.0.1:{ports.https} ssl http2;")
    http = rewrite(
        http,
        r"# ssl_certificate …; ssl_certificate_key …;",
        f"ssl_certificate {cert}; ssl_certificate_key {key};",
    )
    http = rewrite(http, r"listen 80;", f"listen 127.0.0.1:{ports.http};")
    temps = "".join(
        f"{name}_temp_path {prefix}/{name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return (
        f"{user}pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log notice;\n"
        + doc[MAIN]
        + "http {\n"
        + f"access_log {prefix}/access.log;\n{temps}"
        + http
        + "}\n"
    )


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (a day long) and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [str(OPENSSL), *OPENSSL_REQ.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return cert, key


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port} in {timeout} s")


class Nginx:
    """nginx in the foreground (`daemon off`), our child: started, then stopped by its pid."""

    def __init__(self, prefix: Path, upstreams: list[int]) -> None:
        self.prefix = prefix
        prefix.mkdir(parents=True, exist_ok=True)
        https = free_port()
        http = free_port()
        while http == https:  # the kernel may hand the same free port out twice
            http = free_port()
        self.ports = Ports(https=https, http=http)
        self.cert, self.key = certificate(prefix)
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(configuration(prefix, self.ports, upstreams, self.cert, self.key))
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.ports.https}"

    @property
    def wss(self) -> str:
        return f"wss://127.0.0.1:{self.ports.https}"

    def tls(self) -> ssl.SSLContext:
        """A client context that trusts the test's certificate (and checks it)."""
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self, source: str = "127.0.0.1", **kw) -> httpx.AsyncClient:
        """An HTTPS client of nginx, connecting from `source` (127.0.0.2: a client that is
        not the proxy's own address)."""
        transport = httpx.AsyncHTTPTransport(verify=self.tls(), local_address=source)
        return httpx.AsyncClient(base_url=self.base, transport=transport, **kw)

    def command(self, *extra: str) -> list[str]:
        return [
            str(NGINX),
            "-p",
            str(self.prefix),
            "-c",
            str(self.conf),
            "-e",
            str(self.error_log),
            *extra,
        ]

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def effective(self) -> str:
        """`nginx -T`: the configuration nginx reads, after its own check."""
        out = subprocess.run(
            self.command("-T"), capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    def start(self) -> Nginx:
        self.effective()
        self.proc = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.ports.https, self.proc, self.error_log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown: the master stops its workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class LoggedProcess(Process):
    """`votewire serve` with its whole output (uvicorn's access lines go to stdout) appended
    to a file, so a test can count the requests that reached it and see whom it saw."""

    def __init__(self, db_url: str, log_path: Path, **env: str) -> None:
        super().__init__(db_url, **{"VOTEWIRE_LOG": "INFO", "PYTHONUNBUFFERED": "1", **env})
        self.log_path = log_path

    def launch(self) -> LoggedProcess:
        """Start the process (see `ready`): several start side by side."""
        out = open(self.log_path, "ab")  # noqa: SIM115 - the child writes it (O_APPEND)
        self.log = out
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
        return self

    def ready(self, timeout: float = 60) -> LoggedProcess:
        """Once `/healthz` answers 200."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy in {timeout} s")

    def start(self) -> LoggedProcess:
        return self.launch().ready()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def requests(self, line: str) -> int:
        """How many access lines of this process contain `line` (e.g. `"GET /api/snapshot `)."""
        return self.output().count(line)
