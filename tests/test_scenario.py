"""The simulated election day (fixtures/scenarios/election_day_2021.json) and the registered
voters it rests on: the published figures are hit and every event is a valid report.

Plain functions over files: no database, no server.
"""

from __future__ import annotations

import ast
import csv
import unicodedata
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import pytest

from ingest import fixtures as fx
from ingest import scenario as sc

ROOT = Path(__file__).resolve().parent.parent
CODES = {p.code for p in fx.provinces()}
TAGS = {
    "remote", "island", "border", "ethnic", "industrial", "first_time_voters", "elderly",
    "disabled", "transient", "abroad",
}  # fmt: skip
WINDOW_START = datetime.fromisoformat("2021-05-13T00:00:00+07:00")
WINDOW_END = datetime.fromisoformat("2021-06-13T23:59:59+07:00")


@cache
def scenario() -> dict:
    return sc.load()


def at(hhmm: str) -> str:
    return f"2021-05-23T{hhmm}:00+07:00"


def turnout_events(code: str) -> list[tuple[int, dict]]:
    """A province's turnout reports as (file position, event), ordered by as_of then file."""
    evs = [
        (i, e)
        for i, e in enumerate(scenario()["events"])
        if e["kind"] == "turnout" and e["province"] == code
    ]
    return sorted(evs, key=lambda x: (datetime.fromisoformat(x[1]["t"]), x[0]))


