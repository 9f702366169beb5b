"""`votewire chart` and `votewire summary`: the desk's exports from the shell, written by
the same code as the web's (`server.charts`, `server.desk.summary`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from dashboards import export, i18n
from ingest.errors import ContractError
from ingest.fixtures import provinces
from server import store
from server.charts import (
    CHART_FORMATS,
    DATA_ONLY,
    RESULT_CHARTS,
    chart_names,
    chart_picture,
    chart_results,
    parse_codes,
    parse_dimension,
    parse_unit,
    render_chart,
    render_results_chart,
)
from server.cli.common import CliError, database
from server.desk.summary import build_summary, summary_chart_svg, summary_csv, summary_html
from server.picture import parse_at
from server.settings import Settings
from server.spreadsheet import BOM
from server.state import Votewire


async def _state(url: str, settings: Settings) -> Votewire:
    """A state with a small pool and no hub: enough to read pictures."""
    state = Votewire(settings, url)
    state.provinces = {p.code: p for p in provinces()}
    state.pool = await store.create_pool(
        url, settings.zone_name, timeout=settings.db_timeout_s, size=2
    )
    async with state.pool.acquire() as conn:
        await store.migrate(conn)
        await store.seed_provinces(conn, provinces())
    return state


async def _chart_picture(
    url: str, settings: Settings, at_raw: str | None, codes_raw: str
) -> tuple[dict, tuple[str, ...]]:
    state = await _state(url, settings)
    try:
        at = parse_at(at_raw, settings.election) if at_raw else None
        codes = parse_codes(codes_raw, state.provinces)
        return await chart_picture(state, at, codes), codes
    finally:
        await state.pool.close()


async def _chart_results(
    url: str, settings: Settings, at_raw: str | None, unit: str | None
) -> dict:
    state = await _state(url, settings)
    try:
        at = parse_at(at_raw, settings.election) if at_raw else None
        return await chart_results(state, at, unit)
    finally:
        await state.pool.close()


def cmd_chart(args: argparse.Namespace, settings: Settings) -> None:
    fmt = args.format or Path(args.output).suffix.lstrip(".").lower()
    if fmt not in CHART_FORMATS or fmt == "plotly":
        raise CliError(f"say the format: --format png|svg|html|csv|json (not {fmt!r})")
    if args.name not in chart_names():
        raise CliError(f"unknown chart {args.name!r}; use one of {', '.join(chart_names())}")
    if fmt not in DATA_ONLY.get(args.name, CHART_FORMATS):
        raise CliError(f"{args.name} is data only: --format {'|'.join(DATA_ONLY[args.name])}")
    try:
        if args.name in RESULT_CHARTS:
            unit = parse_unit(args.unit) if args.name == "unit" else None
            dimension = parse_dimension(args.dimension)
            with database(settings) as url:
                picture = asyncio.run(_chart_results(url, settings, args.at, unit))
            body, _ = render_results_chart(
                args.name, picture, args.lang, args.size, fmt, unit, dimension
            )
        else:
            with database(settings) as url:
                picture, codes = asyncio.run(_chart_picture(url, settings, args.at, args.provinces))
            body, _ = render_chart(args.name, picture, args.lang, args.size, fmt, codes)
    except ContractError as exc:
        raise CliError(exc.message_en) from None
    finally:
        export.stop()
    Path(args.output).write_bytes(body)
    print(f"{args.output}: {args.name} at {picture['at']} (seq {picture['seq']})", file=sys.stderr)


async def _summary(url: str, settings: Settings, phase: int) -> dict:
    """The summary as the web gives it: "now" is the election clock's (a replay's moment
    when one is set, contract §6), read from the database as the server reads it."""
    state = await _state(url, settings)
    try:
        async with state.pool.acquire() as conn:
            await state.clock.load(conn)
        return await build_summary(state, phase)
    finally:
        await state.pool.close()


def cmd_summary(args: argparse.Namespace, settings: Settings) -> None:
    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() if args.output else "csv")
    if fmt not in ("csv", "html"):
        raise CliError(f"say the format: --format csv|html (not {fmt!r})")
    try:
        with database(settings) as url:
            summary = asyncio.run(_summary(url, settings, args.phase))
    except ContractError as exc:
        raise CliError(exc.message_en) from None
    if fmt == "csv":
        text = summary_csv(summary, args.lang)
    else:
        try:
            chart_svg = None if args.no_chart else summary_chart_svg(summary, args.lang)
        finally:
            export.stop()
        text = summary_html(summary, args.lang, chart_svg)
    if args.output and args.output != "-":
        Path(args.output).write_text((BOM if fmt == "csv" else "") + text, encoding="utf-8")
        print(f"{args.output}: phase {args.phase} summary at {summary['moment']}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chart", help="a snapshot chart of a moment: PNG, SVG, HTML, CSV or JSON")
    p.add_argument(
        "name",
        help="map, tiles, ranking, completion, revotes, history, by_hour; the results: "
        "hemicycle, results_map, composition, unit (--unit), winners (csv, json)",
    )
    p.add_argument("--at", help="HH:MM on the election day, or ISO 8601; default now")
    p.add_argument("-o", "--output", required=True, help="file to write; its suffix is the format")
    p.add_argument("--format", choices=[f for f in CHART_FORMATS if f != "plotly"])
    p.add_argument("--lang", default=i18n.DEFAULT_LANG, choices=list(i18n.LANGS))
    p.add_argument(
        "--size", default="web", choices=["web", "print", "social-wide", "social-square"]
    )
    p.add_argument("--provinces", default="", help="by_hour: codes beside the nation, e.g. 01,79")
    p.add_argument("--unit", help="unit: the electoral unit, code-unit, e.g. 01-1")
    p.add_argument(
        "--dimension",
        default="gender",
        choices=["gender", "region", "former_deputy"],
        help="hemicycle: what colours the seats",
    )
    p.set_defaults(func=cmd_chart)

    s = sub.add_parser(
        "summary",
        help="a phase summary: per province, timeline, re-votes, notes; phase 3 also the results",
    )
    s.add_argument("--phase", type=int, required=True, choices=[1, 2, 3])
    s.add_argument("-o", "--output", help="file (.csv or .html); default: CSV on stdout")
    s.add_argument("--format", choices=["csv", "html"])
    s.add_argument("--lang", default="vi", choices=["vi", "en"])
    s.add_argument("--no-chart", action="store_true", help="HTML without the timeline chart")
    s.set_defaults(func=cmd_summary)
