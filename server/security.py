"""Security at the edge, as one pure ASGI middleware:

- standard headers on every HTTP response (a default Content-Security-Policy for pages that
  set none of their own, nosniff, no referrer, no framing);
- the Origin check on WebSockets: a browser connecting from a page of another origin is
  refused (403) unless that origin is listed in VOTEWIRE_ALLOWED_ORIGINS. Clients that send
  no Origin (phones' apps, the simulator, servers) are not browsers and are let through;
  they authenticate with their token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
"""Plotly.js injects <style> elements, hence 'unsafe-inline' for styles only; scripts are
always files served by the app (no inline script, no eval)."""

RAW_SEND = "votewire.raw_send"
"""Scope key of the server's own `send` for a WebSocket (the fan-out's direct writer uses
it; see `server.fanout.DirectWriter`)."""

HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
}


def _origin_host(origin: str) -> str | None:
    parts = urlsplit(origin)
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


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
                headers += [(k, v) for k, v in HEADERS.items() if k not in present]
                content_type = dict(headers).get(b"content-type", b"")
                if b"content-security-policy" not in present and content_type.startswith(
                    b"text/html"
                ):
                    headers.append((b"content-security-policy", DEFAULT_CSP.encode()))
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
