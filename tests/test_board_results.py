"""The wall board's results (issue 13 item 4), driven in Debian's Chromium against a real
server and Postgres: the results slides join the rotation with the first public result
and an internal one never reaches the board; the hemicycle follows each declared unit live
(how soon: `bench.results --board`); the ticker names the winners; every results slide in
vi and en, on 16:9 and on the strip, has no text cut (screenshots in
tests/artifacts/board/results-*.png).

Results are fed as bureaus send them: `result` reports over /ws/bureau with the official
2021 votes of the fixture (contract §5).
"""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import expect

from dashboards import i18n
from ingest.candidates import official_results, official_valid, unit_index, units_of
from server.board import items as board_items
from server.board.layouts import RESULT_SLIDES
from tests.conftest import ARTIFACTS, MS, WAIT, bureau, report
from tests.test_board import SLIDES_SEEN_JS, TEXT_CUT_JS, next_board, open_board, show

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "board"
FINAL = "2021-05-25T10:00:00+07:00"
NIGHT = "2021-05-23T22:00:00+07:00"
TURNOUT = "2021-05-23T11:00:00+07:00"
WITHDRAWN_MS = 2_500 * MS * 1000
"""A retracted winner leaves the ticker within this, not at the end of its crawl."""
LAST_TURNOUT_SLIDE = "history"
"""The last turnout slide of the default order: after it the notes (none here), then the
results' slides."""


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


def official(code: str, unit: int, *, stage: str = "final", share: float = 1.0, **extra) -> dict:
    """Unit `unit` of province `code` with its official 2021 votes (`share` of them, for a
    count still under way), as a bureau sends it."""
    votes = official_results()
    valid = official_valid()[(code, unit)].middle
    ballot = unit_index()[(code, unit)].candidates
    return report(
        "result",
        FINAL if stage == "final" else NIGHT,
        unit=unit,
        ballots_valid=round(valid * share),
        votes={c.id: round(votes[c.id].votes * share) for c in ballot},
        stage=stage,
        **extra,
    )


async def send(srv, code: str, *reports: dict) -> list[dict]:
    token = await srv.token(code)
    async with bureau(srv, token) as b:
        answers = [await b.send(r) for r in reports]
    assert all(a["type"] == "ack" for a in answers), answers
    return answers


async def get_json(srv, path: str, **params) -> dict:
    async with httpx.AsyncClient(base_url=srv.http, timeout=30) as c:
        r = await c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def facts(lang: str, summary: dict) -> str:
    """What the hemicycle slide says beside its title, from the summary as given."""
    return " · ".join(
        [
            i18n.label("resb_facts_seats", lang).format(
                filled=i18n.fmt_int(summary["seats_filled"], lang),
                total=i18n.fmt_int(summary["seats_total"], lang),
            ),
            i18n.label("resb_facts_declared", lang).format(
                declared=i18n.fmt_int(summary["units_declared"], lang),
                total=i18n.fmt_int(summary["units_total"], lang),
            ),
        ]
    )


def winner_line(unit: dict, lang: str) -> tuple[str, str]:
    """The ticker's item for a declared unit: "Hà Nội · ĐV 1:", "Nguyễn Phú Trọng 93,23% · …"."""
    where = (
        f"{i18n.province_name(unit['code'], lang)} · "
        f"{i18n.label('res_unit_short', lang).format(unit=unit['unit'])}:"
    )
    elected = sorted((c for c in unit["candidates"] if c["elected"]), key=lambda c: c["rank"])
    return where, " · ".join(f"{c['name']} {i18n.fmt_pct(c['pct'], lang)}" for c in elected)


HEMICYCLE_DRAWS_JS = """() => {
  // Each time the board draws its hemicycle: the seq the figure shows, and when (ms).
  const plot = document.getElementById("plot-hemicycle");
  window.__draws = [];
  new MutationObserver(() => window.__draws.push([Number(plot.dataset.seq), Date.now()]))
    .observe(plot, { attributes: true, attributeFilter: ["data-seq"] });
}"""


# --- without a browser -------------------------------------------------------------------


def test_a_units_winners_are_its_elected_in_rank_order_less_the_refused():
    unit = {
        "code": "74",
        "unit": 1,
        "status": "declared",
        "as_of": FINAL,
        "candidates": [
            {"id": "a", "name": "A", "pct": 60.0, "rank": 2, "elected": True, "confirmed": None},
            {"id": "b", "name": "B", "pct": 70.0, "rank": 1, "elected": True, "confirmed": False},
            {"id": "c", "name": "C", "pct": 55.0, "rank": 3, "elected": True, "confirmed": True},
            {"id": "d", "name": "D", "pct": 20.0, "rank": 4, "elected": False, "confirmed": None},
        ],
    }
    assert [c["name"] for c in board_items.winners(unit)["elected"]] == ["A", "C"]
    assert board_items.winners({**unit, "status": "counting"}) is None
    later = {**unit, "unit": 2, "as_of": "2021-05-26T09:00:00+07:00"}
    body = {"units": [unit, {**unit, "unit": 3, "status": "waiting", "as_of": None}, later]}
    assert [w["unit"] for w in board_items.latest_winners(body)] == [2, 1]


