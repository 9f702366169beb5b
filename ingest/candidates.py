"""The ballot of a National Assembly election: its units and their candidates (contract §5).

Reference data, public before the day: the 184 electoral units of 2021 with their seats and
description (`fixtures/na_units_2021.csv`) and the 866 candidates on the ballot in ballot
order (`fixtures/na_results_2021.csv`). The same results file also holds the official
outcome (votes, %, elected, confirmed) and `na_units_valid_2021.csv` each unit's valid
ballots; those are the *answer*, read only by the tests and the replay through
`official_results()` and `official_valid()`, and never mixed into the public `Candidate`.

Pure file reading, no database, like `ingest/fixtures.py`. The loaders check what they read
(every unit has its stated number of candidates, ballot numbers run 1…n, ids are
`code-unit-ballot_no`), because the contract lets configuration name other files.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingest.fixtures import FIXTURES

UNITS_CSV = FIXTURES / "na_units_2021.csv"
RESULTS_CSV = FIXTURES / "na_results_2021.csv"
VALID_CSV = FIXTURES / "na_units_valid_2021.csv"
BALLOT_YEAR = 2021
"""The year of the election these candidates stand in: ages ("under 40") count from it,
whatever day a rehearsal replays the ballot on."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate on a unit's ballot, with the public attributes of the official list."""

    id: str
    """Stable id `code-unit-ballot_no` ("01-1-3"), fixed before any vote is counted."""
    ballot_no: int
    name: str
    gender: str
    """F (woman) or M (man), from Bà / Ông in the bulletin."""
    birth_year: int
    ethnicity: str
    """As written in the list ("Kinh", "Tày", …; spellings of one group vary)."""
    party_member: bool
    former_deputy: bool
    """Deputy of any earlier Assembly (the Council's "re-elected" count)."""
    religion: str
    """As written in the list; "Không" is none, blank is not given."""


@dataclass(frozen=True, slots=True)
class Unit:
    """An electoral unit of a province with its candidates in ballot order."""

    code: str
    unit: int
    seats: int
    description: str
    candidates: tuple[Candidate, ...]

    @property
    def id(self) -> str:
        """`code-unit` ("01-1"), as in `?unit=01-1`."""
        return f"{self.code}-{self.unit}"


@dataclass(frozen=True, slots=True)
class Official:
    """A candidate's official outcome (the answer the law must reproduce)."""

    votes: int
    pct: float
    """As published, two decimals."""
    elected: bool
    confirmed: bool | None
    """Confirmed by the National Election Council; None when not elected."""


@dataclass(frozen=True, slots=True)
class ValidBallots:
    """A unit's valid ballots, derived from the published votes and percentages: `low`…`high`
    is every count consistent with them, `middle` the one to use."""

    middle: int
    low: int
    high: int


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _flag(value: str, column: str, where: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(f"{where}: {column} must be 0 or 1, not {value!r}")
    return value == "1"


def load_units(units_csv: Path = UNITS_CSV, results_csv: Path = RESULTS_CSV) -> tuple[Unit, ...]:
    """Read and check the units and their candidates; units in (code, unit) order."""
    by_unit: dict[tuple[str, int], list[Candidate]] = defaultdict(list)
    for r in _rows(results_csv):
        key = (r["code"], int(r["unit_no"]))
        cid = r["candidate_id"]
        if cid != f"{key[0]}-{key[1]}-{int(r['ballot_no'])}":
            raise ValueError(f"{cid}: the id is not code-unit-ballot_no")
        if r["gender"] not in ("F", "M"):
            raise ValueError(f"{cid}: gender must be F or M, not {r['gender']!r}")
        by_unit[key].append(
            Candidate(
                id=cid,
                ballot_no=int(r["ballot_no"]),
                name=_nfc(r["name"]),
                gender=r["gender"],
                birth_year=int(r["birth_year"]),
                ethnicity=_nfc(r["ethnicity"]),
                party_member=_flag(r["party_member"], "party_member", cid),
                former_deputy=_flag(r["former_deputy"], "former_deputy", cid),
                religion=_nfc(r["religion"]),
            )
        )
    units = []
    for r in _rows(units_csv):
        key = (r["code"], int(r["unit_no"]))
        ballot = sorted(by_unit.pop(key, []), key=lambda c: c.ballot_no)
        where = f"unit {key[0]}-{key[1]}"
        if len(ballot) != int(r["candidates"]):
            raise ValueError(f"{where}: {len(ballot)} candidates, the unit lists {r['candidates']}")
        if [c.ballot_no for c in ballot] != list(range(1, len(ballot) + 1)):
            raise ValueError(f"{where}: ballot numbers are not 1…{len(ballot)}")
        seats = int(r["seats"])
        if not 1 <= seats <= len(ballot):
            raise ValueError(f"{where}: {seats} seats for {len(ballot)} candidates")
        units.append(
            Unit(
                code=key[0],
                unit=key[1],
                seats=seats,
                description=_nfc(r["unit_description_vi"]),
                candidates=tuple(ballot),
            )
        )
    if by_unit:
        stray = ", ".join(f"{c}-{u}" for c, u in sorted(by_unit))
        raise ValueError(f"candidates of units that do not exist: {stray}")
    return tuple(sorted(units, key=lambda u: (u.code, u.unit)))


@cache
def units() -> tuple[Unit, ...]:
    """The 184 units of 2021 in (code, unit) order, each with its candidates in ballot order."""
    return load_units()


@cache
def unit_index() -> dict[tuple[str, int], Unit]:
    """(code, unit) → Unit."""
    return {(u.code, u.unit): u for u in units()}


@cache
def candidate_index() -> dict[str, Candidate]:
    """Candidate id → Candidate, over every unit."""
    return {c.id: c for u in units() for c in u.candidates}


def units_of(code: str) -> tuple[Unit, ...]:
    """A province's units in unit order (empty for an unknown code)."""
    return tuple(u for u in units() if u.code == code)


# --- the official outcome: reference for the tests and the replay, never public data -----


@cache
def official_results() -> dict[str, Official]:
    """Candidate id → the official 2021 outcome (NEC bulletin; confirmation of 10/6/2021)."""
    out = {}
    for r in _rows(RESULTS_CSV):
        cid = r["candidate_id"]
        out[cid] = Official(
            votes=int(r["votes"]),
            pct=float(r["pct"]),
            elected=_flag(r["elected"], "elected", cid),
            confirmed=None if r["confirmed"] == "" else _flag(r["confirmed"], "confirmed", cid),
        )
    return out


@cache
def official_valid() -> dict[tuple[str, int], ValidBallots]:
    """(code, unit) → the unit's valid ballots of 2021 (derived; see DATA-README.md)."""
    return {
        (r["code"], int(r["unit_no"])): ValidBallots(
            middle=int(r["valid_ballots"]), low=int(r["valid_low"]), high=int(r["valid_high"])
        )
        for r in _rows(VALID_CSV)
    }
