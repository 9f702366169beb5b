"""`votewire simulate`: 63 bureaus replay the 2021 election over /ws/bureau: the day (a
scenario fixture), then the count (`ingest/results_timeline.py`) and the National Election
Council's decisions of 10/6, recorded with an editor token.

Time (`ingest/replay_clock.py`): the day runs from polls open (07:00) at `--speed` times real
time (60 = the twelve hours of polling in twelve minutes); events before the start (early
voting) are sent at once; after 19:00 the night of the count and the days after run faster
and idle stretches are jumped over, so the whole timeline to 10/6 takes about 18 minutes at
60. `--part count` replays the count alone (from 19:00), `--part day` the day alone.
`--drop-rate` cuts a bureau's socket right after a report is sent, before its ack: the
bureau reconnects and resends its unacked reports with the same ids.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta

from ingest import results_timeline
from ingest import scenario as scenario_mod
from ingest.client import BureauClient
from ingest.replay_clock import DAYS_FACTOR, NIGHT_FACTOR, Pace, ReplayClock, http_url

PARTS = ("all", "day", "count")
COUNCIL_CONCURRENCY = 8
"""The Council's decisions are posted this many at a time."""


def socket_url(raw: str) -> str:
    """`--url` must name the bureau socket: with an http:// address the bureaus would keep
    retrying a socket that can never open (they retry for ever, as phones do), silently."""
    if not raw.startswith(("ws://", "wss://")) or not raw.rstrip("/").endswith("/ws/bureau"):
        raise argparse.ArgumentTypeError(
            f"{raw!r}: give the bureau socket, e.g. ws://127.0.0.1:8000/ws/bureau"
        )
    return raw


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        type=socket_url,
        default="ws://127.0.0.1:8000/ws/bureau",
        help="the server's bureau socket (ws:// or wss://…/ws/bureau)",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help=(
            "replayed seconds per real second on 23/5 from 07:00 to 19:00 (60: the day in 12 "
            f"minutes); after 19:00 the night runs {NIGHT_FACTOR:g}x and the days of counting "
            f"{DAYS_FACTOR:g}x faster, and stretches without reports are jumped over, so at "
            "60 the whole timeline to the Council's decisions of 10/6 takes about 18 minutes; "
            "0 = as fast as possible"
        ),
    )
    p.add_argument("--seed", type=int, default=2021)
    p.add_argument("--drop-rate", type=float, default=0.0, help="probability of a cut per report")
    p.add_argument(
        "--scenario", help="scenario JSON (default: fixtures/scenarios/election_day_2021.json)"
    )
    p.add_argument("--tokens", help="JSON file {province code: bureau token}")
    p.add_argument("--shift-to", help="replay the day on this date (rehearsal), e.g. 2026-11-26")
    p.add_argument(
        "--part",
        choices=PARTS,
        default="all",
        help=(
            "all: the day, then the count and the Council's decisions; day: the day's "
            "scenario only; count: the count and the decisions only (what the tests replay)"
        ),
    )
    p.add_argument(
        "--start",
        help="local time the replay clock starts from (default 07:00; 19:00 with --part count)",
    )
    p.add_argument(
        "--editor-token",
        help=(
            "an editor token: the replay sets the server's election clock (POST /api/clock) "
            "and records the Council's decisions (POST /api/results/confirmation)"
        ),
    )
    p.add_argument("--quiet", action="store_true")


def shift_event(event: dict, days: int) -> dict:
    if not days:
        return event
    t = datetime.fromisoformat(event["t"]) + timedelta(days=days)
    return {**event, "t": t.isoformat()}


def report_of(event: dict) -> dict:
    return {
        "type": "report",
        "id": event["id"],
        "kind": event["kind"],
        "as_of": event["t"],
        "data": event["data"],
    }


def _moment(item: dict) -> datetime:
    return datetime.fromisoformat(item["t"])


def _confirm(url: str, token: str, body: dict, attempts: int = 6) -> tuple[int, dict]:
    """POST one decision; retried while the server is unreachable or unavailable (5xx)."""
    data = json.dumps(body, ensure_ascii=False).encode()
    for attempt in range(attempts):
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == attempts - 1:
                return exc.code, json.loads(exc.read() or b"{}")
        except OSError:
            if attempt == attempts - 1:
                raise
        time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