# --- in the browser ----------------------------------------------------------------------


async def test_results_slides_join_the_rotation_with_the_first_public_result(server, browser):
    """Before any public result the results slides sit out (an internal result changes
    nothing on the board, its figures or its items); the first public result brings them
    into the rotation, with the summary beside their titles and the winners in the ticker."""
    async with open_board(browser, server.http, "?seconds=1") as (page, console):
        body = page.locator("body")
        await expect(body).to_have_attribute("data-results", "none")
        for name in RESULT_SLIDES:
            await expect(page.locator(f"#slide-{name}")).to_have_attribute(
                "data-available", "false"
            )
        await page.evaluate(SLIDES_SEEN_JS)

        # An internal result (the default audience), then a public turnout figure: once
        # the board has the turnout, it would have had the result before it.
        internal = await send(server, "01", official("01", 1))
        await send(server, "02", report(voted=300_000))
        snap = await server.snapshot()
        assert snap["seq"] > internal[0]["seq"]
        await expect(body).to_have_attribute("data-seq", str(snap["seq"]))
        # Six slides rotate (no note yet either): seven turns in a row take in the results'
        # turns wherever they start (a rotation of nine would show one of them).
        await page.wait_for_function("() => window.__slides.length >= 7")
        seen = await page.evaluate("window.__slides")
        assert not set(seen) & set(RESULT_SLIDES), seen
        await expect(body).to_have_attribute("data-results", "none")
        assert "Nguyễn Phú Trọng" not in await page.content()
        items = await get_json(server, "/api/board/items")
        assert items["results"]["summary"]["units_reporting"] == 0 and items["winners"] == []
        fig = await get_json(server, "/api/board/figure/hemicycle", seats="region")
        assert fig["layout"]["meta"]["dimension"] == "region"
        assert "<b>0</b>" in [a["text"] for a in fig["layout"]["annotations"]]

        # The first public result.
        await send(server, "48", official("48", 1, audience="public"))
        results = await get_json(server, "/api/results")
        assert results["summary"]["units_declared"] == 1
        await expect(body).to_have_attribute("data-results", "some")
        await expect(page.locator("#facts-hemicycle")).to_have_attribute(
            "data-text", facts("vi", results["summary"])
        )
        # The rotation goes on from its last slide, the results' turns next.
        await show(page, LAST_TURNOUT_SLIDE)
        await page.evaluate("window.__slides = []")
        await page.evaluate("window.votewireBoard.resume()")
        await page.wait_for_function(
            "() => ['hemicycle', 'results_map', 'composition']"
            ".every(s => window.__slides.includes(s))"
        )
        unit = next(u for u in results["units"] if (u["code"], u["unit"]) == ("48", 1))
        where, names = winner_line(unit, "vi")
        winner = page.locator("#crawl .tick-winner")
        await expect(winner.locator(".tick-where")).to_have_text(where)
        await expect(winner.locator(".tick-text")).to_have_text(names)
        assert "Nguyễn Phú Trọng" not in await page.content()  # Hà Nội's is still internal
        items = await get_json(server, "/api/board/items")
        assert [(w["code"], w["unit"]) for w in items["winners"]] == [("48", 1)]
        console.check()


async def editor_action(srv, report_id: str, action: str) -> None:
    """An editor publishes or retracts a report on the desk (contract §5: results too)."""
    editor = await srv.token(None, "editor")
    async with httpx.AsyncClient(base_url=srv.http, timeout=30) as c:
        r = await c.post(
            f"/editor/api/reports/{report_id}/{action}",
            headers={"Authorization": f"Bearer {editor}"},
            json={"why": "board test"},
        )
    assert r.status_code == 200, r.text


async def test_a_published_result_joins_the_board_and_a_retracted_one_leaves_it(server, browser):
    """An internal result an editor publishes reaches the open board (summary, ticker);
    retracting the only public results takes them off it again: the slides sit out, the
    ticker forgets the winners."""
    hanoi = official("01", 1)
    await send(server, "01", hanoi)
    async with open_board(browser, server.http, "?slides=map,hemicycle") as (page, console):
        body = page.locator("body")
        await expect(body).to_have_attribute("data-results", "none")
        await editor_action(server, hanoi["id"], "publish")
        await expect(body).to_have_attribute("data-results", "some")
        summary = (await get_json(server, "/api/results"))["summary"]
        assert summary["units_declared"] == 1 and summary["seats_filled"] == 3
        await expect(page.locator("#facts-hemicycle")).to_have_attribute(
            "data-text", facts("vi", summary)
        )
        winner = page.locator('#crawl .tick-winner[data-unit="01-1"] .tick-text')
        await expect(winner).to_contain_text(f"Nguyễn Phú Trọng {i18n.fmt_pct(93.23, 'vi')}")
        await editor_action(server, hanoi["id"], "retract")
        await expect(body).to_have_attribute("data-results", "none")
        # At once, not at the end of the crawl (one winner's line crawls for ~6 s).
        await expect(page.locator("#crawl .tick-winner")).to_have_count(0, timeout=WITHDRAWN_MS)
        await expect(page.locator("#slide-hemicycle")).to_have_attribute("data-available", "false")
        console.check()


