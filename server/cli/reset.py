"""`votewire reset --rehearsal`: clear rehearsal reports before the real day."""

from __future__ import annotations

import argparse
import asyncio
import sys

from server import store
from server.cli.common import CliError, database
from server.settings import Settings


async def _reset(url: str, zone: str) -> int:
    conn = await store.connect(url, zone)
    try:
        await store.migrate(conn)
        return await store.reset_reports(conn)
    finally:
        await conn.close()


def cmd_reset(args: argparse.Namespace, settings: Settings) -> None:
    if not args.rehearsal:
        raise CliError(
            "reset deletes every report: say --rehearsal to confirm this is rehearsal data"
        )
    with database(settings) as url:
        count = asyncio.run(_reset(url, settings.zone_name))
    print(f"deleted {count} report(s); every province is back to no figures", file=sys.stderr)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reset", help="clear rehearsal reports before the real day")
    p.add_argument("--rehearsal", action="store_true", help="confirm: delete every report")
    p.set_defaults(func=cmd_reset)
