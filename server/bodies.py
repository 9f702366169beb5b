"""The read path's answers kept encoded: `/api/snapshot` and `/api/results` as bytes.

On election night the load is readers polling the same two bodies. Each process keeps, per
body and audience, the encoded answer of the newest state it knows (`Hub.newest`: its own
commits at once, other processes' as its feed reader publishes them) and serves it as
bytes; it reads the database again only when a newer change (or a `votewire reset`) has
been seen. Concurrent readers of a stale body share one database read.

The body's `at` is the election clock's now (§2, §6), so it is spliced in per request
between two kept byte strings (`Body.render`); everything else is the state at `seq`. The
ETag is therefore weak and names the `seq` and the audience: the same ETag means the same
picture, whatever second it was asked.

`?at=` bodies stay database reads, kept in a small LRU of recent moments that a new change
empties (a late report may change any past moment).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

Freshness = Callable[[], tuple[int, int]]
"""(resets, newest seq) this process knows of: a body read before either moved is stale."""

PUBLIC_NOW = "public, max-age=1"
"""Cache-Control of a public body now: shared caches (nginx, a CDN) keep it one second."""
PUBLIC_MOMENT = "public, max-age=5"
"""Cache-Control of a public body at a moment (`?at=`): a late report may still change it."""
EDITORS = "private, no-cache"
"""Cache-Control of an editor's body: never in a shared cache, revalidated each time."""

MOMENTS = 32
"""How many `?at=` bodies a process keeps (per change: a new change empties them)."""


@dataclass(frozen=True, slots=True)
class Body:
    """An encoded answer with its `at` left out: `head` + at + `tail`."""

    seq: int
    fresh: tuple[int, int]
    head: bytes
    tail: bytes

    def render(self, at: str) -> bytes:
        return self.head + at.encode() + self.tail


def encode(data: dict[str, Any], fresh: tuple[int, int], dumps: Callable[[Any], str]) -> Body:
    """Split a body `{"seq", "at", ...}` around its `at` (keys keep their order)."""
    rest = {k: v for k, v in data.items() if k not in ("seq", "at")}
    tail = dumps(rest)
    return Body(
        seq=data["seq"],
        fresh=fresh,
        head=b'{"seq":%d,"at":"' % data["seq"],
        tail=b'",' + tail[1:].encode() if rest else b'"}',
    )


class ReadCache:
    """The kept bodies of one process (`Votewire.reads`)."""

    def __init__(self, freshness: Freshness) -> None:
        self.freshness = freshness
        self._now: dict[str, Body] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._moments: OrderedDict[tuple[str, str], Body] = OrderedDict()
        self._moments_fresh: tuple[int, int] | None = None
        self.reads = 0
        """Database reads made for the kept bodies (the rest were served from memory)."""
        self.served = 0
        """Polls answered before routing (server/kept_reads.py)."""

    def peek(self, key: str) -> Body | None:
        """The body `key` if it is kept and fresh, else None (no read: see `now`)."""
        body = self._now.get(key)
        if body is not None and body.fresh >= self.freshness():
            return body
        return None

    async def now(
        self, key: str, read: Callable[[], Awaitable[dict]], dumps: Callable[[Any], str]
    ) -> Body:
        """The body `key` of the newest state this process knows."""
        body = self._now.get(key)
        if body is not None and body.fresh >= self.freshness():
            return body
        async with self._locks[key]:
            fresh = self.freshness()  # before the read: anything later makes it stale again
            body = self._now.get(key)
            if body is not None and body.fresh >= fresh:
                return body
            self.reads += 1
            body = encode(await read(), fresh, dumps)
            self._now[key] = body
            return body

    async def moment(
        self,
        key: str,
        at: str,
        read: Callable[[], Awaitable[dict]],
        dumps: Callable[[Any], str],
    ) -> Body:
        """The body `key` at the moment `at` (its text as asked), kept until a change."""
        fresh = self.freshness()
        if self._moments_fresh != fresh:
            self._moments.clear()
            self._moments_fresh = fresh
        body = self._moments.get((key, at))
        if body is not None:
            self._moments.move_to_end((key, at))
            return body
        self.reads += 1
        body = encode(await read(), fresh, dumps)
        if self._moments_fresh == fresh:
            self._moments[(key, at)] = body
            while len(self._moments) > MOMENTS:
                self._moments.popitem(last=False)
        return body


def kept_key(name: str, audience: str) -> str:
    """The cache key of body `name` ("snapshot", "results") for `audience`."""
    return f"{name}:{audience}"


def etag(audience: str, seq: int, at: str | None) -> str:
    """Weak (the `at` of a now-body is the clock's second), per audience and seq."""
    moment = "" if at is None else "@" + hashlib.sha1(at.encode()).hexdigest()[:12]
    return f'W/"{audience[0]}{seq}{moment}"'


def answer(request: Request, body: Body, at: str, tag: str, cache_control: str) -> Response:
    """The kept bytes with `at` spliced in, or `304` when the client holds this ETag."""
    headers = {"ETag": tag, "Cache-Control": cache_control}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(body.render(at), media_type="application/json", headers=headers)
