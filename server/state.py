"""What every route of one process shares: the `Votewire` state, and the one way to reach it.

Routes never import the composition root (`server.app`): they read the state from the
connection with `votewire(conn)`, typed, and ask it the time with `Votewire.now_local`:
the election clock's now (server/clock.py, contract §6), never the wall clock directly.
The app builds the state and stores it on `app.state.votewire` (`server.app.create_app`);
the command line builds a smaller one (a pool, no hub) for its exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from starlette.requests import HTTPConnection

from ingest.fixtures import Province
from server.bodies import ReadCache
from server.clock import ElectionClock
from server.collector import PauseWatch, QuietCollector
from server.fanout import Hub
from server.metrics import Metrics
from server.reports import Desk
from server.settings import Settings


@dataclass
class Votewire:
    """One process's shared state: settings, the pool, the report desk, the fan-out hub."""

    settings: Settings
    database_url: str
    pool: asyncpg.Pool = None  # type: ignore[assignment]
    desk: Desk = None  # type: ignore[assignment]
    hub: Hub = None  # type: ignore[assignment]
    collector: QuietCollector | None = None
    pause_watch: PauseWatch | None = None
    """Measures CPython's own collections when the quiet-time collector is off."""
    provinces: dict[str, Province] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    clock: ElectionClock = None  # type: ignore[assignment]
    reads: ReadCache = field(init=False)
    """The read path's kept bodies (server/bodies.py), fresh while no newer change is known."""

    def __post_init__(self) -> None:
        if self.clock is None:
            self.clock = ElectionClock(self.settings.election.zone)
        self.reads = ReadCache(self._freshness)

    def _freshness(self) -> tuple[int, int]:
        return (self.hub.resets, self.hub.newest) if self.hub is not None else (0, 0)

    def at_text(self, moment: datetime | None = None) -> str:
        """A body's `at`: the moment asked, else the election clock's now, in the election's
        zone to the second (HTTP and the feed alike)."""
        when = moment or self.now_local()
        return when.astimezone(self.settings.election.zone).isoformat(timespec="seconds")

    def now_local(self) -> datetime:
        """The moment "now" means for the election, in its zone (the election clock: wall
        time on the day, the replayed moment during a replay): every route asks here."""
        return self.clock.now()


def votewire(conn: HTTPConnection) -> Votewire:
    """The state of the app serving `conn` (a request or a WebSocket)."""
    return conn.app.state.votewire
