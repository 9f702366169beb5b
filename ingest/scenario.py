"""The simulated election day of 23 May 2021: builder, loader and independent checks.

The scenario is a data file, `fixtures/scenarios/election_day_2021.json`, that the simulator
replays over `/ws/bureau` and the tests read. Each event is one bureau report of the wire
contract (`docs`: protocol §1) plus the moment `t` it describes (its `as_of`, also when the
simulator sends it) and the province it is sent for.

    python -m ingest.scenario registered      # writes fixtures/registered_2021.csv
    python -m ingest.scenario build [--seed N] [--out PATH]
    python -m ingest.scenario summary [PATH]  # national figure through the day

The turnout curves are generated (seeded, deterministic) but pass exactly through the
published figures: the national 95.65 % at 17:30 with 63/63 provinces reporting, the final
69,243,604 / 69,523,133 and the provincial checkpoints of `checkpoints_2021.csv` that are
consistent with one another (the skipped ones, and why, are listed in the file).

Pure file work: no database, no server or dashboard imports.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import math
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from ingest import fixtures as fx

ZONE = timezone(timedelta(hours=7))
DAY0 = datetime(2021, 5, 23, tzinfo=ZONE)
"""Midnight at the start of election day; scenario times are minutes from here."""
WINDOW = (datetime(2021, 5, 13, tzinfo=ZONE), datetime(2021, 6, 13, 23, 59, 59, tzinfo=ZONE))
"""The 2021 election window of the contract: accepted `as_of` values."""

SCENARIOS = fx.FIXTURES / "scenarios"
DEFAULT_PATH = SCENARIOS / "election_day_2021.json"
REGISTERED_PATH = fx.FIXTURES / "registered_2021.csv"
DEFAULT_SEED = 20210523
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://votewire.invalid/scenarios/election_day_2021")

NATIONAL_REGISTERED = fx.NATIONAL_REGISTERED_2021  # 69,523,133 (NEC, 10/6/2021)
NATIONAL_VOTED = 69_243_604  # NEC, 10/6/2021: 99.60 %
NATIONAL_PCT_1730 = Decimal("95.65")  # NEC preliminary, 63/63 provinces
AREAS_TOTAL = 84_700  # "hơn 84.700 khu vực bầu cử"; the exact count was not found
AREAS_DONE_1730 = 31_985  # NEC: 31,985 election teams at 100 % by 17:30

KINDS = ("turnout", "completion", "revote", "security", "note")


# --------------------------------------------------------------------------- small helpers


def hm(h: int, m: int = 0) -> int:
    """Minutes from midnight of 23 May (may exceed 24 h for the small hours of 24 May)."""
    return h * 60 + m


def iso(minutes: int) -> str:
    return (DAY0 + timedelta(minutes=minutes)).isoformat()


def minutes_of(t: str | datetime) -> int:
    dt = datetime.fromisoformat(t) if isinstance(t, str) else t
    return int((dt - DAY0).total_seconds() // 60)


def round_half_up(x: Fraction | Decimal) -> int:
    if isinstance(x, Fraction):
        return math.floor(x + Fraction(1, 2))
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pct_decimal(pct: float | int | str) -> Decimal:
    """The decimal a JSON number stands for (74.79, not 74.7899999…)."""
    return Decimal(str(pct))


def voted_from_pct(pct: float | int | str, registered: int) -> int:
    """The contract's derivation: round(turnout_pct × registered / 100), halves up."""
    return round_half_up(pct_decimal(pct) * registered / 100)


def pct_2dp(voted: int, registered: int) -> Decimal:
    """A turnout as displayed: 2 decimals, halves up (exact, no float)."""
    return (Decimal(voted) * 100 / Decimal(registered)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def largest_remainder(quotas: dict[str, Fraction], total: int) -> dict[str, int]:
    """Integers summing to `total`, each the floor of its quota or one more (Hamilton's
    method); ties go to the earlier key, so the result is deterministic."""
    floors = {k: math.floor(q) for k, q in quotas.items()}
    rest = total - sum(floors.values())
    if not 0 <= rest <= len(quotas):
        raise ValueError(f"quotas do not add up to {total}")
    order = sorted(quotas, key=lambda k: (-(quotas[k] - floors[k]), k))
    for k in order[:rest]:
        floors[k] += 1
    return floors


# --------------------------------------------------------------------------- registered voters


def build_registered(write: bool = True, path: Path = REGISTERED_PATH) -> list[dict]:
    """Registered voters per province for the simulation: the official figure for the 5
    provinces that have one, the population-share estimate for the other 58, rescaled by
    largest remainder so that the 63 sum to the NEC total 69,523,133."""
    rows = fx._rows("voters_2021_est.csv")
    official = {
        r["code"]: int(r["voters_registered_official"])
        for r in rows
        if r["voters_registered_official"].strip()
    }
    others = {r["code"]: int(r["population"]) for r in rows if r["code"] not in official}
    remaining = NATIONAL_REGISTERED - sum(official.values())
    pop = sum(others.values())
    est = largest_remainder({c: Fraction(p * remaining, pop) for c, p in others.items()}, remaining)
    out = []
    for r in sorted(rows, key=lambda r: r["code"]):
        c = r["code"]
        if c in official:
            out.append({"code": c, "registered": official[c], "source": "official"})
        else:
            out.append({"code": c, "registered": est[c], "source": "estimate"})
    assert len(out) == 63 and sum(r["registered"] for r in out) == NATIONAL_REGISTERED
    if write:
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["code", "registered", "source"], lineterminator="\n")
            w.writeheader()
            w.writerows(out)
    return out


# --------------------------------------------------------------------------- the day's shape

