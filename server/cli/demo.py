"""`votewire simulate` (63 bureaus replay an election day over /ws/bureau, then the count
and the Council's decisions) and `votewire demo` (the README's run command): the server, a
Postgres and the simulated 2021 election together — the day, the night of the count, the
committees' records and the Council's decisions of 10/6 in about 18 minutes at the default
speed — the board open in a browser.

The demo uses its own database `votewire_demo` (recreated at each start) on the embedded
Postgres (or on DATABASE_URL's server), so it never touches real data.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import webbrowser
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ingest import results_timeline, scenario, simulate
from server import store
from server.app import GracefulServer, create_app
from server.auth import new_token
from server.cli.common import database
from server.cli.serve import SERVING, uvicorn_config
from server.cli.tokens import issue_bureau_tokens
from server.settings import Settings

DEMO_DB = "votewire_demo"


def _has_screen() -> bool:
    """Only open a browser where there is a screen (never a text browser in this terminal)."""
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


async def _recreate(server_url: str) -> str:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DEMO_DB} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DEMO_DB}")
    finally:
        await admin.close()
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{DEMO_DB}"))


async def _editor_token(url: str, zone: str, label: str = "demo editor") -> str:
    conn = await store.connect(url, zone)
    try:
        token = new_token()
        await store.issue_token(conn, token, "editor", None, label)
        return token
    finally:
        await conn.close()


async def _main(args: argparse.Namespace, settings: Settings, server_url: str) -> None:
    logging.getLogger("votewire.reports").setLevel(logging.WARNING)
    url = await _recreate(server_url)
    app = create_app(settings, url)
    # served as `votewire serve` serves (its HTTP bounds, its socket protocol), quieter
    config = uvicorn_config(app, settings, "127.0.0.1", args.port, log_level="warning")
    server = GracefulServer(config, app.state.votewire)
    SERVING["uvicorn"] = True
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            return
        await asyncio.sleep(0.05)
    tokens = await issue_bureau_tokens(url, settings.zone_name, "demo")
    editor = await _editor_token(url, settings.zone_name)
    base = f"http://127.0.0.1:{args.port}"
    print(
        f"\nvotewire demo: a simulated 23 May 2021 at {args.speed:g}x speed, then the count "
        "through the night, the committees' records (24–27/5) and the Council's decisions "
        "(10/6), faster\n"
        f"  wall board      {base}/board   (English: {base}/board?lang=en)\n"
        f"  editors' desk   {base}/editor  (editor token: {editor})\n"
        f"  bureau phone    {base}/report#token={tokens['01']}   (Hà Nội)\n"
        f"  snapshot        {base}/api/snapshot   results {base}/api/results\n"
        "Ctrl-C stops the server and the database.\n",
        flush=True,
    )
    if not args.no_browser and _has_screen():
        with contextlib.suppress(Exception):
            webbrowser.open(f"{base}/board")
    day = asyncio.create_task(
        simulate.run(
            f"ws://127.0.0.1:{args.port}/ws/bureau",
            tokens,
            scenario.load(),
            speed=args.speed,
            editor_token=editor,  # sets the election clock (§6), records the Council's decisions
            count=results_timeline.build(),
        )
    )
    await asyncio.wait({serving, day}, return_when=asyncio.FIRST_COMPLETED)
    if day.done() and not day.cancelled() and day.exception() is None:
        summary = day.result()
        summary.pop("answers")
        print(f"simulated election finished: {summary}\nstill serving; Ctrl-C to stop.", flush=True)
    else:
        day.cancel()
        await asyncio.gather(day, return_exceptions=True)
    await serving


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    with database(settings) as server_url, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args, settings, server_url))


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> None:
    """Without --tokens, bureau tokens (and, without --editor-token, an editor token to set
    the election clock) are issued in the configured database."""
    tokens = None
    if not args.tokens:
        with database(settings) as url:
            tokens = asyncio.run(issue_bureau_tokens(url, settings.zone_name, "simulator"))
            if not args.editor_token:
                args.editor_token = asyncio.run(
                    _editor_token(url, settings.zone_name, "simulator clock")
                )
    raise SystemExit(asyncio.run(simulate.main_async(args, tokens)))


def add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="63 bureaus replay the election day, then the count, over /ws/bureau",
        description=simulate.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate.add_arguments(p)
    p.set_defaults(func=cmd_simulate)


def add_demo_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="serve + a simulated election day, board in the browser")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="as for simulate: 23/5 07:00–19:00 at this speed, the count after it faster "
        "(about 18 minutes in all at 60)",
    )
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=cmd_demo)
