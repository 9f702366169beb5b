"""Results (contract §5) in the database: accepting a `result`, the Council's decisions, and
reading the count now or at a moment.

The law is applied in the accepting transaction (DESIGN.md), by `ingest.results_view.
unit_state` (which calls `ingest.law.decide`, the one definition of "elected") over the rows
the SQL functions of migrations/008 return; SQL stores each unit's entries and adds up the
units' tallies for the national summary. A change of a unit is therefore three steps in one
transaction: the checks and the insert (`accept_result`, or an action, or a decision), the
law in Python, then `record_result` (the unit's state, the seq, the feed frames).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ingest.candidates import Unit, candidate_index, unit_index, units
from ingest.results_view import unit_state
from server.store.outcome import Outcome


@dataclass(frozen=True, slots=True)
class Decision:
    """What `record_decision` did: 'done' (a new seq), 'no_change' (the same decision as
    the latest one), 'not_elected' (the candidate is not elected now)."""

    outcome: str
    seq: int | None
    unit: dict[str, Any] | None
    """The unit's internal entry after the decision."""


async def seed_units(conn: asyncpg.Connection) -> None:
    """Give every configured unit its state row (waiting until its first result), then
    recompute every unit from the log: after a reset, or when the configuration changed."""
    rows = []
    for unit in units():
        entry, tally = unit_state(unit, None)
        rows.append((unit.code, unit.unit, unit.seats, entry, tally))
    await conn.executemany(
        """INSERT INTO unit_state (code, unit, seats, waiting, waiting_tally, public, internal,
                                   public_tally, internal_tally)
           VALUES ($1, $2, $3, $4, $5, $4, $4, $5, $5)
           ON CONFLICT (code, unit) DO UPDATE SET seats = excluded.seats,
               waiting = excluded.waiting, waiting_tally = excluded.waiting_tally""",
        rows,
    )
    for unit in units():
        await _store_unit(conn, unit)
    await conn.execute(TOTALS)


TOTALS = """UPDATE results_total SET public = results_summary(false),
                                   internal = results_summary(true)"""
"""The national totals summed again over every unit (after the seed or a reset)."""


async def _store_unit(conn: asyncpg.Connection, unit: Unit) -> None:
    pub, int_, pub_tally, int_tally = await _apply_law(conn, unit)
    await conn.execute(
        """UPDATE unit_state SET public = $3, internal = $4, public_tally = $5,
                  internal_tally = $6 WHERE code = $1 AND unit = $2""",
        unit.code,
        unit.unit,
        pub,
        int_,
        pub_tally,
        int_tally,
    )


async def _apply_law(
    conn: asyncpg.Connection, unit: Unit, rows: asyncpg.Record | None = None
) -> tuple[dict, dict, dict, dict]:
    """The unit's entries and tallies (public, internal) from its rows now (`unit_rows`,
    read here unless given: `accept_result` returns them)."""
    if rows is None:
        rows = await conn.fetchrow(
            "SELECT * FROM unit_rows($1, $2, 'infinity')", unit.code, unit.unit
        )
    decisions = rows["decisions"]
    pub, pub_tally = unit_state(unit, rows["latest_public"], decisions)
    int_, int_tally = unit_state(unit, rows["latest_internal"], decisions)
    return pub, int_, pub_tally, int_tally


async def _record(
    conn: asyncpg.Connection,
    unit: Unit,
    event: dict,
    visible: bool,
    rehearsal: bool,
    *,
    rows: asyncpg.Record | None = None,
    report: str | None = None,
) -> int:
    pub, int_, pub_tally, int_tally = await _apply_law(conn, unit, rows)
    return await conn.fetchval(
        "SELECT record_result($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::uuid)",
        unit.code,
        unit.unit,
        event,
        visible,
        rehearsal,
        pub,
        int_,
        pub_tally,
        int_tally,
        report,
    )


async def accept_result(conn: asyncpg.Connection, item: dict, rehearsal: bool) -> Outcome:
    """Accept one checked `result` (an item of `accept_batch`) inside the caller's
    transaction: history and the insert in SQL, then the law and the change."""
    row = await conn.fetchrow(
        "SELECT * FROM accept_result($1::uuid, $2, $3::timestamptz, $4, $5, $6, $7, $8)",
        item["id"],
        item["province"],
        datetime.fromisoformat(item["as_of"]),
        item["data"],
        item["correction"],
        item["audience"],
        item["token_id"],
        item["rate_ok"],
    )
    if row["outcome"] != "accepted":
        return Outcome(row["outcome"], row["seq"], row["detail"])
    unit = unit_index()[(item["province"], item["data"]["unit"])]
    event = {
        "id": item["id"],
        "kind": "result",
        "as_of": item["as_of"],
        "province": item["province"],
        "data": item["data"],
    }
    visible = item["audience"] == "public"
    seq = await _record(conn, unit, event, visible, rehearsal, rows=row, report=item["id"])
    return Outcome("accepted", seq, None)