URBAN = {"01", "79", "31", "48", "92"}
INDUSTRIAL = {"74", "75", "27", "24", "26", "77", "33", "80"}
MOUNTAIN = {"02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "20", "62", "64", "67"}

GRID = [hm(h) for h in range(8, 18)] + [hm(17, 30), hm(18), hm(18, 30), hm(19)]
"""Every bureau's turnout checkpoints: hourly 08:00–17:00, then every half hour to 19:00."""
FINAL_CHOICES = [hm(21), hm(21, 15), hm(21, 30), hm(21, 45), hm(22)]

START, END = hm(6), hm(23)
"""The shape runs from 06:00 (some teams open before 07:00) to 23:00 (late tallies)."""


class Shape:
    """Cumulative share B(t) of a province's day, 0 at 06:00 and 1 at 23:00: a morning rush
    (Vietnamese voters mostly vote early), a long decaying tail through the afternoon
    (workers, mobile ballot boxes), an evening trickle to the 19:00 close, a little until
    21:00 (teams allowed to close late) and a sliver of late tallying."""

    def __init__(self, rng: random.Random, code: str) -> None:
        urban = code in URBAN or code in INDUSTRIAL
        mountain = code in MOUNTAIN
        mu_m = rng.uniform(8.6, 9.4) if urban else rng.uniform(8.0, 8.8)
        if mountain:
            mu_m -= 0.3
        sd_m = rng.uniform(1.1, 1.5) if urban else rng.uniform(0.9, 1.3)
        w_t = rng.uniform(0.30, 0.45) if urban else rng.uniform(0.15, 0.30)
        tau = rng.uniform(2.5, 4.0)
        w_e = rng.uniform(0.03, 0.06) if urban else rng.uniform(0.01, 0.03)
        w_l = rng.uniform(0.001, 0.003)
        w_x = 0.0001
        cum = [0.0]
        for m in range(START, END):
            h = (m + 0.5) / 60
            r = math.exp(-0.5 * ((h - mu_m) / sd_m) ** 2) / sd_m
            # the long tail of the day: those who vote after the morning rush
            if h < 19:
                r += w_t * math.exp(-max(0.0, h - mu_m) / tau) / (1 + math.exp(-(h - mu_m) / 0.5))
            if 17 <= h < 19:
                r += w_e
            elif 19 <= h < 21:
                r += w_l
            elif h >= 21:
                r += w_x
            if h < 7:
                r *= 0.25  # before the official opening only a few teams have started
            cum.append(cum[-1] + r)
        self.cum = [c / cum[-1] for c in cum]

    def __call__(self, minutes: float) -> float:
        x = min(max(minutes, START), END) - START
        i = min(int(x), END - START - 1)
        return self.cum[i] + (self.cum[i + 1] - self.cum[i]) * (x - i)


def warp(shape: Shape, anchors: list[tuple[int, float]], minutes: int) -> float:
    """Turnout (%) at `minutes`: between two anchors the curve follows the province's
    shape, scaled to join them exactly; monotone whenever the anchors are."""
    times = [a[0] for a in anchors]
    i = bisect.bisect_right(times, minutes) - 1
    if i < 0:
        return anchors[0][1]
    if i >= len(anchors) - 1:
        return anchors[-1][1]
    (t0, y0), (t1, y1) = anchors[i], anchors[i + 1]
    b0, b1 = shape(t0), shape(t1)
    return y0 + (y1 - y0) * (shape(minutes) - b0) / (b1 - b0)


# --------------------------------------------------------------------------- checkpoints

# Published provincial figures are hit exactly unless listed here.
SKIPPED_CHECKPOINTS = {
    ("46", "22:00"): (
        "NEC 22:00 list gives 99.90, below the province's own 99.901 at 19:00 (the NEC "
        "rounded to 2 decimals); kept the provincial 19:00 figure, a 22:00 report of 99.90 "
        "would be a regression"
    ),
}
SKIPPED_NATIONAL = [
    {
        "scope": "national",
        "time": "17:30",
        "voted": 66_213_984,
        "reason": (
            "the NEC count at 17:30 came with no registered total (it implies about 69.2 "
            "million); the scenario hits the published 95.65 % against 69,523,133 "
            "registered, i.e. 66,498,877 voted"
        ),
    },
    {
        "scope": "national",
        "time": "22:00",
        "turnout_pct": 98.43,
        "reason": (
            "NEC figure from 44/63 provinces on a base of 68,709,092; in the contract's "
            "picture all 63 provinces have reported since 17:30, so the 22:00 national "
            "figure is the 63-province one (about 99.6 %)"
        ),
    },
    {
        "scope": "national",
        "time": "17:00",
        "reason": "flag row without a value (a 2016 figure on a 2021 tag page)",
    },
]
# Figures from facts_2021.md that are not in checkpoints_2021.csv, used as final targets.
FACT_FINALS = {"38": 99.75, "51": 99.63}
# Checkpoints whose source counts are against the registered total we use (official
# figures): sent as `voted` counts instead of percentages.
COUNT_CHECKPOINTS = {("79", "19:00"), ("93", "21:00"), ("04", "final")}


def _checkpoint_minutes(time: str) -> int | None:
    if time == "final":
        return None
    h, m = time.split(":")
    return hm(int(h), int(m))


# --------------------------------------------------------------------------- polling areas

KNOWN_AREAS = {
    # Polling areas (khu vực bỏ phiếu / tổ bầu cử) stated in the sources of checkpoints_2021.
    "01": 4831, "08": 1342, "12": 867, "20": 1562, "22": 1438, "24": 1948, "30": 1787,
    "40": 3209, "42": 1445, "46": 930, "49": 1532, "51": 1182, "56": 961, "64": 1437,
    "66": 1802, "74": 1100, "75": 1492, "87": 1065,
}  # fmt: skip
KNOWN_DONE = [
    # (province, time, areas at 100 % / finished), from checkpoints_2021.csv notes.
    ("01", hm(16, 30), 829), ("01", hm(18, 30), 2074), ("01", hm(19, 30), 2602),
    ("08", hm(15), 584), ("08", hm(17), 940), ("08", hm(19), 1263),
    ("22", hm(13), 525), ("40", hm(15), 613), ("20", hm(17), 1303), ("51", hm(17), 946),
    ("56", hm(13), 266), ("46", hm(19), 908), ("66", hm(21), 1721), ("77", hm(12, 45), 105),
]  # fmt: skip


def polling_areas(registered: dict[str, int]) -> dict[str, int]:
    """areas_total per province: the stated count where a source gives one, the rest of the
    national ~84,700 split by registered share."""
    rest = AREAS_TOTAL - sum(KNOWN_AREAS.values())
    others = {c: r for c, r in registered.items() if c not in KNOWN_AREAS}
    tot = sum(others.values())
    split = largest_remainder({c: Fraction(r * rest, tot) for c, r in others.items()}, rest)
    return {c: KNOWN_AREAS.get(c) or split[c] for c in sorted(registered)}


# --------------------------------------------------------------------------- texts

ISLANDS = {
    "22": "Cô Tô", "31": "Bạch Long Vĩ", "45": "Cồn Cỏ", "51": "Lý Sơn", "60": "Phú Quý",
    "91": "Kiên Hải", "77": "Côn Đảo", "56": "Trường Sa",
}  # fmt: skip
BORDER = {
    "02", "04", "10", "11", "12", "14", "20", "22", "38", "40", "42", "44", "45", "46", "49",
    "62", "64", "66", "67", "70", "72", "80", "87", "89", "91",
}  # fmt: skip
ETHNIC = MOUNTAIN | {"19", "25", "38", "40", "49", "58", "66", "68", "84", "89", "94"}

NOTE_TEMPLATES = {
    "opening": (
        "Lễ khai mạc bầu cử diễn ra trang trọng; cử tri đeo khẩu trang, sát khuẩn tay và "
        "giữ khoảng cách theo quy định phòng, chống dịch COVID-19.",
        [],
    ),
    "elderly": (
        "Nhiều cử tri cao tuổi đến điểm bỏ phiếu từ sớm; tổ bầu cử mang hòm phiếu phụ đến "
        "nhà những cử tri già yếu, ốm đau không thể đến điểm bỏ phiếu.",
        ["elderly"],
    ),
    "disabled": (
        "Tổ bầu cử bố trí lối đi và người hỗ trợ cho cử tri khuyết tật; cử tri không tự "
        "viết được phiếu nhờ người khác viết hộ theo quy định.",
        ["disabled"],
    ),
    "first_time": (
        "Nhiều cử tri trẻ lần đầu đi bầu cử, tìm hiểu kỹ tiểu sử người ứng cử dán tại điểm "
        "bỏ phiếu trước khi bỏ lá phiếu đầu tiên.",
        ["first_time_voters"],
    ),
    "ethnic": (
        "Đồng bào dân tộc thiểu số mặc trang phục truyền thống, đi từ sáng sớm đến điểm bỏ "
        "phiếu ở trung tâm bản.",
        ["ethnic", "remote"],
    ),
    "border": (
        "Cán bộ, chiến sĩ Bộ đội Biên phòng và cử tri các xã biên giới hoàn thành bỏ phiếu "
        "trong buổi sáng.",
        ["border"],
    ),
    "remote": (
        "Tổ bầu cử mang hòm phiếu phụ vượt đường đồi dốc đến các thôn, bản xa trung tâm xã.",
        ["remote"],
    ),
    "industrial": (
        "Công nhân các khu công nghiệp được bố trí thời gian đi bầu; cử tri tạm trú được ghi "
        "tên vào danh sách cử tri nơi tạm trú.",
        ["industrial", "transient"],
    ),
    "first_100": (
        "Khu vực bỏ phiếu đầu tiên của tỉnh đạt 100% cử tri đi bầu.",
        [],
    ),
}
NOTE_WINDOWS = {
    # When in the day each kind of note is filed.
    "opening": (hm(7), hm(7)),
    "elderly": (hm(7, 30), hm(10, 30)),
    "disabled": (hm(8), hm(15)),
    "first_time": (hm(7, 30), hm(12)),
    "ethnic": (hm(7), hm(9, 30)),
    "border": (hm(11, 30), hm(13, 30)),
    "remote": (hm(8), hm(15)),
    "industrial": (hm(9), hm(17)),
}
INTERNAL_NOTES = [
    "Số liệu đã đối chiếu với Ủy ban bầu cử tỉnh trước khi gửi.",
    "Ảnh và video khai mạc đã gửi về Ban Biên tập.",
    "Số liệu lúc 17 giờ 30 chờ Ủy ban bầu cử tỉnh xác nhận chính thức.",
    "Phóng viên đã đến điểm bỏ phiếu ở huyện vùng sâu, sóng điện thoại yếu, gửi tin chậm.",
]

SECURITY_TEMPLATES = [
    # (severity, category, text, audience, where it may happen, located in a district?,
    #  (earliest, latest) time of day)
    ("info", "order", "Một số điểm bỏ phiếu đông cử tri đầu giờ sáng; tổ bầu cử phân luồng, "
     "giãn cách, không để tập trung đông người.", "internal", "any", True, (hm(7), hm(9))),
    ("info", "weather", "Nắng nóng gay gắt, nhiệt độ 36–38°C; các tổ bầu cử bố trí mái che, "
     "nước uống cho cử tri.", "internal", "north_central", False, (hm(10), hm(15))),
    ("watch", "weather", "Dự báo mưa dông chiều tối; các tổ bầu cử chuẩn bị bạt che, chuyển hòm "
     "phiếu vào trong nhà khi cần.", "public", "any", False, (hm(12), hm(16))),
    ("watch", "traffic", "Sạt lở cục bộ trên đường vào một xã vùng cao sau mưa; tổ bầu cử đi bộ "
     "mang hòm phiếu phụ đến các thôn.", "internal", "ethnic", False, (hm(7), hm(17))),
    ("info", "traffic", "Lực lượng cảnh sát giao thông phân luồng tại các tuyến đường gần điểm "
     "bỏ phiếu lớn.", "internal", "any", True, (hm(7), hm(18))),
    ("info", "health", "Tổ bầu cử đặc biệt tại khu cách ly y tế: nhân viên mặc đồ bảo hộ, hòm "
     "phiếu lưu động được khử khuẩn sau mỗi lượt.", "public", "any", True, (hm(7), hm(18))),
    ("incident", "health", "Một cử tri lớn tuổi bị mệt tại điểm bỏ phiếu, đã được nhân viên y tế "
     "sơ cứu và đưa về nhà an toàn.", "internal", "any", True, (hm(8), hm(17))),
    ("watch", "security", "Phát hiện một số tài khoản mạng xã hội đăng tin sai sự thật về bầu "
     "cử; cơ quan công an đang xác minh.", "internal", "any", False, (hm(8), hm(18))),
    ("info", "security", "Công an địa phương bố trí lực lượng bảo vệ các điểm bỏ phiếu và nơi "
     "lưu giữ phiếu bầu qua đêm.", "internal", "any", True, (hm(7), hm(12))),
    ("info", "other", "Mất điện cục bộ tại một điểm bỏ phiếu, tổ bầu cử dùng máy phát dự phòng; "
     "bỏ phiếu không bị gián đoạn.", "internal", "any", True, (hm(7), hm(19))),
    ("watch", "order", "Một khu vực bỏ phiếu thiếu phiếu bầu đại biểu HĐND xã, Ủy ban bầu cử "
     "huyện đã bổ sung kịp thời.", "internal", "any", True, (hm(7), hm(16))),
]  # fmt: skip


# --------------------------------------------------------------------------- the builder


class _Events:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.items: list[dict] = []
        self.counter: dict[tuple, int] = {}

    def add(self, minutes: int, province: str, kind: str, data: dict) -> dict:
        t = iso(minutes)
        key = (province, kind, t)
        n = self.counter[key] = self.counter.get(key, 0) + 1
        ev = {
            "t": t,
            "province": province,
            "id": str(uuid.uuid5(NAMESPACE, f"{self.seed}/{province}/{kind}/{t}/{n}")),
            "kind": kind,
            "data": data,
        }
        self.items.append(ev)
        return ev

    def sorted(self) -> list[dict]:
        # Stable: events at the same moment keep the order they were added in.
        return sorted(self.items, key=lambda e: minutes_of(e["t"]))


def _transposed(v: int, limit: int) -> int | None:
    """The largest figure made by swapping two adjacent digits of `v` that is above `v`
    and at most `limit` (a typing slip), or None."""
    s = str(v)
    best = None
    for i in range(1, len(s) - 1):
        w = int(s[:i] + s[i + 1] + s[i] + s[i + 2 :])
        if v < w <= limit and (best is None or w > best):
            best = w
    return best


def _solve_scale(fn, target: float, lo: float = 0.0, hi: float = 1000.0) -> float:
    """Bisection for a monotone (either direction) function of one variable."""
    f_lo, f_hi = fn(lo), fn(hi)
    if (f_lo - target) * (f_hi - target) > 0:
        raise ValueError("target out of reach")
    for _ in range(200):
        mid = (lo + hi) / 2
        if (fn(mid) - target) * (f_lo - target) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _fit_ints(quotas: dict[str, float], bounds: dict[str, tuple[int, int]], total: int) -> dict:
    """Integers near `quotas`, within `bounds`, summing to `total`: floors clamped to the
    bounds, then single units to the largest fractional parts that still have room."""
    out = {k: min(max(math.floor(q), bounds[k][0]), bounds[k][1]) for k, q in quotas.items()}
    frac = {k: quotas[k] - math.floor(quotas[k]) for k in quotas}
    while (rest := total - sum(out.values())) != 0:
        step = 1 if rest > 0 else -1
        room = [k for k in out if bounds[k][0] <= out[k] + step <= bounds[k][1]]
        if not room:
            raise ValueError(f"cannot fit {total} within the bounds")
        room.sort(key=lambda k: (-frac[k] * step, k))
        for k in room[: abs(rest)]:
            out[k] += step
    return out


def build(seed: int = DEFAULT_SEED) -> dict:
    """The scenario as a dict, deterministic for a given seed."""
    rng = random.Random(seed)
    provs = fx.provinces()
    reg = {p.code: p.registered for p in provs}
    codes = sorted(reg)
    ev = _Events(seed)

    # ---- published checkpoints, per province -----------------------------------------
    cps: dict[str, list[dict]] = {c: [] for c in codes}
    kept, skipped = [], [dict(s) for s in SKIPPED_NATIONAL]
    for cp in fx.checkpoints():
        if cp["scope"] == "national":
            continue
        key = (cp["scope"], cp["time"])
        if key in SKIPPED_CHECKPOINTS:
            skipped.append(
                {"scope": cp["scope"], "time": cp["time"], "turnout_pct": cp["turnout_pct"],
                 "reason": SKIPPED_CHECKPOINTS[key]}
            )  # fmt: skip
            continue
        cps[cp["scope"]].append(cp)
        kept.append({"scope": cp["scope"], "time": cp["time"], "turnout_pct": cp["turnout_pct"]})

    shapes = {c: Shape(rng, c) for c in codes}

    # ---- report times and the anchors each curve must pass through -------------------
    final_t: dict[str, int] = {}
    anchors: dict[str, dict[int, dict]] = {c: {} for c in codes}
    # anchor: {"y": pct (float), "voted": int, "form": data dict for the report}
    for c in codes:
        timed = [cp for cp in cps[c] if cp["time"] != "final"]
        last = max((_checkpoint_minutes(cp["time"]) for cp in timed), default=0)
        final_t[c] = max(rng.choice(FINAL_CHOICES), last)
        for cp in cps[c]:
            m = _checkpoint_minutes(cp["time"])
            if m is None:
                m = final_t[c]
            pct = cp["turnout_pct"]
            if (c, cp["time"]) in COUNT_CHECKPOINTS:
                assert cp["registered"] == reg[c], (c, cp)
                data = {"voted": cp["voted"], "registered": cp["registered"]}
                voted = cp["voted"]
            else:
                data = {"turnout_pct": pct}
                if c == "12" and cp["time"] == "final":
                    data["registered"] = reg[c]  # the official 269,660
                voted = voted_from_pct(pct, reg[c])
            if m in anchors[c]:
                assert anchors[c][m]["voted"] == voted, (c, cp)
                continue
            anchors[c][m] = {"y": 100 * voted / reg[c], "voted": voted, "data": data,
                             "checkpoint": cp["time"]}  # fmt: skip
        if c in FACT_FINALS and final_t[c] not in anchors[c]:
            v = voted_from_pct(FACT_FINALS[c], reg[c])
            anchors[c][final_t[c]] = {"y": 100 * v / reg[c], "voted": v, "data": None}

    # ---- final figures: the fixed ones, then the rest sized to the national total -----
    def bounds_pct(c: str, m: int) -> tuple[float, float]:
        before = [a["y"] for t, a in anchors[c].items() if t < m]
        after = [a["y"] for t, a in anchors[c].items() if t > m]
        return max(before, default=0.0), min(after, default=100.0)

    free_final = [c for c in codes if final_t[c] not in anchors[c]]
    fixed_voted = sum(anchors[c][final_t[c]]["voted"] for c in codes if c not in free_final)
    need = NATIONAL_VOTED - fixed_voted  # to be voted in the free provinces
    raw_pct = {}
    for c in free_final:
        if c == "01":  # 99.13 % at 19:30, when polling ended
            raw_pct[c] = 99.2
        elif c in {"24", "40"}:  # COVID-hit Bắc Giang; Nghệ An lowest in a Bộ Nội vụ update
            raw_pct[c] = rng.uniform(97.9, 98.6)
        elif c in URBAN or c in INDUSTRIAL:
            raw_pct[c] = rng.uniform(99.15, 99.6)
        else:
            raw_pct[c] = rng.uniform(99.55, 99.95)
    nv_raw = {c: reg[c] * (100 - raw_pct[c]) / 100 for c in free_final}
    nv_max = {c: reg[c] * (100 - bounds_pct(c, final_t[c])[0]) / 100 for c in free_final}
    # At most 99.98 %; Hà Nội and HCMC published their figure at the close of polling, so
    # their final stays close to it.
    cap = {"01": 99.25, "79": 99.42}
    nv_min = {c: reg[c] * (100 - cap.get(c, 99.98)) / 100 for c in free_final}

    def nonvoters(mu: float) -> dict[str, float]:
        return {c: min(max(mu * nv_raw[c], nv_min[c]), nv_max[c]) for c in free_final}

    nv_target = sum(reg[c] for c in free_final) - need
    mu = _solve_scale(lambda x: sum(nonvoters(x).values()), nv_target, 0.0, 100.0)
    nv = _fit_ints(
        nonvoters(mu),
        {c: (math.ceil(nv_min[c]), math.floor(nv_max[c])) for c in free_final},
        nv_target,
    )
    for c in free_final:
        v = reg[c] - nv[c]
        anchors[c][final_t[c]] = {"y": 100 * v / reg[c], "voted": v, "data": None}

    # ---- 17:30: every province reports; the national figure is 95.65 % ----------------
    t1730 = hm(17, 30)
    target_1730 = round_half_up(NATIONAL_PCT_1730 * NATIONAL_REGISTERED / 100)
    free_1730 = [c for c in codes if t1730 not in anchors[c]]
    fixed_1730 = sum(anchors[c][t1730]["voted"] for c in codes if c not in free_1730)
    nat, nxt, lo_b, hi_b = {}, {}, {}, {}
    for c in free_1730:
        pts = sorted(anchors[c].items())
        prev = max(((t, a["y"]) for t, a in pts if t < t1730), default=(START, 0.0))
        nxt_pt = min(((t, a["y"]) for t, a in pts if t > t1730))
        s = shapes[c]
        nat[c] = prev[1] + (nxt_pt[1] - prev[1]) * (s(t1730) - s(prev[0])) / (
            s(nxt_pt[0]) - s(prev[0])
        )
        nxt[c] = nxt_pt[1]
        lo_b[c] = max(84.0, prev[1] + 0.01)
        hi_b[c] = min(99.9, nxt_pt[1] - 0.01)

    def v1730(lam: float) -> dict[str, float]:
        return {
            c: reg[c] * min(max(nxt[c] - lam * (nxt[c] - nat[c]), lo_b[c]), hi_b[c]) / 100
            for c in free_1730
        }

    lam = _solve_scale(lambda x: sum(v1730(x).values()), target_1730 - fixed_1730, 0.0, 200.0)
    v17 = _fit_ints(
        v1730(lam),
        {
            c: (math.ceil(reg[c] * lo_b[c] / 100), math.floor(reg[c] * hi_b[c] / 100))
            for c in free_1730
        },
        target_1730 - fixed_1730,
    )
    for c in free_1730:
        anchors[c][t1730] = {"y": 100 * v17[c] / reg[c], "voted": v17[c], "data": None}

    # ---- every province's turnout reports ------------------------------------------
    series: dict[str, list[tuple[int, int, dict]]] = {}
    for c in codes:
        pts = sorted(anchors[c].items())
        anc = [(START, 0.0)] + [(t, a["y"]) for t, a in pts]
        ys = [a["y"] for _, a in pts]
        assert ys == sorted(ys), (c, pts)
        times = sorted(set(GRID) | set(anchors[c]) | {final_t[c]})
        times = [t for t in times if t <= final_t[c]]
        out = []
        prev_v = 0
        for t in times:
            if t in anchors[c]:
                a = anchors[c][t]
                v = a["voted"]
                data = dict(a["data"]) if a["data"] else {"voted": v}
            else:
                y = warp(shapes[c], anc, t)
                v = voted_from_pct(f"{y:.9f}", reg[c])
                nxt_v = min(a["voted"] for tt, a in pts if tt > t)
                v = min(max(v, prev_v), nxt_v)
                data = {"voted": v}
            if t == final_t[c] and "turnout_pct" not in data:
                data["registered"] = reg[c]
            assert prev_v <= v <= reg[c], (c, t, v)
            prev_v = v
            out.append((t, v, data))
        series[c] = out

    # ---- deliberate corrections ----------------------------------------------------
    # (a) Nam Định 10:00: a district counted twice; corrected at 10:20 with the right figure.
    # (b) Phú Thọ 14:00: digits transposed; corrected at 14:00 (same as_of, sent after).
    # (c) Bình Định final: one polling area added twice; corrected at 22:20.
    corrections = {
        "36": ("later", hm(10), hm(10, 20)),
        "25": ("same", hm(14), hm(14)),
        "52": ("final", None, hm(22, 20)),
    }
    for c in codes:
        spec = corrections.get(c)
        at = None if spec is None else (final_t[c] if spec[0] == "final" else spec[1])
        for i, (t, v, data) in enumerate(series[c]):
            if t != at:
                ev.add(t, c, "turnout", data)
                continue
            how, _, t_fix = spec
            assert "turnout_pct" not in data, (c, t)
            if how == "later":
                anc = [(START, 0.0)] + sorted((tt, a["y"]) for tt, a in anchors[c].items())
                true_v = voted_from_pct(f"{warp(shapes[c], anc, t_fix):.9f}", reg[c])
                true_v = min(max(true_v, v), series[c][i + 1][1])
                wrong = v + reg[c] // 9  # one district's figure added twice
            elif how == "same":
                true_v = v
                wrong = _transposed(v, reg[c]) or v + reg[c] // 13
            else:
                true_v = v
                wrong = v + 1_137  # one polling area counted twice
            ev.add(t, c, "turnout", {**data, "voted": min(wrong, reg[c])})
            ev.add(t_fix, c, "turnout", {"voted": true_v, "correction": True})

    # ---- completion of polling areas ------------------------------------------------
    areas = polling_areas(reg)
    units = {p.code: p.na_units for p in provs}
    known_done: dict[str, dict[int, int]] = {c: {} for c in codes}
    for c, t, d in KNOWN_DONE:
        known_done[c][t] = d
    v17_pct = {c: anchors[c][t1730]["y"] for c in codes}

    def kd_bounds(c: str, t: int) -> tuple[int, int]:
        lo = max((d for tt, d in known_done[c].items() if tt <= t), default=0)
        hi = min((d for tt, d in known_done[c].items() if tt >= t), default=areas[c])
        return lo, hi

    raw_done = {c: areas[c] * 0.85 * max(0.0, (v17_pct[c] - 80) / 20) ** 2 for c in codes}

    def done1730(nu: float) -> dict[str, float]:
        return {
            c: min(max(nu * raw_done[c], kd_bounds(c, t1730)[0]), kd_bounds(c, t1730)[1])
            for c in codes
        }

    nu = _solve_scale(lambda x: sum(done1730(x).values()), AREAS_DONE_1730, 0.0, 10.0)
    d17 = _fit_ints(done1730(nu), {c: kd_bounds(c, t1730) for c in codes}, AREAS_DONE_1730)
    for c in codes:
        pts = dict(known_done[c])
        pts[t1730] = d17[c]
        tot = areas[c]
        lo19, hi19 = max(d17[c], kd_bounds(c, hm(19))[0]), kd_bounds(c, hm(19))[1]
        if hi19 == tot:
            hi19 = d17[c] + round((tot - d17[c]) * 0.6)
        pts.setdefault(hm(19), lo19 + round((hi19 - lo19) * rng.uniform(0.4, 0.9)))
        d21 = pts[hm(19)] + round((tot - pts[hm(19)]) * rng.uniform(0.55, 0.9))
        pts.setdefault(hm(21), max(d21, kd_bounds(c, hm(21))[0]))
        if c in {"79", "01", "40"}:  # the big counts run into the morning of 24 May
            t_end = hm(24 + 7) + rng.choice([0, 30, 60, 90])
        else:
            t_end = hm(22, 30) + 15 * rng.randrange(0, 15)
        pts[t_end] = tot
        u_tot = units[c]
        prev = -1
        for t in sorted(pts):
            d = pts[t]
            assert prev <= d <= tot, (c, t, d)
            prev = d
            data = {"areas_done": d, "areas_total": tot}
            if t >= hm(21):
                u_done = u_tot if d == tot else min(u_tot - 1, int(u_tot * d / tot * 0.7))
                data.update(units_done=u_done, units_total=u_tot)
            ev.add(t, c, "completion", data)

    # ---- re-votes ------------------------------------------------------------------
    _add_revotes(ev)

    # ---- security, order, traffic, weather -------------------------------------------
    _add_security(ev, rng, codes)

    # ---- notes: atmosphere, special voters, early voting --------------------------------
    _add_notes(ev, rng, codes)

    events = ev.sorted()
    description = _description(seed, skipped)
    return {
        "name": "election_day_2021",
        "title": "Ngày bầu cử 23/5/2021 (mô phỏng)",
        "date": "2021-05-23",
        "zone": "+07:00",
        "seed": seed,
        "description": description,
        "checkpoints": {"kept": kept, "skipped": skipped},
        "events": events,
    }


def _add_revotes(ev: _Events) -> None:
    d = hm
    day = 24 * 60
    # Hà Nội's two real commune-level re-votes, held on 6/6/2021 (times simulated).
    u1 = "Đơn vị bầu cử số 4, HĐND xã Hoàng Long (huyện Phú Xuyên)"
    ev.add(d(9, 40), "01", "security", {
        "severity": "incident", "category": "other", "audience": "internal",
        "text": "Phát hiện phiếu bầu đại biểu HĐND xã tại đơn vị bầu cử số 4 bị in sai; tổ "
                "bầu cử đã báo cáo Ủy ban bầu cử huyện.",
        "location": "Xã Hoàng Long, huyện Phú Xuyên",
    })  # fmt: skip
    ev.add(d(21, 40), "01", "revote", {
        "unit": u1, "level": "commune", "reason": "other",
        "note": "Phiếu bầu in sai; Ủy ban bầu cử đề nghị tổ chức bầu cử lại.",
    })  # fmt: skip
    ev.add(d(23, 10), "01", "revote", {
        "unit": u1, "level": "commune", "reason": "other", "status": "scheduled",
        "note": "Bầu cử lại vào Chủ nhật 6/6/2021.",
    })  # fmt: skip
    ev.add(14 * day + d(19), "01", "revote", {
        "unit": u1, "level": "commune", "reason": "other", "status": "held",
        "note": "Đã tổ chức bầu cử lại ngày 6/6/2021.",
    })  # fmt: skip
    u2 = "Đơn vị bầu cử số 4, HĐND xã Tráng Việt (huyện Mê Linh)"
    ev.add(d(15, 20), "01", "security", {
        "severity": "incident", "category": "order",
        "text": "Phát hiện sai phạm trong quá trình bầu cử tại đơn vị bầu cử số 4; Ủy ban bầu "
                "cử huyện đang xác minh.",
        "location": "Xã Tráng Việt, huyện Mê Linh",
    })  # fmt: skip
    ev.add(d(22, 5), "01", "revote", {
        "unit": u2, "level": "commune", "reason": "violation", "status": "announced",
        "note": "Vi phạm quy định bầu cử; kết quả tại đơn vị không được công nhận.",
    })  # fmt: skip
    ev.add(d(23, 15), "01", "revote", {
        "unit": u2, "level": "commune", "reason": "violation", "status": "scheduled",
        "note": "Bầu cử lại vào Chủ nhật 6/6/2021.",
    })  # fmt: skip
    ev.add(14 * day + d(19, 5), "01", "revote", {
        "unit": u2, "level": "commune", "reason": "violation", "status": "held",
    })  # fmt: skip
    # Quảng Ngãi: real supplementary vote (bầu thêm) on 30/5/2021, district council unit 1.
    u3 = "Đơn vị bầu cử số 1, HĐND huyện Bình Sơn"
    ev.add(day + d(11), "51", "revote", {
        "unit": u3, "level": "district", "reason": "insufficient_elected",
        "note": "Chưa bầu đủ số đại biểu; tổ chức bầu thêm.",
    })  # fmt: skip
    ev.add(day + d(16), "51", "revote", {
        "unit": u3, "level": "district", "reason": "insufficient_elected",
        "status": "scheduled", "note": "Bầu thêm vào Chủ nhật 30/5/2021.",
    })  # fmt: skip
    ev.add(7 * day + d(18), "51", "revote", {
        "unit": u3, "level": "district", "reason": "insufficient_elected", "status": "held",
    })  # fmt: skip
    # Kiên Giang and Bình Phước held supplementary votes for council units with fewer than
    # 2/3 of their seats filled; the particular units here are simulated.
    for code, unit in (
        ("91", "Đơn vị bầu cử số 2, HĐND xã (mô phỏng)"),
        ("70", "Đơn vị bầu cử số 3, HĐND xã (mô phỏng)"),
    ):
        ev.add(day + d(9, 30), code, "revote", {
            "unit": unit, "level": "commune", "reason": "insufficient_elected",
            "status": "announced", "note": "Số đại biểu trúng cử chưa đạt 2/3 số được bầu.",
        })  # fmt: skip
        ev.add(2 * day + d(10), code, "revote", {
            "unit": unit, "level": "commune", "reason": "insufficient_elected",
            "status": "scheduled", "note": "Bầu thêm trong vòng 15 ngày kể từ ngày bầu cử.",
        })  # fmt: skip
    ev.add(7 * day + d(18, 30), "91", "revote", {
        "unit": "Đơn vị bầu cử số 2, HĐND xã (mô phỏng)", "level": "commune",
        "reason": "insufficient_elected", "status": "held",
    })  # fmt: skip
    # Simulated: a ward unit first reported under 50 % turnout, then cancelled on recount.
    u6 = "Đơn vị bầu cử số 5, HĐND phường (mô phỏng)"
    ev.add(d(21, 50), "74", "revote", {
        "unit": u6, "level": "commune", "reason": "turnout_below_half",
        "note": "Báo cáo ban đầu: tỷ lệ cử tri đi bầu dưới 50%.",
    })  # fmt: skip
    ev.add(d(22, 40), "74", "revote", {
        "unit": u6, "level": "commune", "reason": "turnout_below_half", "status": "cancelled",
        "note": "Tổng hợp lại: tỷ lệ thực tế trên 50%, không phải bầu cử lại.",
    })  # fmt: skip


def _add_security(ev: _Events, rng: random.Random, codes: list[str]) -> None:
    # Real: rain in Hồ Chí Minh City early in the afternoon (checkpoints_2021.csv, 13:00).
    ev.add(hm(13, 15), "79", "security", {
        "severity": "info", "category": "weather", "audience": "public",
        "text": "Mưa đầu giờ chiều tại nhiều quận, huyện; các tổ bầu cử che chắn hòm phiếu và "
                "tài liệu, việc bỏ phiếu vẫn diễn ra bình thường.",
    })  # fmt: skip
    for code, place in (("24", "các khu cách ly"), ("27", "các khu cách ly"),
                        ("48", "khu cách ly tập trung")):  # fmt: skip
        ev.add(hm(9, 30), code, "security", {
            "severity": "watch", "category": "health", "audience": "public",
            "text": f"Bỏ phiếu bằng hòm phiếu lưu động tại {place}; nhân viên tổ bầu cử mặc "
                    "đồ bảo hộ, khử khuẩn hòm phiếu theo hướng dẫn của ngành y tế.",
        })  # fmt: skip
    picks = rng.sample(codes, 36)
    north_central = {p.code for p in fx.provinces() if p.region3 in ("North", "Central")}
    allowed = {"any": set(codes), "north_central": north_central, "ethnic": ETHNIC}
    for i, code in enumerate(sorted(picks)):
        choices = [tpl for tpl in SECURITY_TEMPLATES if code in allowed[tpl[4]]]
        sev, cat, text, audience, _, located, (t0, t1) = rng.choice(choices)
        t = rng.randrange(t0, t1 + 1, 5)
        data = {"severity": sev, "category": cat, "text": text}
        if audience == "public" or i % 3:
            data["audience"] = audience  # otherwise left to the default (internal)
        if located and fx.districts(code):
            data["location"] = f"{rng.choice(fx.districts(code))}, {fx.province_index()[code].name}"
        ev.add(t, code, "security", data)
    # The night: ballots and records under guard.
    for code in rng.sample(codes, 4):
        ev.add(hm(23, 30), code, "security", {
            "severity": "info", "category": "security",
            "text": "Hoàn tất niêm phong phiếu bầu và biên bản kiểm phiếu; lực lượng công an "
                    "bảo vệ nơi lưu giữ tài liệu bầu cử.",
        })  # fmt: skip


REAL_NOTES = [
    # (province, minutes, text, tags) — all public; from checkpoints_2021.csv / facts_2021.md.
    ("75", hm(6), "Cử tri giáo xứ tại xã Bình Minh, huyện Trảng Bom bắt đầu bỏ phiếu từ 6 giờ "
     "sáng.", []),
    ("84", hm(6, 50), "Một đơn vị bầu cử trong lực lượng công an tỉnh hoàn thành bỏ phiếu lúc "
     "6 giờ 50 với 100% cử tri, nơi kết thúc sớm nhất cả nước (theo Hội đồng bầu cử quốc gia).",
     []),
    ("64", hm(7), "596/1.437 tổ bầu cử khai mạc và bắt đầu bỏ phiếu trước 7 giờ.", []),
    ("26", hm(11), "10 đơn vị bầu cử đạt 100% cử tri đi bầu ngay trong buổi sáng.", []),
    ("95", hm(11), "23 đơn vị bầu cử đạt 100% cử tri đi bầu ngay trong buổi sáng.", []),
    ("22", hm(10, 30), "Hòm phiếu lưu động được đưa tới giường bệnh để bệnh nhân đang điều trị "
     "bỏ phiếu.", ["elderly"]),
    ("01", hm(12, 30), "Đến 12 giờ 30, 74,79% cử tri toàn thành phố đã bỏ phiếu; thấp nhất quận "
     "Cầu Giấy (63,85%), cao nhất huyện Thạch Thất (86,28%).", []),
    ("77", hm(12, 45), "105 tổ bầu cử đã hoàn thành bỏ phiếu, 704 tổ đang tiếp tục; huyện Đất Đỏ "
     "đạt 94,67%, 3 xã đạt 100%.", []),
    ("56", hm(13), "Huyện đảo Trường Sa hoàn thành bỏ phiếu với 100% cử tri đi bầu; 266 tổ bầu "
     "cử đạt 100%.", ["island"]),
    ("22", hm(13), "Huyện đảo Cô Tô là địa phương đầu tiên của tỉnh có 100% cử tri đi bầu.",
     ["island"]),
    ("79", hm(13), "2 tổ bầu cử tại khu cách ly, phong tỏa ở quận Gò Vấp đạt 100% cử tri đi "
     "bầu.", []),
    ("15", hm(13), "Cử tri tại khu cách ly tập trung đã bỏ phiếu đạt 89,18%, cách ly tại nhà "
     "65,47%.", []),
    ("66", hm(13, 37), "Huyện Lắk đạt 100% cử tri đi bầu.", ["ethnic"]),
    ("66", hm(13, 45), "Huyện Krông Bông đạt 100% cử tri đi bầu.", ["ethnic"]),
    ("24", hm(14), "Khoảng 60.000 người đang cách ly y tế bỏ phiếu bằng hòm phiếu lưu động; "
     "Chủ tịch Quốc hội kiểm tra công tác bầu cử tại tỉnh.", ["industrial"]),
    ("27", hm(15), "Chủ tịch Quốc hội kiểm tra công tác bầu cử; 14 khu vực bỏ phiếu đã bầu sớm "
     "một ngày (22/5) đều đạt 100%.", []),
    ("08", hm(15), "Huyện Lâm Bình đạt 100% cử tri đi bầu.", ["remote", "ethnic"]),
    ("49", hm(15), "Hai huyện miền núi Nam Giang và Đông Giang đạt 100% cử tri đi bầu.",
     ["remote", "ethnic", "border"]),
    ("40", hm(15), "613/3.209 khu vực bỏ phiếu đạt 100% cử tri; cao nhất ở các huyện miền núi "
     "như Tương Dương (85/116 khu vực).", ["remote", "ethnic"]),
    ("66", hm(16, 10), "Huyện Krông Búk đạt 100% cử tri đi bầu.", []),
    ("66", hm(16, 40), "Huyện Cư Kuin đạt 100% cử tri đi bầu.", []),
    ("01", hm(16, 30), "829 khu vực bỏ phiếu và 23 xã, phường đạt 100%; cao nhất quận Đống Đa "
     "(98,28%), thấp nhất huyện Mê Linh (84,33%).", []),
    ("20", hm(17), "Huyện Bắc Sơn và 136 xã, phường, thị trấn đạt 100% cử tri đi bầu.", []),
    ("01", hm(18, 30), "2.074 khu vực bỏ phiếu đạt 100%; cao nhất quận Ba Đình (99,95%), thấp "
     "nhất huyện Hoài Đức (93,48%).", []),
    ("66", hm(18, 30), "Huyện Krông Pắc đạt 100% cử tri đi bầu.", []),
    ("66", hm(18, 40), "Huyện Krông Năng đạt 100% cử tri đi bầu.", []),
    ("26", hm(19), "840 khu vực bỏ phiếu kết thúc bỏ phiếu lúc 19 giờ.", []),
    ("79", hm(19), "Tất cả khu vực bỏ phiếu kết thúc lúc 19 giờ; huyện Củ Chi cao nhất "
     "(99,997%).", []),
    ("46", hm(19), "Tất cả tổ bầu cử kết thúc lúc 19 giờ; 908/930 khu vực bỏ phiếu và 131/145 "
     "xã, phường, thị trấn đạt 100%.", []),
    ("38", hm(19), "Tỷ lệ cử tri đi bầu cao nhất từ trước đến nay của tỉnh.", []),
    ("01", hm(19, 30), "Kết thúc bỏ phiếu: 99,13% cử tri đã bỏ phiếu; 2.602/4.831 khu vực bỏ "
     "phiếu đạt 100%; thấp nhất huyện Ứng Hòa (95,75%).", []),
    ("93", hm(21), "Kết thúc bỏ phiếu lúc 21 giờ: 55 cử tri trong danh sách chưa đi bầu; thêm "
     "2.427 cử tri bỏ phiếu ngoài danh sách, phần lớn là công nhân từ các tỉnh có dịch trở về.",
     ["transient", "industrial"]),
]  # fmt: skip

EARLY_NOTES = [
    # (province, day in May, minutes, text, tags, real date?)
    ("49", 19, hm(15), "49 khu vực bỏ phiếu với 11.355 cử tri ở vùng cao bầu cử sớm; đến 15 giờ "
     "đạt 100% cử tri đi bầu.", ["remote", "ethnic"]),
    ("40", 21, hm(10), "207 khu vực bỏ phiếu tại 29 xã miền núi bầu cử sớm, cơ bản hoàn thành "
     "trước 10 giờ.", ["remote", "ethnic", "border"]),
    ("27", 22, hm(17), "Khoảng 3.200–3.300 cử tri tại 14 khu vực bỏ phiếu bầu cử sớm một ngày, "
     "đạt 100%.", []),
    # The NEC allowed early voting in these provinces; the dates here are simulated.
    ("56", 16, hm(9), "Cử tri làm nhiệm vụ trên biển, đảo được Hội đồng bầu cử quốc gia cho phép "
     "bầu cử sớm đã hoàn thành bỏ phiếu.", ["island"]),
    ("31", 16, hm(10), "Một số khu vực bỏ phiếu trên đảo và trên biển tổ chức bầu cử sớm theo "
     "cho phép của Hội đồng bầu cử quốc gia.", ["island"]),
    ("91", 18, hm(9, 30), "Cử tri các xã đảo và ngư dân chuẩn bị ra khơi dài ngày bầu cử sớm.",
     ["island", "transient"]),
    ("96", 20, hm(8), "Ngư dân chuẩn bị đi biển dài ngày và cử tri ở các điểm xa bầu cử sớm.",
     ["island", "remote"]),
    ("77", 17, hm(9), "Cán bộ, công nhân làm việc trên các giàn khoan và cử tri trên đảo bầu cử "
     "sớm.", ["island", "transient"]),
    ("44", 20, hm(10), "Cử tri ở các bản vùng biên giới của tỉnh bầu cử sớm.",
     ["remote", "border", "ethnic"]),
    ("67", 20, hm(14), "Một số khu vực bỏ phiếu vùng sâu, vùng xa bầu cử sớm.",
     ["remote", "ethnic"]),
]  # fmt: skip


def _add_notes(ev: _Events, rng: random.Random, codes: list[str]) -> None:
    for code, t, text, tags in REAL_NOTES:
        data = {"text": text}
        if tags:
            data["tags"] = tags
        ev.add(t, code, "note", data)
    for code, day, t, text, tags in EARLY_NOTES:
        data = {"text": text, "audience": "public"}
        if tags:
            data["tags"] = tags
        ev.add(t - (23 - day) * 24 * 60, code, "note", data)
    # Bình Dương's inconsistent figure: for the desk only.
    ev.add(hm(21, 5), "74", "note", {
        "text": "Số liệu tỉnh: 1.704.384/1.712.805 cử tri (= 99,51%) nhưng bài viết ghi 99,39%; "
                "cần xác minh với Ủy ban bầu cử tỉnh.",
        "audience": "internal",
    })  # fmt: skip
    idx = fx.province_index()
    for code in codes:
        options = ["opening", "elderly", "disabled", "first_time"]
        if code in ETHNIC:
            options += ["ethnic", "remote"]
        if code in BORDER:
            options.append("border")
        if code in INDUSTRIAL:
            options.append("industrial")
        n = 2 if code in URBAN or rng.random() < 0.25 else 1
        for key in rng.sample(options, n):
            text, tags = NOTE_TEMPLATES[key]
            t0, t1 = NOTE_WINDOWS[key]
            t = rng.randrange(t0, t1 + 1, 5)
            data = {"text": text}
            if tags:
                data["tags"] = list(tags)
            if rng.random() < 0.3:
                data["audience"] = "public"  # explicit; otherwise the default (public)
            ev.add(t, code, "note", data)
        if code in ISLANDS:
            ev.add(hm(8) + rng.randrange(0, 4 * 60, 5), code, "note", {
                "text": f"Cử tri huyện đảo {ISLANDS[code]} đi bầu từ sáng sớm; nhiều khu vực "
                        "bỏ phiếu đạt 100% trước buổi trưa.",
                "tags": ["island"],
            })  # fmt: skip
        if rng.random() < 0.12:
            ev.add(hm(10) + rng.randrange(0, 3 * 60, 5), code, "note", {
                "text": NOTE_TEMPLATES["first_100"][0],
            })  # fmt: skip
        if rng.random() < 0.1:
            ev.add(hm(7) + rng.randrange(0, 11 * 60, 5), code, "note", {
                "text": rng.choice(INTERNAL_NOTES), "audience": "internal",
            })  # fmt: skip
    assert all(code in idx for code, *_ in REAL_NOTES)


def _description(seed: int, skipped: list[dict]) -> str:
    skip_txt = "; ".join(
        f"{s['scope']} {s['time']}"
        + (f" ({s['turnout_pct']} %)" if s.get("turnout_pct") is not None else "")
        + f": {s['reason']}"
        for s in skipped
    )
    return (
        "Simulated election day of 23 May 2021 (NA XV and People's Councils), 63 provinces, "
        f"seed {seed}, built by `python -m ingest.scenario build`. Every province reports "
        "turnout hourly 08:00–17:00, then at 17:30, 18:00, 18:30 and 19:00, and a final "
        "figure between 21:00 and 22:00; curves follow a seeded S-shaped day (morning rush, "
        "long afternoon tail, evening trickle to the 19:00 close) and pass exactly through "
        "the published figures. "
        "Registered voters are fixtures/registered_2021.csv (5 official, 58 estimated). "
        "National at 17:30: all 63 provinces report a 17:30 figure summing to 66,498,877 of "
        "69,523,133 = 95.65 % (NEC). Final: 69,243,604 of 69,523,133 = 99.60 % (NEC, 10/6). "
        "Provincial checkpoints of checkpoints_2021.csv are sent at their time (percentages "
        "as turnout_pct; HCMC 19:00, Hậu Giang 21:00 and Cao Bằng's final as counts against "
        "their official registered totals); 'final' rows are the province's last figure. "
        "Final targets from facts_2021.md: Thanh Hóa 99.75 %, Quảng Ngãi 99.63 %. "
        f"Skipped: {skip_txt}. "
        "At 17:30 the 10 provinces of the NEC's 17:30 list carry its figures, every other "
        "province lies between 84 % and 99.9 % (the NEC's lowest and highest were 84 % and "
        "99.92 %), and Σareas_done is the NEC's 31,985 teams at 100 %. Polling areas: the "
        "counts stated in the sources for 18 provinces, the rest of ~84,700 split by "
        "registered share; areas_done before 19:00 are areas whose voters have all voted (real "
        "counts where published), after 19:00 areas whose count is finished. Corrections: Nam "
        "Định 10:00 (corrected at 10:20), Phú Thọ 14:00 (corrected at the same as_of), Bình "
        "Định's final (corrected at 22:20). Re-votes: Hà Nội's two commune re-votes of 6/6 "
        "(Hoàng Long, Phú Xuyên: misprinted ballots; Tráng Việt, Mê Linh: violation) and "
        "Quảng Ngãi's supplementary vote of 30/5 (Bình Sơn district unit 1) are real, their "
        "announcement times simulated; the Kiên Giang, Bình Phước and Bình Dương units are "
        "simulated. Notes and security items quoting figures or places come from "
        "facts_2021.md and checkpoints_2021.csv; the rest are simulated, as are the dates of "
        "the early-voting notes except Quảng Nam 19/5, Nghệ An 21/5 and Bắc Ninh 22/5."
    )


# --------------------------------------------------------------------------- reading back


def load(path: str | Path | None = None) -> dict:
    with open(path or DEFAULT_PATH, encoding="utf-8") as f:
        return json.load(f)


def write(scenario: dict, path: str | Path | None = None) -> Path:
    p = Path(path or DEFAULT_PATH)
    p.parent.mkdir(parents=True, exist_ok=True)
    head = {k: v for k, v in scenario.items() if k != "events"}
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]  # drop the closing "\n}"
    lines = [json.dumps(e, ensure_ascii=False) for e in scenario["events"]]
    with open(p, "w", encoding="utf-8", newline="\n") as f:
        # One event per line: readable, and a rebuild diffs line by line.
        f.write(text + ',\n "events": [\n' + ",\n".join(lines) + "\n ]\n}\n")
    return p


