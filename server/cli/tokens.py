"""`votewire tokens issue|revoke`, and the bureau tokens the simulator and the demo use."""

from __future__ import annotations

import argparse
import asyncio
import sys

import segno

from ingest.fixtures import provinces
from server import store
from server.auth import new_token
from server.cli.common import CliError, database
from server.settings import Settings


async def _tokens(url: str, settings: Settings, args: argparse.Namespace) -> str:
    if args.action == "issue":
        role = args.role or ("bureau" if args.province else None)
        if role is None:
            raise CliError("say which token: --province CODE (a bureau) or --role editor|admin")
        if role == "bureau" and not args.province:
            raise CliError("a bureau token needs --province CODE")
        if role != "bureau" and args.province:
            raise CliError("--province is for bureau tokens only")
        if args.province and args.province not in {p.code for p in provinces()}:
            raise CliError(f"unknown province {args.province!r}: use a GSO code like 01")
    conn = await store.connect(url, settings.zone_name)
    try:
        await store.migrate(conn)
        await store.seed_provinces(conn, provinces())
        if args.action == "issue":
            token = new_token()
            await store.issue_token(conn, token, role, args.province, args.label)
            return token
        count = await store.revoke_tokens(conn, token=args.token, province=args.province)
        return f"revoked {count} token(s)"
    finally:
        await conn.close()


def cmd_tokens(args: argparse.Namespace, settings: Settings) -> None:
    if args.action == "revoke" and not (args.token or args.province):
        raise CliError("say which tokens to revoke: --token TOKEN or --province CODE")
    with database(settings) as url:
        out = asyncio.run(_tokens(url, settings, args))
    if args.action == "issue" and getattr(args, "qr", False):
        link = f"{args.base_url.rstrip('/')}/report#token={out}"
        qr = segno.make(link, error="m")
        qr.terminal(out=sys.stderr, compact=True)
        if args.qr_png:
            qr.save(args.qr_png, scale=8)
    print(out)


async def issue_bureau_tokens(url: str, zone: str, label: str) -> dict[str, str]:
    """One fresh bureau token per province (for the simulator and the demo)."""
    conn = await store.connect(url, zone)
    try:
        await store.migrate(conn)
        await store.seed_provinces(conn, provinces())
        tokens = {p.code: new_token() for p in provinces()}
        for code, token in tokens.items():
            await store.issue_token(conn, token, "bureau", code, label)
        return tokens
    finally:
        await conn.close()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokens", help="issue or revoke bureau / editor tokens")
    tsub = p.add_subparsers(dest="action", required=True)
    ti = tsub.add_parser("issue", help="print a new token alone on stdout")
    ti.add_argument("--province", help="GSO code of the bureau's province, e.g. 01")
    ti.add_argument("--role", choices=["bureau", "editor", "admin"])
    ti.add_argument("--label", help="who holds it (kept with the token)")
    ti.add_argument(
        "--qr", action="store_true", help="also draw a QR code of the sign-in link on stderr"
    )
    ti.add_argument("--qr-png", help="write the QR code to this PNG file")
    ti.add_argument("--base-url", default="http://127.0.0.1:8000")
    tr = tsub.add_parser(
        "revoke",
        help="revoke a token, or every token of a province (their open sockets on every "
        "running server close within a second)",
    )
    tr.add_argument("--token")
    tr.add_argument("--province")
    p.set_defaults(func=cmd_tokens)
