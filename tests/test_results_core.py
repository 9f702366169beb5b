"""Results over the wire (contract §5): the `result` kind stored, acknowledged, exactly-once,
refused, corrected, published and retracted like every other report; the law applied in
the accepting transaction; `/api/results` now and `?at=`; the Council's decisions; the
feed's `unit` and `results`; internal results never public."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import httpx
import pytest
import websockets

from ingest import outgoing
from ingest.candidates import unit_index
from tests.conftest import bureau, feed_message, report

NIGHT = "2021-05-23T21:00:00+07:00"
LATER = "2021-05-23T23:00:00+07:00"
FINAL = "2021-05-25T10:00:00+07:00"
HANOI_1 = ["01-1-1", "01-1-2", "01-1-3", "01-1-4", "01-1-5"]
"""Hà Nội unit 1: 3 seats; 01-1-3 (Nguyễn Phú Trọng) born 1944, 01-1-1 1974, 01-1-4 1975."""
HANOI_3 = ["01-3-1", "01-3-2", "01-3-3", "01-3-4", "01-3-5"]
"""Hà Nội unit 3: 3 seats; 01-3-1 and 01-3-4 both born 1975, 01-3-2 1971."""


def result(votes: list[int], valid: int, *, unit: int = 1, ids=HANOI_1, as_of=NIGHT, **extra):
    return report(
        "result",
        as_of,
        unit=unit,
        ballots_valid=valid,
        votes=dict(zip(ids, votes, strict=True)),
        **extra,
    )


async def results(server, at: str | None = None, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.get("/api/results", params={"at": at} if at else {}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def for_province(code: str, sent: dict) -> dict:
    """An editor's report names its province (§1)."""
    return {**sent, "province": code}


def unit_of(body: dict, code: str, number: int) -> dict:
    return next(u for u in body["units"] if u["code"] == code and u["unit"] == number)


def by_id(unit: dict) -> dict[str, dict]:
    return {c["id"]: c for c in unit["candidates"]}


