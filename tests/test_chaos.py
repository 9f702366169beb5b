"""The chaos run, short: two server processes, SIGKILLs, a Postgres restart, a killed LISTEN
connection and cut sockets during a simulated day; nothing lost, nothing counted twice."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.chaos import chaos, server_factory
from server.embedded import prepare


async def test_a_day_of_faults_loses_nothing_and_counts_nothing_twice():
    pg = prepare(Path(tempfile.mkdtemp(prefix="votewire-chaos-")))
    pg.start()
    try:
        result = await chaos(
            server_factory(pg.url), pg, pg.url, speed=2400, kills=2, drop_rate=0.05, seed=3
        )
    finally:
        pg.stop("immediate")
    print(result)
    assert result["server_kills"] >= 1 and result["postgres_restarts"] == 1
    assert result["listen_kills"] == 1 and result["cuts"] > 0
    assert result["acked"] == result["events"]
    assert result["stored"] == result["stored_distinct"] == result["events"]
    assert result["acked_missing"] == result["scenario_missing"] == 0
    assert result["national_voted"] == result["expected_voted"]
    assert result["viewers_equal_snapshot"] == result["viewers"]
