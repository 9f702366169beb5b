"""Operations: /healthz and the Prometheus metrics an on-call engineer watches."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from tests.conftest import bureau, report


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            if name + " " in line or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_healthz_reports_process_database_and_listen(server):
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{server.http}/healthz")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "process": True, "database": True, "listen": True}


async def test_metrics_count_answers_viewers_and_fanout(server):
    token = await server.token("01")
    editor = await server.token(role="editor")
    async with websockets.connect(server.live_url()) as viewer:
        await viewer.recv()
        async with bureau(server, token) as b:
            await b.send(report(voted=10))
            await b.send(report(voted=-1))
            await b.send("{bad json")
        json.loads(await asyncio.wait_for(viewer.recv(), 10))
        async with httpx.AsyncClient() as c:
            text = (
                await c.get(f"{server.http}/metrics", headers={"Authorization": f"Bearer {editor}"})
            ).text
    assert metric(text, 'votewire_reports_total{outcome="ack"}') == 1
    assert metric(text, 'votewire_reports_total{outcome="invalid"}') == 2
    assert metric(text, "votewire_ack_latency_seconds_count") == 3
    assert metric(text, 'votewire_viewers{audience="public"}') == 1
    assert metric(text, "votewire_fanout_latency_seconds_count") >= 1
    assert metric(text, "votewire_dropped_viewers_total") == 0


def test_json_logs_carry_the_report_id_and_seq():
    import logging

    from server.logs import JsonFormatter

    record = logging.LogRecord("votewire.reports", logging.INFO, __file__, 1, "accepted", (), None)
    record.report_id, record.seq, record.kind = "6f1c6c1e-9c1b-4b65-9d55-3c9a1f0f2a11", 7, "note"
    line = json.loads(JsonFormatter().format(record))
    assert line["report_id"] == "6f1c6c1e-9c1b-4b65-9d55-3c9a1f0f2a11"
    assert line["seq"] == 7 and line["kind"] == "note" and line["level"] == "INFO"