async def count_results(db_url: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM reports WHERE kind = 'result'")
    finally:
        await conn.close()


async def test_a_provisional_result_leads_and_a_final_one_elects(server):
    token = await server.token("01")
    editor = await server.token(None, "editor")
    async with bureau(server, token) as b:
        ack = await b.send(result([100, 300, 900, 600, 50], 1000, audience="public"))
        assert ack["type"] == "ack" and ack["duplicate"] is False
        counting = unit_of(await results(server), "01", 1)
        assert counting["status"] == "counting" and counting["stage"] == "provisional"
        assert [c["id"] for c in counting["candidates"]] == [
            "01-1-3", "01-1-4", "01-1-2", "01-1-1", "01-1-5",
        ]  # fmt: skip
        assert [c["leading"] for c in counting["candidates"]] == [True, True, False, False, False]
        assert not any(c["elected"] for c in counting["candidates"])
        assert by_id(counting)["01-1-3"]["pct"] == 90.0
        ack = await b.send(
            result([100, 700, 900, 600, 50], 1100, as_of=FINAL, stage="final", audience="public")
        )
        assert ack["type"] == "ack"
    body = await results(server)
    outgoing.Results.model_validate_json(json.dumps(body))
    declared = unit_of(body, "01", 1)
    assert declared["status"] == "declared"
    assert {c["id"] for c in declared["candidates"] if c["elected"]} == {
        "01-1-3",
        "01-1-2",
        "01-1-4",
    }
    assert body["summary"]["units_declared"] == 1 and body["summary"]["seats_filled"] == 3
    assert body["summary"]["units_total"] == 184 and body["summary"]["seats_total"] == 500
    assert body["summary"]["composition"]["elected"] == 3
    assert body["summary"]["composition"]["women"] == 1  # Nguyễn Thị Hà Tuyên
    assert (await results(server, token=editor))["summary"] == body["summary"]


async def test_a_final_unit_with_seats_left_is_supplementary(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        ack = await b.send(result([100, 300, 900, 400, 50], 1000, stage="final", audience="public"))
        assert ack["type"] == "ack"
    unit = unit_of(await results(server), "01", 1)
    assert unit["status"] == "supplementary"
    assert [c["id"] for c in unit["candidates"] if c["elected"]] == ["01-1-3"]
    assert (await results(server))["summary"]["seats_filled"] == 1


async def test_equal_votes_for_the_last_seat_go_to_the_older_or_tie_on_the_same_year(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        # 01-3-2 (1971) and 01-3-4 (1975) equal for the third seat: the older takes it.
        older = await b.send(
            result([900, 600, 800, 600, 10], 1000, unit=3, ids=HANOI_3, stage="final")
        )
        assert older["type"] == "ack"
        editor = await server.token(None, "editor")
        unit = unit_of(await results(server, token=editor), "01", 3)
        assert {c["id"] for c in unit["candidates"] if c["elected"]} == {
            "01-3-1", "01-3-3", "01-3-2",
        }  # fmt: skip
        # 01-3-1 and 01-3-4, both born 1975, equal for the last seat: nobody takes it.
        same_year = await b.send(
            result(
                [600, 900, 800, 600, 10], 1000, unit=3, ids=HANOI_3, stage="final",
                as_of=FINAL, correction=True,
            )
        )  # fmt: skip
        assert same_year["type"] == "ack"
    unit = unit_of(await results(server, token=editor), "01", 3)
    assert unit["status"] == "supplementary"
    assert {c["id"] for c in unit["candidates"] if c.get("tie")} == {"01-3-1", "01-3-4"}
    assert {c["id"] for c in unit["candidates"] if c["elected"]} == {"01-3-2", "01-3-3"}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"unit": 99}, "data.unit", "no electoral unit 99"),
        ({"votes": {i: 1 for i in HANOI_1[:4]}}, "data.votes", "01-1-5"),
        ({"votes": {**{i: 1 for i in HANOI_1}, "02-1-1": 1}}, "data.votes", "02-1-1"),
        ({"votes": {**{i: 1 for i in HANOI_1}, "01-1-3": 1001}}, "data.votes.01-1-3", "1,001"),
        ({"votes": {i: 700 for i in HANOI_1}}, "data.votes", "3,500"),
        ({"areas_counted": 5, "areas_total": 4}, "data.areas_counted", "areas_total"),
        ({"stage": "declared"}, "data.stage", ""),
    ],
)
async def test_a_result_that_does_not_fit_the_ballot_is_refused_and_stores_nothing(
    server, data, field, words
):
    token = await server.token("01")
    base = {"unit": 1, "ballots_valid": 1000, "votes": {i: 100 for i in HANOI_1}}
    async with bureau(server, token) as b:
        bad = report("result", NIGHT, **{**base, **data})
        answer = await b.send(bad)
        assert answer["type"] == "error" and answer["code"] == "invalid", answer
        assert answer["field"] == field and answer["id"] == bad["id"]
        assert words in answer["message_en"]
        assert answer["message_vi"] and answer["message_vi"] != answer["message_en"]
        good = await b.send(result([1, 2, 3, 4, 5], 10))  # the socket stays usable
        assert good["type"] == "ack"
    assert await count_results(server.db_url) == 1


