"""JSON in and out of the HTTP routes: one encoder (moments in the election's zone, UUIDs
as text), one response helper (never cached unless a route says so), one body reader."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from dashboards import i18n
from ingest.errors import Invalid

ZONE: list[tzinfo] = [i18n.DEFAULT_ZONE]
"""The election's zone, one per process: the wiring sets it from the settings (`use_zone`)."""


def use_zone(zone: tzinfo) -> None:
    ZONE[0] = zone


def json_default(value: Any) -> Any:
    """What `json.dumps` cannot encode by itself: a moment becomes ISO 8601 in the
    election's zone (to the second), a date ISO, a UUID its text."""
    if isinstance(value, datetime):
        return value.astimezone(ZONE[0]).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def iso(value: Any) -> Any:
    """`value` with a moment turned into its ISO text (other values unchanged)."""
    return json_default(value) if isinstance(value, datetime) else value


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=json_default)


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        dumps(data),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


async def json_body(request: Request, limit: int = 16_384) -> dict:
    """The request's JSON object (`{}` for an empty body); `invalid` otherwise."""
    body = await request.body()
    if not body:
        return {}
    if len(body) > limit:
        raise Invalid.of(None, "body_too_long")
    try:
        data = json.loads(body)
    except ValueError:
        raise Invalid.of(None, "body_not_json") from None
    if not isinstance(data, dict):
        raise Invalid.of(None, "expected_object")
    return data
