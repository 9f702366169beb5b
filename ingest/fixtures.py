"""Reference data from `fixtures/`: the 63 provinces of 2021, their voters, geometry and history.

Pure file reading, no database: the server, the simulator, the figures and the tests all
load the same files through these functions. Codes are GSO two-digit strings ("01").
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str
    """Short Vietnamese name, as on the board ("Hà Nội")."""
    name_full: str
    name_en: str
    region3: str
    """North / Central / South (the agency's three supervising hubs)."""
    region6: str
    registered: int
    """Registered voters (`registered_2021.csv`): the official figure for the 5 provinces
    that have one, otherwise the population-share estimate of `voters_2021_est.csv`
    rescaled so that the 63 sum to the NEC total 69,523,133 (see `registered_is_estimate`)."""
    registered_is_estimate: bool
    na_units: int
    na_seats: int


def _rows(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def provinces() -> tuple[Province, ...]:
    """The 63 provinces in GSO code order."""
    registered = {r["code"]: r for r in _rows("registered_2021.csv")}
    out = []
    for r in _rows("provinces_2021.csv"):
        v = registered[r["code"]]
        out.append(
            Province(
                code=r["code"],
                name=r["name_vi_short"],
                name_full=r["name_vi"],
                name_en=r["name_en"],
                region3=r["region3"],
                region6=r["region6_code"],
                registered=int(v["registered"]),
                registered_is_estimate=v["source"] == "estimate",
                na_units=int(r["na_units"]),
                na_seats=int(r["na_seats"]),
            )
        )
    return tuple(sorted(out, key=lambda p: p.code))


@cache
def province_index() -> dict[str, Province]:
    return {p.code: p for p in provinces()}


@cache
def tile_grid() -> dict[str, tuple[int, int]]:
    """code → (row, col); row 0 is the north, col 0 the west."""
    return {r["code"]: (int(r["row"]), int(r["col"])) for r in _rows("tile_grid_2021.csv")}


@cache
def geometry() -> dict:
    """GeoJSON FeatureCollection of the 63 provinces, rings clockwise (what Plotly needs).
    Hoàng Sa is part of 48 Đà Nẵng and Trường Sa of 56 Khánh Hòa."""
    with open(FIXTURES / "vn_provinces_2021.geojson", encoding="utf-8") as f:
        return json.load(f)


@cache
def na_history() -> tuple[dict, ...]:
    """NA elections I–XV: term_roman, date, voters, turnout_pct (float or None), seats."""
    out = []
    for r in _rows("na_history.csv"):
        out.append(
            {
                "term": int(r["term"]),
                "term_roman": r["term_roman"],
                "date": r["date"],
                "voters": int(r["voters"]) if r["voters"] else None,
                "turnout_pct": float(r["turnout_pct"]) if r["turnout_pct"] else None,
                "seats": int(r["seats"]) if r["seats"] else None,
            }
        )
    return tuple(out)


COMPOSITION_COLUMNS = (
    "deputies",
    "women",
    "ethnic_minority",
    "non_party",
    "under_40",
    "former_deputy",
    "first_time",
    "self_nominated",
    "religious",
)
"""The counts of `composition_history()` (`religious` is not a column of the CSV: always None)."""


@cache
def composition_history() -> tuple[dict, ...]:
    """The make-up of the elected Assembly, one row per term (XIII 2011, XIV 2016, XV 2021),
    as the National Election Council reported it (`na_composition_history.csv`, see
    DATA-README.md): `term` (roman), `year`, the `COMPOSITION_COLUMNS` counts (None where
    no source gave the figure, never 0) and the row's `source`."""
    out = []
    for r in _rows("na_composition_history.csv"):
        row: dict = {"term": r["term"], "year": int(r["year"]), "source": r["source"]}
        for column in COMPOSITION_COLUMNS:
            raw = (r.get(column) or "").strip()
            row[column] = int(raw) if raw else None
        out.append(row)
    return tuple(out)


@cache
def checkpoints() -> tuple[dict, ...]:
    """Published 2021 turnout checkpoints (national and provincial) that carry a figure."""
    out = []
    for r in _rows("checkpoints_2021.csv"):
        if not r["turnout_pct"]:
            continue
        out.append(
            {
                "scope": r["scope"],
                "time": r["time_local"],
                "turnout_pct": float(r["turnout_pct"]),
                "voted": int(r["voted"]) if r["voted"] else None,
                "registered": int(r["registered"]) if r["registered"] else None,
            }
        )
    return tuple(out)


@cache
def districts(code: str) -> tuple[str, ...]:
    """District-level names of a province (quận, huyện, thị xã, thành phố thuộc tỉnh) as
    listed in its NA electoral units (`na_units_2021.csv`), without the type word, in the
    order of the units: ("Ba Đình", "Đống Đa", …). NFC-normalised (a few source rows are not).
    Hoàng Sa is left out."""
    out: list[str] = []
    for r in _rows("na_units_2021.csv"):
        if r["code"] != code:
            continue
        text = unicodedata.normalize("NFC", r["unit_description_vi"]).strip().rstrip(".")
        text = re.sub(r"^Gồm\s+", "", text)
        for piece in re.split(r",|\s+và\s+", text):
            piece = piece.strip()
            m = re.match(
                r"^(?:các\s+)?(?:thành phố|thị xã|quận|huyện đảo|huyện)(?:\s*:\s*|\s+)(.+)$",
                piece,
            )
            name = m.group(1).strip() if m and not re.match(r"^Quận\s+\d", piece) else piece
            if name and name != "Hoàng Sa" and name not in out:
                out.append(name)
    return tuple(out)


NATIONAL_REGISTERED_2021 = 69_523_133
