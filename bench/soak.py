"""Long day: 16 simulated hours (06:00–22:00) at high speed with 2,000 live viewers; prints
the server's memory every simulated hour. Memory must level off.

    .venv/bin/python -m bench.soak [--viewers 2000] [--speed 240]

Load: each of the 63 bureaus sends a turnout figure every 5 simulated minutes and a note
every 15 (about 16,000 reports in the day), on its own socket, awaiting each ack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import websockets

from bench.common import (
    bureau_tokens,
    fresh_database,
    gc_pauses,
    postgres_server,
    rss_mb,
    serve,
)
from bench.fanout import RawViewers, raise_nofile
from ingest.fixtures import provinces

START_MIN, END_MIN = 6 * 60, 22 * 60


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=240.0)
    args = parser.parse_args()
    raise_nofile()
    with postgres_server() as server_url:
        async with fresh_database(server_url) as url:
            tokens = await bureau_tokens(url, "soak")
            with serve(url) as (port, proc):
                viewers = RawViewers()
                await viewers.connect(
                    f"ws://127.0.0.1:{port}/ws/live", args.viewers, True, "127.0.0.1"
                )
                print(
                    f"{args.viewers} viewers connected; RSS {rss_mb(proc.pid):.0f} MB", flush=True
                )
                t0 = time.monotonic()
                sent = [0]

                def sim_minute() -> float:
                    return START_MIN + (time.monotonic() - t0) * args.speed / 60

                async def bureau(code: str, registered: int) -> None:
                    async with websockets.connect(
                        f"ws://127.0.0.1:{port}/ws/bureau", compression=None
                    ) as ws:
                        await ws.send(json.dumps({"type": "hello", "token": tokens[code]}))
                        await ws.recv()
                        for minute in range(START_MIN, END_MIN + 1, 5):
                            while sim_minute() < minute:
                                await asyncio.sleep(0.05)
                            as_of = f"2021-05-23T{minute // 60:02d}:{minute % 60:02d}:00+07:00"
                            share = (minute - START_MIN) / (END_MIN - START_MIN)
                            msgs = [("turnout", {"voted": int(registered * 0.99 * share)})]
                            if minute % 15 == 0:
                                msgs.append(("note", {"text": f"Ghi chú lúc {as_of[11:16]}"}))
                            for kind, data in msgs:
                                await ws.send(
                                    json.dumps(
                                        {
                                            "type": "report",
                                            "id": str(uuid.uuid4()),
                                            "kind": kind,
                                            "as_of": as_of,
                                            "data": data,
                                        }
                                    )
                                )
                                answer = json.loads(await ws.recv())
                                assert answer["type"] == "ack", answer
                                sent[0] += 1

                async def sample() -> None:
                    hour = START_MIN // 60
                    while hour <= END_MIN // 60:
                        while sim_minute() < hour * 60:
                            await asyncio.sleep(0.1)
                        print(
                            f"{hour:02d}:00  reports {sent[0]:6d}  server RSS "
                            f"{rss_mb(proc.pid):6.0f} MB  viewers {len(viewers.conns)}",
                            flush=True,
                        )
                        viewers.arrivals.clear()  # the load generator's own memory
                        hour += 1

                sampler = asyncio.create_task(sample())
                await asyncio.gather(*(bureau(p.code, p.registered) for p in provinces()))
                await sampler
                print(await gc_pauses(url, port), flush=True)
                await viewers.close()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
