"""Ingest at the database's limit (issue 14 item 2), and what it must not give up.

- The batch writer of migrations/009–010 (each province brought forward by one report,
  the national figures as running sums kept from batch to batch, most work before the
  counter) answers every report, writes `province_state` and writes every feed frame byte
  for byte as the writer of migrations/001–008 did (each report's province recomputed from
  the log, the national figures summed again, all under the counter), over a day of every
  kind, audience and refusal, with provinces and ids repeated within a batch and editors'
  actions (their own seq, their own sums) between.
- The sums kept for the next batch are forgotten by what changes the provinces' state
  without a seq: the seeding at every start, a reset.
- Two server processes taking reports from many bureaus at once: `seq` has no gap at any
  moment a reader can see (so seq order is commit order), every report is acked once with
  its own seq, and every frame's national figures equal an independent recomputation from
  the provinces' entries the feed carried up to that frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import websockets

from ingest.fixtures import provinces
from server import store
from server.auth import new_token
from server.store.db import MIGRATIONS
from tests.conftest import MS, with_db

ZONE = "Asia/Ho_Chi_Minh"
DAY = datetime.fromisoformat("2021-05-23T07:00:00+07:00")
KINDS_IN_STEP_ONE = ("turnout", "completion", "security", "note")


@contextlib.asynccontextmanager
async def database(pg_url: str, upto: str | None) -> AsyncIterator[str]:
    """A fresh database migrated with every migration (or those before `upto`), seeded,
    with one bureau token per province issued in the same order (same ids); dropped at
    the end."""
    name = f"vw_order_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    url = with_db(pg_url, name)
    try:
        conn = await store.connect(url, ZONE)
        try:
            if upto is None:
                await store.migrate(conn)
            else:
                for path in sorted(MIGRATIONS.glob("*.sql")):
                    if path.name < upto:
                        await conn.execute(path.read_text(encoding="utf-8"))
            await store.seed_provinces(conn, provinces())
            for p in provinces():
                await store.issue_token(conn, new_token(), "bureau", p.code, "order")
        finally:
            await conn.close()
        yield url
    finally:
        admin = await asyncpg.connect(pg_url)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


class Day:
    """Reports of every kind the SQL writer takes, as the desk hands them over (`Desk.
    submit`'s items), over a few provinces so that batches repeat provinces."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.codes = [p.code for p in provinces()][:7]
        self.registered = {p.code: p.registered for p in provinces()}
        self.token = {p.code: n for n, p in enumerate(provinces(), start=1)}
        self.voted = dict.fromkeys(self.codes, 0)
        self.sent: list[dict] = []

    def item(self) -> dict:
        rng, code = self.rng, self.rng.choice(self.codes)
        if self.sent and rng.random() < 0.08:  # a resend: a duplicate, or a reused id
            again = dict(rng.choice(self.sent))
            if rng.random() < 0.25:
                again["as_of"] = self.moment()
            elif rng.random() < 0.33:
                again["data"] = {**again["data"], "note": "other"}
            return again
        kind = rng.choice(["turnout"] * 5 + ["completion", "security", "note", "revote"] * 1)
        item = {
            "id": str(uuid.uuid4()),
            "province": code,
            "kind": kind,
            "as_of": self.moment(),
            "voted": None,
            "registered": None,
            "turnout_pct": None,
            "correction": False,
            "audience": "public",
            "token_id": self.token[code],
            "rate_ok": rng.random() > 0.04,
        }
        if kind == "turnout":
            step = rng.choice([0, rng.randint(-3000, 20000)])
            voted = max(0, self.voted[code] + step)
            self.voted[code] = max(self.voted[code], voted)
            correction = step < 0 and rng.random() < 0.5
            item["data"] = {"voted": voted, **({"correction": True} if correction else {})}
            item.update(
                voted=voted,
                registered=self.registered[code],
                turnout_pct=voted / self.registered[code] * 100,
                correction=correction,
            )
        elif kind == "completion":
            total = rng.choice([10, 12])
            item["data"] = {"areas_done": rng.randint(0, total), "areas_total": total}
            if rng.random() < 0.5:
                item["data"].update(units_done=rng.randint(0, 3), units_total=3)
        elif kind == "security":
            item["audience"] = rng.choice(["public", "internal"])
            item["data"] = {
                "severity": rng.choice(["info", "watch", "incident"]),
                "category": "order",
                "text": "x",
                "audience": item["audience"],
            }
        elif kind == "note":
            item["audience"] = rng.choice(["public", "internal"])
            item["data"] = {"text": "y", "audience": item["audience"]}
        else:
            item["audience"] = rng.choice(["public", "public", "internal"])
            item["data"] = {
                "unit": rng.choice(["U1", "u1", "U2", "U3"]),
                "level": rng.choice(["na", "province"]),
                "reason": "other",
                "status": rng.choice(["announced", "held", "cancelled"]),
                "audience": item["audience"],
            }
        self.sent.append(item)
        return item

    def moment(self) -> str:
        return (DAY + timedelta(minutes=self.rng.randint(0, 600))).isoformat()


async def test_batches_answer_and_write_every_frame_as_the_recomputing_writer_did(pg_url):
    async with database(pg_url, upto="009") as old_url, database(pg_url, None) as new_url:
        await same_day_in_both(old_url, new_url)


async def same_day_in_both(old_url: str, new_url: str) -> None:
    old = await store.connect(old_url, ZONE)
    new = await store.connect(new_url, ZONE)
    day = Day(seed=20210523)
    outcomes: set[str] = set()
    repeated = 0
    try:
        for batch_no in range(90):
            items = [day.item() for _ in range(day.rng.choice([1, 2, 5, 17, 40]))]
            codes = [i["province"] for i in items]
            repeated += len(codes) - len(set(codes))
            rehearsal = batch_no % 7 == 3
            answers = []
            for conn in (old, new):
                rows = await conn.fetch(
                    "SELECT * FROM accept_batch($1::jsonb, $2)", items, rehearsal
                )
                answers.append([(r["outcome"], r["seq"], r["detail"]) for r in rows])
            assert answers[0] == answers[1], f"batch {batch_no}"
            outcomes.update(a[0] for a in answers[0])
            if batch_no % 5 == 4:  # an editor's action (recomputed, migrations/007)
                if batch_no % 10 == 4:  # the latest turnout of a province: its count changes
                    target_id = await new.fetchval(
                        """SELECT id::text FROM reports WHERE kind = 'turnout' AND NOT retracted
                           ORDER BY as_of DESC, seq DESC LIMIT 1"""
                    )
                    action = "retract"
                else:
                    target_id = day.rng.choice([i for i in day.sent if i["kind"] != "revote"])["id"]
                    action = day.rng.choice(["retract", "publish", "verify"])
                for conn in (old, new):
                    await conn.fetchrow(
                        "SELECT * FROM apply_action($1::uuid, $2, NULL, 'test', NULL, false)",
                        target_id,
                        action,
                    )
            if batch_no == 60:  # one province's token revoked from here on
                for conn in (old, new):
                    await conn.execute("UPDATE tokens SET revoked_at = now() WHERE id = 3")
        assert outcomes >= {
            "accepted",
            "duplicate",
            "conflict",
            "regression",
            "rate_limited",
            "revoked",
        }, outcomes
        assert repeated > 50
        for query in (
            "SELECT seq, public_prev, public, internal FROM feed ORDER BY seq",
            "SELECT * FROM province_state ORDER BY code",
            "SELECT id, seq, province, kind, as_of, data, retracted, audience FROM reports"
            " ORDER BY seq",
            "SELECT seq, public_seq FROM counter",
        ):
            assert await old.fetch(query) == await new.fetch(query), query
        assert await new.fetchval("SELECT count(*) FROM feed") > 500
        recomputed = await new.fetchval(
            """SELECT count(*) FROM province_state s, province_entries(s.code, 'infinity') e
               WHERE s.public <> e.public OR s.internal <> e.internal"""
        )
        assert recomputed == 0
    finally:
        await old.close()
        await new.close()


def national(entries: dict[str, dict]) -> dict:
    """The national figures from the provinces' entries, independently of the SQL: sums
    over the provinces that reported turnout, null when none did."""
    rows = list(entries.values())
    reporting = [e for e in rows if e["voted"] is not None]
    voted = sum(e["voted"] for e in reporting) if reporting else None
    registered = (
        sum(e["registered"] for e in reporting if e["registered"] is not None)
        if any(e["registered"] is not None for e in reporting)
        else None
    )
    done = [e["areas_done"] for e in rows if e["areas_done"] is not None]
    total = [e["areas_total"] for e in rows if e["areas_total"] is not None]
    return {
        "voted": voted,
        "registered": registered,
        "turnout_pct": voted / registered * 100 if voted is not None and registered else None,
        "provinces_reporting": len(reporting),
        "provinces_total": len(rows),
        "areas_done": sum(done) if done else None,
        "areas_total": sum(total) if total else None,
        "revote_units": sum(e["revote_units"] for e in rows),
    }


async def test_two_processes_keep_seq_gap_free_in_commit_order_and_national_true(
    spawn_server, db_url
):
    servers = [spawn_server(), spawn_server()]
    conn = await store.connect(db_url, ZONE)
    tokens = {}
    for p in provinces():
        tokens[p.code] = new_token()
        await store.issue_token(conn, tokens[p.code], "bureau", p.code, "order")
    initial = {
        r["code"]: r["internal"]
        for r in await conn.fetch("SELECT code, internal FROM province_state")
    }
    per_bureau = 12
    acks: list[int] = []
    done = asyncio.Event()
    views: list[tuple[int, int]] = []

    async def watch() -> None:
        """A reader polling the feed: at every moment it sees seqs 1..max and no hole."""
        reader = await asyncpg.connect(db_url)
        try:
            while not done.is_set():
                views.append(
                    tuple(await reader.fetchrow("SELECT count(*), coalesce(max(seq), 0) FROM feed"))
                )
        finally:
            await reader.close()

    async def bureau(n: int, code: str) -> None:
        srv = servers[n % 2]
        url = f"ws://127.0.0.1:{srv.port}/ws/bureau"
        async with websockets.connect(url, compression=None) as ws:
            await ws.send(json.dumps({"type": "hello", "token": tokens[code]}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            for i in range(per_bureau):
                minute = 7 * 60 + i
                kind = "turnout" if i % 4 else "completion"
                data = (
                    {"voted": 1000 * (i + 1) + n}
                    if kind == "turnout"
                    else {"areas_done": i, "areas_total": per_bureau}
                )
                await ws.send(
                    json.dumps(
                        {
                            "type": "report",
                            "id": str(uuid.uuid4()),
                            "kind": kind,
                            "as_of": f"2021-05-23T{minute // 60:02d}:{minute % 60:02d}:00+07:00",
                            "data": data,
                        }
                    )
                )
                answer = json.loads(await asyncio.wait_for(ws.recv(), 20_000 * MS))
                assert answer["type"] == "ack" and not answer["duplicate"], answer
                acks.append(answer["seq"])

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.gather(*(bureau(n, p.code) for n, p in enumerate(provinces())))
    finally:
        done.set()
        await watcher
    total = len(provinces()) * per_bureau
    assert sorted(acks) == list(range(1, total + 1))
    assert len(views) > 20
    assert all(count == top for count, top in views), [v for v in views if v[0] != v[1]][:5]
    rows = await conn.fetch("SELECT seq, public_prev, public, internal FROM feed ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, total + 1))
    assert [r["seq"] for r in await conn.fetch("SELECT seq FROM reports ORDER BY seq")] == [
        r["seq"] for r in rows
    ]
    entries = dict(initial)
    for r in rows:
        frame = json.loads(r["internal"])
        assert frame["prev"] == r["seq"] - 1
        entries[frame["province"]["code"]] = frame["province"]
        expected = national(entries)
        got = frame["national"]
        pct, expected_pct = got.pop("turnout_pct"), expected.pop("turnout_pct")
        assert got == expected, r["seq"]
        assert (pct is None) == (expected_pct is None), r["seq"]
        assert pct is None or abs(pct - expected_pct) < 1e-9, r["seq"]
    await conn.close()
    for srv in servers:
        assert srv.proc is not None and srv.proc.poll() is None


async def test_the_national_sums_kept_for_the_next_batch_are_forgotten_by_seeding_and_reset(
    db_url,
):
    """Each batch leaves the national sums in the counter row for the next one (migrations/
    010). A change of the provinces' state that takes no seq — the seeding at every start, a
    reset — must make the next batch read them again from the provinces."""
    conn = await store.connect(db_url, ZONE)
    codes = [p.code for p in provinces()][:5]
    registered = {p.code: p.registered for p in provinces()}
    tokens = {c: await store.issue_token(conn, new_token(), "bureau", c, "t") for c in codes}
    sent = 0

    async def send() -> dict:
        nonlocal sent
        sent += 1
        code = codes[sent % len(codes)]
        item = {
            "id": str(uuid.uuid4()),
            "province": code,
            "kind": "turnout",
            "as_of": (DAY + timedelta(minutes=sent)).isoformat(),
            "data": {"voted": 1000 * sent},
            "voted": 1000 * sent,
            "registered": registered[code],
            "turnout_pct": 1000 * sent / registered[code] * 100,
            "correction": False,
            "audience": "public",
            "token_id": tokens[code],
            "rate_ok": True,
        }
        [row] = await conn.fetch("SELECT * FROM accept_batch($1::jsonb, false)", [item])
        assert row["outcome"] == "accepted", row
        frame = await conn.fetchval("SELECT internal FROM feed WHERE seq = $1", row["seq"])
        return json.loads(frame)["national"]

    async def truth() -> dict:
        return (await conn.fetchval("SELECT picture(NULL, true)"))["national"]

    wrong = "UPDATE counter SET national = array_fill(7::bigint, ARRAY[11])"
    try:
        for _ in range(6):
            assert await send() == await truth()
        await conn.execute(wrong)  # what the next batch starts from, as the last one left it
        assert (await send())["provinces_total"] == 7
        await conn.execute(wrong)
        await store.seed_provinces(conn, provinces())
        assert await send() == await truth()
        await conn.execute(wrong)
        await store.reset_reports(conn)
        assert await send() == await truth()
        assert (await truth())["provinces_reporting"] == 1
    finally:
        await conn.close()
