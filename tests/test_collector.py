"""Full garbage collections stay short and wait for quiet moments (server/collector.py):
what survives one is frozen out of the next; frozen cyclic garbage is freed by a thaw."""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref

from server.collector import PauseWatch, QuietCollector
from server.metrics import Metrics


def full_collections() -> int:
    return gc.get_stats()[2]["collections"]


class Node:
    """A container the cycle collector tracks, weakly referable to see it freed."""

    def __init__(self) -> None:
        self.me = self  # a cycle: only the cycle collector frees it


def survivors(n: int = 200_000) -> list:
    """Objects that outlive the young collections (promoted to the old generation)."""
    return [[] for _ in range(n)]


def many_frozen() -> int:
    """Enough objects that freeing them all brings a first thaw (a tenth of them assumed
    garbage: a quarter of the frozen set)."""
    return 3 * gc.get_freeze_count() + 100_000


async def test_a_due_collection_waits_until_quiet_then_freezes_the_survivors():
    quiet = {"for": 0.0}
    pauses: list[tuple[int, float]] = []
    collector = QuietCollector(
        lambda: quiet["for"],
        quiet_s=1.0,
        overdue_s=3600,
        check_s=0.02,
        urgent_objects=10**9,
        pause_seconds=lambda g, d: pauses.append((g, d)),
    )
    collector.start()
    try:
        before = full_collections()
        kept = survivors()
        assert collector.due()
        await asyncio.sleep(0.3)  # busy: neither we nor CPython may start a full collection
        assert full_collections() == before and collector.settles == 0
        frozen = gc.get_freeze_count()
        quiet["for"] = 5.0
        await asyncio.sleep(0.3)
        assert collector.settles == 1 and full_collections() == before + 1
        assert not collector.due()
        assert any(g == 2 for g, _ in pauses)  # the pause is measured (votewire_gc_pause_seconds)
        assert gc.get_freeze_count() >= frozen + len(kept)  # out of every later collection
        assert len(gc.get_objects(generation=2)) < len(kept) // 10
        del kept
    finally:
        await collector.stop()


async def test_too_much_promoted_is_collected_even_when_busy():
    """The length of a collection is bounded: it waits for quiet only so long."""
    collector = QuietCollector(
        lambda: 0.0, quiet_s=1.0, overdue_s=3600, check_s=0.02, urgent_objects=100_000
    )
    collector.start()
    try:
        kept = survivors()
        await asyncio.sleep(0.3)
        assert collector.settles >= 1
        del kept
    finally:
        await collector.stop()


async def test_objects_piling_up_while_frozen_ones_are_freed_are_counted():
    """Freeing a frozen object counts against CPython's young allocations: while viewers
    leave, the young generations grow without any young collection, unseen by
    `gc.get_count()`. The collector counts what a full collection would walk."""
    collector = QuietCollector(
        lambda: 0.0, quiet_s=1.0, overdue_s=3600, check_s=0.02, urgent_objects=20_000
    )
    collector.start()
    try:
        leaving = survivors(40_000)
        collector.settle()  # frozen, as viewers in step are
        settled = collector.settles
        arriving = []
        for i in range(30_000):
            arriving.append([])
            leaving[i] = None  # a frozen object freed
        assert gc.get_count()[2] == 0  # CPython sees nothing promoted
        assert len(gc.get_objects()) >= 30_000  # what a full collection would walk
        await asyncio.sleep(0.3)
        assert collector.settles > settled  # busy, but past urgent_objects
        assert len(gc.get_objects()) < 20_000
        del arriving, leaving
    finally:
        await collector.stop()


async def test_an_overdue_collection_runs_even_if_never_quiet():
    collector = QuietCollector(
        lambda: 0.0, quiet_s=1.0, overdue_s=0.2, check_s=0.02, urgent_objects=10**9
    )
    collector.start()
    try:
        kept = survivors()
        await asyncio.sleep(0.6)
        assert collector.settles == 1
        del kept
    finally:
        await collector.stop()


