"""The result form on the phone page `/report` (issue 13 item 2, contract §5), in Debian's
Chromium at 390×844 (and 360 wide for what must not be cut).

The bureau picks one of its province's units (GET /api/units, kept for offline use), types
the count of that unit's candidates in ballot order, and the contract's checks run on the
phone first: each refusal is shown next to its field and nothing goes on the wire. What the
server accepts or refuses is then shown as for every other kind. Real servers, real
Postgres; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import json
import re

import asyncpg
import pytest
from playwright.async_api import Page, expect

from ingest import candidates
from tests.conftest import ARTIFACTS, WAIT, Console, free_port, issue, serve_in_loop

pytestmark = pytest.mark.browser

ENV = {"VOTEWIRE_REHEARSAL": "1"}  # the election day is today, so "now" is in the window
SERVER_DOWN = (r"net::ERR_CONNECTION_REFUSED$", r"Failed to fetch")
HANOI_1 = candidates.unit_index()[("01", 1)]  # 3 seats, 5 candidates
HANOI_1_VOTES = {  # the official count of Hà Nội unit 1 (fixtures/na_results_2021.csv)
    c: candidates.official_results()[c.id].votes for c in HANOI_1.candidates
}
HANOI_1_VALID = candidates.official_valid()[("01", 1)].middle


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


@contextlib.asynccontextmanager
async def phone(browser, base: str, path: str = "/report", *, width: int = 390, height: int = 844):
    """A fresh phone (its own storage), in a time zone other than Vietnam's, with what it
    sends on /ws/bureau and the refusals it receives (`watch_frames`)."""
    context = await browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        timezone_id="Europe/Paris",
        base_url=base,
    )
    context.set_default_timeout(WAIT)
    page = await context.new_page()
    console = Console(page, base)
    wire = watch_frames(page)  # before the page opens its socket
    await page.goto(path)
    await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT)
    try:
        yield page, console, wire
    finally:
        await context.close()


def watch_frames(page: Page) -> tuple[list[dict], list[dict]]:
    """What the page sends on /ws/bureau (reports) and the refusals it receives."""
    sent: list[dict] = []
    refusals: list[dict] = []

    def on_socket(ws) -> None:
        def went(payload) -> None:
            msg = json.loads(payload)
            if msg.get("type") == "report":
                sent.append(msg)

        def came(payload) -> None:
            msg = json.loads(payload)
            if msg.get("type") == "error":
                refusals.append(msg)

        ws.on("framesent", went)
        ws.on("framereceived", came)

    page.on("websocket", on_socket)
    return sent, refusals


async def connected(page: Page, state: str = "ws") -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-state", state, timeout=WAIT)


def form(page: Page):
    return page.locator('.kind-form[data-for="result"]')


def vote(page: Page, candidate_id: str):
    return form(page).locator(f'input[name="vote_{candidate_id}"]')


def err(page: Page, name: str):
    return page.locator(f'[data-err="{name}"]')


def outbox(page: Page, state: str | None = None):
    return page.locator("#outbox-list li" + (f'[data-state="{state}"]' if state else ""))


async def open_result(page: Page, unit: int = 1) -> None:
    await page.locator('.kind[data-kind="result"]').click()
    await form(page).locator('select[name="result_unit"]').select_option(str(unit))
    await expect(form(page).locator(".cand")).not_to_have_count(0)


async def fill_result(
    page: Page,
    votes: dict[str, int | str],
    valid: int | str,
    *,
    invalid: int | str | None = None,
    counted: int | str | None = None,
    total: int | str | None = None,
    stage: str = "provisional",
    audience: str | None = None,
) -> None:
    fs = form(page)
    await fs.locator(f'label:has(input[name="result_stage"][value="{stage}"])').click()
    await fs.locator('input[name="result_valid"]').fill(str(valid))
    if invalid is not None:
        await fs.locator('input[name="result_invalid"]').fill(str(invalid))
    for cid, n in votes.items():
        await vote(page, cid).fill(str(n))
    if counted is not None:
        await fs.locator('input[name="result_areas_counted"]').fill(str(counted))
    if total is not None:
        await fs.locator('input[name="result_areas_total"]').fill(str(total))
    if audience:
        await fs.locator(f'label:has(input[name="result_audience"][value="{audience}"])').click()


async def log_rows(db_url: str) -> list[dict]:
    conn = await asyncpg.connect(db_url)
    rows = await conn.fetch(
        "SELECT seq, id::text AS id, province, kind, data::text AS data FROM reports ORDER BY seq"
    )
    await conn.close()
    return [{**dict(r), "data": json.loads(r["data"])} for r in rows]


async def nothing_cut(page: Page) -> None:
    """No horizontal scroll, and no text of the form clipped by its box or the screen."""
    cut = await page.evaluate(
        """() => {
          const bad = [];
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth > width) bad.push('page scrolls sideways');
          for (const node of document.querySelectorAll('#compose *, #outbox *, #my-province *')) {
            if (!node.offsetParent) continue;  // hidden
            const r = node.getBoundingClientRect();
            if (r.right > width + 0.5) bad.push(`${node.tagName}.${node.className} past the edge`);
            const style = getComputedStyle(node);
            if (node.scrollWidth > node.clientWidth + 1 && style.overflowX !== 'visible'
                && node.tagName !== 'SELECT' && node.tagName !== 'INPUT')
              bad.push(`${node.tagName}.${node.className} clipped: ${node.textContent}`);
          }
          for (const input of document.querySelectorAll('#compose input')) {
            if (!input.offsetParent || !input.value) continue;
            if (input.scrollWidth > input.clientWidth + 1) bad.push(`input ${input.name} cut`);
          }
          return bad;
        }"""
    )
    assert not cut, cut


async def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    await page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"), full_page=True)


# --- the form, and the checks on the phone (no result reaches the server) ------------------


async def test_units_of_the_province_and_a_units_candidates_in_ballot_order(browser, db_url):
    """A bureau of Hà Nội sees Hà Nội's units; unit 1 shows its five candidates in ballot
    order, each with a numeric field; an editor choosing Bình Dương sees Bình Dương's."""
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        editor = await issue(db_url, None, "editor")
        async with phone(browser, srv.http, f"/report#token={token}") as (page, console, _):
            await connected(page)
            await page.locator('.kind[data-kind="result"]').click()
            options = form(page).locator('select[name="result_unit"] option')
            units = candidates.units_of("01")
            await expect(options).to_have_count(len(units) + 1)  # and "pick a unit"
            assert await options.evaluate_all("os => os.slice(1).map(o => o.value)") == [
                str(u.unit) for u in units
            ]
            await expect(options.nth(1)).to_have_text("Đơn vị số 1 · bầu 3 trong 5 người")
            await expect(form(page).locator(".cand")).to_have_count(0)

            await open_result(page, 1)
            rows = form(page).locator(".cand")
            await expect(rows.locator(".who")).to_have_text([c.name for c in HANOI_1.candidates])
            await expect(rows.locator(".no")).to_have_text(
                [f"{c.ballot_no}." for c in HANOI_1.candidates]
            )
            assert await form(page).locator(".cand input").evaluate_all(
                "xs => xs.map(x => [x.name, x.inputMode])"
            ) == [[f"vote_{c.id}", "numeric"] for c in HANOI_1.candidates]
            await expect(page.locator("#result-unit-info")).to_have_text(HANOI_1.description)
            for name in ("result_valid", "result_invalid", "result_areas_counted"):
                await expect(form(page).locator(f'input[name="{name}"]')).to_have_attribute(
                    "inputmode", "numeric"
                )
            await open_result(page, 2)
            second = candidates.unit_index()[("01", 2)]
            await expect(rows.locator(".who")).to_have_text([c.name for c in second.candidates])
            console.check()

        async with phone(browser, srv.http, f"/report#token={editor}") as (page, console, _):
            await connected(page)
            await page.locator("#province-select").select_option("74")
            await page.locator('.kind[data-kind="result"]').click()
            options = form(page).locator('select[name="result_unit"] option')
            await expect(options).to_have_count(len(candidates.units_of("74")) + 1)
            await open_result(page, 1)
            await expect(form(page).locator(".cand .who")).to_have_text(
                [c.name for c in candidates.unit_index()[("74", 1)].candidates]
            )
            console.check()


