"""`/api/clock` (contract §6): read the election clock, set a replay's, return to live.

    GET    /api/clock   {"clock": <ISO, the election's zone>, "mode": "live"|"replay", "speed"}
    POST   /api/clock   {"clock": <ISO with offset>, "speed": <0–3600>}   (an editor)
    DELETE /api/clock   back to wall time                                 (an editor)

A change is stored in Postgres and NOTIFYed, so every process's clock and live viewers
follow within the feed's latency; the process that took the change answers with it at
once (read your writes).
"""

from __future__ import annotations

import logging
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest.messages import parse_clock_setting
from server import store
from server.auth import caller, requires
from server.jsonio import json_body, json_response
from server.state import Votewire, votewire

log = logging.getLogger("votewire.clock")


async def clock_get(request: Request) -> Response:
    return json_response(votewire(request).clock.message())


@requires("editor")
async def clock_set(request: Request) -> Response:
    setting = parse_clock_setting(await json_body(request))
    return await _change(request, setting.clock, setting.speed)


@requires("editor")
async def clock_clear(request: Request) -> Response:
    return await _change(request, None, 1.0)


async def _change(request: Request, clock: datetime | None, speed: float) -> Response:
    app: Votewire = votewire(request)
    who = caller(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        await store.set_election_clock(conn, clock, speed, who.bearer.token_id)
        await app.clock.load(conn)
    app.hub.notice("clock")
    body = app.clock.message()
    log.info(
        "election clock set to %s (%s, speed %g) by %s",
        body["clock"],
        body["mode"],
        speed,
        who.actor,
    )
    return json_response(body)


routes = [
    Route("/api/clock", clock_get, methods=["GET"]),
    Route("/api/clock", clock_set, methods=["POST"]),
    Route("/api/clock", clock_clear, methods=["DELETE"]),
]
