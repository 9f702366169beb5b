"""The composition root: builds one `Votewire` state per process (server/state.py), wires
every route module, the middleware (edge security, authentication) and the one exception
handler, and runs the lifespan. Nothing in `server` imports this module; the command line's
`serve` and `demo` and the tests do."""

from __future__ import annotations

import contextlib
import functools
import logging

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from dashboards import pages
from ingest.errors import ContractError
from ingest.fixtures import provinces
from server import (
    apidoc,
    bureau,
    candidates,
    charts,
    clock,
    clock_routes,
    errors,
    health,
    jsonio,
    live,
    mobile,
    photos,
    picture,
    results_routes,
    store,
    tokens,
)
from server.auth import TokenBackend, on_auth_error
from server.board import items as board_items
from server.board import page as board_page
from server.board import slides as board_slides
from server.collector import PauseWatch, QuietCollector
from server.desk import official, review, session, summary, table
from server.desk import results as desk_results
from server.fanout import Hub, LocalWakeup, PostgresWakeup
from server.kept_reads import KeptReads
from server.reports import Desk, RateLimiter
from server.security import EdgeSecurity
from server.settings import Settings
from server.state import Votewire

log = logging.getLogger("votewire")


async def start(state: Votewire) -> None:
    """Open the pool, migrate, then start the fan-out hub, the report writer and the
    quiet-time collector."""
    s = state.settings
    state.pool = await store.create_pool(
        state.database_url, s.zone_name, timeout=s.db_timeout_s, size=s.db_pool
    )
    async with state.pool.acquire() as conn:
        await store.migrate(conn)
        await store.seed_provinces(conn, provinces())
        registered = await store.registered_defaults(conn)
        await state.clock.load(conn)
    state.clock.told = state.clock.setting
    state.provinces = {p.code: p for p in provinces()}
    wakeup = (
        PostgresWakeup(state.database_url, s.zone_name, s.listen_check_s, s.db_timeout_s)
        if s.fanout == "postgres"
        else LocalWakeup()
    )
    state.hub = Hub(
        state.pool,
        wakeup,
        coalesce_s=s.coalesce_ms / 1000,
        poll_s=s.listen_check_s,
        timeout=s.db_timeout_s,
        fanout_seconds=state.metrics.fanout_latency.observe,
    )
    for audience, lane in state.hub.lanes.items():
        state.metrics.viewers_direct.labels(audience).set_function(lane.__len__)
    state.hub.notices["clock"] = functools.partial(
        clock.follow, state.clock, state.pool, state.hub, s.db_timeout_s
    )
    await state.hub.start()
    state.desk = Desk(
        state.pool,
        s,
        registered,
        RateLimiter(s.rate_per_s, s.rate_burst),
        on_commit=state.hub.committed,
        now=state.now_local,
        reread_now=functools.partial(
            clock.reread, state.clock, state.pool, state.hub, s.db_timeout_s
        ),
    )
    state.desk.start()
    state.hub.notices["revoke"] = state.desk.revocations.check

    def pause_seconds(generation: int, seconds: float) -> None:
        state.metrics.gc_pause.labels(str(generation)).observe(seconds)

    if s.gc_quiet_s > 0:
        state.collector = QuietCollector(
            state.hub.quiet_for, quiet_s=s.gc_quiet_s, pause_seconds=pause_seconds
        )
        state.collector.start()
    else:  # CPython's own timing: its collections are still measured
        state.pause_watch = PauseWatch(pause_seconds)
        state.pause_watch.start()


async def stop(state: Votewire) -> None:
    if state.collector:
        await state.collector.stop()
    if state.pause_watch:
        state.pause_watch.stop()
    if state.desk:
        await state.desk.stop()
    if state.hub:
        await state.hub.stop()
    if state.pool:
        await state.pool.close()


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


def create_app(settings: Settings, database_url: str) -> Starlette:
    state = Votewire(settings, database_url)
    jsonio.use_zone(settings.election.zone)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await start(state)
        try:
            yield
        finally:
            await stop(state)

    modules = (
        bureau,
        live,
        picture,
        results_routes,
        clock_routes,
        apidoc,
        health,
        mobile,
        board_page,
        board_items,
        board_slides,
        candidates,
        session,
        table,
        review,
        official,
        desk_results,
        summary,
        photos,
        tokens,
        charts,
    )
    routes = [
        *(route for module in modules for route in module.routes),
        Mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(KeptReads, state=state),
            Middleware(EdgeSecurity, allowed_origins=settings.allowed_origins),
            Middleware(AuthenticationMiddleware, backend=TokenBackend(), on_error=on_auth_error),
        ],
        exception_handlers={ContractError: errors.handler({"desk": session.error_page})},
    )
    app.state.votewire = state
    return app
