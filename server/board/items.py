"""The board's items: `GET /api/board/items?limit=30`, the latest public notes and re-vote
reports, newest first (the ticker and the notes slide), the re-vote units the picture
counts (the re-votes slide), and the latest `PHOTOS_MAX` photos an editor approved, the
latest approved first (the notes slide). Internal items never: the SQL asks for
`audience = 'public'`, and for `status = 'approved'` photos. A photo's approval is no live
event (photos take no seq): the board sees it at its next read of the items.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import params, store
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


async def read_items(app: Votewire, limit: int) -> dict:
    """The ticker's items and the re-vote units the picture counts (`store.revotes_at`:
    cancelled units left out, as in `revote_units`), newest first; and the latest approved
    photos, the latest approved first."""
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
    }


@route_kind("read")
async def items(request: Request) -> Response:
    limit = params.limit(request, ITEMS_DEFAULT, ITEMS_MAX)
    body = await read_items(votewire(request), limit)
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


routes = [Route("/api/board/items", items)]
