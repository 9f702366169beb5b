"""The `votewire` command as a user runs it: tokens on stdout, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg

from server import store
from server.auth import new_token
from tests.conftest import ROOT


def votewire(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        env={**os.environ, "DATABASE_URL": db_url, "VOTEWIRE_LOG": "WARNING"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_tokens_issue_prints_the_token_alone_and_stores_its_hash(db_url):
    bureau = votewire(db_url, "tokens", "issue", "--province", "01")
    editor = votewire(db_url, "tokens", "issue", "--role", "editor")
    assert bureau.returncode == editor.returncode == 0, bureau.stderr + editor.stderr
    tokens = [bureau.stdout.strip(), editor.stdout.strip()]
    assert all(len(t) >= 40 and "\n" not in t for t in tokens)
    conn = await asyncpg.connect(db_url)
    rows = await conn.fetch("SELECT role, province, hash FROM tokens ORDER BY id")
    await conn.close()
    assert [(r["role"], r["province"]) for r in rows] == [("bureau", "01"), ("editor", None)]
    assert [bytes(r["hash"]) for r in rows] == [store.token_hash(t) for t in tokens]
    revoked = votewire(db_url, "tokens", "revoke", "--token", tokens[0])
    assert revoked.returncode == 0


async def test_tokens_issue_with_a_qr_code_keeps_stdout_clean(db_url, tmp_path):
    png = tmp_path / "qr.png"
    done = votewire(db_url, "tokens", "issue", "--province", "79", "--qr", "--qr-png", str(png))
    assert done.returncode == 0 and len(done.stdout.split()) == 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_mistakes_are_one_line_errors(db_url):
    for args, words in (
        (("tokens", "issue"), "--province CODE"),
        (("tokens", "issue", "--province", "99"), "unknown province"),
        (("tokens", "revoke"), "--token"),
        (("reset",), "--rehearsal"),
    ):
        done = votewire(db_url, *args)
        assert done.returncode == 2, args
        assert words in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    missing = db_url.rsplit("/", 1)[0] + "/no_such_database"
    done = votewire(missing, "tokens", "issue", "--role", "editor")
    assert done.returncode == 2 and "DATABASE_URL" in done.stderr and "Traceback" not in done.stderr


def test_issued_tokens_never_start_with_a_dash_that_argparse_would_take_for_an_option():
    assert not any(new_token().startswith("-") for _ in range(2000))