async def test_the_hemicycle_follows_each_declared_unit_live(server, browser):
    """The board on its hemicycle redraws for each declared unit's update (no timer, no
    reload) with its seats and its count beside the title. How soon after the ack is a
    benchmark's figure (`bench.results --board`), not an assertion here."""
    await send(server, "79", official("79", 1, audience="public"))
    async with open_board(browser, server.http, "?slides=hemicycle,map") as (page, console):
        await show(page, "hemicycle")
        await page.evaluate(HEMICYCLE_DRAWS_JS)
        for code, number in (("01", 1), ("01", 2), ("56", 1)):
            ack = (await send(server, code, official(code, number, audience="public")))[0]
            await page.wait_for_function(
                "seq => window.__draws.some(([s]) => s >= seq)", arg=ack["seq"], timeout=WAIT
            )
            summary = (await get_json(server, "/api/results"))["summary"]
            await expect(page.locator("#facts-hemicycle")).to_have_attribute(
                "data-text", facts("vi", summary)
            )
            count = await page.evaluate(
                "() => document.getElementById('plot-hemicycle').layout.annotations"
                ".map(a => a.text)"
            )
            assert f"<b>{summary['seats_filled']}</b>" in count, count
        console.check()


async def test_results_slides_in_vi_and_en_full_and_strip_have_no_text_cut(server, browser):
    """A count under way (four provinces declared, one counting): every results slide, in
    vi and en, on 16:9 and on the strip, and the hemicycle by region and by former
    deputy; no text cut, the ticker's winners written as format.js writes numbers."""
    for code in ("01", "48", "56", "79"):
        await send(
            server,
            code,
            *(official(code, u.unit, audience="public") for u in units_of(code)),
        )
    await send(server, "02", official("02", 1, stage="provisional", share=0.6, audience="public"))
    results = await get_json(server, "/api/results")
    assert results["summary"]["units_declared"] == 25
    assert results["summary"]["units_reporting"] == 26
    SHOTS.mkdir(parents=True, exist_ok=True)
    cases = [(lang, "") for lang in ("vi", "en")] + [("vi", s) for s in ("region", "former_deputy")]
    for layout in ("full", "strip"):
        async with open_board(browser, server.http, "?lang=vi", layout=layout) as (page, console):
            for lang, seats in cases:  # one after another in the layout's page
                query = f"?lang={lang}" + (f"&seats={seats}" if seats else "")
                if query != "?lang=vi":
                    await next_board(page, console, query, layout)
                await no_text_cut(page, console, results, lang, layout, seats)
    print(json.dumps(results["summary"]))


async def no_text_cut(page, console, results: dict, lang: str, layout: str, seats: str) -> None:
    """The board just opened with `lang`, `layout` and `seats`: each of its results slides
    drawn at the results' seq with no text cut (and a screenshot), the hemicycle coloured by
    `seats`, the ticker naming Hà Nội's unit 1 winners."""
    await expect(page.locator("body")).to_have_attribute("data-results", "some")
    slides = ["hemicycle"] if seats else list(RESULT_SLIDES)
    for name in slides:
        await show(page, name)
        plot = page.locator(f"#plot-{name}")
        await expect(plot).to_have_attribute("data-seq", str(results["seq"]))
        assert await page.evaluate(TEXT_CUT_JS) == [], (lang, layout, seats, name)
        suffix = f"-{seats}" if seats else ""
        await page.screenshot(path=SHOTS / f"results-{layout}-{lang}-{name}{suffix}.png")
    meta = await page.evaluate("() => document.getElementById('plot-hemicycle').layout.meta")
    assert meta["dimension"] == (seats or "gender") and meta["band"] == (layout == "strip")
    if not seats:
        hanoi = next(u for u in results["units"] if (u["code"], u["unit"]) == ("01", 1))
        where, names = winner_line(hanoi, lang)
        tick = page.locator('#crawl .tick-winner[data-unit="01-1"]')
        await expect(tick.locator(".tick-where")).to_have_text(where)
        await expect(tick.locator(".tick-text")).to_have_text(names)
    console.check()
