"""Live-feed fan-out: N viewers on one `votewire serve` process against a bare `websockets`
server doing `websockets.broadcast()` of a frame of the same size, same load generator.

    .venv/bin/python -m bench.fanout [--viewers 1000,5000,10000] [--singles 10] [--floor]

For each N, both servers hold N viewers at once. Single updates (`--singles` each) alternate
between them, half a second apart, so whatever else the machine does falls on both alike;
then a burst to each (63 bureaus, one report each, spread over one second; the bare server
gets 63 frames at the same pace). The bare server's frames have the size of a real update.
Prints p50/p99/max latency from the send to each viewer's receipt ("first": the median
over updates of the first viewer's, what comes before the fan-out; "spread": of the time
from the first viewer's receipt to the last one's, the fan-out itself), updates/s,
both servers' RSS while they hold the N viewers, votewire's full garbage collections during
the round (count, average and max, from its /metrics: every collection, CPython's own and
the quiet collector's, the max from the longest pause the server keeps), the ratios, and
issue 14's bars (full collections <= 50 ms, RSS <= 1.5x the bare server's, p99 <= 150 ms
and <= 0.6 of the bare server's at 10,000 viewers).
`--floor` adds, after each round, the least ratio any server writing each viewer's socket
can reach on this machine (`FLOOR_SERVER`): the bars' 0.6 may lie below it.
Both servers run pinned to CPU 0, this load generator to CPU 1. Viewers are `RawViewer`s
(a few microseconds per message, so one core of load generator keeps up with one core of
server); `--client websockets` uses the library's client instead, which is slower than
either server at 10,000 viewers.
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

import asyncpg
import httpx
import websockets

from bench.common import (
    ROOT,
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


FLOOR_SERVER = r"""
import asyncio, json, statistics, sys, time, websockets
from websockets.asyncio.server import serve, broadcast
from websockets.frames import Frame, Opcode
n, size, rounds = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
viewers = set()
async def handler(ws):
    viewers.add(ws)
    try:
        await ws.wait_closed()
    finally:
        viewers.discard(ws)
async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), compression=None, max_queue=None):
        print("ready", flush=True)
        while len(viewers) < n:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        writes = [ws.transport.write for ws in viewers]
        times = {"bare": [], "lane": []}
        for seq in range(1, 2 * rounds + 1):
            text = '{"seq": %d, "pad": "%s"}' % (seq, "x" * max(0, size - 24))
            t0 = time.perf_counter()
            if seq % 2:
                broadcast(viewers, text)
            else:
                wire = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
                for write in writes:
                    write(wire)
            times["bare" if seq % 2 else "lane"].append(time.perf_counter() - t0)
            await asyncio.sleep(0.5)
        print(json.dumps({k: statistics.median(v) for k, v in times.items()}), flush=True)
        await asyncio.Future()
