"""Who is elected: the election law of contract §5 (Law on the Election of Deputies, 2015,
art. 78), written once.

`decide()` turns one unit's count into each candidate's rank, share, `elected` / `leading`
and `tie`, and the unit's status; `composition()` describes the elected. Both are pure
functions of their arguments (no database, no clock, no fixtures), so the server, the
replay, the charts and the tests share one definition of "elected" (DESIGN.md: who is
elected has one definition).

The rule, in the order it is applied:
1. Only a candidate with more than half of the unit's valid ballots (`votes × 2 >
   ballots_valid`) can take a seat.
2. Among those, seats go by votes, most first; equal votes for the last seat go to the
   older candidate (earlier `birth_year`).
3. Candidates equal in votes *and* birth year who compete for the last seat(s) are all
   left out and marked `tie`; the seat stays unfilled until a correction settles it.
4. A `final` count elects; a `provisional` one only marks who is `leading` (who would be
   elected if the count stopped now), never `elected`.
5. Status: `waiting` (no count), `counting` (provisional), `declared` (final, every seat
   filled), `supplementary` (final, seats left unfilled: too few over half, or a tie).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Literal, TypedDict

from ingest.candidates import Candidate

Stage = Literal["provisional", "final"]
Status = Literal["waiting", "counting", "declared", "supplementary"]
STAGES: tuple[Stage, ...] = ("provisional", "final")
NO_RELIGION = ("Không", "")
"""`religion` values that mean none: "Không" (none) and blank (not given)."""


@dataclass(frozen=True, slots=True)
class Count:
    """A unit's count as reported: every candidate's votes, the valid ballots, the stage."""

    votes: Mapping[str, int]
    ballots_valid: int
    stage: Stage = "provisional"


@dataclass(frozen=True, slots=True)
class Standing:
    """One candidate after the law: all counts None while the unit is waiting."""

    id: str
    votes: int | None
    pct: float | None
    """votes / ballots_valid × 100, unrounded; None while waiting or when no ballot is valid."""
    rank: int | None
    """1 = most votes; equal votes rank the older first; equal votes and years share a rank."""
    elected: bool
    leading: bool
    tie: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    """A unit after the law. `candidates` are in rank order (ballot order while waiting)."""

    status: Status
    stage: Stage | None
    seats: int
    seats_filled: int
    """Seats with an elected candidate (0 before the final count)."""
    candidates: tuple[Standing, ...]

    @property
    def elected(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.candidates if s.elected)

    @property
    def leading(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.candidates if s.leading)


def _check(seats: int, ids: list[str], count: Count) -> None:
    if seats < 1:
        raise ValueError(f"a unit has at least one seat, not {seats}")
    if len(set(ids)) != len(ids):
        raise ValueError("a candidate appears twice on the ballot")
    if count.stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, not {count.stage!r}")
    if count.ballots_valid < 0:
        raise ValueError("ballots_valid must be ≥ 0")
    missing = [i for i in ids if i not in count.votes]
    unknown = [i for i in count.votes if i not in set(ids)]
    if missing or unknown:
        raise ValueError(
            f"votes must name each candidate once: missing {missing}, unknown {unknown}"
        )
    for cid, v in count.votes.items():
        if not 0 <= v <= count.ballots_valid:
            raise ValueError(f"{cid}: {v} votes is outside 0…{count.ballots_valid}")


def decide(seats: int, candidates: Sequence[tuple[str, int]], count: Count | None) -> Outcome:
    """Apply the law to one unit. `candidates` are (id, birth_year) in ballot order; `count`
    is None while the unit has no result. Raises ValueError on a count that does not fit
    the unit (the contract's checks refuse those before they get here)."""
    if count is None:
        waiting = tuple(
            Standing(cid, None, None, None, False, False, False) for cid, _ in candidates
        )
        return Outcome("waiting", None, seats, 0, waiting)
    ids = [cid for cid, _ in candidates]
    _check(seats, ids, count)
    valid = count.ballots_valid

    def key(entry: tuple[int, tuple[str, int]]) -> tuple[int, int]:
        _, (cid, year) = entry
        return (-count.votes[cid], year)

    # Rank order: votes, then older first, then ballot order (only to make the order stable).
    order = sorted(enumerate(candidates), key=lambda e: (*key(e), e[0]))
    rank: dict[str, int] = {}
    winners: set[str] = set()
    tied: set[str] = set()
    place = 0
    open_seats = seats
    for _, group in groupby(order, key=key):
        members = [cid for _, (cid, _) in group]
        for cid in members:
            rank[cid] = place + 1
        place += len(members)
        if open_seats == 0 or count.votes[members[0]] * 2 <= valid:
            continue  # the seats are gone, or these candidates are not over half
        if len(members) <= open_seats:
            winners.update(members)
            open_seats -= len(members)
        else:
            tied.update(members)  # equal votes and years for the last seat(s): unsettled
            open_seats = 0  # nobody below them can take the seats they leave open
    final = count.stage == "final"
    standings = tuple(
        Standing(
            id=cid,
            votes=count.votes[cid],
            pct=count.votes[cid] * 100 / valid if valid else None,
            rank=rank[cid],
            elected=final and cid in winners,
            leading=not final and cid in winners,
            tie=cid in tied,
        )
        for _, (cid, _) in order
    )
    filled = len(winners) if final else 0
    if not final:
        status: Status = "counting"
    else:
        status = "declared" if filled == seats else "supplementary"
    return Outcome(status, count.stage, seats, filled, standings)


class CompositionCounts(TypedDict):
    """The keys of the contract's `composition` (ingest.outgoing.Composition)."""

    elected: int
    women: int
    ethnic_minority: int
    non_party: int
    under_40: int
    former_deputy: int
    religious: int


def composition(
    winners: Iterable[Candidate],
    election_year: int,
    confirmed: Mapping[str, bool | None] | None = None,
) -> CompositionCounts:
    """The make-up of the elected (§5): `winners` less those the Council did not confirm
    (`confirmed[id] is False`; no decision counts as elected). Under 40 is
    `birth_year ≥ election_year − 40` (the official list's cut-off, which gives the
    Council's 47 of 2021)."""
    decided = confirmed or {}
    seated = [c for c in winners if decided.get(c.id) is not False]
    return CompositionCounts(
        elected=len(seated),
        women=sum(c.gender == "F" for c in seated),
        ethnic_minority=sum(c.ethnicity != "Kinh" for c in seated),
        non_party=sum(not c.party_member for c in seated),
        under_40=sum(c.birth_year >= election_year - 40 for c in seated),
        former_deputy=sum(c.former_deputy for c in seated),
        religious=sum(c.religion not in NO_RELIGION for c in seated),
    )
