"""Is this process well: `GET /healthz` (for load balancers; public) and `GET /metrics`
(Prometheus text; scrapers authenticate as an editor or admin)."""

from __future__ import annotations

import contextlib

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ingest.errors import auth_failed
from server import store
from server.auth import requires
from server.state import votewire


async def healthz(request: Request) -> Response:
    app = votewire(request)
    checks = {"process": True, "database": False, "listen": app.hub.wakeup.healthy()}
    with contextlib.suppress(Exception):
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            checks["database"] = await store.ping(conn)
    ok = all(checks.values())
    return JSONResponse({"ok": ok, **checks}, status_code=200 if ok else 503)


@requires("editor", wrong_role=lambda _scope: auth_failed())
async def metrics(request: Request) -> Response:
    """A bureau's token is no scraper's: it is refused as unknown (401), not forbidden."""
    return PlainTextResponse(
        votewire(request).metrics.render(), media_type="text/plain; version=0.0.4"
    )


routes = [Route("/healthz", healthz), Route("/metrics", metrics)]
