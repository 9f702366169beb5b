"""The election law of contract §5 (`ingest/law.py`): its edges on invented units, and the
2021 replay on paper — the official votes of every unit, counted final over the derived
valid ballots, elect exactly the official 500 and describe the Council's 499."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest import candidates, law, results_view
from ingest.candidates import Candidate
from ingest.fixtures import FIXTURES
from ingest.law import Count, decide
from ingest.outgoing import ResultsSummary, UnitResult, Units


def ballot(*years: int) -> list[tuple[str, int]]:
    """An invented unit's ballot: candidate ids 99-1-1… with these birth years."""
    return [(f"99-1-{n}", year) for n, year in enumerate(years, start=1)]


def votes(*counts: int) -> dict[str, int]:
    return {f"99-1-{n}": v for n, v in enumerate(counts, start=1)}


def by_id(outcome: law.Outcome) -> dict[str, law.Standing]:
    return {s.id: s for s in outcome.candidates}


def test_most_votes_over_half_are_elected_and_ranked():
    out = decide(2, ballot(1970, 1980, 1990), Count(votes(600, 700, 300), 1000, "final"))
    assert out.status == "declared" and out.seats_filled == 2
    assert out.elected == ("99-1-2", "99-1-1")
    assert out.leading == ()  # a final count elects; nobody is merely leading
    assert [s.rank for s in out.candidates] == [1, 2, 3]
    assert by_id(out)["99-1-3"].pct == 30.0 and not by_id(out)["99-1-3"].elected


def test_pct_is_unrounded():
    out = decide(1, ballot(1970, 1980), Count(votes(2, 1), 3, "final"))
    assert by_id(out)["99-1-1"].pct == 200 / 3


def test_a_tie_for_the_last_seat_goes_to_the_older_candidate():
    out = decide(2, ballot(1980, 1960, 1970), Count(votes(800, 600, 600), 1000, "final"))
    assert out.elected == ("99-1-1", "99-1-2")
    assert out.status == "declared" and out.seats_filled == 2
    assert by_id(out)["99-1-2"].rank == 2 and by_id(out)["99-1-3"].rank == 3
    assert not any(s.tie for s in out.candidates)


def test_equal_votes_and_years_for_the_last_seat_leave_it_unfilled_and_tied():
    out = decide(2, ballot(1980, 1965, 1965), Count(votes(800, 600, 600), 1000, "final"))
    assert out.elected == ("99-1-1",)
    assert out.seats_filled == 1 and out.status == "supplementary"
    tied = {s.id for s in out.candidates if s.tie}
    assert tied == {"99-1-2", "99-1-3"}
    assert by_id(out)["99-1-2"].rank == by_id(out)["99-1-3"].rank == 2


def test_a_tie_that_fits_within_the_seats_elects_both():
    out = decide(3, ballot(1980, 1965, 1965, 1950), Count(votes(800, 600, 600, 100), 1000, "final"))
    assert set(out.elected) == {"99-1-1", "99-1-2", "99-1-3"}
    assert out.status == "declared" and not any(s.tie for s in out.candidates)


def test_a_tie_leaves_the_seat_unfilled_even_for_a_lower_candidate_over_half():
    # 3 seats: one clear winner, then three equal (votes, year) for two seats, then one
    # more over half. The two seats stay open: the lower candidate does not move up.
    out = decide(
        3,
        ballot(1970, 1960, 1960, 1960, 1950),
        Count(votes(900, 700, 700, 700, 600), 1000, "final"),
    )
    assert out.elected == ("99-1-1",) and out.seats_filled == 1
    assert {s.id for s in out.candidates if s.tie} == {"99-1-2", "99-1-3", "99-1-4"}
    assert not by_id(out)["99-1-5"].elected and not by_id(out)["99-1-5"].tie


def test_a_final_unit_with_too_few_over_half_is_supplementary():
    out = decide(
        3,
        ballot(1970, 1971, 1972, 1973, 1974),
        Count(votes(700, 510, 500, 400, 300), 1000, "final"),
    )
    assert out.elected == ("99-1-1", "99-1-2")  # exactly half (500) is not more than half
    assert out.status == "supplementary" and out.seats_filled == 2


