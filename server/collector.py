"""Full garbage collections at quiet moments, not in the middle of a broadcast.

Every live viewer keeps ~165 objects that CPython's cycle collector scans (its tasks,
the ASGI middleware chain, uvicorn's protocol). A full (generation 2) collection walks all
of them and stops the process while it does: measured here at 10,000 viewers, 1 to 2.7 s
during which no ack, broadcast or snapshot goes out. CPython starts one whenever the
objects promoted since the last have grown past a quarter of the old ones, which happens
as viewers arrive: at any moment, say while 10,000 viewers wait for a report.

`QuietCollector` keeps CPython's young collections (cheap, automatic) and its rule for
when a full one is due, but starts that one itself when the process has been quiet for
`quiet_s` (no broadcast), or at the latest `overdue_s` after it fell due, so memory
stays bounded on a day that is never quiet. The objects alive at start-up (modules,
fixtures, schemas) are frozen out of the scan (`gc.freeze`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable

NEVER = 2**31 - 1


class QuietCollector:
    def __init__(
        self,
        quiet_for: Callable[[], float],
        *,
        quiet_s: float,
        overdue_s: float = 60.0,
        check_s: float = 0.25,
        pause_seconds: Callable[[int, float], None] | None = None,
    ) -> None:
        self.quiet_for, self.quiet_s, self.overdue_s, self.check_s = (
            quiet_for,
            quiet_s,
            overdue_s,
            check_s,
        )
        self.pause_seconds = pause_seconds
        self.full_collections = 0
        self._task: asyncio.Task | None = None
        self._threshold = gc.get_threshold()
        self._old = 0
        self._due_since: float | None = None
        self._started = 0.0

    def start(self) -> None:
        gc.collect()
        gc.freeze()
        t0, t1, _ = self._threshold
        gc.set_threshold(t0, t1, NEVER)
        gc.callbacks.append(self._observe)
        self._task = asyncio.create_task(self._run(), name="votewire-gc")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._observe)
        gc.set_threshold(*self._threshold)
        gc.unfreeze()

    def due(self) -> bool:
        """CPython's rule: the young collections since the last full one promoted more
        than a quarter of the objects that one left (counted in objects allocated, an
        upper bound of those promoted, so never later than CPython would)."""
        t0, t1, _ = self._threshold
        return gc.get_count()[2] * t0 * t1 > max(self._old // 4, t0 * t1 * 10)

    def collect(self) -> None:
        gc.collect()
        self.full_collections += 1
        self._old = len(gc.get_objects(generation=2))
        self._due_since = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            if not self.due():
                continue
            now = time.monotonic()
            if self._due_since is None:
                self._due_since = now
            if self.quiet_for() >= self.quiet_s or now - self._due_since >= self.overdue_s:
                self.collect()

    def _observe(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.pause_seconds is not None:
            self.pause_seconds(info["generation"], time.perf_counter() - self._started)
