"""Full garbage collections short, and at quiet moments.

A full (generation 2) collection walks every object the cycle collector tracks and stops
the process while it does. At 10,000 live viewers that was 1.7 million objects (each
viewer's tasks, coroutines, queue, uvicorn protocol, scope...): 0.5 s, ten times a run as
viewers arrived, during which no ack, broadcast or snapshot went out. A viewer now holds
~40 (server/live.py, server/sockets.py), still ~0.5 million at 10,000. Nearly all of them
live as long as their connection, and a closed connection is freed by reference counting
(no cycle left behind), so walking them again and again finds nothing.

`QuietCollector` therefore *freezes* what survives (`gc.freeze`: out of every later
collection's reach):

- **settle**: once `settle_objects` are tracked outside the frozen set (what a full
  collection walks; counted every `check_s`) a full collection runs and its survivors are
  frozen. It walks only what arrived since the last one, so it is short whatever the number
  of viewers. It waits for a quiet moment (`quiet_s` without a broadcast), at most
  `overdue_s`, and never past `urgent_objects`, which bounds its length (a walk costs up
  to ~3 us an object on a loaded 2-core VM, where bench.fanout's viewers share the server's
  core with others: 14,000 objects, ~45 ms; 2-4 ms on a quiet one). The objects are
  counted (a walk of the unfrozen ones: 0.1 ms at 10,000), not inferred from CPython's
  counters: freeing a frozen object counts as a young deallocation, so while viewers
  leave, young collections stop and the young generations grow unseen by `gc.get_count()`
  (82,000 objects, a settle of 260 ms, after 10,000 viewers left in bench.fanout).
- **thaw**: frozen objects that later became cyclic garbage are freed only by a collection
  of everything (`gc.unfreeze`, collect, freeze again), as long as a full collection was
  before. It runs once the frozen objects that were freed since the last
  one, times the share of garbage that one found per freed object (`FIRST_YIELD` at first,
  at least `MIN_YIELD`), reach a quarter of the frozen set: with connections that leave no
  cycle it comes rarely (every 25 times the frozen set freed), and if something starts
  leaving cycles it comes sooner. The frozen set is counted (`look`: a walk of it) only at
  quiet moments, at most every `look_s`.
- **never a walk of many**: counting the frozen set and thawing it both walk all of it: at
  10,000 viewers (~500,000 objects) a count took 100-170 ms and a thaw 460 ms on a loaded
  2-core VM, each a stop as long as the full collections this module keeps short (and a
  count came every 30 s). So neither runs while the frozen set may hold more than
  `walk_objects`: as last counted plus every block of memory allocated since
  (`sys.getallocatedblocks()`, a walk of pymalloc's pools: ~0.2 ms at 150 MB), an upper
  bound; or once the memory in use has halved since (viewers left), when it is worth
  counting again. The price: while many viewers are connected (above ~1,500 with the
  default), frozen cyclic garbage waits for them to leave (a thaw of 500,000 objects
  found 10); a code path that starts leaving cycles would show as memory, not as pauses.

Young collections stay CPython's own (cheap, automatic). Every collection's pause is
reported (`pause_seconds`: `votewire_gc_pause_seconds` by generation and the longest,
`votewire_gc_pause_longest_seconds`, server/metrics.py) by `PauseWatch`, through
`gc.callbacks`: CPython's automatic ones, any `gc.collect()` (a library's, a test's) and
the collector's own. A settle or a thaw is reported as the whole step (its collection,
counting what survived, freezing), once. Only the collection `start` makes, during the
app's startup before the server listens (nobody waits on it), is not: it walks every
module's objects (30-60 ms) and would stand as the longest pause of the process forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import Callable, Iterator

NEVER = 2**31 - 1

FIRST_YIELD = 0.1
"""The share of garbage per freed frozen object assumed before the first thaw. Not 1: what
a settle freezes includes objects of work in flight (a joining viewer's snapshot read, a
request), freed soon after, which would otherwise bring a thaw while viewers arrive."""
MIN_YIELD = 0.01
"""The least share of garbage per freed frozen object assumed after a thaw found less."""


class PauseWatch:
    """Every garbage collection's pause, by generation, reported to `pause_seconds` from
    `gc.callbacks` (CPython calls them around each collection, whoever started it).

    `step()` wraps work of our own around a collection (a settle, a thaw): the collection
    inside is not reported on its own; the whole step is, once, as a pause of `generation`.
    Used by `QuietCollector`; on its own (`start`/`stop`) where the collector is off."""

    def __init__(self, pause_seconds: Callable[[int, float], None]) -> None:
        self.pause_seconds = pause_seconds
        self._started = 0.0
        self._in_step = False

    def start(self) -> None:
        if self._observe not in gc.callbacks:
            gc.callbacks.append(self._observe)

    def stop(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._observe)

    @contextlib.contextmanager
    def step(self, generation: int = 2) -> Iterator[None]:
        started = time.perf_counter()
        self._in_step = True
        try:
            yield
        finally:
            self._in_step = False
            self.pause_seconds(generation, time.perf_counter() - started)

    def _observe(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif not self._in_step:
            self.pause_seconds(info["generation"], time.perf_counter() - self._started)


class QuietCollector:
    def __init__(
        self,
        quiet_for: Callable[[], float],
        *,
        quiet_s: float,
        overdue_s: float = 60.0,
        check_s: float = 0.1,
        look_s: float = 30.0,
        settle_objects: int = 6_000,
        urgent_objects: int = 14_000,
        walk_objects: int = 150_000,
        pause_seconds: Callable[[int, float], None] | None = None,
    ) -> None:
        self.quiet_for, self.quiet_s, self.overdue_s = quiet_for, quiet_s, overdue_s
        self.check_s, self.look_s = check_s, look_s
        self.settle_objects, self.urgent_objects = settle_objects, urgent_objects
        self.walk_objects = walk_objects
        self.watch = PauseWatch(pause_seconds) if pause_seconds is not None else None
        self.settles = 0
        self.thaws = 0
        self._task: asyncio.Task | None = None
        self._threshold = gc.get_threshold()
        self._due_since: float | None = None
        self._looked = 0.0
        self._frozen = 0
        """The frozen set's size as last counted, plus what was frozen since."""
        self._freed = 0
        """Frozen objects freed since the last thaw (as counted at the looks)."""
        self._yield = FIRST_YIELD
        """Garbage the last thaw found per frozen object freed before it."""
        self._counted = (0, 0)
        """The frozen set as last counted, and `sys.getallocatedblocks()` then."""

    @property
    def full_collections(self) -> int:
        return self.settles + self.thaws

    def start(self) -> None:
        gc.collect()  # at startup, not measured: see the module's docstring
        gc.freeze()
        self._count()
        t0, t1, _ = self._threshold
        gc.set_threshold(t0, t1, NEVER)
        if self.watch is not None:
            self.watch.start()
        self._looked = time.monotonic()
        self._task = asyncio.create_task(self._run(), name="votewire-gc")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.watch is not None:
            self.watch.stop()
        gc.set_threshold(*self._threshold)
        gc.unfreeze()

    @staticmethod
    def unfrozen() -> int:
        """The objects a full collection would walk now: every generation's but the frozen
        set's (counted by a walk of them; see the module's docstring)."""
        return len(gc.get_objects())

    def due(self) -> bool:
        return self.unfrozen() >= self.settle_objects

    def settle(self) -> None:
        """Collect what is not frozen, then freeze what survived."""
        with self._step():
            gc.collect()
            self._frozen += len(gc.get_objects())
            gc.freeze()
        self.settles += 1
        self._due_since = None

    def thaw(self) -> int:
        """Collect everything, frozen included, then freeze again; returns what it found."""
        with self._step():
            gc.unfreeze()
            found = gc.collect()
            gc.freeze()
            self._count()
        self._yield = max(found / self._freed, MIN_YIELD) if self._freed else MIN_YIELD
        self._freed = 0
        self.thaws += 1
        self._due_since = None
        return found

    def look(self) -> bool:
        """Count the frozen set (what was freed of it since the last look) and thaw if the
        garbage that is likely among it is worth a collection of everything, and the
        collection is short (`walk_objects`)."""
        self._looked = time.monotonic()
        frozen = self._frozen
        now = self._count()
        self._freed += max(0, frozen - now)
        if now <= self.walk_objects and self._freed * self._yield >= max(
            now // 4, self.settle_objects
        ):
            self.thaw()
            return True
        return False

    def may_walk(self) -> bool:
        """Whether the frozen set may be counted (and thawed) now: at most `walk_objects`
        as last counted plus every block allocated since (an upper bound), or memory in use
        halved since then (see the module's docstring)."""
        counted, blocks = self._counted
        now = sys.getallocatedblocks()
        return counted + max(0, now - blocks) <= self.walk_objects or 2 * now <= blocks

    def _count(self) -> int:
        """Count the frozen set (a walk of it)."""
        self._frozen = gc.get_freeze_count()
        self._counted = (self._frozen, sys.getallocatedblocks())
        return self._frozen

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            now = time.monotonic()
            quiet = self.quiet_for() >= self.quiet_s
            unfrozen = self.unfrozen()
            if unfrozen >= self.settle_objects:
                if self._due_since is None:
                    self._due_since = now
                if (
                    quiet
                    or now - self._due_since >= self.overdue_s
                    or unfrozen >= self.urgent_objects
                ):
                    self.settle()
                    continue
            since = now - self._looked
            if (quiet and since >= self.look_s) or since >= 10 * self.look_s:
                if self.may_walk():
                    self.look()
                else:
                    self._looked = now

    def _step(self) -> contextlib.AbstractContextManager[None]:
        """A settle or thaw, reported as one pause (`PauseWatch.step`)."""
        return self.watch.step() if self.watch is not None else contextlib.nullcontext()
