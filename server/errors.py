"""The contract's refusals over HTTP: the status each one carries and the one Starlette
exception handler that renders them.

Routes raise a `ContractError` (ingest/errors.py) or `NotFound`; `handler` turns it into
the contract's JSON error `{"type": "error", "id", "code", "field", "message", ...}` with
its status (`http_status`), or, for a browser asking a page, into a page (the desk's
sign-in form, or `error_page`). `Retry-After` goes with `unavailable` and `rate_limited`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket

from ingest.errors import ContractError
from server.jsonio import json_response
from server.security import RouteKind, kind_name, kind_of


class NotFound(ContractError):
    code = "not_found"


def not_found(what: str) -> NotFound:
    return NotFound(f"Không tìm thấy {what}", f"No such {what}")


STATUS = {
    "invalid": 422,
    "forbidden": 403,
    "regression": 409,
    "rate_limited": 429,
    "too_large": 413,
    "unavailable": 503,
    "auth_failed": 401,
    "not_found": 404,
}
"""The HTTP status of each code (`invalid` of a public read's query: see `RouteKind`)."""
RETRY_AFTER_S = 5
CLOSE_TRY_LATER = 1013
CLOSE_POLICY = 1008


def http_status(exc: ContractError, kind: RouteKind | None = None) -> int:
    if exc.code == "invalid" and kind is not None:
        return kind.invalid_status
    return STATUS.get(exc.code, 400)


def _retry_after(exc: ContractError) -> dict[str, str]:
    if exc.code not in ("unavailable", "rate_limited"):
        return {}
    seconds = RETRY_AFTER_S if exc.retry_after_s is None else exc.retry_after_s
    return {"Retry-After": str(math.ceil(seconds))} if seconds > 0 else {}


def error_json(exc: ContractError, status: int | None = None) -> Response:
    return json_response(exc.to_wire(), status or http_status(exc), headers=_retry_after(exc))


def error_page(request: Request, exc: ContractError, status: int) -> Response:
    """A plain bilingual page; while the database is away it reloads itself."""
    reload = '<meta http-equiv="refresh" content="10">' if exc.code == "unavailable" else ""
    body = (
        f'<!doctype html><html><head><meta charset="utf-8">{reload}<title>votewire</title>'
        '</head><body style="background:#111;color:#eee;font:32px sans-serif;padding:2em">'
        f"{html.escape(exc.message_vi)}<br>{html.escape(exc.message_en)}</body></html>"
    )
    headers = {"Retry-After": "10"} if exc.code == "unavailable" else None
    return HTMLResponse(body, status_code=status, headers=headers)


PageRenderer = Callable[[Request, ContractError, int], Response]
Handler = Callable[[HTTPConnection, Exception], Awaitable[Response | None]]


def handler(pages: Mapping[str, PageRenderer]) -> Handler:
    """The app's one handler of `ContractError`. `pages` maps a page kind to how its
    refusals render for a browser (kinds not listed get `error_page`); the composition
    root passes them, so this module knows no page."""

    async def render(conn: HTTPConnection, exc: Exception) -> Response | None:
        assert isinstance(exc, ContractError)
        if isinstance(conn, WebSocket):
            code = CLOSE_TRY_LATER if exc.code == "unavailable" else CLOSE_POLICY
            await conn.close(code)
            return None
        assert isinstance(conn, Request)
        kind = kind_of(conn.scope)
        status = http_status(exc, kind)
        if kind.page and "text/html" in conn.headers.get("accept", ""):
            return pages.get(kind_name(conn.scope), error_page)(conn, exc, status)
        return error_json(exc, status)

    return render
