"""Revocation that bites: the open sockets of this process, by token, and closing those
whose token was revoked.

A token is checked when a socket opens (`server.hello`); a socket stays open for hours. So
each socket that authenticated with a token registers here for as long as it is open
(`Revocations.watch`) and gets an event that is set once its token is revoked; the socket's
own task then answers `auth_failed` and closes with 4401 "revoked" (`server.bureau`,
`server.live`).

Who notices: whichever process revokes (the admin route, `votewire tokens revoke`), the
database function `revoke_tokens` (migrations/005) NOTIFYs 'revoke' on the feed's channel
at its commit; every process's fan-out hub runs `Revocations.check` for that notice (and
after a lost LISTEN connection), which asks the database which of its open sockets' tokens
are revoked. A poll every `listen_check_s` while sockets are open covers a lost notice and
the one-process `local` fan-out, which hears no NOTIFY.

The race with a report in flight is settled in the database, not here: the report's
writing transaction locks its token's row and refuses a revoked token (migrations/005), so
a report is acknowledged only if it committed before the revocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import asyncpg

from server import store

log = logging.getLogger("votewire.revocation")

CLOSE_REASON = "revoked"
"""The close frame's reason beside code 4401 when an open socket's token is revoked."""


class Revocations:
    """The tokens of this process's open sockets, each with the events of its sockets."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self.pool, self.timeout = pool, timeout
        self._open: dict[int, set[asyncio.Event]] = {}
        self._poll: asyncio.Task | None = None

    @contextlib.contextmanager
    def watch(self, token_id: int) -> Iterator[asyncio.Event]:
        """Register a socket of `token_id` while the block runs; the event is set once the
        token is revoked. Register *before* the socket's last look at its token (its
        `welcome`), so a revocation committed after that look finds it here."""
        revoked = asyncio.Event()
        self._open.setdefault(token_id, set()).add(revoked)
        try:
            yield revoked
        finally:
            events = self._open.get(token_id)
            if events is not None:
                events.discard(revoked)
                if not events:
                    del self._open[token_id]

    def open_tokens(self) -> int:
        """How many distinct tokens have a socket open here."""
        return len(self._open)

    async def check(self) -> None:
        """Set the events of every open socket whose token is revoked (the 'revoke' notice)."""
        ids = list(self._open)
        if not ids:
            return
        try:
            async with store.acquire(self.pool, self.timeout) as conn:
                revoked = await store.revoked_among(conn, ids)
        except Exception as exc:  # noqa: BLE001 - the database may be down: the poll retries
            log.warning("could not check revoked tokens: %s", exc)
            return
        for token_id in revoked:
            events = self._open.get(token_id, ())
            if events:
                log.info("token %s revoked: closing its %d socket(s)", token_id, len(events))
            for event in events:
                event.set()

    def start(self, every_s: float) -> None:
        """Also check every `every_s` while sockets are open (a lost notice, local fan-out)."""
        self._poll = asyncio.create_task(self._run(every_s), name="votewire-revocation")

    async def stop(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            await asyncio.gather(self._poll, return_exceptions=True)

    async def _run(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.check()