def test_nobody_over_half_elects_nobody():
    out = decide(2, ballot(1970, 1971, 1972), Count(votes(400, 400, 200), 1000, "final"))
    assert out.elected == () and out.seats_filled == 0 and out.status == "supplementary"


def test_a_provisional_leader_is_never_elected():
    out = decide(2, ballot(1970, 1980, 1990), Count(votes(600, 700, 300), 1000, "provisional"))
    assert out.status == "counting" and out.stage == "provisional"
    assert out.elected == () and out.seats_filled == 0
    assert out.leading == ("99-1-2", "99-1-1")
    assert not any(s.elected for s in out.candidates)


def test_only_candidates_over_half_can_lead():
    out = decide(2, ballot(1970, 1980, 1990), Count(votes(600, 450, 300), 1000, "provisional"))
    assert out.leading == ("99-1-1",)
    assert by_id(out)["99-1-2"].rank == 2 and not by_id(out)["99-1-2"].leading


def test_rank_ties_are_broken_by_age():
    out = decide(1, ballot(1990, 1950, 1970), Count(votes(100, 100, 100), 1000, "provisional"))
    assert [(s.id, s.rank) for s in out.candidates] == [("99-1-2", 1), ("99-1-3", 2), ("99-1-1", 3)]


def test_a_waiting_unit_has_no_figures_in_ballot_order():
    out = decide(2, ballot(1970, 1980, 1990), None)
    assert out.status == "waiting" and out.stage is None and out.seats_filled == 0
    assert [s.id for s in out.candidates] == ["99-1-1", "99-1-2", "99-1-3"]
    assert all(s.votes is None and s.pct is None and s.rank is None for s in out.candidates)
    assert not any(s.elected or s.leading or s.tie for s in out.candidates)


def test_no_valid_ballot_gives_no_pct_and_no_winner():
    out = decide(2, ballot(1970, 1980, 1990), Count(votes(0, 0, 0), 0, "final"))
    assert all(s.pct is None for s in out.candidates)
    assert out.status == "supplementary" and out.seats_filled == 0


@pytest.mark.parametrize(
    "count",
    [
        Count(votes(600, 700), 1000, "final"),  # a candidate missing
        Count({**votes(600, 700, 300), "99-1-9": 1}, 1000, "final"),  # an unknown one
        Count(votes(600, 1001, 300), 1000, "final"),  # above the valid ballots
        Count(votes(600, -1, 300), 1000, "final"),
        Count(votes(600, 700, 300), 1000, "counted"),  # type: ignore[arg-type]
    ],
)
def test_a_count_that_does_not_fit_the_unit_is_refused(count: Count):
    with pytest.raises(ValueError):
        decide(2, ballot(1970, 1980, 1990), count)


def person(cid: str, **attrs) -> Candidate:
    base = dict(
        ballot_no=1,
        name="X",
        gender="M",
        birth_year=1970,
        ethnicity="Kinh",
        party_member=True,
        former_deputy=False,
        religion="Không",
    )
    return Candidate(id=cid, **{**base, **attrs})


def test_composition_counts_each_dimension_and_leaves_out_the_not_confirmed():
    winners = [
        person("99-1-1", gender="F", birth_year=1981),  # under 40 in 2021 (cut-off ≥ 1981)
        person("99-1-2", ethnicity="Tày", party_member=False, religion="Phật giáo"),
        person("99-1-3", former_deputy=True, religion="", birth_year=1980),  # blank: none
        person("99-1-4", gender="F", ethnicity="Mông", former_deputy=True),  # not confirmed
    ]
    confirmed = {"99-1-1": True, "99-1-4": False}  # 99-1-2 and 99-1-3: no decision yet
    assert law.composition(winners, 2021, confirmed) == {
        "elected": 3,
        "women": 1,
        "ethnic_minority": 1,
        "non_party": 1,
        "under_40": 1,
        "former_deputy": 1,
        "religious": 1,
    }
    assert law.composition(winners, 2021)["elected"] == 4


# --- the 2021 replay on paper ------------------------------------------------------------


