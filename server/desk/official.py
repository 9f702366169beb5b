"""Official figures beside ours: the desk records what the election authority announces
(the nation's or a province's turnout at a moment) and every screen that shows it puts our
own figure of the same moment beside it, with the difference (`store.officials`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboards import i18n
from ingest.errors import ContractError, Invalid
from server import params, store
from server.auth import caller, requires
from server.errors import not_found
from server.jsonio import json_body, json_response
from server.picture import moment, parse_at
from server.state import votewire

VOTERS_MAX = 200_000_000


def official_view(rows: list[dict]) -> dict[str, Any]:
    """The latest official figure of the nation and of each province, with ours beside
    (`rows` as `store.officials` gives them, newest first)."""
    out: dict[str, Any] = {"national": None, "provinces": {}}
    for row in rows:
        if row["province"] is None:
            out["national"] = out["national"] or row
        else:
            out["provinces"].setdefault(row["province"], row)
    return out


@requires("editor")
async def official_list(request: Request) -> Response:
    app = votewire(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.officials(conn, moment(request), latest=False)
    return json_response({"items": rows})


def number(data: dict, name: str, kind: type, *, low: float, high: float, required: bool) -> Any:
    """`data[name]` as an int or float within [low, high], typed as a person types it
    ("95,65 %" is 95.65); None when absent and not required."""
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise Invalid.of(name, "required")
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", ".").rstrip("%").strip()
    try:
        figure = kind(value)
    except (TypeError, ValueError):
        raise Invalid.of(name, "not_a_number") from None
    if isinstance(value, bool) or not (low <= figure <= high) or figure != figure:
        raise Invalid.of(name, "out_of_range")
    return figure


@requires("editor")
async def official_add(request: Request) -> Response:
    """Record an official announcement: `{"province": null|"01", "turnout_pct": 95.65,
    "as_of": "17:30" or ISO, "source": "...", "voted"?, "registered"?}`."""
    app = votewire(request)
    data = await json_body(request)
    province = params.province(data, app.provinces, required=False)
    pct = number(data, "turnout_pct", float, low=0, high=100, required=True)
    voted = number(data, "voted", int, low=0, high=VOTERS_MAX, required=False)
    registered = number(data, "registered", int, low=1, high=VOTERS_MAX, required=False)
    raw_at = data.get("as_of")
    if not isinstance(raw_at, str) or not raw_at.strip():
        raise Invalid.of("as_of", "required")
    try:
        as_of = parse_at(raw_at.strip(), app.settings.election)
    except ContractError as exc:
        exc.field = "as_of"
        raise
    source = params.line(data, "source", 300)
    if not source:
        source = i18n.label("official_source_default", "vi")
    who = caller(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        new_id = await store.add_official(
            conn,
            province=province,
            as_of=as_of,
            turnout_pct=pct,
            voted=voted,
            registered=registered,
            source=source,
            token_id=who.bearer.token_id,
            actor=who.actor,
        )
    return json_response({"id": new_id}, status=201)


@requires("editor")
async def official_withdraw(request: Request) -> Response:
    app = votewire(request)
    official_id = params.row_id(request, "official_id", "official figure")
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        count = await store.withdraw_official(conn, official_id)
    if not count:
        raise not_found("official figure")
    return json_response({"withdrawn": True})


routes = [
    Route("/editor/api/official", official_list, methods=["GET"]),
    Route("/editor/api/official", official_add, methods=["POST"]),
    Route("/editor/api/official/{official_id:int}/withdraw", official_withdraw, methods=["POST"]),
]
