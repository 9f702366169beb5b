"""The `votewire` command (protocol §4): serve, tokens, simulate, demo, reset, chart."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator

import asyncpg

from server import charts, logs
from server import settings as settings_mod
from server.embedded import EmbeddedError, EmbeddedPostgres, prepare


class CliError(Exception):
    pass


@contextlib.contextmanager
def database(settings: settings_mod.Settings) -> Iterator[str]:
    """The Postgres URL to use: DATABASE_URL, or an embedded server under the data folder
    (started if needed, and stopped on exit if this process started it)."""
    if settings.database_url:
        yield settings.database_url
        return
    try:
        pg: EmbeddedPostgres = prepare(settings.data_dir)
        started = not pg.running()
        pg.start()
    except (EmbeddedError, OSError) as exc:
        raise CliError(
            f"no database: DATABASE_URL is unset and the embedded Postgres under "
            f"{settings.data_dir} could not start ({exc}). Set DATABASE_URL=postgresql://…"
        ) from exc
    try:
        yield pg.url
    finally:
        if started:
            pg.stop()


async def _check_db(url: str) -> None:
    import asyncpg

    try:
        conn = await asyncpg.connect(url, timeout=10)
    except Exception as exc:
        raise CliError(f"cannot connect to the database at {_redact(url)}: {exc}") from exc
    await conn.close()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def cmd_serve(args, settings) -> None:
    import uvicorn

    from server.app import GracefulServer, create_app

    with database(settings) as url:
        asyncio.run(_check_db(url))
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


async def _tokens(url: str, settings, args) -> str:
    from ingest.fixtures import provinces
    from server import store
    from server.auth import new_token

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


def cmd_tokens(args, settings) -> None:
    if args.action == "revoke" and not (args.token or args.province):
        raise CliError("say which tokens to revoke: --token TOKEN or --province CODE")
    with database(settings) as url:
        out = asyncio.run(_tokens(url, settings, args))
    if args.action == "issue" and getattr(args, "qr", False):
        import segno

        link = f"{args.base_url.rstrip('/')}/report#token={out}"
        qr = segno.make(link, error="m")
        qr.terminal(out=sys.stderr, compact=True)
        if args.qr_png:
            qr.save(args.qr_png, scale=8)
    print(out)


async def issue_bureau_tokens(url: str, zone: str, label: str) -> dict[str, str]:
    """One fresh bureau token per province (for the simulator and the demo)."""
    from ingest.fixtures import provinces
    from server import store
    from server.auth import new_token

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


def cmd_simulate(args, settings) -> None:
    from ingest import simulate

    tokens = None
    if not args.tokens:
        with database(settings) as url:
            tokens = asyncio.run(issue_bureau_tokens(url, settings.zone_name, "simulator"))
    raise SystemExit(asyncio.run(simulate.main_async(args, tokens)))


async def _reset(url: str, zone: str) -> int:
    from server import store

    conn = await store.connect(url, zone)
    try:
        await store.migrate(conn)
        return await store.reset_reports(conn)
    finally:
        await conn.close()


def cmd_reset(args, settings) -> None:
    if not args.rehearsal:
        raise CliError(
            "reset deletes every report: say --rehearsal to confirm this is rehearsal data"
        )
    with database(settings) as url:
        count = asyncio.run(_reset(url, settings.zone_name))
    print(f"deleted {count} report(s); every province is back to no figures", file=sys.stderr)


def cmd_demo(args, settings) -> None:
    from server import demo

    demo.run(args, settings)


SERVING = {"uvicorn": False}


def _terminate(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C, so an embedded Postgres we started is stopped too.
    While uvicorn serves it handles SIGTERM itself (graceful shutdown) and then re-raises
    it: that second delivery is ignored so the shutdown can finish normally."""
    if not SERVING["uvicorn"]:
        raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="votewire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="apply pending migrations, then serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

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
    tr = tsub.add_parser("revoke", help="revoke a token, or every token of a province")
    tr.add_argument("--token")
    tr.add_argument("--province")
    p.set_defaults(func=cmd_tokens)

    p = sub.add_parser("simulate", help="63 bureaus replay an election day over /ws/bureau")
    from ingest.simulate import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("reset", help="clear rehearsal reports before the real day")
    p.add_argument("--rehearsal", action="store_true", help="confirm: delete every report")
    p.set_defaults(func=cmd_reset)

    p = sub.add_parser("demo", help="serve + a simulated election day, board in the browser")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--speed", type=float, default=60.0)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=cmd_demo)

    charts.add_cli(sub)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    logs.setup()
    try:
        settings = settings_mod.load()
        args.func(args, settings)
    except (CliError, settings_mod.ConfigError) as exc:
        print(f"votewire: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(
            f"votewire: database error: {exc}. Check DATABASE_URL (or unset it to use the "
            "embedded Postgres) and that the server is running.",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
