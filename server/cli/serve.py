"""`votewire serve`: check the database, then run the app under uvicorn until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import asyncpg
import uvicorn

from server.app import GracefulServer, create_app
from server.cli.common import CliError, database
from server.cli.connections import bounded_protocol, raise_descriptor_limit
from server.settings import Settings
from server.sockets import SocketProtocol

SERVING = {"uvicorn": False}
"""Set once uvicorn serves: from then on it handles SIGTERM itself (see `terminate`)."""


def terminate(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C, so an embedded Postgres we started is stopped too.
    While uvicorn serves it handles SIGTERM itself (graceful shutdown) and then re-raises
    it: that second delivery is ignored so the shutdown can finish normally."""
    if not SERVING["uvicorn"]:
        raise KeyboardInterrupt


async def check_db(url: str) -> None:
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except Exception as exc:
        raise CliError(f"cannot connect to the database at {redact(url)}: {exc}") from exc
    await conn.close()


def redact(url: str) -> str:
    """`url` without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


KEEP_ALIVE_S = 5
"""uvicorn's own default: a connection idle this long between requests is closed."""


def uvicorn_config(
    app: Any, settings: Settings, host: str, port: int, log_level: str | None = None
) -> uvicorn.Config:
    """How uvicorn serves the app: our bounded HTTP protocol (server/cli/connections.py),
    no `server` header, `X-Forwarded-Proto`/`-For` believed only from
    VOTEWIRE_TRUSTED_PROXIES (so the desk's cookie is Secure behind TLS)."""
    edge = settings.edge
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=bounded_protocol(edge),
        ws=SocketProtocol,  # uvicorn's websockets-sansio, lighter per socket
        ws_max_size=settings.hard_frame,
        ws_per_message_deflate=False,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        lifespan="on",
        log_level=log_level or os.environ.get("VOTEWIRE_LOG", "INFO").lower(),
        timeout_graceful_shutdown=10,
        timeout_keep_alive=KEEP_ALIVE_S,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=list(edge.trusted_proxies),
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    with database(settings) as url:
        asyncio.run(check_db(url))
        raise_descriptor_limit(settings.edge)
        app = create_app(settings, url)
        config = uvicorn_config(app, settings, args.host, args.port)
        SERVING["uvicorn"] = True
        GracefulServer(config, app.state.votewire).run()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="apply pending migrations, then serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)
