"""The count of 2021, simulated: what `votewire simulate` and `votewire demo` replay after the
polls close (contract §5).

Only the end of the count is published: each unit's official votes (`na_results_2021.csv`),
its valid ballots (`na_units_valid_2021.csv`, derived) and the National Election Council's
decisions of 10/6/2021. Everything in between is generated here, seeded and deterministic:

- **The night of 23/5** (from 19:30): each unit's committee adds up its polling areas and the
  bureau sends `provisional` results as they come in, 3 to 7 per unit, until the count is
  complete (big units and mountain provinces later, the last ones on the morning of 24/5).
  Each report is the cumulative count of the areas counted so far: `ballots_valid` and
  `ballots_invalid` in proportion to the areas, every candidate's votes in proportion too,
  with a lean of up to ±10 % per candidate that fades as the count completes (a candidate
  strong in the areas counted first leads early). Counts never decrease, and every report
  passes the contract's checks: a candidate's votes ≤ `ballots_valid`, their sum ≤
  `ballots_valid × seats`. The last provisional report is the complete count.
- **The days after** (24/5 to 27/5, office hours): each province's election committee
  announces its units' records at one sitting, a `final` report per unit a minute apart:
  votes exactly the official ones, `ballots_valid` the unit's derived middle, all polling
  areas counted. `ballots_invalid` is not published per unit: the NEC's 69,243,604 ballots
  cast less the 184 units' valid ballots (592,808) are split over the units, so each unit's
  valid + invalid sum to the national turnout exactly.
- **10/6/2021**: the Council's decisions (NQ 746/NQ-HĐBCQG): every elected candidate
  confirmed except the one the fixture's `confirmed` column marks 0 (Trần Văn Nam, Bình
  Dương unit 1), recorded with an editor token (`POST /api/results/confirmation`).

Results are sent `"audience": "public"`: the agency publishes the committees' announcements.
A report's `id` is a uuid5 of the seed, the unit and its place in the unit's series, so a
second replay sends the same ids and is answered with duplicates (exactly-once).

Reports come in the scenario's event shape (`t`, `province`, `id`, `kind`, `data`), so the
simulator merges them with the day's events per bureau. Pure: fixtures in, dicts out.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from ingest import scenario
from ingest.candidates import Unit, official_results, official_valid, units
from ingest.fixtures import provinces

DEFAULT_SEED = 20210523
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://votewire.invalid/scenarios/count_2021")

COUNT_OPENS = scenario.hm(19, 30)
"""The first provisional results (minutes from midnight of 23/5, as in `ingest.scenario`)."""
COUNT_LATEST = scenario.hm(24 + 11)
"""No unit's count runs past 11:00 on 24/5."""
FINAL_DAYS = {
    # Day of May → weight of a province's committee announcing on it (mountain provinces,
    # with their remote polling areas, a day later on the whole).
    "plain": {24: 45, 25: 35, 26: 15, 27: 5},
    "mountain": {24: 20, 25: 40, 26: 28, 27: 12},
}
OFFICE_HOURS = (scenario.hm(8), scenario.hm(17))
"""A committee announces between 08:00 and 17:00 (minutes into its day)."""
RECORD_AFTER = 120
"""Minutes between a unit's complete count and its committee's record, at least."""
LEAN = 0.10
"""A candidate's early lean: their share runs up to ±10 % off while few areas are counted."""
INVALID_TOTAL = scenario.NATIONAL_VOTED - sum(v.middle for v in official_valid().values())
"""Ballots cast in the units that were not valid: the NEC's turnout less the valid ballots."""

COUNCIL_AT = datetime(2021, 6, 10, 10, 0, tzinfo=scenario.ZONE)
COUNCIL_SOURCE = "NQ 746/NQ-HĐBCQG, 10/6/2021"
AUDIENCE = "public"


def _split(total: int, weights: dict[Any, Fraction]) -> dict[Any, int]:
    """`total` split in proportion to `weights` (largest remainder, deterministic)."""
    whole = sum(weights.values())
    return scenario.largest_remainder({k: w * total / whole for k, w in weights.items()}, total)


