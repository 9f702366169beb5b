"""Live-feed fan-out: N viewers on one `votewire serve` process against a bare `websockets`
server doing `websockets.broadcast()` of a frame of the same size, same load generator.

    .venv/bin/python -m bench.fanout [--viewers 1000,5000,10000] [--singles 10]

For each N: reports sent one at a time (`--singles`, half a second apart), then a burst (63
bureaus, one report each, spread over one second — the bare server gets the same 63 frames
at the same pace). Prints p50/p99/max latency from the send to
each viewer's receipt, updates/s delivered, and the server's RSS; then the same for the bare
library and the ratios. The server runs pinned to CPU 0, this load generator to CPU 1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import websockets

from bench.common import (
    bureau_tokens,
    free_port,
    fresh_database,
    pct,
    postgres_server,
    rss_mb,
    serve,
)

SEQ = re.compile(rb'"seq": ?(\d+)')

BARE_SERVER = r"""
import asyncio, sys, websockets
from websockets.asyncio.server import serve, broadcast
viewers = set()
async def handler(ws):
    if ws.request.path == "/send":
        async for msg in ws:
            broadcast(viewers, msg)
        return
    viewers.add(ws)
    try:
        await ws.wait_closed()
    finally:
        viewers.discard(ws)
async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), compression=None, max_queue=None):
        await asyncio.Future()
import uvloop
uvloop.run(main())
"""


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Viewers:
    """N live-feed clients (the `websockets` client library, one task each) recording when
    each seq arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[int, list[float]] = {}
        self.tasks: list[asyncio.Task] = []
        self.conns: list = []

    async def connect(self, url: str, n: int, first_message: bool) -> None:
        sem = asyncio.Semaphore(200)

        async def one(i: int) -> None:
            async with sem:
                ws = await websockets.connect(
                    url, compression=None, max_size=2**24, open_timeout=60, ping_interval=None
                )
            if first_message:
                await ws.recv()  # the snapshot
            self.conns.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

        await asyncio.gather(*(one(i) for i in range(n)))

    async def _read(self, ws) -> None:
        try:
            async for msg in ws:
                now = time.perf_counter()
                data = msg if isinstance(msg, bytes) else msg.encode()
                for m in SEQ.finditer(data[:200000]):
                    self.arrivals.setdefault(int(m.group(1)), []).append(now)
        except websockets.ConnectionClosed:
            pass

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self.conns), return_exceptions=True)


class RawViewer(asyncio.Protocol):
    """A minimal WebSocket client (RFC 6455 handshake, unmasked server frames, pongs): a few
    microseconds per message, so one core of load generator can read what one server core
    writes and the figures measure the servers, not this script."""

    def __init__(self, arrivals: dict[int, list[float]], path: str, host: str) -> None:
        self.arrivals, self.path, self.host = arrivals, path, host
        self.buf = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.first: asyncio.Future = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc) -> None:
        for fut in (self.opened, self.first):
            if not fut.done():
                fut.set_exception(ConnectionError("closed by the server"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buf[:80]).decode(errors="replace")))
                self.transport.close()
                return
            del buf[: end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        while len(buf) >= 2:
            opcode, length, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, start = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + length:
                return
            payload = bytes(buf[start : start + length])
            del buf[: start + length]
            if opcode == 0x9:  # ping -> pong, masked with a zero key
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + bytes(4) + payload)
            elif opcode == 0x8:
                self.transport.close()
                return
            elif opcode in (0x1, 0x2):
                if not self.first.done():
                    self.first.set_result(None)
                    continue
                for m in SEQ.finditer(payload):
                    self.arrivals.setdefault(int(m.group(1)), []).append(now)


class RawViewers:
    """N `RawViewer`s sharing one arrivals table; the same interface as `Viewers`."""

    def __init__(self) -> None:
        self.arrivals: dict[int, list[float]] = {}
        self.conns: list[RawViewer] = []

    async def connect(self, url: str, n: int, first_message: bool) -> None:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(200)

        async def one(i: int) -> None:
            async with sem:
                _, proto = await loop.create_connection(
                    lambda: RawViewer(self.arrivals, parts.path, parts.netloc),
                    parts.hostname,
                    parts.port,
                )
                await asyncio.wait_for(proto.opened, 60)
                if first_message:
                    await asyncio.wait_for(proto.first, 60)  # the snapshot
                else:
                    proto.first.set_result(None)
            self.conns.append(proto)

        await asyncio.gather(*(one(i) for i in range(n)))

    async def close(self) -> None:
        for c in self.conns:
            if c.transport is not None:
                c.transport.write(b"\x88\x82" + bytes(4) + (1000).to_bytes(2, "big"))
                c.transport.close()
        await asyncio.sleep(0.5)


CLIENTS = {"raw": RawViewers, "websockets": Viewers}


async def wait_all(viewers: Viewers, seqs: list[int], n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(viewers.arrivals.get(s, ())) >= n for s in seqs):
            return
        await asyncio.sleep(0.05)


def summarise(name: str, sent: dict[int, float], viewers: Viewers, n: int, span: float) -> dict:
    lat = [t - sent[s] for s in sent for t in viewers.arrivals.get(s, ())]
    delivered = sum(len(viewers.arrivals.get(s, ())) for s in sent)
    row = {
        "name": name,
        "p50": pct(lat, 50) * 1000,
        "p99": pct(lat, 99) * 1000,
        "max": max(lat) * 1000 if lat else float("nan"),
        "delivered": f"{delivered}/{len(sent) * n}",
        "per_s": delivered / span if span else float("nan"),
    }
    print(
        f"  {name:<26} p50 {row['p50']:7.1f} ms  p99 {row['p99']:7.1f} ms  max {row['max']:7.1f} ms"
        f"  delivered {row['delivered']:>12}  {row['per_s']:9.0f} msg/s",
        flush=True,
    )
    return row