async def test_the_contracts_checks_show_next_to_their_fields_and_nothing_is_sent(browser, db_url):
    """A candidate left empty, a candidate above the valid ballots, a sum above valid ×
    seats (its sum and limit named), polling areas counted above their total: each shown
    next to its field, in the page's language; no frame leaves the phone, nothing stored."""
    ids = [c.id for c in HANOI_1.candidates]
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http, f"/report#token={token}") as (page, console, wire):
            sent, _ = wire
            await connected(page)
            await open_result(page, 1)

            # A candidate left empty; areas counted above their total.
            await fill_result(page, {i: 100 for i in ids[:4]}, 1000, counted="12", total="10")
            await page.locator("#send").click()
            await expect(err(page, f"vote_{ids[4]}")).to_have_text("Cần nhập ô này")
            await expect(vote(page, ids[4])).to_have_attribute("aria-invalid", "true")
            await expect(err(page, "result_areas_counted")).to_have_text(
                "Số đã kiểm lớn hơn tổng số"
            )
            await expect(page.locator("#form-msg")).to_have_text("Hãy sửa các ô được đánh dấu")
            for i in ids[:4]:
                await expect(err(page, f"vote_{i}")).to_be_empty()

            # One candidate above the valid ballots.
            await fill_result(page, {ids[4]: 1001}, 1000, counted="10", total="10")
            await page.locator("#send").click()
            await expect(err(page, f"vote_{ids[4]}")).to_have_text(
                "Nhiều hơn số phiếu hợp lệ (1.000)"
            )
            await expect(err(page, "result_areas_counted")).to_be_empty()

            # The sum above valid × seats: shown while typing, refused with both figures.
            await fill_result(page, dict.fromkeys(ids, 700), 1000)
            await expect(page.locator("#result-sum")).to_have_text(
                "Tổng số phiếu bầu: 3.500 · tối đa 3.000 (1.000 × 3)"
            )
            await expect(page.locator("#result-sum")).to_have_class(re.compile(r"\bover\b"))
            await page.locator("#send").click()
            await expect(err(page, "result_sum")).to_have_text(
                "Tổng 3.500 vượt quá 3.000 = 1.000 phiếu hợp lệ × 3 (mỗi phiếu bầu nhiều nhất"
                " 3 người). Hãy kiểm tra lại các số."
            )
            for i in ids:
                await expect(vote(page, i)).to_have_attribute("aria-invalid", "true")
            await page.evaluate("window.scrollTo(0, 0)")
            await shoot(page, "result-form-refused-vi")

            # The same, in English.
            await page.locator("#lang-switch").click()
            await expect(page.locator("#send")).to_have_text("Send report")
            await expect(page.locator("#result-sum")).to_have_text(
                "Votes in all: 3,500 · at most 3,000 (1,000 × 3)"
            )
            await page.locator("#send").click()
            await expect(err(page, "result_sum")).to_have_text(
                "The votes add up to 3,500, above 3,000 = 1,000 valid ballots × 3"
                " (a ballot marks at most 3 names). Check the figures."
            )
            await expect(page.locator("#form-msg")).to_have_text("Fix the marked fields")
            await shoot(page, "result-form-refused-en")

            await expect(outbox(page)).to_have_count(0)
            assert sent == []
            assert await log_rows(db_url) == []
            console.check()


