"""`votewire serve`: check the database, then run the app under uvicorn until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import asyncpg
import uvicorn

from server.app import GracefulServer, create_app
from server.cli.common import CliError, database
from server.settings import Settings

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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    with database(settings) as url:
        asyncio.run(check_db(url))
        app = create_app(settings, url)
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            ws="websockets-sansio",
            ws_max_size=settings.hard_frame,
            ws_per_message_deflate=False,
            loop="uvloop" if sys.platform != "win32" else "asyncio",
            lifespan="on",
            log_level=os.environ.get("VOTEWIRE_LOG", "INFO").lower(),
            timeout_graceful_shutdown=10,
        )
        SERVING["uvicorn"] = True
        GracefulServer(config, app.state.votewire).run()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="apply pending migrations, then serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)