async def run_votewire(
    client: type, port: int, n: int, singles: int, tokens: dict[str, str]
) -> list:
    viewers = client()
    await viewers.connect(f"ws://127.0.0.1:{port}/ws/live", n, first_message=True)
    bureaus = {}
    for code, token in tokens.items():
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws/bureau", compression=None)
        await ws.send(json.dumps({"type": "hello", "token": token}))
        await ws.recv()
        bureaus[code] = ws
    minute = [0]

    async def send(code: str) -> tuple[int, float]:
        minute[0] += 1
        m = 7 * 60 + minute[0] % 700
        report = {
            "type": "report",
            "id": str(uuid.uuid4()),
            "kind": "turnout",
            "as_of": f"2021-05-23T{m // 60:02d}:{m % 60:02d}:00+07:00",
            "data": {"voted": 1_000 + minute[0]},
        }
        t0 = time.perf_counter()
        await bureaus[code].send(json.dumps(report))
        ack = json.loads(await bureaus[code].recv())
        return ack["seq"], t0

    rows = []
    sent: dict[int, float] = {}
    probe = await websockets.connect(f"ws://127.0.0.1:{port}/ws/live", max_size=2**24)
    await probe.recv()  # its snapshot; its first update gives the size the bare server sends
    t_start = time.perf_counter()
    for i in range(singles):
        seq, t0 = await send("01")
        sent[seq] = t0
        if i == 0:
            size = len((await probe.recv()).encode())
            await probe.close()
        await asyncio.sleep(0.5)
    await wait_all(viewers, list(sent), n)
    rows.append(
        summarise("votewire one at a time", sent, viewers, n, time.perf_counter() - t_start)
    )
    t_start = time.perf_counter()

    async def send_at(i: int, code: str) -> tuple[int, float]:
        await asyncio.sleep(i / 63)  # 63 reports within one second, as the bare run sends them
        return await send(code)

    burst = await asyncio.gather(*(send_at(i, code) for i, code in enumerate(tokens)))
    sent = dict(burst)
    await wait_all(viewers, list(sent), n)
    rows.append(summarise("votewire burst of 63", sent, viewers, n, time.perf_counter() - t_start))
    for ws in bureaus.values():
        await ws.close()
    await viewers.close()
    return rows, size


async def run_bare(client: type, port: int, n: int, singles: int, size: int) -> list:
    viewers = client()
    await viewers.connect(f"ws://127.0.0.1:{port}/live", n, first_message=False)
    control = await websockets.connect(f"ws://127.0.0.1:{port}/send", compression=None)
    pad = "x" * max(0, size - len('{"seq": 10, "pad": ""}'))
    rows = []
    sent: dict[int, float] = {}
    seq = 0
    t_start = time.perf_counter()
    for _ in range(singles):
        seq += 1
        sent[seq] = time.perf_counter()
        await control.send(f'{{"seq": {seq}, "pad": "{pad}"}}')
        await asyncio.sleep(0.5)
    await wait_all(viewers, list(sent), n)
    rows.append(summarise("bare one at a time", sent, viewers, n, time.perf_counter() - t_start))
    sent = {}
    t_start = time.perf_counter()
    for _ in range(63):
        seq += 1
        sent[seq] = time.perf_counter()
        await control.send(f'{{"seq": {seq}, "pad": "{pad}"}}')
        await asyncio.sleep(1 / 63)
    await wait_all(viewers, list(sent), n)
    rows.append(summarise("bare burst of 63", sent, viewers, n, time.perf_counter() - t_start))
    await control.close()
    await viewers.close()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", default="1000,5000,10000")
    parser.add_argument("--singles", type=int, default=10)
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="raw",
        help="viewer implementation of the load generator (the same for both servers)",
    )
    args = parser.parse_args()
    client = CLIENTS[args.client]
    print(f"load generator: {args.client} viewers", flush=True)
    raise_nofile()
    os.sched_setaffinity(0, {1})
    with postgres_server() as server_url:
        async with fresh_database(server_url) as url:
            tokens = await bureau_tokens(url, "bench")
            with serve(url) as (port, proc):
                os.sched_setaffinity(proc.pid, {0})
                for n in [int(x) for x in args.viewers.split(",")]:
                    print(f"\n{n} viewers", flush=True)
                    ours, size = await run_votewire(client, port, n, args.singles, tokens)
                    print(
                        f"  votewire server RSS {rss_mb(proc.pid):.0f} MB;"
                        f" update frame {size} bytes (the bare server sends the same size)",
                        flush=True,
                    )
                    bare_port = free_port()
                    bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port)])
                    os.sched_setaffinity(bare.pid, {0})
                    await asyncio.sleep(1.0)
                    try:
                        theirs = await run_bare(client, bare_port, n, args.singles, size)
                        print(f"  bare server RSS {rss_mb(bare.pid):.0f} MB", flush=True)
                    finally:
                        bare.terminate()
                        bare.wait()
                    for o, t in zip(ours, theirs, strict=True):
                        print(
                            f"  ratio {o['name'][9:]:<18} p50 {o['p50'] / t['p50']:.2f}"
                            f"  p99 {o['p99'] / t['p99']:.2f}",
                            flush=True,
                        )


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