async def test_a_final_result_asks_for_a_confirmation_first(browser, db_url):
    """A "final" result is the unit's official record: the first tap on send asks, "go back" sends
    nothing, changing a figure asks again; only the confirmation queues it."""
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http, f"/report#token={token}") as (page, console, wire):
            sent, _ = wire
            await connected(page)
            await open_result(page, 1)
            await fill_result(
                page,
                {c.id: n for c, n in HANOI_1_VOTES.items()},
                HANOI_1_VALID,
                stage="final",
            )
            confirm = page.locator("#final-confirm")
            await page.locator("#send").click()
            await expect(confirm).to_be_visible()
            await expect(confirm.locator(".confirm-title")).to_have_text(
                "Gửi kết quả CHÍNH THỨC của đơn vị số 1?"
            )
            await expect(page.locator("#send")).to_be_hidden()  # the confirmation is the way on
            await shoot(page, "result-form-final-confirm-vi")
            await page.locator("#final-back").click()
            await expect(confirm).to_be_hidden()
            await expect(page.locator("#send")).to_be_visible()
            await page.locator("#send").click()
            await expect(confirm).to_be_visible()
            await form(page).locator('input[name="result_invalid"]').fill("5")
            await expect(confirm).to_be_hidden()  # a changed figure asks again
            await expect(outbox(page)).to_have_count(0)
            assert sent == []
            console.check()


