"""`GET /api/openapi.json`: the public HTTP API as OpenAPI 3.1, for the partner media who
poll the snapshot. The document is generated from the declared shapes (`ingest/openapi.py`)
once per process; `tests/test_openapi.py` keeps it in step with the route table."""

from __future__ import annotations

import functools
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest.openapi import openapi_document
from server.security import route_kind


@functools.cache
def document_text() -> str:
    return json.dumps(openapi_document(), ensure_ascii=False)


@route_kind("read")
async def openapi(request: Request) -> Response:
    return Response(
        document_text(),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


routes = [Route("/api/openapi.json", openapi)]
