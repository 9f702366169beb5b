"""Results (issue 13): a result's ack against a turnout report's in the same run, and
`/api/results?at=` over the whole log (the day, the count through the night and the days
after, the Council's decisions).

    .venv/bin/python -m bench.results [--board 20]

63 bureau sockets, each sending its province's reports of the simulated day (turnout,
completion, notes…) and of the simulated count (provisional and final results) one after
the other, alternating the two streams, each waiting for its ack; the send→ack times are
kept per kind. Then the Council's 500 decisions over HTTP, then `GET /api/results?at=` for
a moment every two hours from 23/5 19:00 to 11/6 (all distinct: no kept body helps), and
the same for `/api/snapshot?at=` as a reference. The server runs pinned to CPU 0, this
load generator to CPU 1 (on a machine with two cores or more).

`--board N` then opens the wall board in Debian's Chromium on its hemicycle (a fresh
database) and declares N units one at a time with their official votes: the time from
each ack to the board's redraw of the hemicycle (`data-seq` of `#plot-hemicycle`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import asyncpg
import httpx
import websockets

from bench.common import bureau_tokens, fresh_database, pct, postgres_server, serve
from ingest import results_timeline
from ingest.fixtures import FIXTURES

REFUSALS: list[tuple[str, str, str]] = []
"""What was refused (kind, code, field): the day holds deliberate refusals, the count none."""
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
                REFUSALS.append((event["kind"], answer.get("code"), answer.get("field")))


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
                for what, n in Counter(REFUSALS).most_common():
                    print(f"    {n} × {what}")
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


async def board(units: int) -> None:
    """Ack → hemicycle redrawn on a real board, for `units` declared units."""
    from playwright.async_api import async_playwright

    from ingest.candidates import official_results, official_valid
    from ingest.candidates import units as all_units
    from tests.test_board_results import HEMICYCLE_DRAWS_JS

    official, valid = official_results(), official_valid()

    def final(unit) -> str:
        return json.dumps(
            {
                "type": "report",
                "id": str(uuid.uuid4()),
                "kind": "result",
                "as_of": "2021-05-25T10:00:00+07:00",
                "data": {
                    "unit": unit.unit,
                    "ballots_valid": valid[(unit.code, unit.unit)].middle,
                    "votes": {c.id: official[c.id].votes for c in unit.candidates},
                    "stage": "final",
                    "audience": "public",
                },
            }
        )

    chosen = list(all_units())[: units + 1]
    with postgres_server() as server_url:
        async with fresh_database(server_url) as url:
            tokens = await bureau_tokens(url)
            with serve(url) as (port, proc):
                if len(os.sched_getaffinity(0)) > 1:
                    os.sched_setaffinity(proc.pid, {0})

                async def declare(unit) -> tuple[dict, float]:
                    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/bureau") as ws:
                        hello = {"type": "hello", "token": tokens[unit.code]}
                        await ws.send(json.dumps(hello))
                        await ws.recv()
                        await ws.send(final(unit))
                        ack = json.loads(await ws.recv())
                        return ack, time.time() * 1000

                await declare(chosen[0])
                async with async_playwright() as pw:
                    chromium = await pw.chromium.launch(executable_path="/usr/bin/chromium")
                    page = await chromium.new_page(viewport={"width": 1920, "height": 1080})
                    await page.goto(f"http://127.0.0.1:{port}/board?slides=hemicycle:3600")
                    await page.wait_for_selector("body[data-ready=true]", state="attached")
                    await page.evaluate("name => window.votewireBoard.show(name)", "hemicycle")
                    await page.wait_for_selector("#plot-hemicycle[data-seq]", state="attached")
                    await page.evaluate(HEMICYCLE_DRAWS_JS)
                    delays = []
                    for unit in chosen[1:]:
                        ack, acked = await declare(unit)
                        await page.wait_for_function(
                            "seq => window.__draws.some(([s]) => s >= seq)", arg=ack["seq"]
                        )
                        drawn = await page.evaluate(
                            "seq => window.__draws.find(([s]) => s >= seq)[1]", ack["seq"]
                        )
                        delays.append(drawn - acked)
                        await asyncio.sleep(0.5)
                    await chromium.close()
    print(
        f"board hemicycle redrawn after the ack, {len(delays)} units: p50 {pct(delays, 50):.0f}"
        f"  p99 {pct(delays, 99):.0f}  max {max(delays):.0f} ms (target ≤ 1,000 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", type=int, default=0, metavar="N",
                        help="then time the board's hemicycle for N declared units")  # fmt: skip
    args = parser.parse_args()
    asyncio.run(run(args))
    if args.board:
        asyncio.run(board(args.board))


if __name__ == "__main__":
    main()
