"""What every `votewire` command shares: its one-line error, and the database to use."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from server.embedded import EmbeddedError, EmbeddedPostgres, prepare
from server.settings import Settings


class CliError(Exception):
    """A mistake the user can fix: printed as one line, exit status 2."""


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The Postgres URL to use: DATABASE_URL, or an embedded server under the data folder
    (started if needed, and stopped on exit if this process started it)."""
    if settings.database_url:
        yield settings.database_url
        return
    try:
        pg: EmbeddedPostgres = prepare(settings.data_dir)
        started = not pg.running()
        pg.start()
    except (EmbeddedError, OSError) as exc:
        raise CliError(
            f"no database: DATABASE_URL is unset and the embedded Postgres under "
            f"{settings.data_dir} could not start ({exc}). Set DATABASE_URL=postgresql://…"
        ) from exc
    try:
        yield pg.url
    finally:
        if started:
            pg.stop()