async def test_frozen_cyclic_garbage_is_freed_once_enough_frozen_objects_were_freed():
    collector = QuietCollector(
        lambda: 5.0, quiet_s=1.0, check_s=0.02, look_s=0.05, walk_objects=10**9
    )
    collector.start()
    try:
        cycles = [Node() for _ in range(10_000)]
        refs = [weakref.ref(n) for n in cycles]
        plain = survivors(many_frozen())
        collector.settle()
        assert gc.get_freeze_count() >= len(plain) + len(cycles)
        del cycles  # garbage, but frozen: no collection of the unfrozen finds it
        gc.collect()
        assert all(r() is not None for r in refs)
        assert collector.thaws == 0
        del plain  # freed by reference counting: the sign that garbage may lie frozen
        for _ in range(50):
            await asyncio.sleep(0.05)
            if collector.thaws:
                break
        assert collector.thaws == 1
        assert all(r() is None for r in refs)
    finally:
        await collector.stop()


async def test_a_thaw_that_found_nothing_makes_the_next_one_rarer():
    collector = QuietCollector(
        lambda: 5.0, quiet_s=1.0, check_s=0.02, look_s=0.05, walk_objects=10**9
    )
    collector.start()
    try:
        plain = survivors(many_frozen())
        collector.settle()
        del plain
        for _ in range(50):
            await asyncio.sleep(0.05)
            if collector.thaws:
                break
        assert collector.thaws == 1
        plain = survivors(many_frozen())
        collector.settle()
        del plain  # as much freed again, and nothing cyclic among it
        await asyncio.sleep(0.5)
        assert collector.thaws == 1
        assert not collector.look()  # looked: not worth a collection of everything
    finally:
        await collector.stop()


async def test_a_large_frozen_set_is_neither_counted_nor_thawed(monkeypatch):
    """Counting or thawing the frozen set walks all of it (100-460 ms at 10,000 viewers):
    not while it may hold more than `walk_objects`, whatever was freed of it."""
    collector = QuietCollector(
        lambda: 5.0, quiet_s=1.0, check_s=0.02, look_s=0.05, walk_objects=1_000
    )
    collector.start()
    many = many_frozen()
    walks = []
    count = gc.get_freeze_count
    monkeypatch.setattr(gc, "get_freeze_count", lambda: walks.append(1) or count())
    try:
        cycles = [Node() for _ in range(10_000)]
        plain = survivors(many)
        collector.settle()
        del cycles, plain  # freed, some of it cyclic garbage: a thaw would be due
        await asyncio.sleep(0.5)
        assert collector.thaws == 0
        assert walks == []
    finally:
        await collector.stop()


async def test_the_frozen_set_is_counted_again_once_memory_halved():
    """Viewers left: the memory in use says the frozen set may be small again; it is
    counted, and thawed if worth it."""
    collector = QuietCollector(lambda: 5.0, quiet_s=1.0, check_s=0.02, look_s=0.05)
    collector.start()
    try:
        cycles = [Node() for _ in range(10_000)]
        refs = [weakref.ref(n) for n in cycles]
        collector.walk_objects = gc.get_freeze_count() + len(cycles) + 50_000
        plain = survivors(sys.getallocatedblocks() + 100_000)
        collector.settle()
        assert not collector.look()  # counted while large (as when viewers were arriving)
        assert not collector.may_walk()
        del cycles
        await asyncio.sleep(0.3)
        assert collector.thaws == 0 and all(r() is not None for r in refs)
        del plain  # most of the memory in use freed
        assert collector.may_walk()
        for _ in range(50):
            await asyncio.sleep(0.05)
            if collector.thaws:
                break
        assert collector.thaws == 1
        assert all(r() is None for r in refs)
    finally:
        await collector.stop()


