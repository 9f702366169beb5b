"""Reading the results (contract §5) now or at a moment, for every route that shows them:
`/api/results`, the board's results slides, the charts, the desk.

`read_results` is to the count what `server.picture.read_picture` is to turnout: the
body of `/api/results` (`seq`, `at`, `summary`, `units`), public or with internal results
for editors, `at` the moment asked or the election clock's now.
"""

from __future__ import annotations

from datetime import datetime

from server import store
from server.state import Votewire


async def read_results(app: Votewire, *, internal: bool, at: datetime | None) -> dict:
    """The §5 body: each unit under the law with the results (and decisions) of `at`, or
    the units' current state when `at` is None."""
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        body = await store.results_body(conn, internal=internal, at=at)
    when = at or app.now_local()
    return {
        "seq": body["seq"],
        "at": when.astimezone(app.settings.election.zone).isoformat(timespec="seconds"),
        "summary": body["summary"],
        "units": body["units"],
    }