def displayed(voted: int, registered: int, like: Decimal) -> Decimal:
    """voted/registered in %, rounded half up to as many decimals as `like` has."""
    q = Decimal(1).scaleb(like.as_tuple().exponent)
    return (Decimal(voted) * 100 / Decimal(registered)).quantize(q, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- registered


def test_registered_csv_sums_to_nec_total():
    with open(ROOT / "fixtures" / "registered_2021.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["code"] for r in rows] == sorted(CODES)
    assert sum(int(r["registered"]) for r in rows) == 69_523_133
    official = {r["code"]: int(r["registered"]) for r in rows if r["source"] == "official"}
    assert official == {
        "04": 370_409, "12": 269_660, "40": 2_095_831, "79": 5_455_060, "93": 545_358,
    }  # fmt: skip
    assert {r["source"] for r in rows} == {"official", "estimate"}
    # The file is what the builder makes.
    assert [
        {"code": r["code"], "registered": int(r["registered"]), "source": r["source"]} for r in rows
    ] == sc.build_registered(write=False)


def test_provinces_take_registered_from_the_csv():
    ps = fx.provinces()
    assert len(ps) == 63
    assert sum(p.registered for p in ps) == fx.NATIONAL_REGISTERED_2021 == 69_523_133
    assert sum(p.registered_is_estimate for p in ps) == 58
    assert fx.province_index()["79"].registered == 5_455_060
    assert not fx.province_index()["79"].registered_is_estimate


# --------------------------------------------------------------------------- national figures


def test_all_63_provinces_report_turnout_on_the_bureau_schedule():
    grid = [f"{h:02d}:00" for h in range(8, 18)] + ["17:30", "18:00", "18:30", "19:00"]
    for code in CODES:
        evs = turnout_events(code)
        times = {e["t"] for _, e in evs}
        for hhmm in grid:
            assert at(hhmm) in times, (code, hhmm)
        last_plain = [e for _, e in evs if not e["data"].get("correction")][-1]
        assert at("21:00") <= last_plain["t"] <= at("22:00"), code


def test_national_at_1730_is_95_65_with_63_reporting():
    x = sc.expected_at(scenario(), at("17:30"))
    assert x["provinces_reporting"] == 63
    assert x["registered"] == 69_523_133
    assert sc.pct_2dp(x["voted"], x["registered"]) == Decimal("95.65")
    for code in CODES:  # each province has a figure *for* 17:30
        assert any(e["t"] == at("17:30") for _, e in turnout_events(code)), code


def test_final_is_the_nec_result():
    x = sc.expected_final(scenario())
    assert x["voted"] == 69_243_604
    assert x["registered"] == 69_523_133
    assert x["provinces_reporting"] == 63
    assert sc.pct_2dp(x["voted"], x["registered"]) == Decimal("99.60")
    # The evening after the last report changes nothing.
    assert sc.expected_at(scenario(), "2021-06-13T23:59:00+07:00") == x


def test_expected_at_derives_percentages_half_up():
    assert sc.voted_from_pct(99.99, 545_358) == 545_303  # 545,303.4
    assert sc.voted_from_pct(50, 3) == 2  # 1.5 rounds up
    mini = {
        "events": [
            {"t": at("09:00"), "province": "93", "kind": "turnout", "data": {"voted": 10}},
            {"t": at("10:00"), "province": "93", "kind": "turnout",
             "data": {"turnout_pct": 50, "registered": 3}},
            {"t": at("10:00"), "province": "93", "kind": "turnout",
             "data": {"voted": 1, "registered": 3, "correction": True}},
        ]
    }  # fmt: skip
    assert sc.expected_at(mini, at("09:30"))["voted"] == 10
    assert sc.expected_at(mini, at("08:00"))["provinces_reporting"] == 0
    assert sc.expected_final(mini) == {
        "voted": 1, "registered": 3, "turnout_pct": 100 / 3, "provinces_reporting": 1,
    }  # fmt: skip


# --------------------------------------------------------------------------- checkpoints


def test_every_provincial_checkpoint_is_kept_or_skipped_with_a_reason():
    meta = scenario()["checkpoints"]
    kept = {(k["scope"], k["time"]) for k in meta["kept"]}
    skipped = {(s["scope"], s["time"]): s["reason"] for s in meta["skipped"]}
    for cp in fx.checkpoints():
        if cp["scope"] == "national":
            continue
        key = (cp["scope"], cp["time"])
        assert (key in kept) != (key in skipped), key
    assert all(len(r) > 20 for r in skipped.values())
    assert len(kept) >= 60
    assert scenario()["description"].count("Skipped:") == 1


def test_kept_checkpoints_are_hit_exactly():
    finals = sc.latest_turnout(scenario())
    for k in scenario()["checkpoints"]["kept"]:
        code, want = k["scope"], Decimal(str(k["turnout_pct"]))
        if k["time"] == "final":
            candidates = [finals[code]]
        else:
            candidates = [
                e
                for _, e in turnout_events(code)
                if e["t"] == at(k["time"]) and not e["data"].get("correction")
            ]
        assert len(candidates) == 1, k
        data = candidates[0]["data"]
        if "turnout_pct" in data:
            assert Decimal(str(data["turnout_pct"])) == want, k
        else:
            voted, registered = sc.report_voted(data, code)
            assert displayed(voted, registered, want) == want, k


def test_nec_1730_list_and_bounds():
    latest = sc.latest_turnout(scenario(), at("17:30"))
    pcts = {c: sc.pct_2dp(*sc.report_voted(e["data"], c)) for c, e in latest.items()}
    assert max(pcts.values()) == Decimal("99.92")  # Hà Giang, the NEC's highest
    assert pcts["02"] == Decimal("99.92")
    assert min(pcts.values()) >= Decimal("84")  # the NEC's lowest was 84 %


# --------------------------------------------------------------------------- per-province rules


def test_turnout_never_falls_without_a_correction():
    corrections = []
    for code in CODES:
        prev = None
        for _, e in turnout_events(code):
            voted, registered = sc.report_voted(e["data"], code)
            assert voted <= registered, e
            assert voted <= fx.province_index()[code].registered, e
            if e["data"].get("correction"):
                assert prev is not None and voted < prev, e
                corrections.append(e)
            else:
                assert prev is None or voted >= prev, e
            prev = voted
    assert len(corrections) >= 2
    # one corrected at the same as_of, one later
    same = later = 0
    for c in corrections:
        evs = [e for _, e in turnout_events(c["province"])]
        before = evs[evs.index(c) - 1]
        same += before["t"] == c["t"]
        later += before["t"] < c["t"]
    assert same >= 1 and later >= 1


def test_completion_rises_to_all_areas():
    by_code: dict[str, list[dict]] = {}
    for e in scenario()["events"]:
        if e["kind"] == "completion":
            by_code.setdefault(e["province"], []).append(e)
    assert set(by_code) == CODES
    total = 0
    for code, evs in by_code.items():
        done = [e["data"]["areas_done"] for e in evs]
        assert done == sorted(done), code
        assert len({e["data"]["areas_total"] for e in evs}) == 1, code
        last = evs[-1]["data"]
        assert last["areas_done"] == last["areas_total"], code
        assert (
            last.get("units_done") == last.get("units_total") == fx.province_index()[code].na_units
        )
        total += last["areas_total"]
    assert total == 84_700
    done_1730 = 0
    for evs in by_code.values():
        upto = [e for e in evs if e["t"] <= at("17:30")]
        done_1730 += upto[-1]["data"]["areas_done"]
    assert done_1730 == 31_985


def test_revotes_include_hanois_two_commune_units():
    revotes = [e for e in scenario()["events"] if e["kind"] == "revote"]
    units = {(e["province"], e["data"]["unit"]): [] for e in revotes}
    for e in revotes:
        units[(e["province"], e["data"]["unit"])].append(e["data"].get("status", "announced"))
    hoang_long = [k for k in units if k[0] == "01" and "Hoàng Long" in k[1]]
    trang_viet = [k for k in units if k[0] == "01" and "Tráng Việt" in k[1]]
    assert len(hoang_long) == len(trang_viet) == 1
    assert {e["data"]["reason"] for e in revotes if "Hoàng Long" in e["data"]["unit"]} == {"other"}
    assert {e["data"]["reason"] for e in revotes if "Tráng Việt" in e["data"]["unit"]} == {
        "violation"
    }
    assert units[hoang_long[0]][-1] == "held"
    assert {"announced", "scheduled", "held", "cancelled"} <= {
        s for statuses in units.values() for s in statuses
    }


def test_notes_cover_special_voters_and_early_voting():
    notes = [e for e in scenario()["events"] if e["kind"] == "note"]
    tags = {t for e in notes for t in e["data"].get("tags", [])}
    assert {"remote", "island", "border", "ethnic", "first_time_voters", "elderly",
            "disabled"} <= tags  # fmt: skip
    early = [e for e in notes if e["t"] < "2021-05-23"]
    assert len(early) >= 5
    assert any("island" in e["data"].get("tags", []) for e in early)
    audiences = [e["data"].get("audience", "public") for e in notes]
    assert audiences.count("public") > 3 * audiences.count("internal") > 0
    security = [e for e in scenario()["events"] if e["kind"] == "security"]
    sec_aud = [e["data"].get("audience", "internal") for e in security]
    assert sec_aud.count("internal") > 2 * sec_aud.count("public") > 0
    assert {e["data"]["severity"] for e in security} == {"info", "watch", "incident"}


# --------------------------------------------------------------------------- the file as a whole


def test_size_order_ids_and_times():
    s = scenario()
    assert s["date"] == "2021-05-23" and s["zone"] == "+07:00" and s["name"]
    evs = s["events"]
    assert 1000 <= len(evs) <= 1500
    ids = [e["id"] for e in evs]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 5 for i in ids)
    times = [datetime.fromisoformat(e["t"]) for e in evs]
    assert times == sorted(times)
    for e, t in zip(evs, times, strict=True):
        assert e["t"].endswith("+07:00"), e
        assert WINDOW_START <= t <= WINDOW_END, e
        assert set(e) == {"t", "province", "id", "kind", "data"}, e
        assert e["province"] in CODES, e
    kinds = {e["kind"] for e in evs}
    assert kinds == {"turnout", "completion", "revote", "security", "note"}


def test_build_is_deterministic_and_matches_the_file():
    assert sc.build(sc.DEFAULT_SEED) == scenario()
    other = sc.build(7)
    assert other["events"] != scenario()["events"]
    fin = sc.expected_final(other)
    assert (fin["voted"], fin["registered"]) == (69_243_604, 69_523_133)
    x = sc.expected_at(other, at("17:30"))
    assert sc.pct_2dp(x["voted"], x["registered"]) == Decimal("95.65")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _text(x) -> bool:
    return isinstance(x, str) and x.strip() != "" and unicodedata.is_normalized("NFC", x)


def _validate(e: dict) -> None:
    kind, d = e["kind"], e["data"]
    assert isinstance(d, dict)
    if kind == "turnout":
        assert set(d) <= {"voted", "turnout_pct", "registered", "correction"}
        assert ("voted" in d) != ("turnout_pct" in d)
        if "voted" in d:
            assert _is_int(d["voted"]) and d["voted"] >= 0
        else:
            assert _is_num(d["turnout_pct"]) and 0 <= d["turnout_pct"] <= 100
        if "registered" in d:
            assert _is_int(d["registered"]) and d["registered"] > 0
        if "correction" in d:
            assert d["correction"] is True
        voted, registered = sc.report_voted(d, e["province"])
        assert voted <= registered
    elif kind == "completion":
        assert set(d) <= {"areas_done", "areas_total", "units_done", "units_total"}
        assert _is_int(d["areas_done"]) and _is_int(d["areas_total"])
        assert 0 <= d["areas_done"] <= d["areas_total"] and d["areas_total"] > 0
        assert ("units_done" in d) == ("units_total" in d)
        if "units_done" in d:
            assert _is_int(d["units_done"]) and _is_int(d["units_total"])
            assert 0 <= d["units_done"] <= d["units_total"]
    elif kind == "revote":
        assert set(d) <= {"unit", "level", "reason", "note", "status"}
        assert _text(d["unit"])
        assert d["level"] in {"na", "province", "district", "commune"}
        assert d["reason"] in {
            "turnout_below_half", "insufficient_elected", "violation", "other",
        }  # fmt: skip
        assert "note" not in d or _text(d["note"])
        assert d.get("status", "announced") in {"announced", "scheduled", "held", "cancelled"}
    elif kind == "security":
        assert set(d) <= {"severity", "category", "text", "location", "audience"}
        assert d["severity"] in {"info", "watch", "incident"}
        assert d["category"] in {"security", "order", "traffic", "weather", "health", "other"}
        assert _text(d["text"])
        assert "location" not in d or _text(d["location"])
        assert d.get("audience", "internal") in {"internal", "public"}
    elif kind == "note":
        assert set(d) <= {"text", "tags", "audience"}
        assert _text(d["text"])
        if "tags" in d:
            assert isinstance(d["tags"], list) and d["tags"]
            assert set(d["tags"]) <= TAGS
        assert d.get("audience", "public") in {"internal", "public"}
    else:
        raise AssertionError(kind)


def test_every_event_is_a_valid_report():
    for e in scenario()["events"]:
        try:
            _validate(e)
        except AssertionError as exc:
            pytest.fail(f"{e}: {exc}")


def test_vietnamese_text_keeps_its_diacritics():
    texts = [
        e["data"][k]
        for e in scenario()["events"]
        for k in ("text", "unit", "note", "location")
        if k in e["data"]
    ]
    joined = " ".join(texts)
    for word in ("cử tri", "bầu cử", "Hoàng Long", "Tráng Việt", "đảo", "Trường Sa"):
        assert word in joined, word
    assert "Ã" not in joined and "\ufffd" not in joined  # no mojibake
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)


def test_ingest_stays_independent_of_server_and_dashboards():
    for name in ("scenario.py", "fixtures.py"):
        tree = ast.parse((ROOT / "ingest" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            for m in mods:
                assert m.split(".")[0] not in {"server", "dashboards", "asyncpg"}, (name, m)


def test_districts_come_from_the_unit_descriptions():
    hanoi = fx.districts("01")
    assert len(hanoi) == 30 and {"Ba Đình", "Phú Xuyên", "Mê Linh"} <= set(hanoi)
    assert "Vĩnh Tường" in fx.districts("26")  # a source row that is not NFC
    assert "Hoàng Sa" not in fx.districts("48")
    for p in fx.provinces():
        names = fx.districts(p.code)
        assert len(names) >= 6, p.code
        assert all(unicodedata.is_normalized("NFC", n) and ":" not in n for n in names)
