"""The report log: accepting reports (the writer's logic is the SQL function
`accept_batch`, migrations/001), editors' actions on them (migrations/002), reading them
back (one report, a token's own, the board's ticker, the published notes) and the
rehearsal reset."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from server.store import results
from server.store.db import REFRESH_STATE
from server.store.outcome import Outcome


async def accept_batch(
    conn: asyncpg.Connection,
    items: list[dict],
    rehearsal: bool,
) -> list[Outcome]:
    """Accept reports in one transaction (see `accept_batch` in migrations/009, and 005 for
    its token check: outcome 'revoked' when an item's token is revoked); each item has the
    keys of `accept_report`'s parameters (migrations/001), JSON-ready (id and as_of as
    strings).

    Results (§5) go through `results.accept_result` in the same transaction (the law is
    Python); a batch without one stays a single statement."""
    plain = [i for i in items if i["kind"] != "result"]
    if len(plain) == len(items):
        rows = await conn.fetch("SELECT * FROM accept_batch($1::jsonb, $2)", items, rehearsal)
        return [Outcome(r["outcome"], r["seq"], r["detail"]) for r in rows]
    answers: dict[int, Outcome] = {}
    async with conn.transaction():
        # every id's and province's lock before the counter, as one batch of plain reports
        # takes them (migrations/009): a result's own steps then find them held
        await conn.execute("SELECT lock_reports($1::jsonb)", items)
        # then the national results' row, which every change of a unit takes before the
        # counter (migrations/008 `record_result`): a batch whose plain reports took the
        # counter first would deadlock with one whose result holds this row and waits for it
        await conn.execute("SELECT 1 FROM results_total FOR UPDATE")
        if plain:
            rows = await conn.fetch("SELECT * FROM accept_batch($1::jsonb, $2)", plain, rehearsal)
            at = [n for n, i in enumerate(items) if i["kind"] != "result"]
            answers.update(
                (n, Outcome(r["outcome"], r["seq"], r["detail"]))
                for n, r in zip(at, rows, strict=True)
            )
        for n, item in enumerate(items):
            if item["kind"] == "result":
                answers[n] = await results.accept_result(conn, item, rehearsal)
    return [answers[n] for n in range(len(items))]


async def apply_action(
    conn: asyncpg.Connection,
    report_id: str,
    action: str,
    *,
    token_id: int | None,
    actor: str | None,
    why: str | None,
    rehearsal: bool,
) -> Outcome:
    """verify / publish / retract / annotate one report (migrations/002), audited. A result
    published or retracted is recomputed under the law in the same transaction (008)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT * FROM apply_action($1::uuid, $2, $3, $4, $5, $6)",
            report_id,
            action,
            token_id,
            actor,
            why,
            rehearsal,
        )
        if row["outcome"] != "recompute":
            return Outcome(row["outcome"], row["seq"], None)
        seq = await results.finish_action(
            conn,
            report_id,
            action,
            token_id=token_id,
            actor=actor,
            why=why,
            rehearsal=rehearsal,
        )
    return Outcome("done", seq, None)


async def audit_log(conn: asyncpg.Connection, report_id: str) -> list[dict]:
    rows = await conn.fetch(
        """SELECT a.id, a.seq, a.action, a.actor, a.token_id, a.why, a.at, t.role
           FROM actions a LEFT JOIN tokens t ON t.id = a.token_id
           WHERE a.report_id = $1::uuid ORDER BY a.id""",
        report_id,
    )
    return [dict(r) for r in rows]


BATCHES_LOCK = 7472005
"""The advisory lock each ingest batch holds shared (migrations/005, 009, 010)."""


async def reset_reports(conn: asyncpg.Connection) -> int:
    """Delete every report and feed change ("live zeros") and end any replay of the election
    clock (the real day runs on wall time); tokens stay, `seq` continues so no viewer
    mistakes the empty picture for an old one. Returns how many reports went."""
    async with conn.transaction():
        # first the lock every ingest batch takes shared before anything else (and
        # `revoke_tokens` exclusive, migrations/005): the batches in flight finish, the next
        # wait. Taking the counter first deadlocked with a batch that held the reports'
        # table and waited for the counter (tests/test_reset_locks.py).
        await conn.execute("SELECT pg_advisory_xact_lock($1)", BATCHES_LOCK)
        await conn.execute("SELECT 1 FROM counter FOR UPDATE")
        count = await conn.fetchval("SELECT count(*) FROM reports")
        await conn.execute("TRUNCATE reports, feed, confirmations CASCADE")
        await conn.execute(REFRESH_STATE)
        await conn.execute(
            """UPDATE unit_state SET public = waiting, internal = waiting,
                      public_tally = waiting_tally, internal_tally = waiting_tally"""
        )
        await conn.execute(results.TOTALS)
        # the national sums kept for the next batch (migrations/010) are those of the
        # picture just emptied
        await conn.execute(
            "UPDATE counter SET public_seq = seq, national = NULL, national_seq = NULL"
        )
        await conn.execute("SELECT pg_notify('votewire_feed', 'reset')")
        await conn.execute("SELECT set_election_clock(NULL, 1, NULL)")
    return count


async def report_by_id(conn: asyncpg.Connection, report_id: str) -> dict | None:
    row = await conn.fetchrow(
        """SELECT seq, id::text AS id, province, kind, as_of, data, audience, retracted,
                  verified, correction, received_at, turnout_pct, token_id
           FROM reports WHERE id = $1::uuid""",
        report_id,
    )
    return dict(row) if row else None


async def reports_of_token(conn: asyncpg.Connection, token_id: int, limit: int) -> list[dict]:
    """The reports sent with one token, newest first (the correspondent's "my reports")."""
    rows = await conn.fetch(
        """SELECT seq, id::text AS id, province, kind, as_of, data, audience, retracted,
                  received_at
           FROM reports WHERE token_id = $1 ORDER BY seq DESC LIMIT $2""",
        token_id,
        limit,
    )
    return [dict(r) for r in rows]


async def board_items(conn: asyncpg.Connection, limit: int) -> list[dict]:
    """The latest public notes and re-vote reports, newest first (the board's ticker).

    Only `audience = 'public'` rows: an internal note never leaves here."""
    rows = await conn.fetch(
        """SELECT seq, id::text AS id, province, kind, as_of, data FROM reports
           WHERE kind IN ('note', 'revote') AND audience = 'public' AND NOT retracted
             AND seq IS NOT NULL
           ORDER BY as_of DESC, seq DESC LIMIT $1""",
        limit,
    )
    return [dict(r) for r in rows]


async def published_notes(conn: asyncpg.Connection, start: datetime, end: datetime) -> list[dict]:
    """Public notes and public security notes whose as_of falls in [start, end)."""
    rows = await conn.fetch(
        """SELECT seq, id::text AS id, province, kind, as_of, data FROM reports
           WHERE kind IN ('note', 'security') AND audience = 'public' AND NOT retracted
             AND as_of >= $1 AND as_of < $2
           ORDER BY as_of, seq""",
        start,
        end,
    )
    return [dict(r) for r in rows]
