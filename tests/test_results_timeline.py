"""The simulated count of 2021 (ingest/results_timeline.py) and the replay's pace
(ingest/replay_clock.Pace): pure, no server. Every report passes the contract's checks
(§5), counts only grow, the finals are the official votes and the law elects exactly the
official 500 from them, and the Council's decisions leave 499 with the Council's make-up."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from ingest import law, messages, results_timeline, scenario, simulate
from ingest.candidates import (
    candidate_index,
    official_results,
    official_valid,
    unit_index,
    units_of,
)
from ingest.messages import MAX_REPLAY_SPEED
from ingest.replay_clock import Pace

DAY = datetime.fromisoformat("2021-05-23T00:00:00+07:00")


@pytest.fixture(scope="module")
def timeline() -> dict:
    return results_timeline.build()


def by_unit(reports: list[dict]) -> dict[tuple[str, int], list[dict]]:
    out: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for r in sorted(reports, key=lambda r: datetime.fromisoformat(r["t"])):
        out[(r["province"], r["data"]["unit"])].append(r)
    return out


def outcome(key: tuple[str, int], data: dict) -> law.Outcome:
    unit = unit_index()[key]
    count = law.Count(data["votes"], data["ballots_valid"], data["stage"])
    return law.decide(unit.seats, [(c.id, c.birth_year) for c in unit.candidates], count)


def test_every_result_passes_the_contracts_checks(timeline):
    reports = timeline["reports"]
    assert len(reports) > 184 * 3
    for r in reports:
        d = r["data"]
        where = f"{r['id']} {r['province']}-{d['unit']}"
        assert r["kind"] == "result" and str(uuid.UUID(r["id"])) == r["id"], where
        assert scenario.WINDOW[0] <= datetime.fromisoformat(r["t"]) <= scenario.WINDOW[1]
        assert d["unit"] in [u.unit for u in units_of(r["province"])], where
        unit = unit_index()[(r["province"], d["unit"])]
        assert list(d["votes"]) == [c.id for c in unit.candidates], where  # each id once
        assert all(type(v) is int and v >= 0 for v in d["votes"].values()), where
        assert type(d["ballots_valid"]) is int and d["ballots_valid"] >= 0, where
        assert type(d["ballots_invalid"]) is int and d["ballots_invalid"] >= 0, where
        assert max(d["votes"].values()) <= d["ballots_valid"], where
        assert sum(d["votes"].values()) <= d["ballots_valid"] * unit.seats, where
        assert 0 < d["areas_counted"] <= d["areas_total"], where
        assert d["stage"] in law.STAGES and d["audience"] == "public", where
        assert set(d) == {
            "unit", "ballots_valid", "ballots_invalid", "votes", "stage",
            "areas_counted", "areas_total", "audience",
        }  # fmt: skip
    assert len({r["id"] for r in reports}) == len(reports)


def test_the_contracts_own_parser_accepts_every_report_and_decision(timeline):
    """The same checks through ingest/messages.py, as the server runs them on arrival."""
    for r in timeline["reports"]:
        report = messages.parse_report(simulate.report_of(r))
        messages.check_report(
            report, window=scenario.WINDOW, now=results_timeline.COUNCIL_AT, registered=1
        )
        unit = messages.check_result(report, r["province"])
        assert (unit.code, unit.unit) == (r["province"], r["data"]["unit"])
        assert report.audience == "public"
    for d in timeline["decisions"]:
        body = messages.parse_confirmation(results_timeline.confirmation_body(d))
        assert (body.candidate, body.confirmed) == (d["candidate"], d["confirmed"])


def test_a_units_count_only_grows_and_ends_with_its_official_record(timeline):
    series = by_unit(timeline["reports"])
    assert set(series) == set(unit_index())
    for key, reports in series.items():
        *counting, final = [r["data"] for r in reports]
        assert len(counting) >= 3 and all(d["stage"] == "provisional" for d in counting), key
        assert final["stage"] == "final", key
        for before, after in zip(counting, counting[1:], strict=False):
            assert after["ballots_valid"] >= before["ballots_valid"], key  # never a regression
            assert after["areas_counted"] > before["areas_counted"], key
            assert all(after["votes"][c] >= v for c, v in before["votes"].items()), key
        assert final["votes"] == {c: official_results()[c].votes for c in final["votes"]}, key
        assert final["ballots_valid"] == official_valid()[key].middle, key
        assert final["areas_counted"] == final["areas_total"], key
        # the count starts after the close; each record comes in office hours of 24–27/5
        first, last = (datetime.fromisoformat(r["t"]) for r in (reports[0], reports[-1]))
        assert first >= DAY + timedelta(hours=19, minutes=30), key
        assert DAY + timedelta(days=1, hours=8) <= last <= DAY + timedelta(days=4, hours=18)
        assert 8 <= last.hour < 18, key


def test_the_finals_elect_exactly_the_official_winners(timeline):
    finals = {key: rs[-1]["data"] for key, rs in by_unit(timeline["reports"]).items()}
    elected = set()
    for key, data in finals.items():
        result = outcome(key, data)
        assert result.status == "declared", key
        elected.update(result.elected)
    official = {cid for cid, o in official_results().items() if o.elected}
    assert elected == official and len(elected) == 500


def test_on_the_night_every_unit_is_counting_and_none_is_declared(timeline):
    at = DAY + timedelta(days=1, hours=6)  # 24/5 06:00
    series = by_unit(r for r in timeline["reports"] if datetime.fromisoformat(r["t"]) <= at)
    assert set(series) == set(unit_index())
    for key, reports in series.items():
        result = outcome(key, reports[-1]["data"])
        assert result.status == "counting" and result.elected == (), key
    # the first figures of the night do not always lead to the winners; the complete count does
    turned = 0
    for key, reports in series.items():
        winners = {c.id for c in unit_index()[key].candidates if official_results()[c.id].elected}
        turned += set(outcome(key, reports[0]["data"]).leading) != winners
        assert set(outcome(key, reports[-1]["data"]).leading) <= winners, key
    assert 0 < turned < 184


def test_the_ballots_cast_in_the_units_add_up_to_the_turnout(timeline):
    finals = [rs[-1]["data"] for rs in by_unit(timeline["reports"]).values()]
    cast = sum(d["ballots_valid"] + d["ballots_invalid"] for d in finals)
    assert cast == scenario.NATIONAL_VOTED == 69_243_604


def test_the_council_decides_once_on_every_winner_and_confirms_all_but_one(timeline):
    decisions = timeline["decisions"]
    winners = {cid for cid, o in official_results().items() if o.elected}
    assert sorted(d["candidate"] for d in decisions) == sorted(winners)
    assert {d["t"] for d in decisions} == {"2021-06-10T10:00:00+07:00"}
    assert {d["source"] for d in decisions} == {"NQ 746/NQ-HĐBCQG, 10/6/2021"}
    refused = [d["candidate"] for d in decisions if d["confirmed"] is False]
    assert refused == ["74-1-2"] and candidate_index()["74-1-2"].name.startswith("Trần Văn Nam")
    assert all(d["confirmed"] is True for d in decisions if d["candidate"] != "74-1-2")
    body = results_timeline.confirmation_body(decisions[0])
    assert set(body) == {"candidate", "confirmed", "source", "as_of"}
    seated = law.composition(
        [candidate_index()[c] for c in winners],
        2021,
        {d["candidate"]: d["confirmed"] for d in decisions},
    )
    assert seated == {
        "elected": 499, "women": 151, "ethnic_minority": 89, "non_party": 14,
        "under_40": 47, "former_deputy": 203, "religious": 12,
    }  # fmt: skip


def test_the_count_is_the_same_at_every_build_and_another_seed_changes_only_the_night(timeline):
    assert results_timeline.build() == timeline  # the same ids: a second replay is duplicates
    other = results_timeline.build(seed=7)
    assert not {r["id"] for r in other["reports"]} & {r["id"] for r in timeline["reports"]}
    mine, theirs = by_unit(timeline["reports"]), by_unit(other["reports"])
    for key in mine:
        assert mine[key][-1]["data"] == theirs[key][-1]["data"], key
    assert any(mine[k][0]["data"] != theirs[k][0]["data"] for k in mine)


def test_a_shifted_count_moves_every_moment_and_nothing_else(timeline):
    moved = results_timeline.shifted(timeline, 3)
    for before, after in zip(timeline["reports"], moved["reports"], strict=True):
        later = datetime.fromisoformat(after["t"]) - datetime.fromisoformat(before["t"])
        assert later == timedelta(days=3) and {**after, "t": before["t"]} == before
    assert moved["decisions"][0]["t"] == "2021-06-13T10:00:00+07:00"


# --- the replay's pace ----------------------------------------------------------------


def whole_replay(timeline: dict) -> list[datetime]:
    items = scenario.load()["events"] + timeline["reports"] + timeline["decisions"]
    return [datetime.fromisoformat(x["t"]) for x in items]


def test_speed_keeps_its_meaning_for_the_day_and_the_count_runs_faster(timeline):
    moments = whole_replay(timeline)
    opening = DAY + timedelta(hours=7)
    pace = Pace.of(opening, 60, moments)
    assert pace.due(DAY + timedelta(hours=5)) == 0  # early voting: at once
    assert pace.due(DAY + timedelta(hours=11)) == 4 * 3600 / 60
    assert pace.due(DAY + timedelta(hours=19)) == 12 * 60  # the twelve hours in twelve minutes
    night = pace.due(DAY + timedelta(days=1, hours=7)) - pace.due(DAY + timedelta(hours=19))
    assert night < 12 * 60 / 3  # the night of the count: at least 3× faster
    whole = pace.due(max(moments))
    assert 15 * 60 < whole <= 20 * 60, whole / 60  # `votewire demo` within ~20 minutes
    reals = [pace.due(m) for m in sorted(moments)]
    assert reals == sorted(reals)  # the order of the reports is kept
    for real in (0, 100, 720, 800, 900, 1000, whole):
        assert abs(pace.due(pace.moment(real)) - real) < 1e-6


def test_a_fast_replay_never_runs_slower_after_the_close(timeline):
    moments = whole_replay(timeline)
    opening = DAY + timedelta(hours=7)
    for speed in (600, MAX_REPLAY_SPEED, 7200):
        pace = Pace.of(opening, speed, moments)
        assert all(k.rate >= speed for k in pace.knots), speed
        day = pace.due(DAY + timedelta(hours=19))
        assert day == 12 * 3600 / speed and pace.due(max(moments)) < 3 * day, speed
    with pytest.raises(ValueError):
        Pace.of(opening, 0, moments)
