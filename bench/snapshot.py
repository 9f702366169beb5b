"""The read path: `/api/snapshot` and `/api/results` against a bare Starlette endpoint
returning the same bytes, same HTTP stack (uvicorn, h11, uvloop), same load generator.

    .venv/bin/python -m bench.snapshot [--connections 32] [--seconds 10] [--rounds 3]

The votewire process holds the simulated 2021 day (1,430 reports) and every unit's final
result (184, public), so both bodies are the real ones (~20 KB and ~200 KB). Each round
runs `wrk` (Debian's package) for each endpoint in turn — bare snapshot, votewire snapshot,
bare results, votewire results — so whatever else the machine does falls on both alike.
Both servers run pinned to CPU 0, wrk to CPU 1 (on a machine with two cores or more).
Prints req/s and latency percentiles per endpoint and round, and the ratios votewire/bare.

With Debian's nginx installed, a last round goes through docs/deploy.md's nginx
configuration (tests/nginx.py runs it: TLS, the cache for `max-age`) in front of the same
process, nginx's workers pinned to CPU 0 too: what one core of the edge serves when the
public reads are cached for their second (`--no-nginx` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from bench.common import ROOT, free_port, fresh_database, postgres_server, serve
from ingest.candidates import official_results, official_valid, units
from ingest.fixtures import FIXTURES
from tests.nginx import NGINX, Nginx

BARE_APP = r"""
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
bodies = {name: open(path, "rb").read() for name, path in (a.split("=", 1) for a in sys.argv[2:])}
def endpoint(name):
    body = bodies[name]
    async def answer(request):
        return Response(body, media_type="application/json")
    return answer
app = Starlette(routes=[Route(f"/{name}", endpoint(name)) for name in bodies])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="h11", loop="uvloop",
            log_level="warning")
"""

FINAL = "2021-05-25T12:00:00+07:00"


def pin(pid: int, cpu: int) -> None:
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(pid, {cpu})


async def load(url: str, port: int) -> None:
    """The simulated day and every unit's official final result, through the HTTP API."""
    from server import store
    from server.auth import new_token

    token = new_token()
    conn = await asyncpg.connect(url)
    await store.issue_token(conn, token, "editor", None, "bench")
    await conn.close()
    day = json.loads((FIXTURES / "scenarios" / "election_day_2021.json").read_text())
    reports = [
        {
            "id": e["id"],
            "kind": e["kind"],
            "as_of": e["t"],
            "province": e["province"],
            "data": e["data"],
        }
        for e in day["events"]
    ]
    official, valid = official_results(), official_valid()
    for unit in units():
        reports.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-result-{unit.id}")),
                "kind": "result",
                "as_of": FINAL,
                "province": unit.code,
                "data": {
                    "unit": unit.unit,
                    "ballots_valid": valid[(unit.code, unit.unit)].middle,
                    "votes": {c.id: official[c.id].votes for c in unit.candidates},
                    "stage": "final",
                    "audience": "public",
                },
            }
        )
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
        for r in reports:
            await c.post("/api/reports", json=r, headers=headers)


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_PCT = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def pin_tree(pid: int, cpu: int) -> None:
    """Pin a process and its children (nginx's master and workers)."""
    pin(pid, cpu)
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        pin(int(child), cpu)


def through_nginx(port: int, folder: Path, args: argparse.Namespace) -> None:
    """wrk against docs/deploy.md's nginx (TLS, cache) in front of the votewire process."""
    nginx = Nginx(folder / "nginx", [port]).start()
    try:
        time.sleep(0.5)  # the workers are forked
        pin_tree(nginx.proc.pid, 0)
        for name in ("snapshot", "results"):
            n = wrk(f"{nginx.base}/api/{name}", args.connections, args.seconds)
            print(
                f"nginx   {name:8}  {n['rps']:8,.0f} req/s p50 {n['p50']:6.2f} p99 "
                f"{n['p99']:6.2f} ms  (TLS, keep-alive, cached for max-age=1)",
                flush=True,
            )
    finally:
        nginx.stop()


def wrk(url: str, connections: int, seconds: int) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if len(os.sched_getaffinity(0)) > 1:
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(WRK_RPS.search(out).group(1))}
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    for p, value, unit in WRK_PCT.findall(out):
        figures[f"p{p}"] = float(value) * scale[unit]
    return figures


def start_bare(bodies: dict[str, Path]) -> tuple[int, subprocess.Popen]:
    port = free_port()
    args = [f"{name}={path}" for name, path in bodies.items()]
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(port), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/snapshot", timeout=1).status_code == 200:
                return port, proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("bare server did not start")
        time.sleep(0.1)


async def run(args: argparse.Namespace) -> None:
    if not shutil.which("wrk"):
        sys.exit("bench.snapshot needs wrk: apt-get install wrk")
    with postgres_server() as server_url:
        async with fresh_database(server_url) as url:
            with serve(url) as (port, proc):
                pin(proc.pid, 0)
                print(f"loading the simulated day and 184 final results into {url} ...")
                await load(url, port)
                folder = Path(tempfile.mkdtemp(prefix="votewire-bench-"))
                bodies = {}
                for name in ("snapshot", "results"):
                    body = httpx.get(f"http://127.0.0.1:{port}/api/{name}").content
                    bodies[name] = folder / f"{name}.json"
                    bodies[name].write_bytes(body)
                    print(f"/api/{name}: {len(body):,} bytes")
                bare_port, bare = start_bare(bodies)
                pin(bare.pid, 0)
                try:
                    rows = []
                    for n in range(1, args.rounds + 1):
                        for name in ("snapshot", "results"):
                            b = wrk(f"http://127.0.0.1:{bare_port}/{name}", args.connections,
                                    args.seconds)  # fmt: skip
                            v = wrk(f"http://127.0.0.1:{port}/api/{name}", args.connections,
                                    args.seconds)  # fmt: skip
                            rows.append((n, name, b, v))
                            print(
                                f"round {n} {name:8}  bare {b['rps']:8,.0f} req/s p50 "
                                f"{b['p50']:6.2f} p99 {b['p99']:6.2f} ms | votewire "
                                f"{v['rps']:8,.0f} req/s p50 {v['p50']:6.2f} p99 "
                                f"{v['p99']:6.2f} ms | ratio {v['rps'] / b['rps']:.2f}",
                                flush=True,
                            )
                finally:
                    bare.terminate()
                    bare.wait(10)
                if args.nginx and NGINX.exists():
                    through_nginx(port, folder, args)
    print(f"\nwrk -t1 -c{args.connections} -d{args.seconds}s, servers on CPU 0, wrk on CPU 1")
    for name in ("snapshot", "results"):
        ratios = [v["rps"] / b["rps"] for _, nm, b, v in rows if nm == name]
        print(f"/api/{name}: req/s ratio votewire/bare per round: "
              + ", ".join(f"{r:.2f}" for r in ratios))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-nginx", dest="nginx", action="store_false")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
