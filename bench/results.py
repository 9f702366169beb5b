"""Results (issue 13): a result's ack against a turnout report's in the same run, and
`/api/results?at=` over the whole log (the day, the count through the night and the days
after, the Council's decisions).

    .venv/bin/python -m bench.results

63 bureau sockets, each sending its province's reports of the simulated day (turnout,
completion, notes…) and of the simulated count (provisional and final results) one after
the other, alternating the two streams, each waiting for its ack; the send→ack times are
kept per kind. Then the Council's 500 decisions over HTTP, then `GET /api/results?at=` for
a moment every two hours from 23/5 19:00 to 11/6 (all distinct: no kept body helps), and
the same for `/api/snapshot?at=` as a reference. The server runs pinned to CPU 0, this
load generator to CPU 1 (on a machine with two cores or more).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import defaultdict
from datetime import datetime, timedelta

import asyncpg
import httpx
import websockets

from bench.common import bureau_tokens, fresh_database, pct, postgres_server, serve
from ingest import results_timeline
from ingest.fixtures import FIXTURES

FIRST = datetime.fromisoformat("2021-05-23T19:00:00+07:00")
LAST = datetime.fromisoformat("2021-06-11T19:00:00+07:00")


def frame(event: dict) -> str:
    return json.dumps(
        {
            "type": "report",
            "id": event["id"],
            "kind": event["kind"],
            "as_of": event["t"],
            "data": event["data"],
        }
    )


async def bureau(port: int, token: str, events: list[dict], times: dict[str, list[float]]):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/bureau") as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "client": "bench"}))
        json.loads(await ws.recv())
        for event in events:
            started = time.perf_counter()
            await ws.send(frame(event))
            answer = json.loads(await ws.recv())
            if answer["type"] == "ack":
                times[event["kind"]].append((time.perf_counter() - started) * 1000)
            else:
                times["refused"].append(0.0)


def alternate(a: list[dict], b: list[dict]) -> list[dict]:
    out = []
    for i in range(max(len(a), len(b))):
        out += a[i : i + 1] + b[i : i + 1]
    return out


async def timed_gets(port: int, path: str, moments: list[datetime]) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
        for m in moments:
            started = time.perf_counter()
            r = await c.get(path, params={"at": m.isoformat()})
            r.raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
    return out


async def run(args: argparse.Namespace) -> None:
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {1})
    day = json.loads((FIXTURES / "scenarios" / "election_day_2021.json").read_text())["events"]
    count = results_timeline.build()
    with postgres_server() as server_url:
        async with fresh_database(server_url) as url:
            tokens = await bureau_tokens(url)
            with serve(url) as (port, proc):
                if len(os.sched_getaffinity(0)) > 0 and os.cpu_count() and os.cpu_count() > 1:
                    os.sched_setaffinity(proc.pid, {0})
                streams = {
                    code: alternate(
                        [e for e in day if e["province"] == code],
                        [e for e in count["reports"] if e["province"] == code],
                    )
                    for code in tokens
                }
                times: dict[str, list[float]] = defaultdict(list)
                started = time.perf_counter()
                await asyncio.gather(*(bureau(port, tokens[c], streams[c], times) for c in tokens))
                took = time.perf_counter() - started
                sent = sum(len(s) for s in streams.values())
                print(f"{sent:,} reports from 63 bureaus in {took:.1f} s")
                for kind in ("turnout", "result", "completion", "note"):
                    t = times[kind]
                    print(
                        f"  ack {kind:10} n={len(t):5}  p50 {pct(t, 50):6.1f}  "
                        f"p99 {pct(t, 99):6.1f}  max {max(t):6.1f} ms"
                    )
                print(f"  refused (the day's deliberate refusals): {len(times['refused'])}")
                ratio = pct(times["result"], 99) / pct(times["turnout"], 99)
                print(f"result ack p99 / turnout ack p99 (same run): {ratio:.2f} (target ≤ 1.2)")

                editor = await editor_token(url)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
                    for d in count["decisions"]:
                        r = await c.post(
                            "/api/results/confirmation",
                            json=results_timeline.confirmation_body(d),
                            headers={"Authorization": f"Bearer {editor}"},
                        )
                        r.raise_for_status()
                    summary = (await c.get("/api/results")).json()["summary"]
                print(f"after the Council: {summary['seats_filled']} seats filled, "
                      f"{summary['units_declared']} units declared")  # fmt: skip

                moments = []
                m = FIRST
                while m <= LAST:
                    moments.append(m)
                    m += timedelta(hours=2)
                for path in ("/api/results", "/api/snapshot"):
                    t = await timed_gets(port, path, moments)
                    print(
                        f"{path}?at= over {len(moments)} moments 23/5 19:00 – 11/6: "
                        f"p50 {pct(t, 50):.1f} ms  p99 {pct(t, 99):.1f} ms"
                        + ("  (target p50 ≤ 50 ms)" if path == "/api/results" else "")
                    )


async def editor_token(url: str) -> str:
    from server import store
    from server.auth import new_token

    token = new_token()
    conn = await asyncpg.connect(url)
    await store.issue_token(conn, token, "editor", None, "bench")
    await conn.close()
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