import uvloop
uvloop.run(main())
"""
"""`--floor`: the same N connections of one `websockets` server, written to alternately by
`websockets.broadcast()` (what the bare server does) and by a loop of `transport.write()`
of frame bytes made once (votewire's lane, with no Python per viewer at all): the second
is the kernel's cost of N writes, so second / first is the lowest fan-out ratio a server
writing each viewer's socket can reach on this machine."""


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

    async def connect(self, url: str, n: int, first_message: bool, source: str) -> None:
        sem = asyncio.Semaphore(200)

        async def one(i: int) -> None:
            async with sem:
                ws = await websockets.connect(
                    url,
                    compression=None,
                    max_size=2**24,
                    open_timeout=60,
                    ping_interval=None,
                    local_addr=(source, 0),
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
    microseconds per message (~2 us of Python, frames read in place; the rest is the
    kernel's), so one core of load generator can read what one server core writes and the
    figures measure the servers, not this script."""

    def __init__(self, arrivals: dict[int, list[float]], path: str, host: str) -> None:
        self.arrivals, self.path, self.host = arrivals, path, host
        self.buf = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.first: asyncio.Future = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.started = False
        """The first message (the snapshot, or what the caller waived) was read."""

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
        if self.upgraded and not self.buf:
            self._frames(data, now)  # the usual case: whole frames, nothing held over
            return
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
        data = bytes(buf)
        buf.clear()
        self._frames(data, now)

    def _frames(self, data: bytes, now: float) -> None:
        """Read the whole frames in `data` in place (no copies; the seqs found by a regex
        over the payload's span), keeping any partial one for the next read."""
        pos, end = 0, len(data)
        while end - pos >= 2:
            opcode, length, start = data[pos] & 0x0F, data[pos + 1] & 0x7F, pos + 2
            if length == 126:
                if end - pos < 4:
                    break
                length, start = int.from_bytes(data[pos + 2 : pos + 4], "big"), pos + 4
            elif length == 127:
                if end - pos < 10:
                    break
                length, start = int.from_bytes(data[pos + 2 : pos + 10], "big"), pos + 10
            stop = start + length
            if stop > end:
                break
            pos = stop
            if opcode in (0x1, 0x2):
                if not self.started:
                    self.started = True
                    self.first.set_result(None)
                    continue
                arrivals = self.arrivals
                for m in SEQ.finditer(data, start, stop):
                    arrivals.setdefault(int(m.group(1)), []).append(now)
            elif opcode == 0x9:  # ping -> pong, masked with a zero key
                payload = data[start:stop]
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + bytes(4) + payload)
            elif opcode == 0x8:
                self.transport.close()
                return
        if pos < end:
            self.buf += data[pos:]


class RawViewers:
    """N `RawViewer`s sharing one arrivals table; the same interface as `Viewers`."""

    def __init__(self) -> None:
        self.arrivals: dict[int, list[float]] = {}
        self.conns: list[RawViewer] = []

    async def connect(self, url: str, n: int, first_message: bool, source: str) -> None:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(200)

        async def one(i: int) -> None:
            async with sem:
                _, proto = await loop.create_connection(
                    lambda: RawViewer(self.arrivals, parts.path, parts.netloc),
                    parts.hostname,
                    parts.port,
                    local_addr=(source, 0),
                )
                await asyncio.wait_for(proto.opened, 60)
                if first_message:
                    await asyncio.wait_for(proto.first, 60)  # the snapshot
                else:
                    proto.started = True
                    proto.first.set_result(None)
            self.conns.append(proto)

        await asyncio.gather(*(one(i) for i in range(n)))

    async def close(self) -> None:
        for c in self.conns:
            if c.transport is not None and not c.transport.is_closing():
                c.transport.write(b"\x88\x82" + bytes(4) + (1000).to_bytes(2, "big"))
                c.transport.close()
        await asyncio.sleep(0.5)


CLIENTS = {"raw": RawViewers, "websockets": Viewers}


async def wait_all(viewers, seqs: list[int], n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(viewers.arrivals.get(s, ())) >= n for s in seqs):
            return
        await asyncio.sleep(0.05)


async def viewer_process(args) -> None:
    """`--viewers-of URL`: hold `--count` viewers in this process (a process may hold only
    `ulimit -n` sockets, and each server gets its own), pinned to CPU 1 like the parent.
    Commands on stdin, one per line: `wait K1,K2,...` answers with one JSON line of the
    arrival times of those keys once every viewer has them (or after 60 s); `quit`."""
    raise_nofile()
    os.sched_setaffinity(0, {1})
    viewers = CLIENTS[args.client]()
    await viewers.connect(args.viewers_of, args.count, args.snapshot, args.source)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("ready", flush=True)
    while line := (await reader.readline()).decode().strip():
        if line == "quit":
            break
        keys = [int(k) for k in line.split()[1].split(",")]
        await wait_all(viewers, keys, args.count)
        got = {k: viewers.arrivals.get(k, []) for k in keys}
        sys.stdout.write(json.dumps(got) + "\n")
        sys.stdout.flush()
    await viewers.close()


class ViewerProcess:
    """N viewers of one server in a child process (see `viewer_process`)."""

    def __init__(self, client: str) -> None:
        self.client = client

    async def connect(self, url: str, n: int, snapshot: bool, source: str) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bench.fanout", "--viewers-of", url, "--count", str(n)),
            *("--source", source, "--client", self.client, "--snapshot", str(int(snapshot))),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**30,
            cwd=ROOT,
        )
        line = await asyncio.wait_for(self.proc.stdout.readline(), 300)
        if line.strip() != b"ready":
            raise RuntimeError(f"viewer process for {url} did not start")

    async def wait(self, keys: list[int]) -> dict[int, list[float]]:
        self.proc.stdin.write(f"wait {','.join(map(str, keys))}\n".encode())
        await self.proc.stdin.drain()
        got = json.loads(await self.proc.stdout.readline())
        return {int(k): v for k, v in got.items()}

    async def close(self) -> None:
        self.proc.stdin.write(b"quit\n")
        await self.proc.stdin.drain()
        await self.proc.wait()


def summarise(
    name: str, sent: dict[int, float], arrivals: dict[int, list[float]], n: int, span: float
) -> dict:
    lat = [t - sent[s] for s in sent for t in arrivals.get(s, ())]
    delivered = sum(len(arrivals.get(s, ())) for s in sent)
    got = [s for s in sent if arrivals.get(s)]
    firsts = [min(arrivals[s]) - sent[s] for s in got]
    spreads = [max(arrivals[s]) - min(arrivals[s]) for s in got]
    row = {
        "name": name,
        "first": pct(firsts, 50) * 1000,
        "spread": pct(spreads, 50) * 1000,
        "p50": pct(lat, 50) * 1000,
        "p99": pct(lat, 99) * 1000,
        "max": max(lat) * 1000 if lat else float("nan"),
        "delivered": f"{delivered}/{len(sent) * n}",
        "per_s": delivered / span if span else float("nan"),
    }
    print(
        f"  {name:<26} first {row['first']:6.1f}  spread {row['spread']:6.1f}"
        f"  p50 {row['p50']:7.1f}  p99 {row['p99']:7.1f}  max {row['max']:7.1f} ms"
        f"  delivered {row['delivered']:>12}  {row['per_s']:9.0f} msg/s",
        flush=True,
    )
    return row


class Votewire:
    """The server under test: 63 bureau sockets; a key is the ack's seq."""

    name = "votewire"

    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        self.port, self.tokens = port, tokens
        self.live = f"ws://127.0.0.1:{port}/ws/live"
        self.bureaus: dict[str, websockets.ClientConnection] = {}
        self.minute = 0

    async def open(self) -> None:
        for code, token in self.tokens.items():
            ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/ws/bureau", compression=None)
            await ws.send(json.dumps({"type": "hello", "token": token}))
            await ws.recv()
            self.bureaus[code] = ws

    async def send(self, i: int) -> tuple[int, float]:
        self.minute += 1
        m = 7 * 60 + self.minute % 700
        report = {
            "type": "report",
            "id": str(uuid.uuid4()),
            "kind": "turnout",
            "as_of": f"2021-05-23T{m // 60:02d}:{m % 60:02d}:00+07:00",
            "data": {"voted": 1_000 + self.minute},
        }
        ws = self.bureaus[list(self.tokens)[i % 63]]
        t0 = time.perf_counter()
        await ws.send(json.dumps(report))
        return json.loads(await ws.recv())["seq"], t0

    async def update_size(self) -> int:
        """The size of one real update (sent before the measurement)."""
        async with websockets.connect(self.live, max_size=2**24) as probe:
            await probe.recv()  # snapshot
            await self.send(0)
            frame = await probe.recv()
            while json.loads(frame)["type"] == "clock":  # out of band (contract §6)
                frame = await probe.recv()
            return len(frame.encode())

    async def close(self) -> None:
        for ws in self.bureaus.values():
            await ws.close()


class Bare:
    """The baseline: `websockets.broadcast()` of whatever its control socket receives."""

    name = "bare"

    def __init__(self, port: int, size: int) -> None:
        self.live = f"ws://127.0.0.1:{port}/live"
        self.port, self.seq = port, 0
        self.pad = "x" * max(0, size - len('{"seq": 10, "pad": ""}'))

    async def open(self) -> None:
        self.control = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/send", compression=None
        )

    async def send(self, i: int) -> tuple[int, float]:
        self.seq += 1
        t0 = time.perf_counter()
        await self.control.send(f'{{"seq": {self.seq}, "pad": "{self.pad}"}}')
        return self.seq, t0

    async def close(self) -> None:
        await self.control.close()


async def burst(target, viewers, n: int) -> dict:
    """63 messages spread over one second, as 63 bureaus reporting at once."""

    async def at(i: int) -> tuple[int, float]:
        await asyncio.sleep(i / 63)
        return await target.send(i)

    t_start = time.perf_counter()
    sent = dict(await asyncio.gather(*(at(i) for i in range(63))))
    arrivals = await viewers.wait(list(sent))
    return summarise(f"{target.name} burst of 63", sent, arrivals, n, time.perf_counter() - t_start)


class ServerFigures:
    """votewire's full (generation 2) collections and fan-out loop times, from /metrics."""

    def __init__(self, db_url: str, port: int) -> None:
        self.db_url, self.port, self.token = db_url, port, ""

    async def read(self) -> dict[str, float]:
        """{"count", "sum", "le=<bound>": cumulative count, ...} of the full collections,
        "fanout_count", "fanout_sum" of the broadcasts, since the server started."""
        if not self.token:
            from server import store
            from server.auth import new_token

            self.token = new_token()
            conn = await asyncpg.connect(self.db_url)
            await store.issue_token(conn, self.token, "editor", None, "bench")
            await conn.close()
        async with httpx.AsyncClient(timeout=60) as c:
            text = (
                await c.get(
                    f"http://127.0.0.1:{self.port}/metrics",
                    headers={"Authorization": f"Bearer {self.token}"},
                )
            ).text
        out: dict[str, float] = {}
        for line in text.splitlines():
            m = GC_LINE.match(line)
            if m:
                key = m["key"] if m["le"] is None else f"le={m['le']}"
                out[key] = float(m["value"])
            m = LONGEST_LINE.match(line)
            if m:
                out["longest"] = float(m["value"])
            m = FANOUT_LINE.match(line)
            if m:
                out[f"fanout_{m['key']}"] = float(m["value"])
        return out


LONGEST_LINE = re.compile(r'votewire_gc_pause_longest_seconds\{generation="2"\} (?P<value>\S+)')
FANOUT_LINE = re.compile(r"votewire_fanout_latency_seconds_(?P<key>count|sum) (?P<value>\S+)")
GC_LINE = re.compile(
    r'votewire_gc_pause_seconds_(?P<key>count|sum|bucket)\{generation="2"(?:,le="(?P<le>[^"]+)")?\}'
    r" (?P<value>\S+)"
)


def gc_between(before: dict[str, float], after: dict[str, float]) -> dict:
    """The full collections between two readings: count, mean and the longest (seconds),
    with `exact` False when it is only bounded; the broadcasts and their mean time to hand
    a frame to every viewer.

    The server keeps its longest pause since it began serving
    (`votewire_gc_pause_longest_seconds`): when it grew between the readings, it is this
    round's longest exactly; otherwise this round's longest was no longer than it nor than
    the bound of the histogram's bucket holding every collection of the round."""
    n = after.get("count", 0.0) - before.get("count", 0.0)
    total = after.get("sum", 0.0) - before.get("sum", 0.0)
    longest, exact = 0.0, True
    if n:
        bounds = sorted(
            (float(k[3:]), after[k] - before.get(k, 0.0)) for k in after if k.startswith("le=")
        )
        bucket = next((b for b, c in bounds if c >= n), float("inf"))
        kept = after.get("longest", float("inf"))
        if kept > before.get("longest", 0.0):
            longest = kept
        else:
            longest, exact = min(bucket, kept), False
    broadcasts = after.get("fanout_count", 0.0) - before.get("fanout_count", 0.0)
    loop = after.get("fanout_sum", 0.0) - before.get("fanout_sum", 0.0)
    return {
        "count": n,
        "mean": total / n if n else 0.0,
        "longest": longest,
        "exact": exact,
        "broadcasts": broadcasts,
        "loop": loop / broadcasts if broadcasts else 0.0,
    }


async def compare(
    client: str, n: int, singles: int, ours: Votewire, bare_port: int, rnd: int, pids: tuple
):
    """Both servers hold N viewers at once; single updates alternate between them (half a
    second apart) so that whatever else the machine does falls on both alike. Returns the
    rows, the update's size and both servers' RSS (MB) with the N viewers connected."""
    size = await ours.update_size()
    theirs = Bare(bare_port, size)
    await theirs.open()
    targets = [(ours, ViewerProcess(client)), (theirs, ViewerProcess(client))]
    for side, (target, viewers) in enumerate(targets):
        await viewers.connect(target.live, n, target is ours, source=f"127.{rnd}.{side}.1")
    sent: list[dict[int, float]] = [{}, {}]
    t_start = time.perf_counter()
    for i in range(singles):
        for side, (target, _) in enumerate(targets):
            key, t0 = await target.send(i)
            sent[side][key] = t0
            await asyncio.sleep(0.5)
    span = time.perf_counter() - t_start
    rows: list[list[dict]] = [[], []]
    for side, (target, viewers) in enumerate(targets):
        arrivals = await viewers.wait(list(sent[side]))
        rows[side].append(
            summarise(f"{target.name} one at a time", sent[side], arrivals, n, span / 2)
        )
    for side, (target, viewers) in enumerate(targets):
        rows[side].append(await burst(target, viewers, n))
    rss = tuple(rss_mb(pid) for pid in pids)  # while both still hold their N viewers
    for _, viewers in targets:
        await viewers.close()
    await theirs.close()
    return rows, size, rss


def report(n: int, mine: list[dict], theirs: list[dict], size: int, rss: tuple, gc: dict) -> None:
    """RSS, full collections, the ratios and issue 14's bars for one round."""
    print(
        f"  RSS with {n} viewers: votewire {rss[0]:.0f} MB, bare {rss[1]:.0f} MB"
        f" (ratio {rss[0] / rss[1]:.2f}); update frame {size} bytes for both",
        flush=True,
    )
    if not gc["count"]:
        longest = "-"
    elif gc["exact"]:
        longest = f"{gc['longest'] * 1000:.1f} ms"
    else:
        longest = f"<= {gc['longest'] * 1000:.1f} ms (no longer than one before the round)"
    print(
        f"  votewire full GC during the round: {gc['count']:.0f},"
        f" average {gc['mean'] * 1000:.1f} ms, max {longest}",
        flush=True,
    )
    print(
        f"  votewire broadcasts during the round: {gc['broadcasts']:.0f}, average"
        f" {gc['loop'] * 1000:.1f} ms to hand one to every viewer (lane and queues,"
        f" {gc['loop'] / n * 1e6:.1f} us a viewer)",
        flush=True,
    )
    for o, t in zip(mine, theirs, strict=True):
        print(
            f"  ratio {o['name'][9:]:<18} p50 {o['p50'] / t['p50']:.2f}"
            f"  p99 {o['p99'] / t['p99']:.2f}",
            flush=True,
        )
    single, bare_single = mine[0], theirs[0]
    bars = [
        ("full GC <= 50 ms each", not gc["count"] or gc["longest"] <= 0.05),
        ("RSS <= 1.5x bare", rss[0] <= 1.5 * rss[1]),
        ("p99 <= 150 ms", single["p99"] <= 150),
        ("p99 <= 0.6x bare", single["p99"] <= 0.6 * bare_single["p99"]),
    ]
    print(
        "  issue 14 bars (one at a time): "
        + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in bars),
        flush=True,
    )


