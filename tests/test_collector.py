"""Full garbage collections wait for a quiet moment (server/collector.py)."""

from __future__ import annotations

import asyncio
import gc

from server.collector import QuietCollector


def full_collections() -> int:
    return gc.get_stats()[2]["collections"]


async def make_due(collector: QuietCollector) -> list:
    kept = [[] for _ in range(200_000)]  # survivors: promoted by young collections
    assert collector.due()
    return kept


async def test_a_due_full_collection_waits_until_the_process_is_quiet():
    quiet = {"for": 0.0}
    pauses: list[tuple[int, float]] = []
    collector = QuietCollector(
        lambda: quiet["for"],
        quiet_s=1.0,
        overdue_s=3600,
        check_s=0.02,
        pause_seconds=lambda g, d: pauses.append((g, d)),
    )
    collector.start()
    try:
        before = full_collections()
        kept = await make_due(collector)
        await asyncio.sleep(0.3)  # busy: neither we nor CPython may start a full collection
        assert full_collections() == before
        assert collector.full_collections == 0
        quiet["for"] = 5.0
        await asyncio.sleep(0.3)
        assert collector.full_collections == 1
        assert full_collections() == before + 1
        assert not collector.due()
        assert any(g == 2 for g, _ in pauses)  # the pause is measured (votewire_gc_pause_seconds)
        del kept
    finally:
        await collector.stop()


async def test_an_overdue_full_collection_runs_even_if_never_quiet():
    collector = QuietCollector(lambda: 0.0, quiet_s=1.0, overdue_s=0.2, check_s=0.02)
    collector.start()
    try:
        kept = await make_due(collector)
        await asyncio.sleep(0.6)
        assert collector.full_collections == 1
        del kept
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
