"""The review queue: what an editor must look at, why, and what they do about it.

A report enters the queue (`store.review_queue`) when it is a security note, an internal
note, a correction, a turnout figure that moves more than VOTEWIRE_JUMP_PP points from the
province's previous one ("jump" / "fall"), or anything already acted on. One more rule is
computed here: a province whose current figure is more than VOTEWIRE_NEIGHBOUR_PP points
from the median of its neighbours on the tile grid ("neighbours", `out_of_line`).
Actions (verify, publish, retract, annotate) are changes with their own seq, audited
(`store.apply_action`).
"""

from __future__ import annotations

import functools
import logging
import statistics
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import fixtures as fx
from ingest.errors import Invalid
from server import store
from server.auth import caller, requires
from server.errors import not_found
from server.jsonio import json_body, json_response
from server.state import votewire

log = logging.getLogger("votewire.editor")

QUEUE_LIMIT = 300
NEIGHBOUR_WINDOW_S = 1800
"""Neighbours' figures count only within 30 minutes of the province's own."""
ACTIONS = ("verify", "publish", "retract", "annotate")
WHY_MAX = 2000


@functools.cache
def neighbours() -> dict[str, tuple[str, ...]]:
    """Provinces next to each other on the tile grid (8-neighbourhood)."""
    grid = fx.tile_grid()
    at = {rc: code for code, rc in grid.items()}
    out = {}
    for code, (r, c) in grid.items():
        near = [
            at[(r + dr, c + dc)]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (dr or dc) and (r + dr, c + dc) in at
        ]
        out[code] = tuple(near)
    return out


def out_of_line(latest: dict[str, dict], threshold: float) -> dict[str, float]:
    """code → the median of its neighbours' turnout, for provinces whose current figure is
    more than `threshold` points away from it (neighbours' figures within 30 minutes of its
    own, at least two of them)."""
    flagged = {}
    for code, row in latest.items():
        near = []
        for other in neighbours().get(code, ()):
            o = latest.get(other)
            if (
                o is not None
                and abs((o["as_of"] - row["as_of"]).total_seconds()) <= NEIGHBOUR_WINDOW_S
            ):
                near.append(o["turnout_pct"])
        if len(near) >= 2:
            median = statistics.median(near)
            if abs(row["turnout_pct"] - median) > threshold:
                flagged[code] = median
    return flagged


def reasons(row: dict, jump_pp: float, median: float | None) -> list[str]:
    """Why `row` is in the queue, in the order the desk lists them."""
    out = []
    if row["kind"] == "security":
        out.append("security")
    if row["kind"] == "note" and row["audience"] == "internal":
        out.append("internal_note")
    if row.get("correction"):
        out.append("correction")
    prev = row.get("prev_pct")
    if prev is not None and row.get("turnout_pct") is not None:
        move = row["turnout_pct"] - prev
        if abs(move) > jump_pp:
            out.append("jump" if move > 0 else "fall")
    if median is not None:
        out.append("neighbours")
    if row.get("actions") and not out:
        out.append("acted")
    return out


def queue_item(row: dict, jump_pp: float, median: float | None = None) -> dict:
    p = fx.province_index().get(row["province"])
    return {
        "id": row["id"],
        "seq": row["seq"],
        "province": row["province"],
        "province_name": p.name if p else row["province"],
        "kind": row["kind"],
        "as_of": row["as_of"],
        "received_at": row["received_at"],
        "data": row["data"],
        "audience": row["audience"],
        "retracted": row["retracted"],
        "verified": row["verified"],
        "correction": row.get("correction", False),
        "turnout_pct": row.get("turnout_pct"),
        "prev_pct": row.get("prev_pct"),
        "prev_as_of": row.get("prev_as_of"),
        "neighbours_pct": median,
        "actions": row.get("actions", 0),
        "reasons": reasons(row, jump_pp, median),
    }


@requires("editor")
async def queue(request: Request) -> Response:
    app = votewire(request)
    ds = app.settings.desk
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.review_queue(conn, jump_pp=ds.jump_pp, limit=QUEUE_LIMIT)
        latest = {r["province"]: r for r in await store.latest_turnout(conn)}
    flagged = out_of_line(latest, ds.neighbour_pp)
    items = {
        r["id"]: queue_item(
            r,
            ds.jump_pp,
            flagged.get(r["province"])
            if latest.get(r["province"], {}).get("id") == r["id"]
            else None,
        )
        for r in rows
    }
    for code, median in flagged.items():
        row = latest[code]
        if row["id"] not in items:
            items[row["id"]] = queue_item(row, ds.jump_pp, median)
    ordered = sorted(items.values(), key=lambda i: i["seq"] or 0, reverse=True)
    return json_response({"items": ordered, "jump_pp": ds.jump_pp, "neighbour_pp": ds.neighbour_pp})


def _report_id(request: Request) -> str:
    raw = request.path_params["report_id"]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise not_found("report") from None


@requires("editor")
async def report_detail(request: Request) -> Response:
    app = votewire(request)
    report_id = _report_id(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        row = await store.report_by_id(conn, report_id)
        if row is None:
            raise not_found("report")
        log_rows = await store.audit_log(conn, report_id)
    row.pop("token_id", None)
    return json_response({"report": row, "audit": log_rows})


@requires("editor")
async def act(request: Request) -> Response:
    """verify / publish / retract / annotate one report (store.apply_action), audited."""
    app = votewire(request)
    who = caller(request)
    action = request.path_params["action"]
    report_id = _report_id(request)
    if action not in ACTIONS:
        raise not_found("action")
    body = await json_body(request)
    why = body.get("why")
    if why is not None and not isinstance(why, str):
        raise Invalid.of("why")
    why = (why or "").strip()[:WHY_MAX] or None
    if action == "annotate" and not why:
        raise Invalid.of("why", "empty")
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        out = await store.apply_action(
            conn,
            report_id,
            action,
            token_id=who.bearer.token_id,
            actor=who.actor,
            why=why,
            rehearsal=app.settings.election.rehearsal,
        )
    if out.outcome == "not_found":
        raise not_found("report")
    if out.outcome == "not_publishable":
        raise Invalid.of("action", "not_publishable")
    if out.outcome == "done" and out.seq is not None:
        app.hub.committed(out.seq)
        log.info("%s %s by %s", action, report_id, who.actor)
    return json_response({"outcome": out.outcome, "seq": out.seq})


routes = [
    Route("/editor/api/queue", queue),
    Route("/editor/api/reports/{report_id}", report_detail),
    Route("/editor/api/reports/{report_id}/{action}", act, methods=["POST"]),
]
