"""The replay's side of the election clock (contract §6): a simulator or demo that replays a
day tells the server which moment it is replaying, so every page, check and chart speaks of
that moment rather than of the wall clock.

`ReplayClock` keeps the replay's own "now" (`anchor` at the monotonic instant `t0`, running
at `speed`) and sets the server's clock with `POST /api/clock` (an editor token) whenever it
starts, jumps forward (a later re-vote sent "at once" days after the day) or stops. Without
a token it only keeps time locally: the server stays on wall time, which accepts any past
`as_of` anyway.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

JUMP_MARGIN = timedelta(minutes=4)
"""A report whose `as_of` is this far past the replayed now moves the clock first (the
server refuses `as_of` more than 5 minutes after its clock)."""


def clock_url(bureau_url: str) -> str:
    """`ws://host:port/ws/bureau` → `http://host:port/api/clock`."""
    parts = urlsplit(bureau_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/api/clock", "", ""))


class ReplayClock:
    def __init__(self, url: str | None, token: str | None, anchor: datetime, speed: float):
        self.url, self.token = url, token
        self.anchor, self.speed = anchor, speed
        self.t0 = time.monotonic()
        self._lock = asyncio.Lock()

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)

    async def start(self) -> None:
        self.t0 = time.monotonic()
        await self._post(self.anchor, self.speed)

    async def reach(self, moment: datetime) -> None:
        """Before sending a report about `moment`: jump the clock there if it is ahead."""
        if moment <= self.now() + JUMP_MARGIN:
            return
        async with self._lock:
            if moment > self.now() + JUMP_MARGIN:
                self.anchor, self.t0 = moment, time.monotonic()
                await self._post(moment, self.speed)

    async def hold(self) -> None:
        """The replay is over: the clock stays at its last moment (speed 0)."""
        self.anchor, self.speed = self.now(), 0.0
        await self._post(self.anchor, 0.0)

    async def _post(self, moment: datetime, speed: float) -> None:
        if not (self.url and self.token):
            return
        body = json.dumps({"clock": moment.isoformat(), "speed": speed}).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        await asyncio.to_thread(_send, request)


def _send(request: urllib.request.Request) -> None:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise RuntimeError(f"setting the election clock failed: {exc.code} {detail}") from None
