"""The election clock (contract §6): what "now" is for every check, page and chart.

On the real day it is the server's wall clock in the election's zone ("live"). During a
replay (`votewire demo`, `votewire simulate`, a rehearsal) an editor sets the replayed
moment and a speed with `POST /api/clock`; the setting is one row in Postgres
(`election_clock`), so every server process agrees, and its NOTIFY ('clock' on the feed's
channel) makes each process reload it and tell its live viewers. Between settings each
process runs the replay forward itself: clock + speed × (wall time − set_at), `set_at`
being the database's clock when the row was written.

Everything that used to ask the wall clock asks `ElectionClock.now()`: the overdue rule,
"stale", the board's header, the phone's default `as_of`, and the 5-minute future limit
of §1. A chart's "as of" is not "now" at all: it is the moment its figures describe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg

from server import store
from server.fanout import Hub


@dataclass(frozen=True)
class ClockSetting:
    """A replay's anchor (`clock` at the wall moment `set_at`, `speed`), or live (None)."""

    clock: datetime
    speed: float
    set_at: datetime


class ElectionClock:
    """This process's view of the election clock; `setting` None means live."""

    def __init__(self, zone: ZoneInfo, setting: ClockSetting | None = None) -> None:
        self.zone = zone
        self.setting = setting
        self.told = setting
        """The setting this process's live viewers were last told (`follow`)."""

    @property
    def mode(self) -> Literal["live", "replay"]:
        return "live" if self.setting is None else "replay"

    @property
    def speed(self) -> float:
        return 1.0 if self.setting is None else self.setting.speed

    def now(self, wall: datetime | None = None) -> datetime:
        """The election's "now" in its zone (at the given wall moment, default: now)."""
        wall = wall or datetime.now(UTC)
        s = self.setting
        if s is None:
            return wall.astimezone(self.zone)
        return (s.clock + (wall - s.set_at) * s.speed).astimezone(self.zone)

    def message(self) -> dict:
        """The body of `GET /api/clock` (and, with "type": "clock", of the feeds' message)."""
        return {
            "clock": self.now().isoformat(timespec="milliseconds"),
            "mode": self.mode,
            "speed": self.speed,
        }

    def frame(self) -> str:
        """The feeds' `clock` message, encoded."""
        return json.dumps({"type": "clock", **self.message()}, ensure_ascii=False)

    async def load(self, conn: asyncpg.Connection) -> None:
        """Read the stored setting (after start, a NOTIFY 'clock' or a lost LISTEN)."""
        row = await store.election_clock(conn)
        self.setting = None if row is None else ClockSetting(**row)


async def follow(clock: ElectionClock, pool: asyncpg.Pool, hub: Hub, timeout: float) -> None:
    """A NOTIFY 'clock' (or a LISTEN connection back after a loss): reload the setting and,
    when it differs from what this process's live viewers were last told, tell them."""
    async with store.acquire(pool, timeout) as conn:
        await clock.load(conn)
    if clock.setting != clock.told:
        clock.told = clock.setting
        hub.tell_all(clock.frame())


async def reread(clock: ElectionClock, pool: asyncpg.Pool, hub: Hub, timeout: float) -> datetime:
    """The clock's now after reading the setting again, when this process replays: a report
    ahead of its clock may follow a setting made through another process whose NOTIFY has
    not arrived yet (a rehearsal behind nginx). Live, wall time is the truth: no read."""
    if clock.mode == "replay":
        await follow(clock, pool, hub, timeout)
    return clock.now()
