"""Security at the edge, as one pure ASGI middleware, and the table of route kinds.

- Standard headers on every HTTP response (nosniff, no referrer, no framing).
- Per route kind, from `KINDS` (one place): the Content-Security-Policy of each page, its
  caching and referrer policy, and the status a route gives a request it cannot read. A
  route names its kind with `@route_kind("desk")`; unmarked routes are JSON APIs, and any
  other HTML they send (a chart's HTML export, an error page) gets the strict default CSP.
- The Origin check on WebSockets: a browser connecting from a page of another origin is
  refused (403) unless that origin is listed in VOTEWIRE_ALLOWED_ORIGINS. Clients that send
  no Origin (phones' apps, the simulator, servers) are not browsers and are let through;
  they authenticate with their token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_CSP: Mapping[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
"""Plotly.js injects <style> elements, hence 'unsafe-inline' for styles only; scripts are
always files served by the app (no inline script, no eval)."""
LIVE = {"connect-src": "'self' ws://{host} wss://{host}"}
"""Pages that follow a live feed open a WebSocket to the host they were served from."""


@dataclass(frozen=True)
class RouteKind:
    """How the responses of one kind of route are dressed and how its refusals render."""

    page: bool = False
    """An HTML page: a browser asking it gets its refusals as a page, not JSON."""
    csp: Mapping[str, str] = field(default_factory=dict)
    """Directives that differ from `BASE_CSP`."""
    cache: str | None = None
    referrer: str = "no-referrer"
    invalid_status: int = 422
    """HTTP status of `invalid`: 422 for content refused, 400 for a public read's query."""

    def csp_for(self, host: str) -> str:
        directives = {**BASE_CSP, **self.csp}
        return "; ".join(f"{k} {v}".replace("{host}", host) for k, v in directives.items())


KINDS: dict[str, RouteKind] = {
    "api": RouteKind(),
    "read": RouteKind(invalid_status=400),
    "board": RouteKind(page=True, csp={**LIVE, "form-action": "'none'"}, cache="no-cache"),
    "phone": RouteKind(
        page=True,
        csp={**LIVE, "style-src": "'self'", "worker-src": "'self'", "form-action": "'none'"},
        cache="no-cache",
    ),
    "desk": RouteKind(page=True, csp=LIVE, cache="no-store", referrer="same-origin"),
    "public": RouteKind(
        page=True, csp={"style-src": "'self'"}, cache="public, max-age=300", invalid_status=400
    ),
}
"""api: JSON APIs (the default); read: the public read APIs (`/api/snapshot`,
`/api/board/*`); board: the wall board; phone: the correspondent's page; desk: the
editors' pages; public: the public reference pages (`/candidates`: no live feed, a GET
form to itself, cached by anyone, a bad query refused 400). The phone and public pages
keep inline styles out; the desk keeps its Referer for its own origin."""

E = TypeVar("E", bound=Callable[..., Any])


def route_kind(name: str) -> Callable[[E], E]:
    """Mark an endpoint with its kind (a key of `KINDS`)."""
    if name not in KINDS:
        raise KeyError(name)

    def mark(endpoint: E) -> E:
        endpoint.route_kind = name  # type: ignore[attr-defined]
        return endpoint

    return mark


def kind_name(scope: Scope) -> str:
    """The kind of the route that `scope` was routed to ("api" before routing)."""
    return getattr(scope.get("endpoint"), "route_kind", "api")


def kind_of(scope: Scope) -> RouteKind:
    return KINDS[kind_name(scope)]


RAW_SEND = "votewire.raw_send"
"""Scope key of the server's own `send` for a WebSocket (the fan-out's direct writer uses
it; see `server.lane.DirectWriter`)."""

HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
}


def _origin_host(origin: str) -> str | None:
    parts = urlsplit(origin)
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


def _page_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """CSP (and, for pages, caching and referrer policy) of an HTML response."""
    kind = kind_of(scope)
    host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
    out = [(b"content-security-policy", kind.csp_for(host).encode())]
    if kind.page:
        out.append((b"referrer-policy", kind.referrer.encode()))
        if kind.cache:
            out.append((b"cache-control", kind.cache.encode()))
    return out


class EdgeSecurity:
    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed = {o.rstrip("/").lower() for o in allowed_origins if o}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self._origin_ok(scope):
            await send({"type": "websocket.close", "code": 4403})  # before accept: HTTP 403
            return
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                if dict(headers).get(b"content-type", b"").startswith(b"text/html"):
                    extra = [(k, v) for k, v in _page_headers(scope) if k not in present]
                    headers += extra
                    present |= {k for k, _ in extra}
                headers += [(k, v) for k, v in HEADERS.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _origin_ok(self, scope: Scope) -> bool:
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get(b"origin")
        if origin is None:
            return True
        if origin.rstrip("/").lower() in self.allowed:
            return True
        return _origin_host(origin) == headers.get(b"host", "").lower()
