"""`votewire reset` during ingest: it waits for the batches in flight instead of deadlocking
with one (a batch reads the reports, then takes the counter; the reset took the counter,
then wanted the reports' table to empty it, and Postgres aborted one of the two)."""

from __future__ import annotations

import asyncio

import asyncpg

from ingest.fixtures import provinces
from server import store
from server.store.reports import BATCHES_LOCK


async def test_a_reset_waits_for_a_batch_in_flight_instead_of_deadlocking(db_url):
    batch = await asyncpg.connect(db_url)
    resetter = await store.connect(db_url, "Asia/Ho_Chi_Minh")
    try:
        await store.seed_provinces(resetter, provinces())
        tx = batch.transaction()
        await tx.start()
        # a batch's first steps (migrations/010): the lock shared, its ids, the reports read
        await batch.execute("SELECT pg_advisory_xact_lock_shared($1)", BATCHES_LOCK)
        await batch.execute("SELECT count(*) FROM reports")
        resetting = asyncio.create_task(store.reset_reports(resetter))
        await asyncio.sleep(0.5)  # the reset now waits for a lock the batch holds
        # the batch's last step: the counter (a reset holding it would deadlock here)
        await asyncio.wait_for(batch.execute("SELECT 1 FROM counter FOR UPDATE"), 10)
        await tx.commit()
        assert await asyncio.wait_for(resetting, 30) == 0
    finally:
        await batch.close()
        await resetter.close()
