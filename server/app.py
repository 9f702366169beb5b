"""The Starlette application: one `Votewire` state object per process, routes, lifespan."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, time

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from dashboards import pages
from ingest.errors import ContractError, Invalid, auth_failed
from ingest.fixtures import Province, provinces
from server import board, charts, editor, mobile, store
from server.auth import bearer_for
from server.bureau import bureau_socket, post_report
from server.collector import QuietCollector
from server.fanout import Hub, LocalWakeup, PostgresWakeup
from server.live import editor_live, public_live
from server.metrics import Metrics
from server.reports import Desk, RateLimiter
from server.security import EdgeSecurity
from server.settings import Settings, utc_now

log = logging.getLogger("votewire")


@dataclass
class Votewire:
    settings: Settings
    database_url: str
    pool: asyncpg.Pool = None  # type: ignore[assignment]
    desk: Desk = None  # type: ignore[assignment]
    hub: Hub = None  # type: ignore[assignment]
    collector: QuietCollector | None = None
    provinces: dict[str, Province] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)

    def now_local(self) -> datetime:
        return utc_now().astimezone(self.settings.election.zone)

    async def start(self) -> None:
        s = self.settings
        self.pool = await store.create_pool(self.database_url, s.zone_name, timeout=s.db_timeout_s)
        async with self.pool.acquire() as conn:
            await store.migrate(conn)
            await store.seed_provinces(conn, provinces())
            registered = await store.registered_defaults(conn)
        self.provinces = {p.code: p for p in provinces()}
        wakeup = (
            PostgresWakeup(self.database_url, s.zone_name, s.listen_check_s, s.db_timeout_s)
            if s.fanout == "postgres"
            else LocalWakeup()
        )
        self.hub = Hub(
            self.pool,
            wakeup,
            coalesce_s=s.coalesce_ms / 1000,
            poll_s=s.listen_check_s,
            timeout=s.db_timeout_s,
            fanout_seconds=self.metrics.fanout_latency.observe,
        )
        for audience, lane in self.hub.lanes.items():
            self.metrics.viewers_direct.labels(audience).set_function(lane.__len__)
        await self.hub.start()
        self.desk = Desk(
            self.pool,
            s,
            registered,
            RateLimiter(s.rate_per_s, s.rate_burst),
            on_commit=self.hub.committed,
        )
        self.desk.start()
        if s.gc_quiet_s > 0:
            self.collector = QuietCollector(
                self.hub.quiet_for,
                quiet_s=s.gc_quiet_s,
                pause_seconds=lambda g, d: self.metrics.gc_pause.labels(str(g)).observe(d),
            )
            self.collector.start()

    async def stop(self) -> None:
        if self.collector:
            await self.collector.stop()
        if self.desk:
            await self.desk.stop()
        if self.hub:
            await self.hub.stop()
        if self.pool:
            await self.pool.close()


class GracefulServer(uvicorn.Server):
    """uvicorn's shutdown closes every WebSocket (1012) as its first step. Before that, stop
    accepting connections and reports and let the acks already in flight go out, so a
    report that was stored is also acknowledged."""

    def __init__(self, config: uvicorn.Config, state: Votewire, drain_s: float = 10.0) -> None:
        super().__init__(config)
        self.state, self.drain_s = state, drain_s

    async def shutdown(self, sockets=None) -> None:
        for server in self.servers:
            server.close()
        if self.state.desk is not None:
            await self.state.desk.drain(self.drain_s)
        await super().shutdown(sockets)


def parse_at(raw: str, app: Votewire) -> datetime:
    """`at=` as ISO 8601 with offset, or a local time "15:00" on the election day."""
    try:
        if len(raw) <= 5 and ":" in raw:
            return app.settings.election.at(time.fromisoformat(raw))
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(
            "Tham số at phải là thời điểm ISO 8601, ví dụ 2021-05-23T15:00:00+07:00",
            "at must be an ISO 8601 time, e.g. 2021-05-23T15:00:00+07:00, or HH:MM",
            field="at",
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=app.settings.election.zone)
    return value


async def read_picture(app: Votewire, *, internal: bool, at: datetime | None) -> dict:
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        picture = await store.picture(conn, internal=internal, at=at)
    when = at or app.now_local()
    return {
        "seq": picture["seq"],
        "at": when.astimezone(app.settings.election.zone).isoformat(timespec="seconds"),
        "rehearsal": app.settings.election.rehearsal,
        "national": picture["national"],
        "provinces": picture["provinces"],
    }


async def snapshot(request: Request) -> Response:
    app: Votewire = request.app.state.votewire
    try:
        at = request.query_params.get("at")
        picture = await read_picture(app, internal=False, at=parse_at(at, app) if at else None)
    except ContractError as exc:
        status = 503 if exc.code == "unavailable" else 400
        return JSONResponse(exc.to_wire(), status_code=status)
    etag = '"' + hashlib.sha1(f"{picture['seq']}|{at}".encode()).hexdigest()[:16] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=1" if not at else "public, max-age=5",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return JSONResponse(picture, headers=headers)


async def healthz(request: Request) -> Response:
    app: Votewire = request.app.state.votewire
    checks = {"process": True, "database": False, "listen": app.hub.wakeup.healthy()}
    with contextlib.suppress(Exception):
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            checks["database"] = await store.ping(conn)
    ok = all(checks.values())
    return JSONResponse({"ok": ok, **checks}, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text format; scrapers authenticate with an editor or admin bearer token."""
    app: Votewire = request.app.state.votewire
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        bearer = await bearer_for(app, token.strip()) if scheme.lower() == "bearer" else None
    except ContractError as exc:
        return JSONResponse(exc.to_wire(), status_code=503)
    if bearer is None or bearer.role not in ("editor", "admin"):
        return JSONResponse(auth_failed().to_wire(), status_code=401)
    return PlainTextResponse(app.metrics.render(), media_type="text/plain; version=0.0.4")


def create_app(settings: Settings, database_url: str) -> Starlette:
    state = Votewire(settings, database_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    routes = [
        WebSocketRoute("/ws/bureau", bureau_socket),
        WebSocketRoute("/ws/live", public_live),
        WebSocketRoute("/ws/live/editor", editor_live),
        Route("/api/snapshot", snapshot),
        Route("/api/reports", post_report, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *mobile.routes,
        *editor.routes,
        *charts.routes,
        *board.routes,
        Mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(EdgeSecurity, allowed_origins=settings.allowed_origins)],
    )
    app.state.votewire = state
    return app
