"""Protocol §2: the national picture equals an independent recomputation, at any moment."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from ingest.fixtures import province_index
from tests.conftest import bureau, report

CODES = ["01", "02", "04", "08", "22", "31", "46", "48", "56", "79", "92", "96"]
HOURS = ["08:00", "10:00", "12:00", "14:00", "16:00", "18:00"]


def recompute(sent: list[dict], at: str | None) -> dict:
    """Independent of the server: for each province the turnout report with the latest
    as_of at or before `at` (the later one when equal), then Σ voted / Σ registered."""
    latest: dict[str, dict] = {}
    for r in sent:
        if at is not None and r["as_of"] > at:
            continue
        best = latest.get(r["province"])
        if best is None or r["as_of"] >= best["as_of"]:
            latest[r["province"]] = r
    voted = registered = 0
    for code, r in latest.items():
        reg = r["data"].get("registered", province_index()[code].registered)
        if "voted" in r["data"]:
            v = r["data"]["voted"]
        else:
            v = int((Decimal(str(r["data"]["turnout_pct"])) * reg / 100).quantize(0, ROUND_HALF_UP))
        voted += v
        registered += reg
    return {
        "voted": voted or None,
        "registered": registered or None,
        "turnout_pct": voted / registered * 100 if registered else None,
        "provinces_reporting": len(latest),
    }


async def test_national_turnout_matches_a_recomputation_at_three_moments(server):
    rng = random.Random(23)
    sent: list[dict] = []
    for code in CODES:
        token = await server.token(code)
        reg = province_index()[code].registered
        async with bureau(server, token) as b:
            pct = 0.0
            for i, hour in enumerate(HOURS):
                pct = min(99.9, pct + rng.uniform(5, 20))
                as_of = f"2021-05-23T{hour}:00+07:00"
                if i == 2 and code in ("04", "79"):
                    data = {"turnout_pct": round(pct, 2)}
                else:
                    data = {"voted": int(reg * pct / 100)}
                r = report(as_of=as_of, **data)
                assert (await b.send(r))["type"] == "ack"
                sent.append({"province": code, "as_of": as_of, "data": data})
            if code in ("01", "48", "92"):  # a correction of the 14:00 figure, downwards
                as_of = "2021-05-23T14:00:00+07:00"
                data = {"voted": int(reg * 0.30), "correction": True}
                assert (await b.send(report(as_of=as_of, **data)))["type"] == "ack"
                sent.append({"province": code, "as_of": as_of, "data": data})
    moments = [
        "2021-05-23T09:30:00+07:00",
        "2021-05-23T14:00:00+07:00",
        "2021-05-23T17:00:00+07:00",
    ]
    for at in moments:
        snap = await server.snapshot(at=at)
        expected = recompute(sent, at)
        national = snap["national"]
        assert national["voted"] == expected["voted"]
        assert national["registered"] == expected["registered"]
        assert abs(national["turnout_pct"] - expected["turnout_pct"]) < 1e-9
        assert national["provinces_reporting"] == expected["provinces_reporting"] == len(CODES)
    now = await server.snapshot()
    assert now["national"]["voted"] == recompute(sent, None)["voted"]
    before = await server.snapshot(at="2021-05-23T07:30:00+07:00")
    assert before["national"]["voted"] is None and before["national"]["provinces_reporting"] == 0
    assert before["seq"] == 0


async def test_silent_provinces_are_null_never_zero(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report(voted=1000))
        await b.send(report("completion", areas_done=3, areas_total=10))
    snap = await server.snapshot()
    assert len(snap["provinces"]) == 63
    silent = [p for p in snap["provinces"] if p["code"] != "01"]
    for p in silent:
        assert p["voted"] is None and p["turnout_pct"] is None and p["as_of"] is None
        assert p["areas_done"] is None and p["last_report_at"] is None
    assert snap["national"]["provinces_reporting"] == 1
    assert snap["national"]["provinces_total"] == 63
    assert snap["national"]["registered"] == province_index()["01"].registered
    assert snap["national"]["areas_done"] == 3 and snap["national"]["areas_total"] == 10


async def test_revote_units_count_distinct_units_not_cancelled(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        unit = {"unit": "Đơn vị số 4, xã Tráng Việt", "level": "commune", "reason": "violation"}
        await b.send(report("revote", **unit))
        await b.send(
            report("revote", **unit, status="scheduled", as_of="2021-05-24T09:00:00+07:00")
        )
        other = {"unit": "Đơn vị số 4, xã Hoàng Long", "level": "commune", "reason": "other"}
        await b.send(report("revote", **other))
        await b.send(
            report("revote", **other, status="cancelled", as_of="2021-05-25T09:00:00+07:00")
        )
    assert (await server.snapshot())["national"]["revote_units"] == 1
    assert (await server.snapshot(at="2021-05-24T12:00:00+07:00"))["national"]["revote_units"] == 2


async def test_security_level_counts_only_what_the_reader_may_see(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(report("security", severity="incident", category="order", text="nội bộ"))
        await b.send(
            report(
                "security",
                severity="watch",
                category="traffic",
                text="công khai",
                audience="public",
            )
        )
    hanoi = (await server.snapshot())["provinces"][0]
    assert hanoi["security_level"] == "watch"


async def test_at_accepts_local_hh_mm_and_refuses_garbage(server):
    import httpx

    async with httpx.AsyncClient(base_url=server.http) as c:
        ok = await c.get("/api/snapshot", params={"at": "15:00"})
        bad = await c.get("/api/snapshot", params={"at": "tomorrow"})
    assert ok.status_code == 200 and ok.json()["at"] == "2021-05-23T15:00:00+07:00"
    assert (
        bad.status_code == 400 and bad.json()["code"] == "invalid" and bad.json()["field"] == "at"
    )