def report_voted(data: dict, province: str) -> tuple[int, int]:
    """(voted, registered) of a turnout report, deriving voted from turnout_pct as the
    contract does (round half up of pct × registered / 100)."""
    registered = data.get("registered") or fx.province_index()[province].registered
    if "voted" in data:
        return data["voted"], registered
    return voted_from_pct(data["turnout_pct"], registered), registered


def latest_turnout(scenario: dict, t: str | datetime | None = None) -> dict[str, dict]:
    """For each province, the turnout report with the latest as_of at or before `t` (all of
    them when `t` is None); ties go to the later one in the file."""
    limit = None if t is None else (datetime.fromisoformat(t) if isinstance(t, str) else t)
    best: dict[str, tuple[datetime, dict]] = {}
    for e in scenario["events"]:
        if e["kind"] != "turnout":
            continue
        at = datetime.fromisoformat(e["t"])
        if limit is not None and at > limit:
            continue
        cur = best.get(e["province"])
        if cur is None or at >= cur[0]:
            best[e["province"]] = (at, e)
    return {c: e for c, (_, e) in best.items()}


def expected_at(scenario: dict, t: str | datetime | None) -> dict:
    """The national figure of the picture at moment `t`, recomputed from the events."""
    voted = registered = 0
    latest = latest_turnout(scenario, t)
    for code, e in latest.items():
        v, r = report_voted(e["data"], code)
        voted += v
        registered += r
    return {
        "voted": voted,
        "registered": registered,
        "turnout_pct": voted * 100 / registered if registered else None,
        "provinces_reporting": len(latest),
    }


