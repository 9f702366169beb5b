"""The replay's time and its side of the election clock (contract §6).

`Pace` says which real second of a replay replays which moment of the election. `--speed`
keeps its meaning for election day up to the close of the polls (19:00): 60 plays the twelve
hours of polling in twelve minutes. After the close the replay runs faster, so that a demo
shows the count to the end within about twenty minutes:

- the night of the count (19:00 to 07:00 the next morning) at `NIGHT_FACTOR` × speed;
- the days after (the committees' records, the Council's decisions) at `DAYS_FACTOR` × speed;
- and after the close an idle stretch (no report between two moments) takes at most
  `IDLE` / speed real seconds (5 s at 60×): a night without announcements, the week before
  the Council's decisions, are jumped over.

Neither factor slows a replay down (a rate is never below `speed`), and neither pushes the
server's clock past what it accepts (`MAX_REPLAY_SPEED`). Events before the replay's
start are sent at once. At speed 0 there is no pace: everything is sent as fast as possible.

`ReplayClock` keeps the replay's own "now" and sets the server's clock with `POST
/api/clock` (an editor token): when it starts, at every change of pace (`follow`), when a
report about a later moment must be sent (`reach`: the server refuses an `as_of` more than
5 minutes after its clock), and when the replay ends (`hold`). Without a token it only keeps
time locally: the server stays on wall time, which accepts any past `as_of` anyway.

The server anchors a setting when it stores it (`set_at`), which is some time after the POST
left and before its answer is back: at 3600 replayed seconds per second, a setting that takes
0.1 s to arrive leaves the server's clock 6 replayed minutes behind the moment posted. So the
replay never takes its own count for the server's: it keeps both bounds of the server's clock
(`ReplayClock.latest`, `ReplayClock.earliest`) and sends a report only when its `as_of` is at
most `JUMP_MARGIN` past the lower one, moving the clock first otherwise. A replay at any
allowed speed thus keeps to the 5-minute limit as the contract words it (§1, counted from
the clock of §6); the server does not stretch the limit with the replay's speed, which
would weaken the check for every phone during a rehearsal and only hide a replay that runs
ahead of the clock it set. The margin's last minute is left for what the bounds do not see
(the database's clock, which stamps `set_at`, against the server process's). Not covered:
several server processes behind one address, where a process other than the one that took
a jump keeps the previous setting until its NOTIFY arrives.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from ingest.messages import MAX_REPLAY_SPEED

JUMP_MARGIN = timedelta(minutes=4)
"""A report whose `as_of` is this far past the server's clock at its earliest moves the clock
first (the server refuses `as_of` more than 5 minutes after its clock)."""
CLOSE = (19, 0)
"""The polls close (local time of the replayed day): `--speed` holds until then."""
NIGHT_FACTOR = 4.0
"""The night of the count, 19:00 to 07:00, runs this many times faster than the day."""
DAYS_FACTOR = 8.0
"""The days after (from 07:00 the morning after) run this many times faster than the day."""
IDLE = 300.0
"""After the close, a stretch without reports lasts at most IDLE / speed real seconds."""


def http_url(bureau_url: str, path: str) -> str:
    """`ws://host:port/ws/bureau` → `http://host:port<path>`."""
    parts = urlsplit(bureau_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def clock_url(bureau_url: str) -> str:
    """`ws://host:port/ws/bureau` → `http://host:port/api/clock`."""
    return http_url(bureau_url, "/api/clock")


@dataclass(frozen=True, slots=True)
class Knot:
    """From `real` seconds into the replay, the replayed time is `moment` and runs at `rate`
    replayed seconds per real second, until the next knot."""

    real: float
    moment: datetime
    rate: float


class Pace:
    """A replay's time: a piecewise-linear map between real seconds and replayed moments."""

    def __init__(self, knots: list[Knot]) -> None:
        if not knots:
            raise ValueError("a pace has at least one knot")
        self.knots = knots
        self._moments = [k.moment for k in knots]
        self._reals = [k.real for k in knots]

    @classmethod
    def of(cls, origin: datetime, speed: float, moments: Iterable[datetime]) -> Pace:
        """The pace of a replay starting at `origin` at `speed` (> 0) that sends reports at
        `moments` (their `as_of`), with the faster night and days after `origin`'s 19:00."""
        if speed <= 0:
            raise ValueError("speed 0 has no pace: everything is sent at once")
        close = origin.replace(hour=CLOSE[0], minute=CLOSE[1], second=0, microsecond=0)
        dawn = close + timedelta(hours=12)

        def rate(t: datetime) -> float:
            if t < close:
                return speed
            factor = NIGHT_FACTOR if t < dawn else DAYS_FACTOR
            return max(speed, min(speed * factor, MAX_REPLAY_SPEED))

        stops = sorted({m for m in moments if m > origin})
        knots = [Knot(0.0, origin, rate(origin))]
        at = origin
        for stop in stops:
            bounds = [b for b in (close, dawn) if at < b < stop]
            pieces = list(zip([at, *bounds], [*bounds, stop], strict=True))
            seconds = sum((b - a).total_seconds() / rate(a) for a, b in pieces)
            idle = IDLE / speed
            if at >= close and seconds > idle:  # an idle stretch after the close: jumped
                cls._add(knots, at, (stop - at).total_seconds() / idle)
            else:
                for a, _ in pieces:
                    cls._add(knots, a, rate(a))
            at = stop
        cls._add(knots, at, rate(at))
        return cls(knots)

    @staticmethod
    def _add(knots: list[Knot], moment: datetime, rate: float) -> None:
        """A knot at `moment` (after the last one) from where the time runs at `rate`."""
        last = knots[-1]
        real = last.real + (moment - last.moment).total_seconds() / last.rate
        if rate == last.rate:
            return
        if moment == last.moment:
            knots[-1] = Knot(last.real, moment, rate)
        else:
            knots.append(Knot(real, moment, rate))

    def due(self, moment: datetime) -> float:
        """Real seconds into the replay when `moment` is replayed (0 before the start)."""
        i = bisect.bisect_right(self._moments, moment) - 1
        if i < 0:
            return 0.0
        k = self.knots[i]
        return k.real + (moment - k.moment).total_seconds() / k.rate

    def moment(self, real: float) -> datetime:
        """The moment replayed `real` seconds into the replay."""
        k = self.knots[max(bisect.bisect_right(self._reals, real) - 1, 0)]
        return k.moment + timedelta(seconds=(real - k.real) * k.rate)


