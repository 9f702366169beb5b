"""`votewire serve` ends within a bounded time on SIGTERM after it has drawn a chart (its
headless Chromium is running), however the signal arrives: to the main process alone, to
its process group, or to every process of the service, Chromium included, as
`systemctl stop` does (KillMode=control-group)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import MS

BOUND_S = 20_000 * MS
"""uvicorn's graceful shutdown with nobody connected, plus at most export.STOP_TIMEOUT_S
for the browser, with room for a busy machine."""


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += children.get(tree[-1], [])
    return tree


def command(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    return False


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@pytest.mark.parametrize("target", ["main process", "process group", "every process"])
async def test_sigterm_after_a_chart_ends_serve_within_a_bound(spawn_server, monkeypatch, target):
    # Its own session and process group, like a service (and so killpg spares pytest).
    monkeypatch.setattr(
        subprocess, "Popen", functools.partial(subprocess.Popen, start_new_session=True)
    )
    server = spawn_server()
    monkeypatch.undo()
    proc = server.proc
    editor = await server.server.token(role="editor")
    async with httpx.AsyncClient(timeout=120) as c:
        png = await c.get(
            f"{server.server.http}/charts/map.png", headers={"Authorization": f"Bearer {editor}"}
        )
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    tree = process_tree(proc.pid)
    assert any("chromium" in command(pid) for pid in tree), "the chart's browser is running"

    started = time.monotonic()
    if target == "main process":
        proc.send_signal(signal.SIGTERM)
    elif target == "process group":
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        signal_all(tree, signal.SIGTERM)
    try:
        await asyncio.to_thread(proc.wait, BOUND_S)
    except subprocess.TimeoutExpired:
        signal_all(process_tree(proc.pid), signal.SIGKILL)
        proc.wait()
        pytest.fail(f"serve still running {BOUND_S:.0f} s after SIGTERM: {server.output()[-600:]}")
    assert time.monotonic() - started < BOUND_S
    assert proc.returncode == 0, server.output()[-2000:]
    deadline = time.monotonic() + 10_000 * MS
    while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    left = [command(pid) for pid in tree if alive(pid)]
    signal_all([pid for pid in tree if alive(pid)], signal.SIGKILL)
    assert not left, f"left running after serve ended: {left}"
