"""The writers' one lock order (province rows, the national results' row, the counter),
kept by a server's seeding too: a process starting while another ingests must not be
aborted as a deadlock, nor abort the other's batch (which would be acked `unavailable`)."""

from __future__ import annotations

import asyncio

import asyncpg

from ingest.fixtures import provinces
from server import store


async def test_seeding_waits_for_a_batch_in_flight_instead_of_deadlocking(db_url):
    batch = await asyncpg.connect(db_url)
    seeder = await store.connect(db_url, "Asia/Ho_Chi_Minh")
    try:
        await store.seed_provinces(seeder, provinces())
        tx = batch.transaction()
        await tx.start()
        # a batch's first step: its province rows, without the counter
        await batch.execute("SELECT 1 FROM province_state WHERE code = '01' FOR UPDATE")
        seeding = asyncio.create_task(store.seed_provinces(seeder, provinces()))
        await asyncio.sleep(0.5)  # the seeding now waits for a lock the batch holds
        # the batch's second step: the counter (a seeding holding it would deadlock here)
        await asyncio.wait_for(batch.execute("SELECT 1 FROM counter FOR UPDATE"), 10)
        await tx.commit()
        await asyncio.wait_for(seeding, 30)
    finally:
        await batch.close()
        await seeder.close()
