"""The law's output as the contract's JSON (§5): a unit's entry of `/api/units`, a unit's
entry of `/api/results` (`UnitResult`) and the national `summary` (`ResultsSummary`).

Pure functions from the reference data (`ingest/candidates.py`) and the law's outcome
(`ingest/law.py`) to JSON-ready dicts (times as ISO 8601 strings), so every producer of a
results body — the server, the replay's expectations, the charts, the tests — builds the
same keys the same way. `ingest/outgoing.py` declares the shapes these dicts must keep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ingest.candidates import BALLOT_YEAR, Unit
from ingest.law import Count, Outcome, composition, decide

Confirmations = Mapping[str, bool | None]
"""Candidate id → the Council's decision (absent or None: no decision yet)."""


def unit_entry(unit: Unit) -> dict[str, Any]:
    """A unit of `GET /api/units`: its seats, description and candidates in ballot order."""
    return {
        "code": unit.code,
        "unit": unit.unit,
        "seats": unit.seats,
        "description": unit.description,
        "candidates": [dataclasses.asdict(c) for c in unit.candidates],
    }


def unit_result(
    unit: Unit,
    outcome: Outcome,
    *,
    as_of: datetime | None = None,
    ballots_valid: int | None = None,
    ballots_invalid: int | None = None,
    areas_counted: int | None = None,
    areas_total: int | None = None,
    confirmed: Confirmations | None = None,
) -> dict[str, Any]:
    """A unit of `GET /api/results`. Candidates come in the outcome's order (rank, or ballot
    order while waiting); `confirmed` is reported for the elected only (null otherwise);
    `tie` appears only on the candidates it marks. A waiting unit carries no counts."""
    if (outcome.status == "waiting") != (ballots_valid is None):
        raise ValueError("a unit has valid ballots exactly when it has a count")
    if outcome.status == "waiting" and as_of is not None:
        raise ValueError("a waiting unit has no as_of")
    decided = confirmed or {}
    names = {c.id: c.name for c in unit.candidates}
    rows = []
    for s in outcome.candidates:
        row: dict[str, Any] = {
            "id": s.id,
            "name": names[s.id],
            "votes": s.votes,
            "pct": s.pct,
            "rank": s.rank,
            "elected": s.elected,
            "leading": s.leading,
            "confirmed": decided.get(s.id) if s.elected else None,
        }
        if s.tie:
            row["tie"] = True
        rows.append(row)
    return {
        "code": unit.code,
        "unit": unit.unit,
        "seats": unit.seats,
        "status": outcome.status,
        "stage": outcome.stage,
        "as_of": as_of.isoformat() if as_of else None,
        "ballots_valid": ballots_valid,
        "ballots_invalid": ballots_invalid,
        "areas_counted": areas_counted,
        "areas_total": areas_total,
        "candidates": rows,
    }


def results_summary(
    units: Iterable[tuple[Unit, Outcome]],
    election_year: int,
    confirmed: Confirmations | None = None,
) -> dict[str, Any]:
    """The `summary` of `/api/results` over every unit (waiting ones included).

    `units_reporting` counts units with any result, `units_declared` those declared (final,
    every seat filled; a supplementary unit is final but not declared). `seats_filled` and
    the composition count the elected less those the Council did not confirm; a
    non-confirmation leaves its unit `declared` (§5)."""
    decided = confirmed or {}
    units = list(units)
    winners = []
    for unit, outcome in units:
        elected = set(outcome.elected)
        winners += [c for c in unit.candidates if c.id in elected]
    counts = composition(winners, election_year, decided)
    return {
        "units_total": len(units),
        "units_reporting": sum(o.status != "waiting" for _, o in units),
        "units_declared": sum(o.status == "declared" for _, o in units),
        "seats_total": sum(u.seats for u, _ in units),
        "seats_filled": counts["elected"],
        "composition": dict(counts),
    }


def unit_state(
    unit: Unit,
    latest: Mapping[str, Any] | None,
    confirmed: Confirmations | None = None,
    election_year: int = BALLOT_YEAR,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A unit's §5 entry and its tally — `results_summary` of this unit alone — from its
    latest result as stored (`{"as_of": ISO text, "data": the report's data}`, or None
    while waiting) and the Council's decisions. Every field of a tally is a count, so the
    national summary is the sum of the units' tallies (what the database adds up)."""
    ballot = [(c.id, c.birth_year) for c in unit.candidates]
    if latest is None:
        outcome = decide(unit.seats, ballot, None)
        entry = unit_result(unit, outcome, confirmed=confirmed)
    else:
        data = latest["data"]
        count = Count(
            votes=data["votes"],
            ballots_valid=data["ballots_valid"],
            stage=data.get("stage", "provisional"),
        )
        outcome = decide(unit.seats, ballot, count)
        entry = unit_result(
            unit,
            outcome,
            as_of=datetime.fromisoformat(latest["as_of"]),
            ballots_valid=data["ballots_valid"],
            ballots_invalid=data.get("ballots_invalid"),
            areas_counted=data.get("areas_counted"),
            areas_total=data.get("areas_total"),
            confirmed=confirmed,
        )
    return entry, results_summary([(unit, outcome)], election_year, confirmed)
