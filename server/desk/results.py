"""The results on the desk (issue 13 item 3): the table by unit, the close races, what is
still internal, and the official final list beside ours.

What the desk adds to the contract's results body (§5, `server.results.read_results` with
`internal=True`: editors see internal results too), per unit:

- `race`: the winners (elected, or leading before the final count), the margin between
  the last seat and the first loser (rank `seats` against rank `seats + 1`, in votes and
  as % of valid ballots), `close` with its reasons (`under_51`: a winner or leader under
  51 % of valid ballots; `margin`: a margin under 1 % of them) and `tie`. The page applies
  live updates with the same rule (`race` in dashboards/static/editor-results.js), kept
  equal to this one by tests/test_desk_results.py.
- `pending`: the editors' entry differs from the public one, i.e. the unit's current
  result is internal and waits to be published (§5: internal until sent `public` or an
  editor publishes it).
- `report`: the unit's latest result report (`id`, `audience`, `seq`) for the desk's
  publish and retract buttons (the review endpoints of `server.desk.review`).

`official_comparison` sets every unit with a final result beside the official outcome
(`ingest.candidates.official_results()`, and each unit's valid ballots within the range
`official_valid()` derives) and names each difference: unit, candidate, votes, elected,
confirmed. A Council decision not yet recorded is no difference (no decision counts as
elected, §5); a recorded one that differs, or a non-confirmation not yet recorded, is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import candidates
from ingest.law import CompositionCounts, composition
from server import store
from server.auth import requires
from server.jsonio import json_response
from server.picture import moment
from server.results import read_results
from server.state import Votewire, votewire

CLOSE_PCT = 51.0
"""A winner (or leader) under this share of the unit's valid ballots is a close race."""
CLOSE_MARGIN_PCT = 1.0
"""A margin between the last seat and the first loser under this share of the valid
ballots is a close race."""
FINAL = ("declared", "supplementary")


def unit_id(entry: Mapping[str, Any]) -> str:
    """`code-unit` ("01-1"), as the board's `?unit=01-1`."""
    return f"{entry['code']}-{entry['unit']}"