def replay_2021(valid: str) -> dict[tuple[str, int], law.Outcome]:
    """Every unit counted final with its official votes over `valid` (middle, low or high)."""
    official = candidates.official_results()
    out = {}
    for unit in candidates.units():
        count = Count(
            {c.id: official[c.id].votes for c in unit.candidates},
            getattr(candidates.official_valid()[(unit.code, unit.unit)], valid),
            "final",
        )
        out[(unit.code, unit.unit)] = decide(
            unit.seats, [(c.id, c.birth_year) for c in unit.candidates], count
        )
    return out


@pytest.mark.parametrize("valid", ["middle", "low", "high"])
def test_the_2021_count_elects_exactly_the_official_winners(valid: str):
    official = candidates.official_results()
    outcomes = replay_2021(valid)
    assert len(outcomes) == 184
    for unit in candidates.units():
        outcome = outcomes[(unit.code, unit.unit)]
        expected = {c.id for c in unit.candidates if official[c.id].elected}
        assert set(outcome.elected) == expected, unit.id
        assert outcome.status == "declared" and outcome.seats_filled == unit.seats, unit.id
    assert sum(len(o.elected) for o in outcomes.values()) == 500


def test_the_2021_ranks_and_shares_match_the_bulletin():
    official = candidates.official_results()
    for outcome in replay_2021("middle").values():
        ranks = [s.rank for s in outcome.candidates]
        assert ranks == list(range(1, len(ranks) + 1))
        for s in outcome.candidates:
            assert s.pct == pytest.approx(
                official[s.id].pct, abs=0.5 if official[s.id].pct.is_integer() else 0.005
            )


def test_the_2021_composition_of_the_confirmed_499_is_the_councils():
    official = candidates.official_results()
    index = candidates.candidate_index()
    winners = [index[cid] for o in replay_2021("middle").values() for cid in o.elected]
    confirmed = {cid: o.confirmed for cid, o in official.items()}
    assert law.composition(winners, 2021, confirmed) == {
        "elected": 499,
        "women": 151,
        "ethnic_minority": 89,
        "non_party": 14,
        "under_40": 47,
        "former_deputy": 203,
        "religious": 12,
    }
    assert [cid for cid, ok in confirmed.items() if ok is False] == ["74-1-2"]
    assert index["74-1-2"].name.startswith("Trần Văn Nam")


def test_the_history_files_2021_row_is_the_composition_of_the_replay():
    with open(FIXTURES / "na_composition_history.csv", encoding="utf-8", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["year"] == "2021")
    index = candidates.candidate_index()
    official = candidates.official_results()
    winners = [index[cid] for o in replay_2021("middle").values() for cid in o.elected]
    ours = law.composition(winners, 2021, {cid: o.confirmed for cid, o in official.items()})
    assert int(row["deputies"]) == ours["elected"]
    for key in ("women", "ethnic_minority", "non_party", "under_40", "former_deputy"):
        assert int(row[key]) == ours[key], key


# --- the law's output as the contract's JSON (ingest/results_view.py) ---------------------


def test_every_2021_unit_result_fits_the_declared_shape():
    official = candidates.official_results()
    outcomes = replay_2021("middle")
    confirmed = {cid: o.confirmed for cid, o in official.items()}
    as_of = datetime(2021, 5, 27, 10, 0, tzinfo=timezone(timedelta(hours=7)))
    for unit in candidates.units():
        body = results_view.unit_result(
            unit,
            outcomes[(unit.code, unit.unit)],
            as_of=as_of,
            ballots_valid=candidates.official_valid()[(unit.code, unit.unit)].middle,
            confirmed=confirmed,
        )
        entry = UnitResult.model_validate_json(json.dumps(body))
        assert entry.status == "declared" and entry.stage == "final"
        assert [c.rank for c in entry.candidates] == list(range(1, len(unit.candidates) + 1))
    nam = results_view.unit_result(
        candidates.unit_index()[("74", 1)],
        outcomes[("74", 1)],
        as_of=as_of,
        ballots_valid=candidates.official_valid()[("74", 1)].middle,
        confirmed=confirmed,
    )
    assert [(c["id"], c["confirmed"]) for c in nam["candidates"] if c["elected"]] == [
        ("74-1-2", False),  # Trần Văn Nam, not confirmed by the Council
        ("74-1-1", True),
        ("74-1-3", True),
    ]
    assert all(c["confirmed"] is None for c in nam["candidates"] if not c["elected"])


