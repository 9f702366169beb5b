"""VOTEWIRE_DB_POOL: how many database connections a process may open besides its LISTEN one
(docs/deploy.md's sizing: many viewer processes on one Postgres need small pools)."""

from __future__ import annotations

import pytest

from server.settings import ConfigError
from tests import conftest
from tests.conftest import serve_in_loop


async def test_a_process_opens_at_most_its_pool_size(db_url):
    async with serve_in_loop(db_url, VOTEWIRE_DB_POOL="3") as server:
        assert server.state.pool.get_max_size() == 3


def test_a_pool_of_none_is_refused_at_start():
    for bad in ("0", "-2", "many"):
        with pytest.raises(ConfigError, match="VOTEWIRE_DB_POOL"):
            conftest.test_settings(VOTEWIRE_DB_POOL=bad)