def race(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The race in one unit (§5 entry): winners, margin, close, tie (module docstring)."""
    ranked = sorted(
        (c for c in entry["candidates"] if c.get("votes") is not None),
        key=lambda c: (c["rank"], c["id"]),
    )
    winners = [c["id"] for c in ranked if c["elected"] or c["leading"]]
    valid = entry.get("ballots_valid")
    seats = entry["seats"]
    margin = margin_pct = None
    if entry["status"] != "waiting" and len(ranked) > seats:
        margin = ranked[seats - 1]["votes"] - ranked[seats]["votes"]
        margin_pct = margin * 100 / valid if valid else None
    reasons = []
    if any(
        c["pct"] is not None and c["pct"] < CLOSE_PCT
        for c in ranked
        if c["elected"] or c["leading"]
    ):
        reasons.append("under_51")
    if margin_pct is not None and margin_pct < CLOSE_MARGIN_PCT:
        reasons.append("margin")
    return {
        "winners": winners,
        "margin": margin,
        "margin_pct": margin_pct,
        "close": bool(reasons),
        "reasons": reasons,
        "tie": any(c.get("tie") for c in entry["candidates"]),
    }


def desk_units(
    internal: Iterable[Mapping[str, Any]],
    public: Iterable[Mapping[str, Any]],
    reports: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The editors' units (`internal`) with `id`, `race`, `pending` (differs from the
    public entry of the same unit) and `report` (the unit's latest result report, by
    unit id, when known)."""
    seen = {unit_id(e): e for e in public}
    reports = reports or {}
    out = []
    for entry in internal:
        uid = unit_id(entry)
        out.append(
            {
                **entry,
                "id": uid,
                "race": race(entry),
                "pending": entry["status"] != "waiting" and seen.get(uid) != entry,
                "report": reports.get(uid),
            }
        )
    return out


def council_composition(election_year: int) -> CompositionCounts:
    """The Council's figures: the official winners less those it did not confirm
    (over the 2021 fixture: 499, 151 women, 89, 14, 47, 203, 12)."""
    official = candidates.official_results()
    index = candidates.candidate_index()
    winners = [index[cid] for cid, o in official.items() if o.elected]
    return composition(winners, election_year, {cid: o.confirmed for cid, o in official.items()})


def _confirmation_differs(ours: bool | None, official: bool | None) -> bool:
    """A recorded decision that differs, or a non-confirmation not recorded yet."""
    if ours is None:
        return official is False
    return ours != official


def official_comparison(units: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Our units with a final result beside the official list, every difference named.

    `differences` holds one item per candidate whose votes, elected or confirmation
    differ (`fields` says which; `ours` and `official` give both sides), and one per unit
    whose valid ballots fall outside the official range (`candidate` null). Units not yet
    final are counted in `not_final`, not compared."""
    official = candidates.official_results()
    valid = candidates.official_valid()
    differences: list[dict[str, Any]] = []
    compared = not_final = 0
    for entry in units:
        if entry["status"] not in FINAL:
            not_final += 1
            continue
        compared += 1
        code, number = entry["code"], entry["unit"]
        span = valid.get((code, number))
        ours_valid = entry.get("ballots_valid")
        if span is not None and ours_valid is not None and not span.low <= ours_valid <= span.high:
            differences.append(
                {
                    "code": code,
                    "unit": number,
                    "candidate": None,
                    "name": None,
                    "fields": ["ballots_valid"],
                    "ours": {"ballots_valid": ours_valid},
                    "official": {
                        "ballots_valid": span.middle,
                        "low": span.low,
                        "high": span.high,
                    },
                }
            )
        for c in entry["candidates"]:
            o = official.get(c["id"])
            if o is None:
                continue
            ours_confirmed = c.get("confirmed") if c["elected"] else None
            fields = []
            if c["votes"] != o.votes:
                fields.append("votes")
            if c["elected"] != o.elected:
                fields.append("elected")
            if _confirmation_differs(ours_confirmed, o.confirmed):
                fields.append("confirmed")
            if fields:
                differences.append(
                    {
                        "code": code,
                        "unit": number,
                        "candidate": c["id"],
                        "name": c["name"],
                        "fields": fields,
                        "ours": {
                            "votes": c["votes"],
                            "elected": c["elected"],
                            "confirmed": ours_confirmed,
                        },
                        "official": {
                            "votes": o.votes,
                            "elected": o.elected,
                            "confirmed": o.confirmed,
                        },
                    }
                )
    return {
        "units_compared": compared,
        "not_final": not_final,
        "differences": differences,
    }


def close_races(units: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The units with a close race (or a tie), closest margin first."""
    rows = [{**e, "race": race(e)} for e in units]
    close = [r for r in rows if r["race"]["close"] or r["race"]["tie"]]
    return sorted(
        close,
        key=lambda r: (
            r["race"]["margin_pct"] if r["race"]["margin_pct"] is not None else 100.0,
            r["code"],
            r["unit"],
        ),
    )


def elected_list(units: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every elected candidate in (province, unit, rank) order, with the Council's
    decision (`confirmed`: null until it decides)."""
    out = []
    for entry in sorted(units, key=lambda e: (e["code"], e["unit"])):
        for c in sorted(entry["candidates"], key=lambda c: (c["rank"] or 0, c["id"])):
            if c["elected"]:
                out.append(
                    {
                        "code": entry["code"],
                        "unit": entry["unit"],
                        "id": c["id"],
                        "name": c["name"],
                        "votes": c["votes"],
                        "pct": c["pct"],
                        "confirmed": c["confirmed"],
                    }
                )
    return out


def phase_results(body: Mapping[str, Any], election_year: int) -> dict[str, Any]:
    """The results of a phase summary (phase 3) from a §5 body: the counts, the
    composition beside the Council's figures (`complete` once every unit has a final
    result), the elected by province, the close races and the differences from the
    official list."""
    units = body["units"]
    summary = body["summary"]
    complete = bool(units) and all(e["status"] in FINAL for e in units)
    return {
        "seq": body["seq"],
        "summary": summary,
        "units_supplementary": sum(e["status"] == "supplementary" for e in units),
        "complete": complete,
        "council": council_composition(election_year),
        "elected": elected_list(units),
        "close": [
            {
                "code": r["code"],
                "unit": r["unit"],
                "status": r["status"],
                "stage": r["stage"],
                **r["race"],
            }
            for r in close_races(units)
        ],
        "official": official_comparison(units),
    }


# --- routes -----------------------------------------------------------------------------


async def desk_results(app: Votewire, at: datetime | None) -> dict[str, Any]:
    """The desk's body: the editors' results with each unit's `race`, `pending` and
    `report`, the thresholds of a close race, and the Council's figures."""
    ours = await read_results(app, internal=True, at=at)
    public = await read_results(app, internal=False, at=at)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        reports = await store.latest_results(conn, at)
    return {
        "seq": ours["seq"],
        "at": ours["at"],
        "live": at is None,
        "summary": ours["summary"],
        "public_summary": public["summary"],
        "units": desk_units(ours["units"], public["units"], reports),
        "close_pct": CLOSE_PCT,
        "close_margin_pct": CLOSE_MARGIN_PCT,
        "council": council_composition(candidates.BALLOT_YEAR),
    }


async def summary_results(app: Votewire, at: datetime) -> dict[str, Any]:
    """Phase 3's results for the summary: the public results at `at` (the summary is what
    the agency files, so internal results stay out of it, as internal notes do)."""
    body = await read_results(app, internal=False, at=at)
    return phase_results(body, candidates.BALLOT_YEAR)


@requires("editor")
async def results_data(request: Request) -> Response:
    """`GET /editor/api/results[?at=]`: the results table's data."""
    app = votewire(request)
    return json_response(await desk_results(app, moment(request)))


@requires("editor")
async def official_list(request: Request) -> Response:
    """`GET /editor/api/results/official[?at=]`: ours beside the official final list."""
    app = votewire(request)
    ours = await read_results(app, internal=True, at=moment(request))
    return json_response(
        {
            "seq": ours["seq"],
            "at": ours["at"],
            **official_comparison(ours["units"]),
            "complete": all(e["status"] in FINAL for e in ours["units"]),
            "summary": ours["summary"],
            "council": council_composition(candidates.BALLOT_YEAR),
        }
    )


routes = [
    Route("/editor/api/results", results_data),
    Route("/editor/api/results/official", official_list),
]
