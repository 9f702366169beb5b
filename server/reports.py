"""Accepting one report, whatever it came through (`/ws/bureau` or `POST /api/reports`).

The contract's order of checks: shape, types and ranges (`invalid`), scope (`forbidden`),
then in the database under one lock the repeated `id`, history (`regression`) and rate
(`rate_limited`). The answer is built only after COMMIT. The same transaction first locks
the report's token and refuses it if revoked (`auth_failed`, migrations/005), so no report
is acknowledged after its token's revocation has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from ingest.errors import (
    ContractError,
    Forbidden,
    Invalid,
    RateLimited,
    Regression,
    auth_failed,
    unavailable,
)
from ingest.messages import Report, check_report, check_result, turnout_figures
from server import store
from server.revocation import Revocations
from server.settings import Settings, utc_now

log = logging.getLogger("votewire.reports")


@dataclass
class RateLimiter:
    """A token bucket per bearer token, in this process. `allowed` only peeks: a token is
    spent by `spend` once a report is stored, so refused reports cost nothing."""

    per_s: float
    burst: int
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)

    def _level(self, key: int) -> float:
        level, stamp = self._buckets.get(key, (float(self.burst), time.monotonic()))
        return min(float(self.burst), level + (time.monotonic() - stamp) * self.per_s)

    def allowed(self, key: int) -> bool:
        return self._level(key) >= 1.0

    def spend(self, key: int) -> None:
        self._buckets[key] = (self._level(key) - 1.0, time.monotonic())


@dataclass
class Desk:
    """What accepting a report needs: the pool, the settings, the provinces' registered
    voters and the rate limiter. One per server process."""

    pool: asyncpg.Pool
    settings: Settings
    registered: dict[str, int]
    rate: RateLimiter
    on_commit: Any = None
    """Called with the new seq after each accepted report (the local fan-out's wake-up)."""
    now: Callable[[], datetime] = utc_now
    """The election clock's now (contract §6): the 5-minute future limit counts from it."""
    reread_now: Callable[[], Awaitable[datetime]] | None = None
    """The clock's now read again from the database (`server.clock.reread`): asked before a
    report ahead of `now` is refused, since during a replay another process may just have
    moved the clock and its NOTIFY may still be on its way here."""
    _queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    _writers: list[asyncio.Task] = field(default_factory=list)
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by the writer whose batch is being gathered and checked: see `_write_batches`."""
    closing: bool = False
    """Set when the process is shutting down: new reports are answered `unavailable`
    (nothing stored, the phone retries elsewhere) while those in flight finish."""
    in_flight: int = 0
    """Reports being answered: from frame received to answer sent."""
    revocations: Revocations = field(init=False)
    """The open sockets of this process by token, closed when their token is revoked."""

    def __post_init__(self) -> None:
        self.revocations = Revocations(self.pool, self.settings.db_timeout_s)

    @contextlib.contextmanager
    def answering(self):
        """Around receiving a report and sending its answer, so a graceful shutdown can
        wait for every ack in flight before the sockets close."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def drain(self, timeout: float) -> None:
        """Refuse new reports, then wait (at most `timeout`) for those in flight."""
        self.closing = True
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    MAX_BATCH = 256
    WRITERS = 3
    """Writers, each one transaction at a time on its own pooled connection: one batch
    holds the counter to its COMMIT, the next waits for it, a third is being checked."""
    CHECKED = "votewire: step 2"
    """The NOTICE `accept_batch` raises once its reports are checked and it holds the
    counter (migrations/010)."""

    def start(self) -> None:
        self._writers = [
            asyncio.create_task(self._write_batches(), name=f"votewire-writer-{n}")
            for n in range(self.WRITERS)
        ]
        self.revocations.start(self.settings.listen_check_s)

    async def stop(self) -> None:
        """Graceful: reports already queued are written and acked, then the writers end."""
        await self.revocations.stop()
        if self._writers:
            for _ in self._writers:
                self._queue.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.gather(*self._writers)), 15)
            except TimeoutError:
                for writer in self._writers:
                    writer.cancel()

    async def _write(self, item: dict) -> store.Outcome:
        if not self._writers or all(w.done() for w in self._writers):
            raise unavailable()
        fut = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, fut))
        return await fut

    async def _write_batches(self) -> None:
        """One of the process's writers. A batch does most of its work (locks, the
        contract's checks, its provinces' new entries) before it takes the counter
        (migrations/009), so the next batch can do that while one holds the counter to
        its COMMIT; but every batch pays for the counter, its sums and a COMMIT (an
        fsync), so small ones are dear. So one writer at a time gathers a batch — every
        report queued, waiting for the first — and holds the turn until its batch holds
        the counter: the next batch then takes every report that arrived meanwhile, and
        does its checks while this one finishes. Each writer ends at the first `None` it
        takes."""
        closing = False
        while not closing:
            async with self._turn:
                batch: list = []
                entry = await self._queue.get()
                while True:
                    if entry is None:
                        closing = True
                    else:
                        batch.append(entry)
                    if closing or self._queue.empty() or len(batch) >= self.MAX_BATCH:
                        break
                    entry = self._queue.get_nowait()
                if not batch:
                    break
                checked = asyncio.Event()
                written = asyncio.create_task(self._write_batch(batch, checked))
                await checked.wait()
            await written

    async def _write_batch(self, batch: list, checked: asyncio.Event) -> None:
        """Store `batch` in one transaction and answer each report's future; `checked` is
        set when the database says the batch holds the counter, or when it is done."""

        def notice(_conn: object, message: asyncpg.PostgresLogMessage) -> None:
            if message.message == self.CHECKED:
                checked.set()

        try:
            async with store.acquire(self.pool, self.settings.db_timeout_s) as conn:
                conn.add_log_listener(notice)
                try:
                    outcomes = await store.accept_batch(
                        conn, [item for item, _ in batch], self.settings.election.rehearsal
                    )
                finally:
                    conn.remove_log_listener(notice)
        except (ContractError, *store.DB_ERRORS, asyncpg.PostgresError) as exc:
            log.warning("batch of %d not stored: %s", len(batch), exc)
            for _item, fut in batch:
                if not fut.done():
                    fut.set_exception(unavailable())
            return
        finally:
            checked.set()
        for (_item, fut), outcome in zip(batch, outcomes, strict=True):
            if not fut.done():
                fut.set_result(outcome)

    async def submit(self, report: Report, bearer: store.Bearer) -> dict:
        """Store `report` for `bearer` and return the ack; raises a `ContractError`."""
        if self.closing:
            raise unavailable(report.id)
        province = self._province(report, bearer)
        now = self.now()
        if report.as_of > now + self.settings.future_slack and self.reread_now is not None:
            now = await self.reread_now()
        check_report(
            report,
            window=self.settings.election.window,
            now=now,
            registered=self.registered[province],
            future_slack=self.settings.future_slack,
        )
        if report.kind == "result":
            check_result(report, province)
        if bearer.role == "bureau" and province != bearer.province:
            raise Forbidden.of("province", id=report.id, own=bearer.province, province=province)
        voted = registered = pct = None
        if report.kind == "turnout":
            voted, registered = turnout_figures(report, self.registered[province])
            given = report.fields.turnout_pct  # type: ignore[attr-defined]
            pct = given if given is not None else voted / registered * 100
        item = {
            "id": str(report.uuid),
            "province": province,
            "kind": report.kind,
            "as_of": report.as_of.isoformat(),
            "data": report.data,
            "voted": voted,
            "registered": registered,
            "turnout_pct": pct,
            "correction": bool(getattr(report.fields, "correction", False)),
            "audience": report.audience,
            "token_id": bearer.token_id,
            "rate_ok": self.rate.allowed(bearer.token_id),
        }
        try:
            out = await self._write(item)
        except ContractError as exc:
            exc.id = report.id
            raise
        return self._answer(report, bearer, out)

    def _province(self, report: Report, bearer: store.Bearer) -> str:
        province = report.province
        if province is None:
            if bearer.role == "bureau":
                return bearer.province  # type: ignore[return-value]
            raise Invalid.of("province", "required", id=report.id)
        if province not in self.registered:
            raise Invalid.of("province", id=report.id, province=province[:10])
        return province

    def _moment_text(self, iso: str | None) -> str | None:
        """A stored moment as a correspondent reads it: "21:00 23/05/2021", election zone."""
        if iso is None:
            return None
        moment = datetime.fromisoformat(iso).astimezone(self.settings.election.zone)
        return f"{moment:%H:%M %d/%m/%Y}"

    def _answer(self, report: Report, bearer: store.Bearer, out: store.Outcome) -> dict:
        if out.outcome == "accepted":
            self.rate.spend(bearer.token_id)
            log.info(
                "accepted id=%s seq=%s kind=%s",
                report.id,
                out.seq,
                report.kind,
                extra={"report_id": report.id, "seq": out.seq, "kind": report.kind},
            )
            if self.on_commit is not None:
                self.on_commit(out.seq)
            return {"type": "ack", "id": report.id, "seq": out.seq, "duplicate": False}
        if out.outcome == "revoked":  # the token was revoked before this report's turn
            refused = auth_failed()
            refused.id = report.id
            raise refused
        if out.outcome == "duplicate":
            return {"type": "ack", "id": report.id, "seq": out.seq, "duplicate": True}
        if out.outcome == "conflict":
            raise Invalid.of("id", "reused", id=report.id, seq=out.seq)
        if out.outcome == "regression":
            prev = out.detail or {}
            when = self._moment_text(prev.get("as_of"))
            if prev.get("field") == "data.stage":
                raise Regression.of("data.stage", id=report.id, as_of=when)
            if prev.get("field") == "data.ballots_valid":
                raise Regression.of(
                    "data.ballots_valid", id=report.id, as_of=when, valid=prev.get("valid")
                )
            raise Regression.of("data.voted", id=report.id, as_of=when, voted=prev.get("voted"))
        raise RateLimited.of(None, "reports", id=report.id)