def expected_final(scenario: dict) -> dict:
    """The national figure once every report is in."""
    return expected_at(scenario, None)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.scenario", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("registered", help="write fixtures/registered_2021.csv")
    b = sub.add_parser("build", help="write the election-day scenario")
    b.add_argument("--seed", type=int, default=DEFAULT_SEED)
    b.add_argument("--out", default=str(DEFAULT_PATH))
    s = sub.add_parser("summary", help="national figure through the day")
    s.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    args = ap.parse_args(argv)
    if args.cmd == "registered":
        rows = build_registered()
        print(f"{REGISTERED_PATH}: {len(rows)} provinces, {sum(r['registered'] for r in rows):,}")
    elif args.cmd == "build":
        sc = build(args.seed)
        p = write(sc, args.out)
        fin = expected_final(sc)
        print(f"{p}: {len(sc['events'])} events; final {fin['voted']:,}/{fin['registered']:,}")
    else:
        sc = load(args.path)
        kinds: dict[str, int] = {}
        for e in sc["events"]:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        print(f"{len(sc['events'])} events: {kinds}")
        for h, m in [(8, 0), (9, 0), (10, 0), (11, 0), (12, 0), (13, 0), (14, 0), (15, 0),
                     (16, 0), (17, 0), (17, 30), (18, 0), (18, 30), (19, 0), (21, 0), (22, 0),
                     (23, 0)]:  # fmt: skip
            x = expected_at(sc, iso(hm(h, m)))
            print(
                f"{h:02d}:{m:02d}  {x['voted']:>11,} / {x['registered']:>11,}  "
                f"{pct_2dp(x['voted'], x['registered']) if x['registered'] else '-':>6} %  "
                f"{x['provinces_reporting']} provinces"
            )
        fin = expected_final(sc)
        print(f"final  {fin['voted']:,} / {fin['registered']:,}  "
              f"{pct_2dp(fin['voted'], fin['registered'])} %")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
