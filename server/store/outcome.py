"""What the writer answered for one report (accepted, duplicate, conflict, regression,
rate_limited, revoked), shared by the report log and the results."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str
    seq: int | None
    detail: dict | None
