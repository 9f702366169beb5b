"""The fan-out benchmark still runs end to end (tiny N): its figures are how the live feed's
performance is judged, so it must not rot. Asserts completeness, never timings."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from bench.common import ROOT


def test_fanout_bench_delivers_every_update_to_every_viewer_of_both_servers(pg_url):
    out = subprocess.run(
        [sys.executable, "-m", "bench.fanout", "--viewers", "20", "--singles", "2"],
        env={**os.environ, "DATABASE_URL": pg_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    delivered = dict(
        re.findall(r"(\w+ (?:one at a time|burst of 63)) .* delivered +(\S+)", out.stdout)
    )
    assert delivered == {
        "votewire one at a time": "40/40",
        "bare one at a time": "40/40",
        "votewire burst of 63": "1260/1260",
        "bare burst of 63": "1260/1260",
    }, out.stdout
    assert "ratio one at a time" in out.stdout
    assert re.search(r"update frame \d{3,} bytes for both", out.stdout)