async def test_the_form_fits_a_360_px_phone_with_big_figures(browser, db_url):
    """At 360 px, in both languages, with seven-digit figures in every field: no text cut,
    nothing past the edge, every field a thumb's height."""
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http, f"/report#token={token}", width=360, height=740) as (
            page,
            console,
            _,
        ):
            await connected(page)
            await open_result(page, 1)
            big = "1.234.567"
            await fill_result(
                page,
                dict.fromkeys((c.id for c in HANOI_1.candidates), big),
                "9.876.543",
                invalid=big,
                counted="12.345",
                total="12.345",
            )
            for lang in ("vi", "en"):
                await expect(page.locator("html")).to_have_attribute("lang", lang)
                await nothing_cut(page)
                heights = (
                    await form(page)
                    .locator("input.big, select")
                    .evaluate_all("xs => xs.map(x => x.getBoundingClientRect().height)")
                )
                assert min(heights) >= 48, heights
                await page.locator("#lang-switch").click()
            console.check()


async def test_units_are_kept_for_a_phone_without_network(browser, db_url):
    """Once read, the province's units open with no network: the page comes from the
    service worker, the units from the phone's storage."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = await issue(db_url, "01")
    async with contextlib.AsyncExitStack() as stack:
        async with serve_in_loop(db_url, port=port, **ENV):
            page, console, _ = await stack.enter_async_context(
                phone(browser, base, f"/report#token={token}")
            )
            await connected(page)
            await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            await open_result(page, 1)
        await expect(page.locator("#conn")).not_to_have_attribute("data-state", "ws")
        await page.reload()
        await expect(page.locator("body[data-ready=true]")).to_be_attached()
        await expect(form(page)).to_be_visible()  # the kind chosen is remembered
        await expect(form(page).locator('select[name="result_unit"]')).to_have_value("1")
        await expect(form(page).locator(".cand .who")).to_have_text(
            [c.name for c in HANOI_1.candidates]
        )
        console.check(allowed=SERVER_DOWN)


# --- end to end: what the server accepts and refuses -----------------------------------------


def half_count() -> tuple[dict[str, int], int]:
    """Hà Nội unit 1 half counted: half of each official count, half the valid ballots."""
    return {c.id: n // 2 for c, n in HANOI_1_VOTES.items()}, HANOI_1_VALID // 2


async def send_result(page: Page, votes: dict[str, int], valid: int, **more) -> None:
    await fill_result(page, votes, valid, **more)
    await page.locator("#send").click()
    if more.get("stage") == "final":
        await page.locator("#final-yes").click()


async def test_a_provisional_result_is_acked_stored_as_typed_and_listed_in_my_reports(
    browser, db_url
):
    """A provisional count of Hà Nội unit 1, typed with thousands marks: acked with its seq,
    stored exactly as the contract writes it, in "my reports" (internal by default); the
    unit stays chosen for its next count."""
    votes, valid = half_count()
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http, f"/report#token={token}") as (page, console, wire):
            sent, refusals = wire
            await connected(page)
            await open_result(page, 1)
            typed = {cid: f"{n:,}".replace(",", ".") for cid, n in votes.items()}
            await send_result(
                page, typed, f"{valid:,}".replace(",", "."), invalid=1234, counted=120, total=260
            )
            await expect(outbox(page, "sent")).to_have_count(1)
            await expect(outbox(page, "sent").locator(".seq")).to_have_text(re.compile(r"^#\d+$"))
            expected = {
                "unit": 1,
                "ballots_valid": valid,
                "ballots_invalid": 1234,
                "votes": votes,
                "areas_counted": 120,
                "areas_total": 260,
                "stage": "provisional",
                "audience": "internal",
            }
            [frame] = sent
            assert (frame["kind"], frame["data"]) == ("result", expected)
            [row] = await log_rows(db_url)
            assert (row["id"], row["kind"], row["province"]) == (frame["id"], "result", "01")
            assert row["data"] == expected
            assert refusals == []

            mine = page.locator("#my-reports li")
            await expect(mine).to_have_count(1)
            await expect(mine.locator(".what")).to_have_text(
                f"ĐV 1 · {valid:,} phiếu hợp lệ · Tạm thời".replace(",", ".")
            )
            await expect(mine.locator(".status")).to_contain_text("Nội bộ")
            await expect(outbox(page).locator(".what")).to_have_text(
                f"ĐV 1 · {valid:,} phiếu hợp lệ · Tạm thời".replace(",", ".")
            )
            # Ready for the unit's next count: same unit, empty figures, provisional.
            await expect(form(page).locator('select[name="result_unit"]')).to_have_value("1")
            await expect(form(page).locator('input[name="result_valid"]')).to_have_value("")
            await expect(
                form(page).locator('input[name="result_stage"][value="provisional"]')
            ).to_be_checked()
            await page.evaluate("window.scrollTo(0, 0)")
            await shoot(page, "result-form-sent-vi")
            await page.locator("#lang-switch").click()
            await expect(mine.locator(".what")).to_have_text(
                f"Unit 1 · {valid:,} valid ballots · Provisional"
            )
            await shoot(page, "result-form-sent-en")
            console.check()


async def test_a_lower_provisional_count_shows_the_servers_regression_and_resends_as_correction(
    browser, db_url
):
    """A provisional count lower than the accepted one is refused `regression`: the outbox
    shows the server's message in the page's language, and "send as correction" sends it
    again under a new id with `correction: true`, accepted."""
    votes, valid = half_count()
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http, f"/report#token={token}") as (page, console, wire):
            sent, refusals = wire
            await connected(page)
            await open_result(page, 1)
            await send_result(page, votes, valid)
            await expect(outbox(page, "sent")).to_have_count(1)
            lower = {cid: n - 10 for cid, n in votes.items()}
            await send_result(page, lower, valid - 100)
            refused = outbox(page, "refused")
            await expect(refused).to_have_count(1)
            [error] = refusals
            assert (error["code"], error["id"]) == ("regression", sent[1]["id"])
            await expect(refused.locator(".refusal")).to_have_text(error["message_vi"])
            await expect(page.locator("#form-msg")).to_have_text(
                f"Bị từ chối ✗ {error['message_vi']}"
            )
            await shoot(page, "result-form-regression-vi")

            await refused.get_by_role("button", name="Gửi lại là đính chính").click()
            await expect(outbox(page, "sent")).to_have_count(2)
            rows = await log_rows(db_url)
            assert [r["data"]["ballots_valid"] for r in rows] == [valid, valid - 100]
            assert rows[1]["data"]["correction"] is True and rows[1]["data"]["votes"] == lower
            assert error["id"] not in {r["id"] for r in rows}
            console.check()


async def test_after_a_final_result_another_is_refused_with_the_servers_message(browser, db_url):
    """The unit's final record (confirmed on the phone) is acked; a later count of the same
    unit is refused by the server, and its message is shown in the page's language."""
    votes, valid = half_count()
    final = {c.id: n for c, n in HANOI_1_VOTES.items()}
    async with serve_in_loop(db_url, **ENV) as srv:
        token = await issue(db_url, "01")
        async with phone(browser, srv.http, f"/report#token={token}") as (page, console, wire):
            sent, refusals = wire
            await connected(page)
            await open_result(page, 1)
            await send_result(page, votes, valid)
            await send_result(page, final, HANOI_1_VALID, stage="final", audience="public")
            await expect(outbox(page, "sent")).to_have_count(2)
            assert [f["data"]["stage"] for f in sent] == ["provisional", "final"]
            assert sent[1]["data"]["audience"] == "public"

            more = {cid: n + 1 for cid, n in final.items()}
            await send_result(page, more, HANOI_1_VALID + 10)
            refused = outbox(page, "refused")
            await expect(refused).to_have_count(1)
            [error] = refusals
            assert error["id"] == sent[2]["id"]
            await expect(refused.locator(".refusal")).to_have_text(error["message_vi"])
            await refused.evaluate("li => li.scrollIntoView({block: 'center'})")
            await shoot(page, "result-form-after-final-vi")
            await page.locator("#lang-switch").click()
            await expect(refused.locator(".refusal")).to_have_text(error["message_en"])
            await shoot(page, "result-form-after-final-en")

            rows = await log_rows(db_url)
            assert [r["data"]["stage"] for r in rows] == ["provisional", "final"]
            console.check()


