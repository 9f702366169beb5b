"""Which bureaus are overdue: the checkpoints and the overdue rule.

A checkpoint (VOTEWIRE_CHECKPOINTS, local times on the election day) has passed when the
moment looked at (the election clock's now, contract §6, or the desk's `at=` when it
rewinds) is at least the grace
(VOTEWIRE_CHECKPOINT_GRACE_MIN) after it; a province is overdue when its latest turnout
figure's `as_of` is before the last passed checkpoint (or it has none).
"""

from __future__ import annotations

from datetime import datetime

from server.settings import DeskSettings, Election


def last_passed_checkpoint(election: Election, ds: DeskSettings, now: datetime) -> datetime | None:
    """The checkpoint the desk holds bureaus to at `now` (the election clock's now, or the
    moment the desk rewound to): `Election.last_passed_checkpoint` with the desk's grace."""
    return election.last_passed_checkpoint(now, ds.grace)


def overdue(entry: dict, checkpoint: datetime | None) -> bool:
    """No turnout figure with an `as_of` at or after the last passed checkpoint."""
    if checkpoint is None:
        return False
    as_of = entry.get("as_of")
    return as_of is None or datetime.fromisoformat(as_of) < checkpoint
