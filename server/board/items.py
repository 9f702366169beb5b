"""The board's items: `GET /api/board/items?limit=30`, the latest public notes and re-vote
reports, newest first (the ticker and the notes slide), the re-vote units the picture
counts (the re-votes slide), the latest `PHOTOS_MAX` photos an editor approved, the
latest approved first (the notes slide), and from the public results their summary (the
results slides' figures, with its `seq`) and the winners of the latest `WINNERS_MAX`
declared units (the ticker). Internal items never: the SQL asks for
`audience = 'public'`, for `status = 'approved'` photos, and the results are read as a
public reader reads them. A photo's approval is no live event (photos take no seq): the
board sees it at its next read of the items; results come on the feed as well.
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ingest import fixtures as fx
from server import params, store
from server.board.layouts import WINNERS_MAX
from server.board.slides import public_results
from server.security import route_kind
from server.state import Votewire, votewire

ITEMS_DEFAULT = 30
ITEMS_MAX = 100
REVOTES_MAX = 100
PHOTOS_MAX = 6
"""The board's notes slide shows at most this many approved photos (their bytes are served
by `/photos/{id}.jpg`, server/photos.py)."""


def _item(row: dict, zone) -> dict:
    return {
        "id": row["id"],
        "seq": row["seq"],
        "kind": row["kind"],
        "province": row["province"],
        "as_of": row["as_of"].astimezone(zone).isoformat(timespec="seconds"),
        "data": row["data"],
    }


def _unit(row: dict, zone) -> dict:
    return {
        "province": row["province"],
        "as_of": row["as_of"].astimezone(zone).isoformat(timespec="seconds"),
        "data": {k: row[k] for k in ("unit", "level", "reason", "status", "note") if row[k]},
    }


def _photo(row: dict, zone) -> dict:
    """An approved photo as the board shows it: no reviewer, no status, no bytes. `as_of`
    is when the bureau sent it, `approved_at` when an editor approved it."""
    approved = row["reviewed_at"]
    return {
        "id": row["id"],
        "url": f"/photos/{row['id']}.jpg",
        "caption": row["caption"],
        "province": row["province"],
        "width": row["width"],
        "height": row["height"],
        "as_of": row["uploaded_at"].astimezone(zone).isoformat(timespec="seconds"),
        "approved_at": approved.astimezone(zone).isoformat(timespec="seconds")
        if approved
        else None,
    }


DECLARED = ("declared", "supplementary")
"""A unit's status once its final record is in: its winners are known."""


def winners(unit: dict) -> dict | None:
    """A declared unit as the ticker shows it ("Hà Nội · ĐV 1: Nguyễn Phú Trọng 93,23 %"):
    its elected candidates in rank order, less any the Council did not confirm; None for
    a unit still waiting or counting. board-results.js reads a live unit the same way."""
    if unit.get("status") not in DECLARED:
        return None
    elected = [
        c for c in unit["candidates"] if c.get("elected") and c.get("confirmed") is not False
    ]
    elected.sort(key=lambda c: c.get("rank") or 0)
    return {
        "code": unit["code"],
        "unit": unit["unit"],
        "status": unit["status"],
        "as_of": unit["as_of"],
        "elected": [{"id": c["id"], "name": c["name"], "pct": c["pct"]} for c in elected],
    }


def latest_winners(results: dict, limit: int = WINNERS_MAX) -> list[dict]:
    """The winners of the latest `limit` declared units, the latest declared first."""
    out = [w for w in map(winners, results["units"]) if w is not None]
    order = {p.code: i for i, p in enumerate(fx.provinces())}
    out.sort(key=lambda w: (order.get(w["code"], 99), w["unit"]))
    out.sort(key=lambda w: datetime.fromisoformat(w["as_of"]), reverse=True)
    return out[:limit]


def results_items(results: dict) -> dict:
    """What the board keeps of a results body: the summary and its seq, and the winners."""
    return {
        "results": {"seq": results["seq"], "summary": results["summary"]},
        "winners": latest_winners(results),
    }


async def read_items(app: Votewire, limit: int, results: dict) -> dict:
    """The ticker's items and the re-vote units the picture counts (`store.revotes_at`:
    cancelled units left out, as in `revote_units`), newest first; the latest approved
    photos, the latest approved first; from the public `results`, their summary and the
    latest winners."""
    zone = app.settings.election.zone
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        items = await store.board_items(conn, limit)
        units = await store.revotes_at(conn, None)
        photos = await store.board_photos(conn, PHOTOS_MAX)
    units.sort(key=lambda u: u["as_of"], reverse=True)
    return {
        "items": [_item(r, zone) for r in items],
        "revotes": [_unit(u, zone) for u in units[:REVOTES_MAX]],
        "photos": [_photo(p, zone) for p in photos],
        **results_items(results),
    }


@route_kind("read")
async def items(request: Request) -> Response:
    limit = params.limit(request, ITEMS_DEFAULT, ITEMS_MAX)
    body = await read_items(votewire(request), limit, await public_results(request))
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


routes = [Route("/api/board/items", items)]
