"""Full garbage collections stay short and wait for quiet moments (server/collector.py):
what survives one is frozen out of the next; frozen cyclic garbage is freed by a thaw."""

from __future__ import annotations

import asyncio
import gc
import weakref

from server.collector import QuietCollector


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
    collector = QuietCollector(lambda: 5.0, quiet_s=1.0, check_s=0.02, look_s=0.05)
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
    collector = QuietCollector(lambda: 5.0, quiet_s=1.0, check_s=0.02, look_s=0.05)
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


async def test_stopping_restores_cpythons_own_timing():
    threshold = gc.get_threshold()
    collector = QuietCollector(lambda: 0.0, quiet_s=1.0)
    collector.start()
    assert gc.get_threshold()[2] != threshold[2]
    assert gc.get_freeze_count() > 0
    await collector.stop()
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0