async def finish_action(
    conn: asyncpg.Connection,
    report_id: str,
    action: str,
    *,
    token_id: int | None,
    actor: str | None,
    why: str | None,
    rehearsal: bool,
) -> int:
    """After `apply_action` answered 'recompute' (a result published or retracted, in the
    same transaction): the unit again under the law, the change, and the audit row."""
    r = await conn.fetchrow(
        "SELECT id::text AS id, province, as_of, data, audience FROM reports WHERE id = $1::uuid",
        report_id,
    )
    unit = unit_index()[(r["province"], r["data"]["unit"])]
    event = {
        "id": r["id"],
        "kind": "result",
        "as_of": r["as_of"].isoformat(),
        "province": r["province"],
        "data": r["data"],
        "action": action,
    }
    visible = action == "publish" or r["audience"] == "public"
    seq = await _record(conn, unit, event, visible, rehearsal)
    await conn.execute(
        """INSERT INTO actions (seq, report_id, action, token_id, actor, why)
           VALUES ($1, $2::uuid, $3, $4, $5, $6)""",
        seq,
        report_id,
        action,
        token_id,
        actor,
        why,
    )
    return seq


async def record_decision(
    conn: asyncpg.Connection,
    candidate: str,
    confirmed: bool,
    source: str,
    as_of: datetime,
    *,
    token_id: int | None,
    actor: str | None,
    rehearsal: bool,
) -> Decision:
    """The Council's decision on an elected candidate (§5), as a change of its unit: its
    own seq and feed frames, seen by `?at=` from `as_of` on. The same decision as the
    latest one changes nothing."""
    who = candidate_index()[candidate]
    code, number, _ = candidate.split("-")
    unit = unit_index()[(code, int(number))]
    del who
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM province_state WHERE code = $1 FOR UPDATE", code)
        current = await conn.fetchval(
            "SELECT internal FROM unit_state WHERE code = $1 AND unit = $2", code, unit.unit
        )
        entry = next(c for c in current["candidates"] if c["id"] == candidate)
        if not entry["elected"]:
            return Decision("not_elected", None, current)
        if entry["confirmed"] is confirmed:
            return Decision("no_change", None, current)
        decision_id = str(uuid.uuid4())
        await conn.execute(
            """INSERT INTO confirmations (id, candidate, code, unit, confirmed, source, as_of,
                                          token_id, actor)
               VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9)""",
            decision_id,
            candidate,
            code,
            unit.unit,
            confirmed,
            source,
            as_of,
            token_id,
            actor,
        )
        event = {
            "id": decision_id,
            "kind": "confirmation",
            "as_of": as_of.isoformat(),
            "province": code,
            "data": {
                "unit": unit.unit,
                "candidate": candidate,
                "confirmed": confirmed,
                "source": source,
            },
        }
        seq = await _record(conn, unit, event, True, rehearsal)
        await conn.execute(
            "UPDATE confirmations SET seq = $2 WHERE id = $1::uuid", decision_id, seq
        )
        after = await conn.fetchval(
            "SELECT internal FROM unit_state WHERE code = $1 AND unit = $2", code, unit.unit
        )
    return Decision("done", seq, after)


async def results_body(conn: asyncpg.Connection, *, internal: bool, at: datetime | None) -> dict:
    """`seq`, `summary` and `units` of `/api/results` now (`at` None: the units' stored
    state) or at a moment (the law over the rows of that moment), in one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        if at is None:
            counter = await conn.fetchrow("SELECT seq, public_seq FROM counter")
            column = "internal" if internal else "public"
            entries = await conn.fetch(
                f"SELECT {column} AS e FROM unit_state ORDER BY code, unit"  # noqa: S608
            )
            summary = await conn.fetchval(f"SELECT {column} FROM results_total")  # noqa: S608
            return {
                "seq": counter["seq"] if internal else counter["public_seq"],
                "summary": summary,
                "units": [r["e"] for r in entries],
            }
        rows = await conn.fetchrow("SELECT * FROM results_rows($1, $2)", at, internal)
        seq = await conn.fetchval(
            """SELECT greatest(
                   (SELECT coalesce(max(seq), 0) FROM reports
                     WHERE as_of <= $1 AND NOT retracted AND ($2 OR audience = 'public')),
                   (SELECT coalesce(max(seq), 0) FROM confirmations WHERE as_of <= $1))""",
            at,
            internal,
        )
        entries, tallies = [], []
        for unit in units():
            latest = rows["latest"].get(unit.id)
            entry, tally = unit_state(unit, latest, rows["decisions"])
            entries.append(entry)
            tallies.append(tally)
        summary = await conn.fetchval("SELECT tally_sum($1::jsonb[])", tallies)
    return {"seq": seq, "summary": summary, "units": entries}


async def latest_results(conn: asyncpg.Connection, at: datetime | None = None) -> dict[str, dict]:
    """Each unit's latest accepted result report at `at` (None: now), by unit id
    ("01-1"): its `id`, `audience`, `seq`, `as_of`, `stage` (the desk publishes or
    retracts it)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (r.province, (r.data->>'unit')::int)
                  r.province || '-' || (r.data->>'unit') AS unit, r.id::text AS id,
                  r.audience, r.seq, r.as_of, coalesce(r.data->>'stage', 'provisional') AS stage
           FROM reports r
           WHERE r.kind = 'result' AND NOT r.retracted
             AND r.as_of <= coalesce($1::timestamptz, 'infinity')
           ORDER BY r.province, (r.data->>'unit')::int, r.as_of DESC, r.seq DESC""",
        at,
    )
    return {r["unit"]: {k: r[k] for k in ("id", "audience", "seq", "as_of", "stage")} for r in rows}
