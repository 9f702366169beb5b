"""Ingest throughput: 63 bureau sockets sending reports and awaiting acks, against the
bare database doing the same insert+commit, measured in the same run.

    .venv/bin/python -m bench.ingest [--reports 100] [--rounds 3]

Prints acked reports/s and p50/p99 ack latency for votewire, and for two baselines on the
same Postgres: one asyncpg loop (insert+commit, sequential) and 63 concurrent asyncpg
loops (one connection each, like the 63 bureaus). Figures, not assertions.

The three are measured in turn, `--rounds` times, on the same server and database (each
round's reports later in the day than the last): on a shared machine the load moves within
a minute, and a ratio of two figures taken seconds apart is steadier than one of figures a
minute apart. Each round's ratios are printed, then the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid

import asyncpg
import websockets

from bench.common import bureau_tokens, fresh_database, pct, postgres_server, serve
from ingest.fixtures import provinces

BASELINE_TABLE = """CREATE TABLE bare (seq bigserial PRIMARY KEY, id uuid UNIQUE, province text,
    kind text, as_of timestamptz, data jsonb, received_at timestamptz DEFAULT now())"""
BASELINE_INSERT = (
    "INSERT INTO bare (id, province, kind, as_of, data) VALUES ($1, $2, 'turnout', $3, $4)"
)


async def baseline(url: str, loops: int, per_loop: int) -> tuple[float, list[float]]:
    conns = [await asyncpg.connect(url) for _ in range(loops)]
    await conns[0].execute("DROP TABLE IF EXISTS bare")
    await conns[0].execute(BASELINE_TABLE)
    lat: list[float] = []
    as_of = "2021-05-23T11:00:00+07:00"
    from datetime import datetime

    t_as_of = datetime.fromisoformat(as_of)

    async def loop(conn, code: str) -> None:
        for i in range(per_loop):
            t0 = time.perf_counter()
            async with conn.transaction():
                data = json.dumps({"voted": i})
                await conn.execute(BASELINE_INSERT, uuid.uuid4(), code, t_as_of, data)
            lat.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(loop(c, f"{i:02d}") for i, c in enumerate(conns)))
    elapsed = time.perf_counter() - t0
    for c in conns:
        await c.close()
    return loops * per_loop / elapsed, lat


async def votewire(
    url: str, port: int, per_bureau: int, start: int = 0
) -> tuple[float, list[float]]:
    """`per_bureau` turnout reports from each of 63 bureau sockets, the `start`-th minute
    after 07:00 on (one a minute, each count above the last)."""
    tokens = await bureau_tokens(url)
    lat: list[float] = []

    async def bureau(code: str) -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/bureau", compression=None) as ws:
            await ws.send(json.dumps({"type": "hello", "token": tokens[code]}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            for i in range(start, start + per_bureau):
                minute = 7 * 60 + i
                report = {
                    "type": "report",
                    "id": str(uuid.uuid4()),
                    "kind": "turnout",
                    "as_of": f"2021-05-23T{minute // 60:02d}:{minute % 60:02d}:00+07:00",
                    "data": {"voted": 1000 + i},
                }
                t0 = time.perf_counter()
                await ws.send(json.dumps(report))
                answer = json.loads(await ws.recv())
                lat.append(time.perf_counter() - t0)
                assert answer["type"] == "ack", answer

    t0 = time.perf_counter()
    await asyncio.gather(*(bureau(p.code) for p in provinces()))
    elapsed = time.perf_counter() - t0
    return len(provinces()) * per_bureau / elapsed, lat


def line(name: str, rate: float, lat: list[float]) -> str:
    return (
        f"{name:<38} {rate:8.0f} reports/s   p50 {pct(lat, 50) * 1000:6.1f} ms"
        f"   p99 {pct(lat, 99) * 1000:6.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=100, help="reports per bureau")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each")
    args = parser.parse_args()
    if args.reports * (args.rounds + 1) > 16 * 60:
        parser.error("the reports of every round must fit in the day (one a minute from 07:00)")
    rounds = []
    with postgres_server() as server_url:
        async with fresh_database(server_url) as url:
            with serve(url) as (port, _proc):
                # warm up the server's pool and plans
                await votewire(url, port, 2)
                for n in range(args.rounds):
                    vw = await votewire(url, port, args.reports, start=2 + n * args.reports)
                    seq = await baseline(url, 1, 63 * args.reports // 4)
                    par = await baseline(url, 63, args.reports)
                    rounds.append((vw, seq, par))
    print(f"63 bureaus x {args.reports} reports, acks awaited one by one; {args.rounds} rounds")
    for n, (vw, seq, par) in enumerate(rounds, start=1):
        print(f"round {n}")
        print(line("  votewire /ws/bureau (63 sockets)", *vw))
        print(line("  bare asyncpg insert+commit, 1 loop", *seq))
        print(line("  bare asyncpg insert+commit, 63 loops", *par))
        one, many = vw[0] / seq[0], vw[0] / par[0]
        print(f"  ratio votewire / 1 loop = {one:.2f}, / 63 loops = {many:.2f}")
    print("medians of the rounds")
    print(f"ratio votewire / 1 loop   = {statistics.median(v[0] / s[0] for v, s, _ in rounds):.2f}")
    print(f"ratio votewire / 63 loops = {statistics.median(v[0] / p[0] for v, _, p in rounds):.2f}")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