def _areas(unit_valid: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """A unit's polling areas: its province's (as in the turnout day) split by valid ballots."""
    by_province = scenario.polling_areas({p.code: p.registered for p in provinces()})
    out: dict[tuple[str, int], int] = {}
    for code, total in by_province.items():
        mine = {k: Fraction(v) for k, v in unit_valid.items() if k[0] == code}
        out.update(_split(total, mine))
    return out


def _moments(rng: random.Random, first: int, last: int, n: int) -> list[int]:
    """`n` distinct minutes from `first` to `last` inclusive, in order."""
    inner = rng.sample(range(first + 1, last), n - 2)
    return [first, *sorted(inner), last]


def _counted(rng: random.Random, areas: int, n: int) -> list[int]:
    """Polling areas counted at each of `n` reports: rising, the last one all of them."""
    bend = rng.uniform(0.8, 1.3)
    out: list[int] = []
    for k in range(1, n + 1):
        share = max(round(areas * (k / n) ** bend), 1)
        out.append(min(max(share, out[-1] + 1 if out else 1), areas))
    out[-1] = areas
    return out


def _votes(
    unit: Unit,
    official: dict[str, int],
    lean: dict[str, float],
    share: Fraction,
    valid: int,
    before: dict[str, int],
) -> dict[str, int]:
    """Every candidate's cumulative votes when `share` of the areas is counted: the official
    votes × share, leaned, never below the previous report's, then held within the
    contract's bounds (≤ `valid` each, ≤ `valid × seats` in all)."""
    out = {}
    p = float(share)
    for c in unit.candidates:
        v = official[c.id] if share == 1 else round(official[c.id] * p * (1 + lean[c.id] * (1 - p)))
        out[c.id] = max(min(v, valid), before.get(c.id, 0))
    excess = sum(out.values()) - valid * unit.seats
    if excess > 0:  # take it back from this report's growth, in proportion to it
        growth = {k: out[k] - before.get(k, 0) for k in out}
        room = sum(growth.values())  # ≥ excess: the previous report was within bounds
        cut = {k: g * excess // room for k, g in growth.items()}
        rest = excess - sum(cut.values())
        for k in sorted(growth, key=lambda k: -(growth[k] - cut[k])):
            if rest == 0:
                break
            if growth[k] > cut[k]:
                cut[k] += 1
                rest -= 1
        out = {k: v - cut[k] for k, v in out.items()}
    return out


def _report(seed: int, unit: Unit, minute: int, step: str, data: dict) -> dict:
    return {
        "t": scenario.iso(minute),
        "province": unit.code,
        "id": str(uuid.uuid5(NAMESPACE, f"{seed}/{unit.id}/{step}")),
        "kind": "result",
        "data": {"unit": unit.unit, **data, "audience": AUDIENCE},
    }


def _unit_count(
    seed: int, rng: random.Random, unit: Unit, areas: int, invalid: int, start: int, end: int
) -> list[dict]:
    """A unit's provisional reports from `start` to `end` (the complete count)."""
    official = {c.id: official_results()[c.id].votes for c in unit.candidates}
    valid = official_valid()[(unit.code, unit.unit)].middle
    lean = {c.id: rng.uniform(-LEAN, LEAN) for c in unit.candidates}
    n = rng.randint(3, 7)
    reports, before = [], {}
    for k, (minute, counted) in enumerate(
        zip(_moments(rng, start, end, n), _counted(rng, areas, n), strict=True), start=1
    ):
        share = Fraction(counted, areas)
        ballots = round(valid * share)
        votes = _votes(unit, official, lean, share, ballots, before)
        before = votes
        data = {
            "ballots_valid": ballots,
            "ballots_invalid": round(invalid * share),
            "votes": votes,
            "stage": "provisional",
            "areas_counted": counted,
            "areas_total": areas,
        }
        reports.append(_report(seed, unit, minute, f"provisional/{k}", data))
    return reports


def _final(seed: int, unit: Unit, minute: int, areas: int, invalid: int) -> dict:
    """A unit's official record: the published votes, the derived valid ballots."""
    data = {
        "ballots_valid": official_valid()[(unit.code, unit.unit)].middle,
        "ballots_invalid": invalid,
        "votes": {c.id: official_results()[c.id].votes for c in unit.candidates},
        "stage": "final",
        "areas_counted": areas,
        "areas_total": areas,
    }
    return _report(seed, unit, minute, "final", data)


def _announcement(rng: random.Random, code: str, ready: int) -> int:
    """When a province's committee announces its records: a weighted day of 24–27/5 in
    office hours, and never before `ready` (its last count complete + RECORD_AFTER)."""
    days = FINAL_DAYS["mountain" if code in scenario.MOUNTAIN else "plain"]
    day = rng.choices(list(days), weights=list(days.values()))[0]
    minute = (day - 23) * 24 * 60 + rng.randint(*OFFICE_HOURS)
    while minute < ready:  # the count ran late: the next day's sitting
        minute += 24 * 60
    return minute


def build(seed: int = DEFAULT_SEED) -> dict:
    """The count's timeline: `reports` (result events in `t` order, the scenario's event
    shape) and `decisions` (the Council's, one per elected candidate, in id order)."""
    valid = {k: v.middle for k, v in official_valid().items()}
    areas = _areas(valid)
    spoilt = _split(INVALID_TOTAL, {k: Fraction(v) for k, v in valid.items()})
    biggest = max(valid.values())
    reports: list[dict] = []
    for code in sorted({u.code for u in units()}):
        rng = random.Random(f"{seed}/{code}")
        mine = [u for u in units() if u.code == code]
        ends = []
        for u in mine:
            key = (u.code, u.unit)
            start = COUNT_OPENS + rng.randint(0, 75)
            hours = 3.5 + 6 * valid[key] / biggest + rng.uniform(0, 3)
            if code in scenario.MOUNTAIN:
                hours += 2  # ballots from remote areas arrive late
            end = min(start + round(hours * 60), COUNT_LATEST)
            ends.append(end)
            reports += _unit_count(seed, rng, u, areas[key], spoilt[key], start, end)
        sitting = _announcement(rng, code, max(ends) + RECORD_AFTER)
        for i, u in enumerate(mine):
            key = (u.code, u.unit)
            reports.append(_final(seed, u, sitting + i, areas[key], spoilt[key]))
    reports.sort(key=lambda r: (scenario.minutes_of(r["t"]), r["province"], r["data"]["unit"]))
    return {"reports": reports, "decisions": decisions()}


def decisions(at: datetime = COUNCIL_AT) -> list[dict]:
    """The Council's decisions on every elected candidate (fixture `confirmed`), in id
    order: `t` (when it decided), `candidate`, `confirmed`, `source`."""
    out = []
    for cid, o in sorted(official_results().items()):
        if o.elected:
            if o.confirmed is None:
                raise ValueError(f"{cid}: elected without the Council's decision")
            out.append(
                {"t": at.isoformat(), "candidate": cid, "confirmed": o.confirmed,
                 "source": COUNCIL_SOURCE}
            )  # fmt: skip
    return out


def confirmation_body(decision: dict) -> dict:
    """The body of `POST /api/results/confirmation` for a decision."""
    return {
        "candidate": decision["candidate"],
        "confirmed": decision["confirmed"],
        "source": decision["source"],
        "as_of": decision["t"],
    }


def shifted(timeline: dict, days: int) -> dict:
    """The same timeline `days` later (a rehearsal on another date)."""
    if not days:
        return timeline

    def move(item: dict) -> dict:
        return {**item, "t": (datetime.fromisoformat(item["t"]) + timedelta(days=days)).isoformat()}

    return {k: [move(x) for x in timeline[k]] for k in ("reports", "decisions")}


def last_moment(timeline: dict) -> datetime:
    """The timeline's last moment (the Council's decisions)."""
    moments = [x["t"] for k in ("reports", "decisions") for x in timeline[k]]
    return max(datetime.fromisoformat(t) for t in moments)
