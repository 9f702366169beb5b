"""Is this process well: `GET /healthz` (for load balancers) and `GET /metrics`
(Prometheus text; scrapers authenticate as an editor or admin).

`/healthz` answers everyone with its status and `{"ok"}`; which check failed (process,
database, LISTEN) is told only to editors and to the proxy itself (a request from a
VOTEWIRE_TRUSTED_PROXIES address that forwards no other client): a stranger learns
no more than whether the service is up.
"""

from __future__ import annotations

import contextlib
import ipaddress

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ingest.errors import auth_failed
from server import store
from server.auth import requires
from server.state import votewire


def from_proxy(request: Request, proxies: tuple[str, ...]) -> bool:
    """Is the caller one of `proxies` (addresses, CIDR networks, or "*")? uvicorn has
    already replaced a trusted proxy's address by the client it forwards for."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "*" in proxies
    for entry in proxies:
        if entry == "*":
            return True
        with contextlib.suppress(ValueError):
            if address in ipaddress.ip_network(entry, strict=False):
                return True
    return False


async def healthz(request: Request) -> Response:
    app = votewire(request)
    checks = {"process": True, "database": False, "listen": app.hub.wakeup.healthy()}
    with contextlib.suppress(Exception):
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            checks["database"] = await store.ping(conn)
    ok = all(checks.values())
    told = "editor" in request.auth.scopes or from_proxy(request, app.settings.edge.trusted_proxies)
    body = {"ok": ok, **checks} if told else {"ok": ok}
    return JSONResponse(body, status_code=200 if ok else 503)


@requires("editor", wrong_role=lambda _scope: auth_failed())
async def metrics(request: Request) -> Response:
    """A bureau's token is no scraper's: it is refused as unknown (401), not forbidden."""
    return PlainTextResponse(
        votewire(request).metrics.render(), media_type="text/plain; version=0.0.4"
    )


routes = [Route("/healthz", healthz), Route("/metrics", metrics)]
