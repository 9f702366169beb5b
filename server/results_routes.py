"""The results' HTTP routes (contract §5): the units and their candidates (reference data,
public before the day).

`GET /api/units[?province=01]` is the ballot of every unit: the same bytes until the
configuration changes, so it is built once per process and served with an ETag and a long
public cache.
"""

from __future__ import annotations

import hashlib
from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import candidates
from ingest.errors import Invalid
from ingest.results_view import unit_entry
from server.jsonio import dumps
from server.security import route_kind

UNITS_MAX_AGE_S = 300
"""The ballot does not change during an election: partners may cache it for minutes."""


@cache
def units_body(province: str | None) -> bytes:
    """`{"units": [...]}`, every unit (or one province's) with its candidates in ballot order."""
    chosen = candidates.units_of(province) if province else candidates.units()
    return dumps({"units": [unit_entry(u) for u in chosen]}).encode()


@route_kind("read")
async def units(request: Request) -> Response:
    province = request.query_params.get("province")
    if province is not None and not candidates.units_of(province):
        raise Invalid.of("province", province=province[:10])
    body = units_body(province)
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={UNITS_MAX_AGE_S}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


routes = [Route("/api/units", units)]
