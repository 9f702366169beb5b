"""Query parameters that several routes read the same way."""

from __future__ import annotations

from starlette.requests import Request

from ingest.errors import Invalid


def limit(request: Request, default: int, maximum: int) -> int:
    """`?limit=`: an integer from 1 to `maximum` (`default` when absent), else `invalid`."""
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        raise Invalid(
            f"limit phải là số nguyên từ 1 đến {maximum}",
            f"limit must be an integer from 1 to {maximum}",
            field="limit",
        )
    return value