async def run(
    url: str | list[str],
    tokens: dict[str, str],
    scenario: dict,
    *,
    speed: float = 60.0,
    seed: int = 2021,
    drop_rate: float = 0.0,
    shift_to: date | None = None,
    start: str = "07:00",
    progress=None,
    editor_token: str | None = None,
    count: dict | None = None,
) -> dict:
    """Replay `scenario` and, when given, `count` (a `results_timeline.build()`: its result
    reports go through each province's bureau with the day's, its decisions are posted with
    `editor_token` once every report is answered); returns a summary with every report's
    final answer.

    With `editor_token` the server's election clock follows the replay: it starts at
    `start` running at `speed` (at speed 0, it holds at the last moment), follows the
    replay's pace, jumps ahead before a report the server could find in its future (counted
    from when each setting was answered, not sent: `ReplayClock.reach`), and holds at the
    last moment when the replay ends.
    """
    day = date.fromisoformat(scenario["date"])
    days = (shift_to - day).days if shift_to else 0
    events = [shift_event(e, days) for e in scenario["events"]]
    decisions: list[dict] = []
    if count is not None:
        moved = results_timeline.shifted(count, days)
        events = sorted(events + moved["reports"], key=_moment)  # stable: the day's first
        decisions = moved["decisions"]
    if decisions and not editor_token:
        raise ValueError("the Council's decisions are recorded with an editor token")
    origin = datetime.fromisoformat(f"{(shift_to or day).isoformat()}T{start}:00{scenario['zone']}")
    by_province: dict[str, list[dict]] = {}
    for e in events:
        by_province.setdefault(e["province"], []).append(e)
    rng = random.Random(seed)
    urls = [url] if isinstance(url, str) else url
    clients = {
        code: BureauClient(
            urls[i % len(urls) :] + urls[: i % len(urls)],  # spread bureaus over the servers
            tokens[code],
            drop_rate=drop_rate,
            rng=random.Random(rng.random()),
        )
        for i, code in enumerate(sorted(by_province))
    }
    moments = [_moment(x) for x in events + decisions]
    pace = Pace.of(origin, speed, moments) if speed > 0 else None
    clock = ReplayClock(
        http_url(urls[0], "/api/clock") if editor_token else None,
        editor_token,
        origin if pace else max([*moments, origin]),
        speed,
    )
    await clock.start()
    t0 = time.monotonic()
    following = asyncio.create_task(clock.follow(pace, t0)) if pace else None

    async def wait_for(moment: datetime) -> None:
        if pace:
            delay = pace.due(moment) - (time.monotonic() - t0)
            if delay > 0:
                await asyncio.sleep(delay)
            await clock.reach(moment)

    async def bureau(code: str) -> None:
        client = clients[code]
        for e in by_province[code]:
            await wait_for(_moment(e))
            answer = await client.send(report_of(e))
            if progress:
                progress(code, e, answer)

    confirmations = {"sent": 0, "ok": 0, "refused": {}}

    async def council() -> None:
        """The decisions, once every report is answered (a winner exists only then)."""
        target = http_url(urls[0], "/api/results/confirmation")
        gate = asyncio.Semaphore(COUNCIL_CONCURRENCY)

        async def decide(d: dict) -> None:
            async with gate:
                status, body = await asyncio.to_thread(
                    _confirm, target, editor_token, results_timeline.confirmation_body(d)
                )
            confirmations["sent"] += 1
            if status == 200:
                confirmations["ok"] += 1
            else:
                refused = confirmations["refused"]
                refused[str(status)] = refused.get(str(status), 0) + 1
            if progress:
                event = {"t": d["t"], "kind": "confirm", "data": d}
                progress("HĐBCQG", event, {"type": "http", "status": status, "body": body})

        for moment in sorted({_moment(d) for d in decisions}):
            await wait_for(moment)
            await asyncio.gather(*(decide(d) for d in decisions if _moment(d) == moment))

    try:
        await asyncio.gather(*(bureau(code) for code in by_province))
        if decisions:
            await council()
    finally:
        if following:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
    if pace:
        await clock.hold()
    answers = {rid: a for c in clients.values() for rid, a in c.answers.items()}
    refused: dict[str, int] = {}
    for c in clients.values():
        for code, n in c.stats.refused.items():
            refused[code] = refused.get(code, 0) + n
    return {
        "events": len(events),
        "results": sum(e["kind"] == "result" for e in events),
        "acked": sum(c.stats.acked for c in clients.values()),
        "duplicates": sum(c.stats.duplicates for c in clients.values()),
        "refused": refused,
        "reconnects": sum(c.stats.reconnects for c in clients.values()),
        "cuts": sum(c.stats.cuts for c in clients.values()),
        "decisions": len(decisions),
        "confirmations": confirmations,
        "seconds": round(time.monotonic() - t0, 2),
        "answers": answers,
    }


def parts(scenario: dict, part: str) -> tuple[dict, dict | None]:
    """The day's scenario and the count's timeline a `--part` replays."""
    day = scenario if part in ("all", "day") else {**scenario, "events": []}
    count = results_timeline.build() if part in ("all", "count") else None
    return day, count


async def main_async(args: argparse.Namespace, tokens: dict[str, str] | None = None) -> int:
    scenario = scenario_mod.load(args.scenario)
    if tokens is None:
        if not args.tokens:
            print(
                "votewire simulate: give --tokens FILE (province code → bureau token)",
                file=sys.stderr,
            )
            return 2
        with open(args.tokens, encoding="utf-8") as f:
            tokens = json.load(f)
    part = getattr(args, "part", "all")
    editor_token = getattr(args, "editor_token", None)
    if part != "day" and not editor_token:
        print(
            "votewire simulate: the count records the Council's decisions with an editor "
            "token: give --editor-token (or leave out --tokens to have both issued), or "
            "--part day",
            file=sys.stderr,
        )
        return 2
    day, count = parts(scenario, part)

    def progress(code: str, event: dict, answer: dict) -> None:
        if args.quiet:
            return
        if answer["type"] == "http":
            mark = f"{answer['status']} {event['data']['candidate']}"
        else:
            mark = f"seq {answer['seq']}" if answer["type"] == "ack" else answer["code"]
        t = event["t"]
        print(f"{t[8:10]}/{t[5:7]} {t[11:16]} {code} {event['kind']:<10} {mark}", flush=True)

    summary = await run(
        args.url,
        tokens,
        day,
        speed=args.speed,
        seed=args.seed,
        drop_rate=args.drop_rate,
        shift_to=date.fromisoformat(args.shift_to) if args.shift_to else None,
        start=args.start or ("19:00" if part == "count" else "07:00"),
        progress=progress,
        editor_token=editor_token,
        count=count,
    )
    summary.pop("answers")
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    complete = summary["confirmations"]["ok"] == summary["decisions"]
    return 0 if summary["acked"] == summary["events"] and complete else 1