def test_the_2021_summary_is_the_councils_and_fits_the_declared_shape():
    official = candidates.official_results()
    outcomes = replay_2021("middle")
    pairs = [(u, outcomes[(u.code, u.unit)]) for u in candidates.units()]
    confirmed = {cid: o.confirmed for cid, o in official.items()}
    summary = ResultsSummary.model_validate_json(
        json.dumps(results_view.results_summary(pairs, 2021, confirmed))
    )
    assert (summary.units_total, summary.units_reporting, summary.units_declared) == (184, 184, 184)
    assert (summary.seats_total, summary.seats_filled) == (500, 499)
    assert summary.composition.model_dump() == {
        "elected": 499,
        "women": 151,
        "ethnic_minority": 89,
        "non_party": 14,
        "under_40": 47,
        "former_deputy": 203,
        "religious": 12,
    }
    before = results_view.results_summary(pairs, 2021)  # no decision yet: all 500 count
    assert before["seats_filled"] == 500 and before["composition"]["elected"] == 500


def test_waiting_counting_and_tied_units_fit_the_declared_shape():
    unit = candidates.unit_index()[("01", 10)]  # 3 candidates for 2 seats
    ids = [(c.id, c.birth_year) for c in unit.candidates]
    waiting = results_view.unit_result(unit, decide(unit.seats, ids, None))
    entry = UnitResult.model_validate_json(json.dumps(waiting))
    assert entry.status == "waiting" and entry.as_of is None and entry.ballots_valid is None
    assert all(c.votes is None and c.rank is None for c in entry.candidates)

    provisional = Count({c.id: 600 for c in unit.candidates}, 1000, "provisional")
    body = results_view.unit_result(
        unit,
        decide(unit.seats, ids, provisional),
        as_of=datetime(2021, 5, 23, 23, 0, tzinfo=UTC),
        ballots_valid=1000,
        areas_counted=10,
        areas_total=40,
    )
    entry = UnitResult.model_validate_json(json.dumps(body))
    assert entry.status == "counting" and not any(c.elected for c in entry.candidates)
    assert entry.candidates[0].leading and not any("tie" in c for c in body["candidates"])

    with pytest.raises(ValueError):  # a count without its valid ballots
        results_view.unit_result(unit, decide(unit.seats, ids, provisional))


def test_a_tie_is_marked_only_on_the_tied_candidates():
    unit = candidates.Unit(
        "99",
        1,
        2,
        "invented",
        (
            person("99-1-1", ballot_no=1, birth_year=1980),
            person("99-1-2", ballot_no=2, birth_year=1965),
            person("99-1-3", ballot_no=3, birth_year=1965),
        ),
    )
    ids = [(c.id, c.birth_year) for c in unit.candidates]
    outcome = decide(2, ids, Count(votes(800, 600, 600), 1000, "final"))
    body = results_view.unit_result(
        unit,
        outcome,
        as_of=datetime(2021, 5, 27, tzinfo=UTC),
        ballots_valid=1000,
    )
    entry = UnitResult.model_validate_json(json.dumps(body))
    assert entry.status == "supplementary"
    assert {c["id"]: c.get("tie") for c in body["candidates"]} == {
        "99-1-1": None,
        "99-1-2": True,
        "99-1-3": True,
    }
    summary = results_view.results_summary([(unit, outcome)], 2021)
    assert summary["units_declared"] == 0 and summary["seats_filled"] == 1


def test_every_unit_entry_fits_the_declared_shape():
    body = {"units": [results_view.unit_entry(u) for u in candidates.units()]}
    parsed = Units.model_validate_json(json.dumps(body))
    assert sum(len(u.candidates) for u in parsed.units) == 866
    assert parsed.units[0].candidates[2].name == "Nguyễn Phú Trọng"