async def floor(n: int, size: int, rounds: int = 10) -> None:
    """`--floor` (see FLOOR_SERVER): the server pinned to CPU 0, viewers on CPU 1."""
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", FLOOR_SERVER, str(port), str(n), str(size), str(rounds)),
        stdout=asyncio.subprocess.PIPE,
    )
    os.sched_setaffinity(server.pid, {0})
    try:
        await server.stdout.readline()  # ready
        viewers = ViewerProcess("raw")
        await viewers.connect(f"ws://127.0.0.1:{port}/live", n, False, "127.9.0.1")
        times = json.loads(await asyncio.wait_for(server.stdout.readline(), 600))
        await viewers.close()
    finally:
        server.terminate()
        await server.wait()
    print(
        f"  {n} viewers, {size}-byte frames, median of {rounds} each: websockets.broadcast()"
        f" {times['bare'] * 1000:.1f} ms, a write() per viewer of bytes made once"
        f" {times['lane'] * 1000:.1f} ms ({times['lane'] / n * 1e6:.1f} us a viewer):"
        f" ratio {times['lane'] / times['bare']:.2f}, the least a server writing each"
        " viewer's socket can reach here",
        flush=True,
    )


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
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure the kernel's floor: the same sockets written by"
        " websockets.broadcast() and by a bare write() per viewer",
    )
    parser.add_argument("--viewers-of", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.viewers_of:
        return await viewer_process(args)
    client = args.client
    print(f"load generator: {args.client} viewers", flush=True)
    raise_nofile()
    os.sched_setaffinity(0, {1})
    with postgres_server() as server_url:
        async with fresh_database(server_url) as url:
            tokens = await bureau_tokens(url, "bench")
            with serve(url) as (port, proc):
                os.sched_setaffinity(proc.pid, {0})
                ours = Votewire(port, tokens)
                await ours.open()
                pauses = ServerFigures(url, port)
                for rnd, n in enumerate(int(x) for x in args.viewers.split(",")):
                    print(f"\n{n} viewers", flush=True)
                    bare_port = free_port()
                    bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port)])
                    os.sched_setaffinity(bare.pid, {0})
                    await asyncio.sleep(1.0)
                    gc_before = await pauses.read()
                    try:
                        (mine, theirs), size, rss = await compare(
                            client, n, args.singles, ours, bare_port, rnd + 1, (proc.pid, bare.pid)
                        )
                    finally:
                        bare.terminate()
                        bare.wait()
                    gc = gc_between(gc_before, await pauses.read())
                    report(n, mine, theirs, size, rss, gc)
                    if args.floor:
                        await floor(n, size)
                await ours.close()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
