"""The ballot's reference data (`ingest/candidates.py`): the 184 units of 2021 and their 866
candidates in ballot order, consistent with the province fixtures, the public attributes
kept apart from the official outcome, and a broken file refused rather than half-read."""

from __future__ import annotations

import csv
import dataclasses
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from ingest import candidates, fixtures
from ingest.candidates import RESULTS_CSV, UNITS_CSV, load_units


def test_the_2021_ballot_has_184_units_866_candidates_and_500_seats():
    units = candidates.units()
    assert len(units) == 184
    assert sum(len(u.candidates) for u in units) == 866
    assert sum(u.seats for u in units) == 500
    assert Counter(u.seats for u in units) == {3: 132, 2: 52}
    assert [(u.code, u.unit) for u in units] == sorted((u.code, u.unit) for u in units)


def test_units_agree_with_the_provinces():
    for p in fixtures.provinces():
        mine = candidates.units_of(p.code)
        assert len(mine) == p.na_units, p.code
        assert sum(u.seats for u in mine) == p.na_seats, p.code
        assert [u.unit for u in mine] == list(range(1, p.na_units + 1)), p.code
    assert candidates.units_of("00") == ()


def test_candidates_come_in_ballot_order_with_stable_ids():
    for unit in candidates.units():
        assert [c.ballot_no for c in unit.candidates] == list(range(1, len(unit.candidates) + 1))
        assert all(c.id == f"{unit.id}-{c.ballot_no}" for c in unit.candidates)
        assert len(unit.candidates) > unit.seats
    hanoi_1 = candidates.unit_index()[("01", 1)]
    assert hanoi_1.id == "01-1" and hanoi_1.seats == 3
    assert hanoi_1.description == "Gồm các quận: Ba Đình, Đống Đa và Hai Bà Trưng."
    assert [c.name for c in hanoi_1.candidates][2] == "Nguyễn Phú Trọng"
    trong = candidates.candidate_index()["01-1-3"]
    assert (trong.gender, trong.birth_year, trong.party_member, trong.former_deputy) == (
        "M",
        1944,
        True,
        True,
    )


def test_text_is_nfc_and_attributes_are_typed():
    for c in candidates.candidate_index().values():
        for text in (c.name, c.ethnicity, c.religion):
            assert unicodedata.normalize("NFC", text) == text
        assert c.gender in ("F", "M") and isinstance(c.party_member, bool)
        assert 1930 < c.birth_year < 2004
    for u in candidates.units():
        assert unicodedata.normalize("NFC", u.description) == u.description
    # The one blank religion of the list stays blank (not given), not "Không".
    assert [c.id for c in candidates.candidate_index().values() if c.religion == ""] == ["26-1-4"]


def test_the_public_candidate_holds_no_outcome():
    fields = {f.name for f in dataclasses.fields(candidates.Candidate)}
    assert fields == {
        "id",
        "ballot_no",
        "name",
        "gender",
        "birth_year",
        "ethnicity",
        "party_member",
        "former_deputy",
        "religion",
    }
    assert not fields & {"votes", "pct", "rank", "elected", "confirmed"}


def test_the_official_outcome_is_500_elected_and_499_confirmed():
    official = candidates.official_results()
    assert set(official) == set(candidates.candidate_index())
    assert sum(o.elected for o in official.values()) == 500
    assert sum(o.confirmed is True for o in official.values()) == 499
    assert all(o.confirmed is None for o in official.values() if not o.elected)
    valid = candidates.official_valid()
    assert set(valid) == set(candidates.unit_index())
    assert all(v.low <= v.middle <= v.high for v in valid.values())
    assert sum(v.middle for v in valid.values()) == 68_650_796


def test_the_loaders_are_cached():
    assert candidates.units() is candidates.units()
    assert candidates.candidate_index() is candidates.candidate_index()


# --- a broken file is refused ------------------------------------------------------------


def _rewrite(src: Path, dst: Path, change) -> Path:
    with open(src, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        rows = [r for r in (change(r) for r in reader) if r is not None]
    with open(dst, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return dst


def test_a_unit_missing_a_candidate_is_refused(tmp_path: Path):
    results = _rewrite(
        RESULTS_CSV, tmp_path / "r.csv", lambda r: None if r["candidate_id"] == "01-1-5" else r
    )
    with pytest.raises(ValueError, match="unit 01-1: 4 candidates"):
        load_units(UNITS_CSV, results)


def test_a_candidate_of_a_unit_that_does_not_exist_is_refused(tmp_path: Path):
    units = _rewrite(UNITS_CSV, tmp_path / "u.csv", lambda r: None if r["code"] == "96" else r)
    with pytest.raises(ValueError, match="units that do not exist: 96-1"):
        load_units(units, RESULTS_CSV)


def test_an_id_that_is_not_code_unit_ballot_no_is_refused(tmp_path: Path):
    def swap(r: dict) -> dict:
        return {**r, "candidate_id": "01-1-9"} if r["candidate_id"] == "01-1-3" else r

    with pytest.raises(ValueError, match="01-1-9"):
        load_units(UNITS_CSV, _rewrite(RESULTS_CSV, tmp_path / "r.csv", swap))


def test_a_flag_that_is_not_0_or_1_is_refused(tmp_path: Path):
    def blank(r: dict) -> dict:
        return {**r, "party_member": ""} if r["candidate_id"] == "01-1-1" else r

    with pytest.raises(ValueError, match="party_member"):
        load_units(UNITS_CSV, _rewrite(RESULTS_CSV, tmp_path / "r.csv", blank))


def test_the_fixture_files_load_as_given():
    assert load_units() == candidates.units()
