"""The public read path before routing: `/api/snapshot` and `/api/results` as kept bytes.

On election night nearly every request is an anonymous poll of one of these two bodies.
Through the full stack (Starlette's routing and middleware, authentication, `Request` and
`Response` objects, the edge's header rewrite) one such read cost ~70 µs more than a bare
endpoint sending the same bytes (issue 14: 0.62 of bare). This outermost middleware
answers those polls itself, from the same kept body (`ReadCache.peek`) and with the same
headers the routed answer has, so a poll costs what a bare endpoint costs.

It answers only when the routed answer would be the public, kept one, and passes the
request on otherwise:
- `GET` of exactly a path of `PATHS`, with no query string (`?at=` and any parameter go
  through the routes, which read and check them);
- no `Authorization` and no `Cookie` header: an editor (bearer or session cookie) gets the
  internal body, `private`, under its own ETag (server/picture.py `kept_answer`); a reader
  with any cookie takes the routed path, which decides whether it is a session;
- a kept body fresh for the newest change this process knows; a stale or missing one is
  read by the route (one database read shared by concurrent readers).

Same bytes, same headers (`tests/test_kept_reads.py` compares both paths): `at` is the
election clock's now, the ETag the audience and `seq`, `304` on `If-None-Match`, and the
edge's standard headers (`server.security.HEADERS`).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from server.bodies import PUBLIC_NOW, Body, etag, kept_key
from server.security import HEADERS
from server.state import Votewire

PATHS: Mapping[str, str] = {"/api/snapshot": "snapshot", "/api/results": "results"}
"""Path → the body's name in the read cache (the name `kept_answer` is given)."""

_FIXED = [
    (b"cache-control", PUBLIC_NOW.encode()),
    *HEADERS.items(),
]


class KeptReads:
    """Pure ASGI middleware, outermost: see the module docstring."""

    def __init__(self, app: ASGIApp, state: Votewire) -> None:
        self.app = app
        self.state = state
        self.keys = {path: kept_key(name, "public") for path, name in PATHS.items()}
        self._last: dict[str, tuple[Body, str, bytes, tuple[bytes, bytes]]] = {}
        """Per key, the last bytes sent: reused while the body and its `at` (to the second)
        are the same, instead of copying the body again for every poll."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["query_string"]
            or (key := self.keys.get(scope["path"])) is None
        ):
            await self.app(scope, receive, send)
            return
        held = None
        for name, value in scope["headers"]:
            if name == b"authorization" or name == b"cookie":
                await self.app(scope, receive, send)
                return
            if name == b"if-none-match":
                held = value
        body = self.state.reads.peek(key)
        if body is None:
            await self.app(scope, receive, send)
            return
        self.state.reads.served += 1
        tag = etag("public", body.seq, None).encode()
        headers = [(b"etag", tag), *_FIXED]
        if held == tag:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        at = self.state.at_text()
        last = self._last.get(key)
        if last is None or last[0] is not body or last[1] != at:
            content = body.render(at)
            length = (b"content-length", str(len(content)).encode())
            self._last[key] = last = (body, at, content, length)
        headers += [last[3], (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": last[2]})
