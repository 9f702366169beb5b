"""Chaos run: a simulated day with cut sockets against two `votewire serve` processes on one
Postgres, while the harness SIGKILLs a server process several times, restarts Postgres once
and kills the LISTEN connections. Then it checks: every report of the scenario stored exactly
once, no acked report missing, the national figure equal to an independent recomputation
from the scenario, and every viewer's last picture equal to the snapshot.

    .venv/bin/python -m bench.chaos [--speed 600] [--kills 4] [--drop-rate 0.05]

The test suite runs a shorter version (tests/test_chaos.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
from pathlib import Path

import asyncpg
import httpx
import websockets

from bench.common import bureau_tokens
from ingest import scenario as scenario_mod
from ingest import simulate
from server.embedded import prepare


class LiveViewer:
    """A public viewer that applies the feed like a board would, reconnecting with since=."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seq = 0
        self.national: dict | None = None
        self.provinces: dict[str, dict] = {}
        self.resumes = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _apply(self, u: dict) -> bool:
        if u["prev"] != self.seq:
            return False
        self.seq = u["seq"]
        self.national = u["national"]
        self.provinces[u["province"]["code"]] = u["province"]
        return True

    async def _run(self) -> None:
        first = True
        while True:
            url = self.url if first else f"{self.url}?since={self.seq}"
            first = False
            try:
                async with websockets.connect(url, max_size=2**24, open_timeout=5) as ws:
                    async for raw in ws:
                        msg = json.loads(raw)
                        if msg["type"] == "snapshot":
                            self.seq = msg["seq"]
                            self.national = msg["national"]
                            self.provinces = {p["code"]: p for p in msg["provinces"]}
                        elif msg["type"] in ("update", "batch"):
                            ups = msg["updates"] if msg["type"] == "batch" else [msg]
                            if not all(self._apply(u) for u in ups):
                                break  # missed something: resume with since=
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            self.resumes += 1
            await asyncio.sleep(0.2)


async def settle(viewers: list[LiveViewer], http: str, timeout: float = 30) -> dict:
    """Wait until every viewer reached the public snapshot's seq; return that snapshot."""
    async with httpx.AsyncClient() as c:
        for _ in range(int(timeout * 10)):
            snap = (await c.get(f"{http}/api/snapshot")).json()
            if all(v.seq == snap["seq"] for v in viewers):
                return snap
            await asyncio.sleep(0.1)
    return snap


async def chaos(
    make_server, pg, db_url: str, *, speed: float, kills: int, drop_rate: float, seed: int = 1
) -> dict:
    """`make_server(port)` starts a `votewire serve` process and returns (port, process)."""
    rng = random.Random(seed)
    day = scenario_mod.load()
    tokens = await bureau_tokens(db_url, "chaos")

    servers = [make_server(None), make_server(None)]
    ports = [s[0] for s in servers]
    urls = [f"ws://127.0.0.1:{p}/ws/bureau" for p in ports]
    viewers = [LiveViewer(f"ws://127.0.0.1:{p}/ws/live") for p in ports for _ in range(2)]
    for v in viewers:
        v.start()
    counts = {"server_kills": 0, "postgres_restarts": 0, "listen_kills": 0}
    run = asyncio.create_task(
        simulate.run(urls, tokens, day, speed=speed, seed=seed, drop_rate=drop_rate)
    )

    async def havoc() -> None:
        steps = ["kill"] * kills + ["postgres", "listen"]
        rng.shuffle(steps)
        for step in steps:
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            if run.done():
                return
            if step == "kill":
                i = rng.randrange(2)
                port, proc = servers[i]
                proc.kill()
                proc.wait()
                await asyncio.sleep(0.5)
                servers[i] = await asyncio.to_thread(make_server, port)
                counts["server_kills"] += 1
            elif step == "postgres":
                await asyncio.to_thread(pg.stop, "immediate")
                await asyncio.sleep(1.0)
                await asyncio.to_thread(pg.start)
                counts["postgres_restarts"] += 1
            else:
                c = await asyncpg.connect(db_url)
                await c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'votewire-listen'"
                )
                await c.close()
                counts["listen_kills"] += 1

    chaos_task = asyncio.create_task(havoc())
    summary = await run
    await chaos_task
    snap = await settle(viewers, f"http://127.0.0.1:{ports[0]}")
    for v in viewers:
        await v.stop()
    conn = await asyncpg.connect(db_url)
    ids = [r["id"] for r in await conn.fetch("SELECT id::text FROM reports")]
    await conn.close()
    acked = {rid for rid, a in summary["answers"].items() if a["type"] == "ack"}
    expected = scenario_mod.expected_final(day)
    result = {
        **counts,
        "events": len(day["events"]),
        "acked": len(acked),
        "stored": len(ids),
        "stored_distinct": len(set(ids)),
        "acked_missing": len(acked - set(ids)),
        "scenario_missing": len({e["id"] for e in day["events"]} - set(ids)),
        "cuts": summary["cuts"],
        "reconnects": summary["reconnects"],
        "duplicates_acked": summary["duplicates"],
        "national_voted": snap["national"]["voted"],
        "expected_voted": expected["voted"],
        "viewers_equal_snapshot": sum(
            v.national == snap["national"]
            and [v.provinces[c] for c in sorted(v.provinces)] == snap["provinces"]
            for v in viewers
        ),
        "viewers": len(viewers),
        "viewer_resumes": sum(v.resumes for v in viewers),
    }
    for _port, proc in servers:
        proc.terminate()
        proc.wait()
    return result


def server_factory(db_url: str):
    """`make_server(port)` for `chaos`: a `votewire serve` process, healthy when returned."""
    from bench.common import start_server

    def make_server(port: int | None):
        return start_server(
            db_url,
            port,
            VOTEWIRE_LISTEN_CHECK_S="1",
            VOTEWIRE_DB_TIMEOUT_S="2",
            VOTEWIRE_RATE_BURST="120",
            VOTEWIRE_RATE_PER_S="5",
        )

    return make_server


def main() -> None:
    import uvloop

    parser = argparse.ArgumentParser()
    parser.add_argument("--speed", type=float, default=600.0)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--drop-rate", type=float, default=0.05)
    args = parser.parse_args()
    pg = prepare(Path(tempfile.mkdtemp(prefix="votewire-chaos-")))
    pg.start()
    try:
        result = uvloop.run(
            chaos(
                server_factory(pg.url),
                pg,
                pg.url,
                speed=args.speed,
                kills=args.kills,
                drop_rate=args.drop_rate,
            )
        )
    finally:
        pg.stop("immediate")
    for k, v in result.items():
        print(f"{k:>24}: {v}")


if __name__ == "__main__":
    main()