async def test_a_result_queued_without_network_is_delivered_once(browser, db_url):
    """A count typed while the server is unreachable (the units from the phone's storage)
    waits in the outbox across a reload and is delivered exactly once when it is back."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = await issue(db_url, "01")
    votes, valid = half_count()
    async with contextlib.AsyncExitStack() as stack:
        async with serve_in_loop(db_url, port=port, **ENV):
            page, console, _ = await stack.enter_async_context(
                phone(browser, base, f"/report#token={token}")
            )
            await connected(page)
            await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            await open_result(page, 1)
        await expect(page.locator("#conn")).not_to_have_attribute("data-state", "ws")
        await page.reload()
        await expect(page.locator("body[data-ready=true]")).to_be_attached()
        await expect(form(page).locator(".cand")).to_have_count(len(HANOI_1.candidates))
        await send_result(page, votes, valid)
        await expect(outbox(page, "queued")).to_have_count(1)
        [queued_id] = await outbox(page).evaluate_all("xs => xs.map(li => li.dataset.id)")
        await page.reload()
        await expect(page.locator("body[data-ready=true]")).to_be_attached()
        await expect(outbox(page, "queued")).to_have_count(1)

        async with serve_in_loop(db_url, port=port, **ENV):
            await expect(outbox(page, "sent")).to_have_count(1, timeout=2 * WAIT)
            rows = await log_rows(db_url)
            assert [(r["id"], r["kind"]) for r in rows] == [(queued_id, "result")]
            assert rows[0]["data"]["votes"] == votes
        console.check(allowed=SERVER_DOWN)


async def test_an_editors_result_names_the_province_and_goes_over_http_when_the_socket_is_blocked(
    browser, db_url
):
    """An editor reports for the province chosen (Bình Dương's unit 1); with /ws/bureau
    blocked, the same report goes through POST /api/reports and is acked "via HTTP"."""
    unit = candidates.unit_index()[("74", 1)]
    votes = {c.id: 1000 + c.ballot_no for c in unit.candidates}
    async with serve_in_loop(db_url, **ENV) as srv:
        editor = await issue(db_url, None, "editor")
        async with phone(browser, srv.http) as (page, console, _):
            await page.route_web_socket(
                re.compile(r"/ws/bureau$"), lambda ws: ws.close(code=1011, reason="blocked")
            )
            posts: list[dict] = []
            page.on(
                "request",
                lambda r: (
                    r.method == "POST"
                    and r.url.endswith("/api/reports")
                    and posts.append(json.loads(r.post_data))
                ),
            )
            await page.locator("#token-input").fill(editor)
            await page.get_by_role("button", name="Đăng nhập").click()
            await page.locator("#province-select").select_option("74")
            await open_result(page, 1)
            await send_result(page, votes, 5000)
            await expect(outbox(page, "sent")).to_have_count(1)
            await expect(outbox(page, "sent").locator(".via")).to_have_text("qua HTTP")
            [post] = posts
            assert (post["kind"], post["province"], post["data"]["votes"]) == (
                "result",
                "74",
                votes,
            )
            [row] = await log_rows(db_url)
            assert (row["id"], row["province"], row["data"]["unit"]) == (post["id"], "74", 1)
            console.check()
