"""`votewire simulate`: 63 bureaus replay an election day (a scenario fixture) over /ws/bureau.

Time: the scenario's day runs from polls open (07:00) at `--speed` times real time (60 = the
twelve hours of polling in twelve minutes); events before the day (early voting) are sent at
once. `--drop-rate` cuts a bureau's socket right after a report is sent, before its ack:
the bureau reconnects and resends its unacked reports with the same ids.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import date, datetime, timedelta

from ingest import scenario as scenario_mod
from ingest.client import BureauClient
from ingest.replay_clock import ReplayClock, clock_url


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws/bureau")
    p.add_argument("--speed", type=float, default=60.0, help="0 = as fast as possible")
    p.add_argument("--seed", type=int, default=2021)
    p.add_argument("--drop-rate", type=float, default=0.0, help="probability of a cut per report")
    p.add_argument(
        "--scenario", help="scenario JSON (default: fixtures/scenarios/election_day_2021.json)"
    )
    p.add_argument("--tokens", help="JSON file {province code: bureau token}")
    p.add_argument("--shift-to", help="replay the day on this date (rehearsal), e.g. 2026-11-26")
    p.add_argument("--start", default="07:00", help="local time the replay clock starts from")
    p.add_argument(
        "--editor-token",
        help="an editor token: the replay sets the server's election clock (POST /api/clock)",
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
) -> dict:
    """Replay `scenario`; returns a summary with every report's final answer.

    With `editor_token` the server's election clock follows the replay: it starts at
    `start` running at `speed` (at speed 0, it holds at the last event's moment), jumps ahead
    before a report about a later moment, and holds at the last moment when the replay ends.
    """
    day = date.fromisoformat(scenario["date"])
    days = (shift_to - day).days if shift_to else 0
    events = [shift_event(e, days) for e in scenario["events"]]
    origin = datetime.fromisoformat(f"{(shift_to or day).isoformat()}T{start}:00{scenario['zone']}")
    day_end = origin.replace(hour=23, minute=59)  # later re-votes follow at once, not days later
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
    last = max((datetime.fromisoformat(e["t"]) for e in events), default=origin)
    clock = ReplayClock(
        clock_url(urls[0]) if editor_token else None,
        editor_token,
        origin if speed > 0 else max(last, origin),
        speed,
    )
    await clock.start()
    t0 = time.monotonic()

    async def bureau(code: str) -> None:
        client = clients[code]
        for e in by_province[code]:
            if speed > 0:
                when = min(datetime.fromisoformat(e["t"]), day_end)
                due = (when - origin).total_seconds() / speed
                delay = due - (time.monotonic() - t0)
                if delay > 0:
                    await asyncio.sleep(delay)
                await clock.reach(datetime.fromisoformat(e["t"]))
            answer = await client.send(report_of(e))
            if progress:
                progress(code, e, answer)

    await asyncio.gather(*(bureau(code) for code in by_province))
    if speed > 0:
        await clock.hold()
    answers = {rid: a for c in clients.values() for rid, a in c.answers.items()}
    refused: dict[str, int] = {}
    for c in clients.values():
        for code, n in c.stats.refused.items():
            refused[code] = refused.get(code, 0) + n
    return {
        "events": len(events),
        "acked": sum(c.stats.acked for c in clients.values()),
        "duplicates": sum(c.stats.duplicates for c in clients.values()),
        "refused": refused,
        "reconnects": sum(c.stats.reconnects for c in clients.values()),
        "cuts": sum(c.stats.cuts for c in clients.values()),
        "seconds": round(time.monotonic() - t0, 2),
        "answers": answers,
    }


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

    def progress(code: str, event: dict, answer: dict) -> None:
        if not args.quiet:
            mark = f"seq {answer['seq']}" if answer["type"] == "ack" else answer["code"]
            print(f"{event['t'][11:16]} {code} {event['kind']:<10} {mark}", flush=True)

    summary = await run(
        args.url,
        tokens,
        scenario,
        speed=args.speed,
        seed=args.seed,
        drop_rate=args.drop_rate,
        shift_to=date.fromisoformat(args.shift_to) if args.shift_to else None,
        start=args.start,
        progress=progress,
        editor_token=getattr(args, "editor_token", None),
    )
    summary.pop("answers")
    print(json.dumps(summary), flush=True)
    return 0 if summary["acked"] == summary["events"] else 1