async def test_stopping_restores_cpythons_own_timing():
    threshold = gc.get_threshold()
    collector = QuietCollector(lambda: 0.0, quiet_s=1.0)
    collector.start()
    assert gc.get_threshold()[2] != threshold[2]
    assert gc.get_freeze_count() > 0
    await collector.stop()
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


def gauge(metrics: Metrics, name: str, generation: str) -> float | None:
    """A sample of the process's /metrics text (None: absent)."""
    prefix = f'{name}{{generation="{generation}"}} '
    for line in metrics.render().decode().splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return None


def test_the_longest_pause_is_kept_exactly_not_only_as_a_bucket():
    metrics = Metrics()
    for seconds in (0.004, 0.061, 0.012):
        metrics.gc_pause.labels("2").observe(seconds)
    metrics.gc_pause.labels("0").observe(0.0002)
    assert gauge(metrics, "votewire_gc_pause_longest_seconds", "2") == 0.061
    assert gauge(metrics, "votewire_gc_pause_longest_seconds", "0") == 0.0002
    assert gauge(metrics, "votewire_gc_pause_seconds_count", "2") == 3
    assert abs(gauge(metrics, "votewire_gc_pause_seconds_sum", "2") - 0.077) < 1e-9


async def test_every_full_collection_is_measured_not_only_the_collectors_own():
    """A `gc.collect()` the collector did not schedule (a library's) and CPython's own young
    collections reach the metrics; the collector's settle is one pause, not two."""
    metrics = Metrics()
    pauses: list[tuple[int, float]] = []

    def observe(generation: int, seconds: float) -> None:
        pauses.append((generation, seconds))
        metrics.gc_pause.labels(str(generation)).observe(seconds)

    collector = QuietCollector(
        lambda: 0.0, quiet_s=1.0, overdue_s=3600, check_s=3600, pause_seconds=observe
    )
    collector.start()
    try:
        kept = survivors(50_000)  # CPython's automatic young collections on the way
        assert any(g == 0 for g, _ in pauses)
        gc.collect()  # not the collector's
        assert [g for g, _ in pauses].count(2) == 1
        collector.settle()
        assert [g for g, _ in pauses].count(2) == 2
        longest = max(d for g, d in pauses if g == 2)
        assert gauge(metrics, "votewire_gc_pause_longest_seconds", "2") == longest
        assert gauge(metrics, "votewire_gc_pause_seconds_count", "2") == 2
        del kept
    finally:
        await collector.stop()
    gc.collect()  # the collector stopped: no longer measured
    assert [g for g, _ in pauses].count(2) == 2


def test_without_the_collector_cpythons_automatic_full_collections_are_measured():
    """`PauseWatch` alone (the collector off, `VOTEWIRE_GC_QUIET_S=0`): CPython's own
    timing, its full collections measured."""
    pauses: list[tuple[int, float]] = []
    watch = PauseWatch(lambda g, d: pauses.append((g, d)))
    threshold = gc.get_threshold()
    gc.set_threshold(100, 2, 2)
    watch.start()
    kept: list = []
    try:
        for _ in range(10_000):
            kept.append([[] for _ in range(100)])
            if any(g == 2 for g, _ in pauses):
                break
    finally:
        watch.stop()
        gc.set_threshold(*threshold)
    assert any(g == 2 for g, _ in pauses)


async def test_a_server_without_the_quiet_collector_still_measures_its_collections(server):
    """The tests' servers run with VOTEWIRE_GC_QUIET_S=0 (CPython's own timing)."""
    assert server.state.collector is None and server.state.pause_watch is not None
    before = gauge(server.state.metrics, "votewire_gc_pause_seconds_count", "2") or 0
    gc.collect()
    assert gauge(server.state.metrics, "votewire_gc_pause_seconds_count", "2") == before + 1
    assert gauge(server.state.metrics, "votewire_gc_pause_longest_seconds", "2") > 0
