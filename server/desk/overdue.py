"""Which bureaus are overdue: the checkpoints and the overdue rule.

A checkpoint (VOTEWIRE_CHECKPOINTS, local times on the election day) has passed when the
moment looked at (now, or the desk's `at=` when it rewinds) is at least the grace
(VOTEWIRE_CHECKPOINT_GRACE_MIN) after it; a province is overdue when its latest turnout
figure's `as_of` is before the last passed checkpoint (or it has none).
"""

from __future__ import annotations

from datetime import datetime

from server.settings import DeskSettings, Election


def checkpoint_moments(election: Election, ds: DeskSettings) -> list[datetime]:
    return [election.at(c) for c in ds.checkpoints]


def last_passed_checkpoint(election: Election, ds: DeskSettings, now: datetime) -> datetime | None:
    passed = [c for c in checkpoint_moments(election, ds) if c + ds.grace <= now]
    return passed[-1] if passed else None


def overdue(entry: dict, checkpoint: datetime | None) -> bool:
    """No turnout figure with an `as_of` at or after the last passed checkpoint."""
    if checkpoint is None:
        return False
    as_of = entry.get("as_of")
    return as_of is None or datetime.fromisoformat(as_of) < checkpoint