class ReplayClock:
    """The replay's side of the server's clock: the setting last answered (`anchor`, running at
    `speed`) and when its POST left (`sent`) and its answer came back (`answered`). The server
    anchored it in between, so its clock is at most `latest()` and at least `earliest()`.

    Settings are posted one at a time, under a lock, and each one starts from `latest()` or
    a later moment. It may step the server's clock back a little (by what the clock ran
    while the POST was on its way), but never behind an earlier setting's `earliest()`: a
    report let through on that bound, still on its way when the new setting is stored,
    stays within the limit. The server's clock runs at most at MAX_REPLAY_SPEED: faster
    stretches of the pace are followed by jumps (`follow`, `reach`)."""

    def __init__(self, url: str | None, token: str | None, anchor: datetime, speed: float):
        self.url, self.token = url, token
        self.anchor, self.speed = anchor, min(speed, MAX_REPLAY_SPEED)
        self.sent = self.answered = time.monotonic()
        self._lock = asyncio.Lock()

    def latest(self) -> datetime:
        """The server's clock is not past this: the setting counted from when it was sent."""
        return self._since(self.sent)

    def earliest(self) -> datetime:
        """The server's clock is not behind this: the setting counted from when its answer
        came back (the server stored it before answering)."""
        return self._since(self.answered)

    def _since(self, start: float) -> datetime:
        return self.anchor + timedelta(seconds=(time.monotonic() - start) * self.speed)

    async def start(self) -> None:
        async with self._lock:
            await self._set(self.anchor, self.speed)

    async def follow(self, pace: Pace, started: float) -> None:
        """Keep the server's clock on `pace` (the replay began at the monotonic `started`):
        at each knot, the knot's moment (never behind `latest`) and rate. Runs until
        cancelled."""
        for knot in pace.knots[1:]:
            delay = started + knot.real - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            async with self._lock:
                await self._set(max(knot.moment, self.latest()), knot.rate)

    async def reach(self, moment: datetime) -> None:
        """Before sending a report about `moment`: unless the server's clock is surely at
        most JUMP_MARGIN behind it (`earliest`), jump the clock there and wait for the
        answer. Under the lock, so a setting on its way to the server (a knot, another jump)
        is there, and counted, before the report is sent."""
        async with self._lock:
            if moment > self.earliest() + JUMP_MARGIN:
                await self._set(max(moment, self.latest()), self.speed)

    async def hold(self) -> None:
        """The replay is over: the clock stays at its last moment (speed 0)."""
        async with self._lock:
            await self._set(self.latest(), 0.0)

    async def _set(self, moment: datetime, rate: float) -> None:
        """Post a setting and count from it once answered (called under the lock)."""
        speed = min(rate, MAX_REPLAY_SPEED)
        sent = time.monotonic()
        await self._post(moment, speed)
        self.anchor, self.speed, self.sent, self.answered = moment, speed, sent, time.monotonic()

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
