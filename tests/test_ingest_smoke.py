from tests.conftest import bureau, report, stored


async def test_turnout_report_is_acked_and_stored(server):
    token = await server.token("01")
    async with bureau(server, token) as b:
        assert b.welcome["province"] == {"code": "01", "name": "Hà Nội"}
        ack = await b.send(r := report(voted=1000))
        assert ack == {"type": "ack", "id": r["id"], "seq": 1, "duplicate": False}
    rows = await stored(server.db_url)
    assert [row["id"] for row in rows] == [r["id"]]
    snap = await server.snapshot()
    assert snap["national"]["voted"] == 1000
