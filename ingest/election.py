"""The election being tracked, as one value handed down to every layer.

`Election` holds what the configuration says about the day: its date and zone, when the
polls open and close, the window in which a report's `as_of` is accepted and the desk's
checkpoints (the local times by which every bureau should have sent turnout). Nothing
below the settings hard-codes a zone or a date: figures, pages and checks receive this
value. What "now" is on that day is the election clock's business (`server/clock.py`,
contract §6), not this value's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Election:
    """The election's day, zone, polls, accepted window and checkpoints."""

    day: date
    zone: ZoneInfo
    polls_open: time
    polls_close: time
    window_start: datetime
    window_end: datetime
    checkpoints: tuple[time, ...] = ()
    rehearsal: bool = False

    def at(self, t: time, day: date | None = None) -> datetime:
        """A local time of the election day (or of `day`) as an aware moment."""
        return datetime.combine(day or self.day, t, tzinfo=self.zone)

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.window_start, self.window_end

    @property
    def zone_name(self) -> str:
        return self.zone.key

    def utc_offset(self, moment: datetime | None = None) -> str:
        """The zone's offset at `moment` (default: the election day's opening) as "+07:00"."""
        when = (moment or self.at(self.polls_open)).astimezone(self.zone)
        return when.isoformat()[-6:]

    def checkpoint_moments(self) -> list[datetime]:
        return [self.at(c) for c in self.checkpoints]

    def last_passed_checkpoint(self, now: datetime, grace: timedelta) -> datetime | None:
        """The latest checkpoint whose grace has run out by `now` (None before the first)."""
        passed = [c for c in self.checkpoint_moments() if c + grace <= now]
        return passed[-1] if passed else None

    def local(self, moment: datetime) -> datetime:
        """`moment` in the election's zone; a naive moment is taken as already local."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)
