"""`GET /api/units` (contract §5): the ballot, public before the day and cacheable."""

from __future__ import annotations

import httpx

from ingest import candidates


async def test_units_lists_every_unit_with_its_candidates_in_ballot_order(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.get("/api/units")
    assert r.status_code == 200
    assert r.headers["cache-control"].startswith("public")
    units = r.json()["units"]
    assert len(units) == 184
    assert sum(len(u["candidates"]) for u in units) == 866
    assert sum(u["seats"] for u in units) == 500
    hanoi_1 = units[0]
    assert (hanoi_1["code"], hanoi_1["unit"], hanoi_1["seats"]) == ("01", 1, 3)
    assert [c["ballot_no"] for c in hanoi_1["candidates"]] == [1, 2, 3, 4, 5]
    trong = next(c for c in hanoi_1["candidates"] if c["id"] == "01-1-3")
    assert trong["name"] == "Nguyễn Phú Trọng"
    assert set(trong) == {
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
    assert "votes" not in trong and "elected" not in trong  # the answer is not reference data


async def test_units_of_one_province_and_an_unknown_province_is_refused(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        one = await c.get("/api/units", params={"province": "74"})
        unknown = await c.get("/api/units", params={"province": "99"})
    assert [u["unit"] for u in one.json()["units"]] == [u.unit for u in candidates.units_of("74")]
    assert {u["code"] for u in one.json()["units"]} == {"74"}
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid" and unknown.json()["field"] == "province"


async def test_units_answers_304_to_its_own_etag(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        first = await c.get("/api/units")
        again = await c.get("/api/units", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
