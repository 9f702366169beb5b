"""The `votewire` command (protocol §4): serve, tokens, simulate, demo, reset, chart."""

from __future__ import annotations

import argparse
import signal
import sys

import asyncpg

from server import logs
from server import settings as settings_mod
from server.cli import demo, exports, reset, serve, tokens
from server.cli.common import CliError
from server.cli.tokens import issue_bureau_tokens

__all__ = ["CliError", "issue_bureau_tokens", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    """Every command and flag, in the order `votewire --help` lists them."""
    top = argparse.ArgumentParser(prog="votewire", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    serve.add_parser(sub)
    tokens.add_parser(sub)
    demo.add_simulate_parser(sub)
    reset.add_parser(sub)
    demo.add_demo_parser(sub)
    exports.add_parsers(sub)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, serve.terminate)
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
