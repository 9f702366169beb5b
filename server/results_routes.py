"""The results' HTTP routes (contract §5).

    GET  /api/units[?province=01]       the ballot: units and candidates (public, cacheable)
    GET  /api/results[?at=]              the count now or at a moment (editors: internal too)
    POST /api/results/confirmation       the Council's decision on a winner (an editor)

`/api/units` is the same bytes until the configuration changes, so it is built once per
process. `/api/results` answers editors (bearer or session cookie) with internal results,
`Cache-Control: private` and an ETag of their own, never the public one (§5).
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import candidates
from ingest.errors import Invalid
from ingest.messages import ConfirmationMsg, check_moment, parse_confirmation
from ingest.results_view import unit_entry
from server import store
from server.auth import caller, requires
from server.errors import not_found
from server.jsonio import dumps, json_body, json_response
from server.picture import kept_answer, parse_at
from server.results import read_results
from server.security import route_kind
from server.state import votewire

log = logging.getLogger("votewire.results")

UNITS_MAX_AGE_S = 300
"""The ballot does not change during an election: partners may cache it for minutes."""


@cache
def units_body(province: str | None) -> bytes:
    """`{"units": [...]}`, every unit (or one province's) with its candidates in ballot order."""
    chosen = candidates.units_of(province) if province else candidates.units()
    return dumps({"units": [unit_entry(u) for u in chosen]}).encode()


def _answer(request: Request, body: bytes, cache_control: str) -> Response:
    tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    headers = {"ETag": tag, "Cache-Control": cache_control}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@route_kind("read")
async def units(request: Request) -> Response:
    province = request.query_params.get("province")
    if province is not None and not candidates.units_of(province):
        raise Invalid.of("province", province=province[:10])
    return _answer(request, units_body(province), f"public, max-age={UNITS_MAX_AGE_S}")


@route_kind("read")
async def results(request: Request) -> Response:
    return await kept_answer(request, "results", read_results)


@requires("editor")
async def confirmation(request: Request) -> Response:
    """The Council's decision on an elected candidate: a change like any other (§5)."""
    app = votewire(request)
    msg: ConfirmationMsg = parse_confirmation(await json_body(request))
    if msg.candidate not in candidates.candidate_index():
        raise not_found("candidate")
    election = app.settings.election
    if msg.as_of is None:
        as_of = app.now_local()
    else:
        as_of = parse_at(msg.as_of, election, field="as_of")
        check_moment(
            as_of,
            window=election.window,
            now=app.now_local(),
            future_slack=app.settings.future_slack,
        )
    who = caller(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        out = await store.record_decision(
            conn,
            msg.candidate,
            msg.confirmed,
            msg.source,
            as_of,
            token_id=who.bearer.token_id,
            actor=who.actor,
            rehearsal=election.rehearsal,
        )
    if out.outcome == "not_elected":
        raise Invalid.of("candidate", "not_elected", candidate=msg.candidate)
    if out.seq is not None:
        app.hub.committed(out.seq)
        log.info("confirmation %s %s by %s", msg.candidate, msg.confirmed, who.actor)
    entry = next(c for c in out.unit["candidates"] if c["id"] == msg.candidate)
    return json_response(entry)


routes = [
    Route("/api/units", units),
    Route("/api/results", results),
    Route("/api/results/confirmation", confirmation, methods=["POST"]),
]