async def test_a_bureau_may_not_report_another_provinces_unit(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        other = for_province(
            "74", report("result", NIGHT, unit=1, ballots_valid=10, votes={"74-1-1": 1})
        )
        answer = await b.send(other)
    assert answer["code"] == "invalid" and answer["field"] == "data.votes"
    editor_token = await server.token(None, "editor")
    async with bureau(server, token) as b:
        whose = await b.send(
            for_province("74", report(
                "result", NIGHT, unit=1, ballots_valid=10,
                votes={f"74-1-{n}": 1 for n in range(1, 6)},
            ))
        )  # fmt: skip
    assert whose["code"] == "forbidden"
    async with bureau(server, editor_token) as e:
        ok = await e.send(
            for_province("74", report(
                "result", NIGHT, unit=1, ballots_valid=10,
                votes={f"74-1-{n}": 1 for n in range(1, 6)},
            ))
        )  # fmt: skip
    assert ok["type"] == "ack"


async def test_history_refuses_a_smaller_count_and_anything_after_final_without_correction(
    server,
):
    token = await server.token("01")
    async with bureau(server, token) as b:
        assert (await b.send(result([100, 300, 900, 600, 50], 1000)))["type"] == "ack"
        smaller = await b.send(result([100, 300, 800, 600, 50], 900, as_of=LATER))
        assert smaller["code"] == "regression" and smaller["field"] == "data.ballots_valid"
        assert "1,000" in smaller["message_en"]
        earlier = await b.send(result([10, 30, 90, 60, 5], 100, as_of="2021-05-23T20:00:00+07:00"))
        assert earlier["type"] == "ack"  # an earlier moment's smaller count is history
        fixed = await b.send(result([100, 300, 800, 600, 50], 900, as_of=LATER, correction=True))
        assert fixed["type"] == "ack"
        final = await b.send(result([100, 300, 800, 600, 50], 900, as_of=FINAL, stage="final"))
        assert final["type"] == "ack"
        after = await b.send(result([100, 300, 850, 600, 50], 950, as_of=FINAL, stage="final"))
        assert after["code"] == "regression" and after["field"] == "data.stage"
        late = await b.send(result([100, 300, 850, 600, 50], 950, as_of=LATER))
        assert late["code"] == "regression" and late["field"] == "data.stage"
        corrected = await b.send(
            result([100, 300, 850, 600, 50], 950, as_of=FINAL, stage="final", correction=True)
        )
        assert corrected["type"] == "ack"
    assert await count_results(server.db_url) == 5
    editor = await server.token(None, "editor")
    unit = unit_of(await results(server, token=editor), "01", 1)
    assert unit["ballots_valid"] == 950 and by_id(unit)["01-1-3"]["votes"] == 850


async def test_a_resent_result_is_stored_once_and_a_reused_id_is_refused(server):
    token = await server.token("01")
    sent = result([100, 300, 900, 600, 50], 1000)
    async with bureau(server, token) as b:
        first = await b.send(sent)
        again = await b.send(sent)
        other = await b.send({**sent, "data": {**sent["data"], "ballots_valid": 1001}})
    assert again == {**first, "duplicate": True}
    assert other["code"] == "invalid" and other["field"] == "id"
    assert await count_results(server.db_url) == 1


async def test_an_internal_result_stays_off_public_reads_and_feed_until_published(server):
    token = await server.token("01")
    editor = await server.token(None, "editor")
    async with (
        websockets.connect(server.live_url()) as public,
        websockets.connect(server.live_url(editor=True)) as desk,
    ):
        await desk.send(json.dumps({"type": "hello", "token": editor}))
        assert (await feed_message(public))["type"] == "snapshot"
        assert (await feed_message(desk))["type"] == "welcome"
        assert (await feed_message(desk))["type"] == "snapshot"
        async with bureau(server, token) as b:
            ack = await b.send(result([100, 300, 900, 600, 50], 1000))  # internal by default
        update = await feed_message(desk)
        outgoing.Update.model_validate_json(json.dumps(update))
        assert update["seq"] == ack["seq"] and update["unit"]["status"] == "counting"
        assert update["results"]["units_reporting"] == 1
        with pytest.raises(TimeoutError):
            await feed_message(public, timeout=0.5)
        public_body = await results(server)
        assert unit_of(public_body, "01", 1)["status"] == "waiting"
        assert public_body["summary"]["units_reporting"] == 0
        assert unit_of(await results(server, token=editor), "01", 1)["status"] == "counting"
        async with httpx.AsyncClient(base_url=server.http) as c:
            r = await c.post(
                f"/editor/api/reports/{ack['id']}/publish",
                headers={"Authorization": f"Bearer {editor}"},
                json={},
            )
        assert r.status_code == 200, r.text
        published = await feed_message(public)
        outgoing.Update.model_validate_json(json.dumps(published))
        assert published["event"]["action"] == "publish"
        assert published["unit"]["status"] == "counting"
        assert published["results"]["units_reporting"] == 1
        assert unit_of(await results(server), "01", 1)["status"] == "counting"


async def test_editors_get_a_private_answer_with_an_etag_of_their_own(server):
    token = await server.token("01")
    editor = await server.token(None, "editor")
    async with bureau(server, token) as b:
        await b.send(result([100, 300, 900, 600, 50], 1000))
    async with httpx.AsyncClient(base_url=server.http) as c:
        public = await c.get("/api/results")
        private = await c.get("/api/results", headers={"Authorization": f"Bearer {editor}"})
        again = await c.get("/api/results", headers={"If-None-Match": public.headers["etag"]})
    assert public.headers["cache-control"].startswith("public")
    assert private.headers["cache-control"].startswith("private")
    assert private.headers["etag"] != public.headers["etag"]
    assert again.status_code == 304


async def test_retracting_a_result_removes_it_from_the_unit_summary_and_composition(server):
    token = await server.token("01")
    editor = await server.token(None, "editor")
    async with bureau(server, token) as b:
        first = await b.send(result([100, 700, 900, 600, 50], 1000, audience="public"))
        final = await b.send(
            result([100, 700, 900, 600, 50], 1100, as_of=FINAL, stage="final", audience="public")
        )
    assert (await results(server))["summary"]["seats_filled"] == 3
    async with websockets.connect(server.live_url()) as public:
        await feed_message(public)
        async with httpx.AsyncClient(base_url=server.http) as c:
            r = await c.post(
                f"/editor/api/reports/{final['id']}/retract",
                headers={"Authorization": f"Bearer {editor}"},
                json={"why": "wrong unit"},
            )
        assert r.status_code == 200
        update = await feed_message(public)
    assert update["event"]["action"] == "retract"
    assert update["unit"]["status"] == "counting" and update["results"]["seats_filled"] == 0
    body = await results(server)
    assert unit_of(body, "01", 1)["stage"] == "provisional"
    assert body["summary"]["seats_filled"] == 0
    assert body["summary"]["composition"]["elected"] == 0
    async with httpx.AsyncClient(base_url=server.http) as c:
        await c.post(
            f"/editor/api/reports/{first['id']}/retract",
            headers={"Authorization": f"Bearer {editor}"},
            json={},
        )
    assert unit_of(await results(server), "01", 1)["status"] == "waiting"
    await totals_are_the_sum_of_the_units(server.db_url)
    at_night = await results(server, at=LATER)
    assert unit_of(at_night, "01", 1)["status"] == "waiting"  # retracted from the past too


async def test_results_at_a_moment_show_that_moments_count(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        await b.send(result([100, 300, 900, 600, 50], 1000, audience="public"))
        await b.send(
            result([100, 700, 900, 600, 50], 1100, as_of=FINAL, stage="final", audience="public")
        )
    night = await results(server, at="2021-05-24T08:00:00+07:00")
    outgoing.Results.model_validate_json(json.dumps(night))
    unit = unit_of(night, "01", 1)
    assert unit["status"] == "counting" and unit["ballots_valid"] == 1000
    assert not any(c["elected"] for c in unit["candidates"])
    assert night["at"] == "2021-05-24T08:00:00+07:00"
    before = await results(server, at="2021-05-23T19:00:00+07:00")
    assert unit_of(before, "01", 1)["status"] == "waiting"
    assert before["summary"]["units_reporting"] == 0
    now, at_end = await results(server), await results(server, at="2021-06-13T12:00:00+07:00")
    assert now["units"] == at_end["units"] and now["summary"] == at_end["summary"]


async def test_the_councils_decision_is_a_change_seen_from_its_moment(server):
    token = await server.token("74")
    bureau_token = token
    editor = await server.token(None, "editor")
    votes = {"74-1-1": 600, "74-1-2": 700, "74-1-3": 800, "74-1-4": 100, "74-1-5": 50}
    async with bureau(server, token) as b:
        ack = await b.send(
            report(
                "result", FINAL, unit=1, ballots_valid=1000, votes=votes, stage="final",
                audience="public",
            )
        )  # fmt: skip
        assert ack["type"] == "ack"
    decision = {
        "candidate": "74-1-2",
        "confirmed": False,
        "source": "NQ 746/NQ-HĐBCQG, 10/6/2021",
        "as_of": "2021-06-10T10:00:00+07:00",
    }
    auth = {"Authorization": f"Bearer {editor}"}
    async with httpx.AsyncClient(base_url=server.http) as c:
        assert (await c.post("/api/results/confirmation", json=decision)).status_code == 401
        bureau_auth = {"Authorization": f"Bearer {bureau_token}"}
        r = await c.post("/api/results/confirmation", json=decision, headers=bureau_auth)
        assert r.status_code == 403
        unknown = {**decision, "candidate": "74-1-9"}
        r = await c.post("/api/results/confirmation", json=unknown, headers=auth)
        assert r.status_code == 404
        loser = {**decision, "candidate": "74-1-4"}
        r = await c.post("/api/results/confirmation", json=loser, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "candidate"
        async with websockets.connect(server.live_url()) as public:
            await feed_message(public)
            r = await c.post("/api/results/confirmation", json=decision, headers=auth)
            assert r.status_code == 200, r.text
            update = await feed_message(public)
        outgoing.Update.model_validate_json(json.dumps(update))
        assert r.json()["id"] == "74-1-2" and r.json()["confirmed"] is False
        assert update["event"]["kind"] == "confirmation"
        assert update["results"]["seats_filled"] == 2
        seq = update["seq"]
        again = await c.post("/api/results/confirmation", json=decision, headers=auth)
        assert again.status_code == 200
        assert (await results(server))["seq"] == seq  # the same decision changes nothing
    body = await results(server)
    unit = unit_of(body, "74", 1)
    assert unit["status"] == "declared"  # a non-confirmation leaves the unit declared
    assert by_id(unit)["74-1-2"]["elected"] is True
    assert by_id(unit)["74-1-2"]["confirmed"] is False
    assert body["summary"]["seats_filled"] == 2
    assert body["summary"]["composition"]["elected"] == 2
    before = await results(server, at="2021-06-09T10:00:00+07:00")
    assert by_id(unit_of(before, "74", 1))["74-1-2"]["confirmed"] is None
    assert before["summary"]["seats_filled"] == 3
    async with httpx.AsyncClient(base_url=server.http) as c:
        reverse = {**decision, "confirmed": True, "as_of": "2021-06-11T10:00:00+07:00"}
        r = await c.post("/api/results/confirmation", json=reverse, headers=auth)
    assert r.status_code == 200 and r.json()["confirmed"] is True
    assert (await results(server))["summary"]["seats_filled"] == 3
    await totals_are_the_sum_of_the_units(server.db_url)


async def test_a_result_over_http_is_acked_like_over_the_socket(server):
    token = await server.token("01")
    body = result([100, 300, 900, 600, 50], 1000)
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.post("/api/reports", json=body, headers={"Authorization": f"Bearer {token}"})
        bad = await c.post(
            "/api/reports",
            json={**body, "id": body["id"][:-1] + "0", "data": {**body["data"], "unit": 50}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200 and r.json()["type"] == "ack"
    assert bad.status_code == 422 and bad.json()["field"] == "data.unit"


async def test_results_and_turnout_from_many_bureaus_at_once_keep_one_seq_order(server):
    """Results share the writer's batches with turnout reports: every ack is a distinct seq
    and the summary at the end counts every unit once."""
    tokens = {code: await server.token(code) for code in ("01", "74")}

    async def send(code: str, unit: int, n: int) -> list[dict]:
        ids = [c.id for c in unit_index()[(code, unit)].candidates]
        async with bureau(server, tokens[code]) as b:
            turnout = report(voted=1000 * n, as_of=f"2021-05-23T1{n}:00:00+07:00")
            answers = [await b.send(turnout)] if code == "01" else []
            answers.append(
                await b.send(
                    report(
                        "result", NIGHT, unit=unit, ballots_valid=100 * n,
                        votes={i: n for i in ids}, audience="public",
                    )
                )
            )  # fmt: skip
            return answers

    batches = await asyncio.gather(
        *(send(code, unit, n) for n, (code, unit) in enumerate(
            [("01", 1), ("01", 2), ("01", 3), ("74", 1), ("74", 2), ("74", 3)], start=1
        ))
    )  # fmt: skip
    acks = [a for batch in batches for a in batch]
    assert all(a["type"] == "ack" for a in acks), acks
    assert len({a["seq"] for a in acks}) == len(acks)
    assert (await results(server))["summary"]["units_reporting"] == 6
    await totals_are_the_sum_of_the_units(server.db_url)


async def totals_are_the_sum_of_the_units(db_url: str) -> None:
    """The kept national totals (each change adds its unit's difference) equal the sum
    over every unit's stored tally."""
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow(
            """SELECT t.public = results_summary(false) AS public,
                      t.internal = results_summary(true) AS internal FROM results_total t"""
        )
    finally:
        await conn.close()
    assert row["public"] and row["internal"]


async def test_mixed_batches_of_results_and_reports_never_deadlock(server):
    """Bureaus sending the day's reports and the count's results at once: the writers'
    batches mix both, and every report is acked (a batch whose turnout took the counter
    before a result's totals row, against one holding that row, deadlocked: `unavailable`)."""
    codes = sorted({u.code for u in unit_index().values()})[:24]
    tokens = {code: await server.token(code) for code in codes}

    async def stream(code: str) -> list[dict]:
        mine = [u for u in unit_index().values() if u.code == code]
        answers = []
        async with bureau(server, tokens[code]) as b:
            for step in range(1, 10):
                turnout = report(voted=1000 * step, as_of=f"2021-05-23T1{step}:00:00+07:00")
                answers.append(await b.send(turnout))
                for u in mine:
                    votes = {c.id: step for c in u.candidates}
                    as_of = f"2021-05-24T0{step}:00:00+07:00"
                    sent = report("result", as_of, unit=u.unit, ballots_valid=10 * step,
                                  votes=votes)  # fmt: skip
                    answers.append(await b.send(sent))
        return answers

    answers = [a for batch in await asyncio.gather(*map(stream, codes)) for a in batch]
    refused = [a for a in answers if a["type"] != "ack"]
    assert not refused, refused[:3]
    await totals_are_the_sum_of_the_units(server.db_url)
