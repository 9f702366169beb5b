"""The public candidates page `/candidates` and its CSV and JSON (issue 13 item 6: what the
agency publishes in phase 1), against a real server, in Debian's Chromium.

What the page should show is computed here from the fixture files with the csv module,
not through `ingest.candidates` or `ingest.law`: the make-up's counts are written out
again below, on purpose, as the check of the one definition the server uses. Every page
fails its test on a console error (CSP violations included), a failed request or a
request leaving the app. Screenshots (1366×768 and 390×844, vi and en) go to
tests/artifacts/candidates/.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import unicodedata

import httpx
import jsonschema
import pytest
from playwright.async_api import Page, expect

from dashboards import i18n
from dashboards.catalogue import LABELS
from dashboards.pages import STATIC_DIR, TEMPLATES_DIR
from ingest.candidates import Candidate, Unit
from ingest.openapi import REF, openapi_document
from server import candidates as page_module
from tests.conftest import ARTIFACTS, ROOT, WAIT, Console, shared_server

pytestmark = pytest.mark.browser

FIXTURES = ROOT / "fixtures"
SHOTS = ARTIFACTS / "candidates"
ELECTION_YEAR = 2021
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
TRONG = "Nguyễn Phú Trọng"


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


@pytest.fixture(scope="module")
async def server(pg_url, databases):
    """One server for the module: every test here only reads (the candidates come from the
    fixture files, the same for every server)."""
    async with shared_server(pg_url, databases) as srv:
        yield srv


# --- what the fixture says, read with the csv module --------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def fixture_rows() -> list[dict[str, str]]:
    """The 866 candidates of the results fixture, in (province, unit, ballot number) order."""
    with open(FIXTURES / "na_results_2021.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return sorted(rows, key=lambda r: (r["code"], int(r["unit_no"]), int(r["ballot_no"])))


def fixture_units() -> list[str]:
    """`code-unit` of the 184 units, in order."""
    with open(FIXTURES / "na_units_2021.csv", encoding="utf-8", newline="") as f:
        units = [(r["code"], int(r["unit_no"])) for r in csv.DictReader(f)]
    return [f"{code}-{unit}" for code, unit in sorted(units)]


def ballots(rows: list[dict[str, str]]) -> dict[str, list[tuple[int, str]]]:
    """`code-unit` → [(ballot number, name)] in ballot order."""
    out: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        out.setdefault(f"{r['code']}-{int(r['unit_no'])}", []).append(
            (int(r["ballot_no"]), _nfc(r["name"]))
        )
    return out


def makeup_of(rows: list[dict[str, str]]) -> dict[str, int]:
    """The make-up of `rows` (CSV rows with the fixture's or the download's columns),
    counted as the issue states it, keyed like the page's rows."""
    return {
        "elected": len(rows),
        "women": sum(r["gender"] == "F" for r in rows),
        "ethnic_minority": sum(_nfc(r["ethnicity"]) != "Kinh" for r in rows),
        "non_party": sum(r["party_member"] == "0" for r in rows),
        "under_40": sum(int(r["birth_year"]) >= ELECTION_YEAR - 40 for r in rows),
        "former_deputy": sum(r["former_deputy"] == "1" for r in rows),
        "religious": sum(_nfc(r["religion"]) not in ("Không", "") for r in rows),
    }


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "the CSV starts with a BOM (Excel reads UTF-8)"
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def as_dicts(table: list[list[str]]) -> list[dict[str, str]]:
    header, *body = table
    return [dict(zip(header, row, strict=True)) for row in body]


def accent_free(name: str) -> str:
    """A name in lower case without accents, as a reader may type it ("nguyen phu trong")."""
    bare = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D").lower())
    return "".join(ch for ch in bare if not unicodedata.combining(ch))


def share_value(text: str) -> float:
    """ "45,4%" / "45.4%" / "45,4 %" → 45.4."""
    return float(re.sub(r"[^\d,.]", "", text).replace(",", "."))


# --- a reader in Chromium --------------------------------------------------------------------


@contextlib.asynccontextmanager
async def reader(browser, base: str, path: str = "/candidates", *, size=DESKTOP, js=True):
    """A fresh browser context at `size`; with `js=False` the page as a reader without
    JavaScript gets it. The page's console must stay clean."""
    phone = size == PHONE
    context = await browser.new_context(
        viewport=size,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        java_script_enabled=js,
        base_url=base,
    )
    context.set_default_timeout(WAIT)
    page = await context.new_page()
    console = Console(page, base, failed_requests=True)
    try:
        await page.goto(path)
        if js:
            await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=WAIT)
        yield page
        console.check()
    finally:
        await context.close()


def visible_rows(page: Page):
    return page.locator("tr.cand:visible")


async def shown_ballots(page: Page) -> dict[str, list[tuple[int, str]]]:
    """What the page shows: unit → [(ballot number, name)] in page order."""
    found = await page.locator("section.unit:visible").evaluate_all(
        """units => units.map(u => [u.id.slice(5), [...u.querySelectorAll("tr.cand")]
            .filter(tr => !tr.hidden)
            .map(tr => [Number(tr.querySelector(".no").textContent),
                        tr.querySelector(".name").textContent])])"""
    )
    return {unit: [(no, name) for no, name in rows] for unit, rows in found}


async def makeup_on_page(page: Page, column: int = 0) -> dict[str, tuple[int, str, str]]:
    """The make-up table: row key → (data-count, count as shown, share as shown) of the
    country's column (0) or the province's (1)."""
    cells = await page.locator("#makeup tbody tr").evaluate_all(
        """(rows, column) => rows.map(tr => {
            const n = tr.querySelectorAll("td.n")[column];
            const s = tr.querySelectorAll("td.pct")[column];
            return [tr.dataset.key, Number(n.dataset.count), n.textContent, s.textContent];
        })""",
        column,
    )
    return {key: (count, text, share) for key, count, text, share in cells}


# --- the list -------------------------------------------------------------------------------


async def test_the_page_lists_866_candidates_in_184_units_in_ballot_order(server, browser):
    rows = fixture_rows()
    assert len(rows) == 866 and len(fixture_units()) == 184
    async with reader(browser, server.http) as page:
        await expect(visible_rows(page)).to_have_count(866)
        await expect(page.locator("section.unit:visible")).to_have_count(184)
        shown = await shown_ballots(page)
        assert list(shown) == fixture_units()
        assert shown == ballots(rows)
        assert "866" in await page.locator("#showing").inner_text()
        await expect(page.locator("#nothing")).to_be_hidden()


async def test_filtering_by_province_01_shows_ha_nois_units_only(server, browser):
    hanoi = [r for r in fixture_rows() if r["code"] == "01"]
    hanoi_units = [u for u in fixture_units() if u.startswith("01-")]
    async with reader(browser, server.http) as page:
        await page.locator("#province").select_option("01")
        await expect(visible_rows(page)).to_have_count(len(hanoi))
        assert await shown_ballots(page) == ballots(hanoi)
        codes = await page.locator("section.unit:visible").evaluate_all(
            "units => units.map(u => u.dataset.code)"
        )
        assert set(codes) == {"01"} and len(codes) == len(hanoi_units)
        assert "province=01" in page.url
        csv_href = await page.locator('.downloads a[data-format="csv"]').get_attribute("href")
        assert "province=01" in csv_href
        # The province's column of the make-up joins the country's.
        await expect(page.locator("#makeup-province")).to_have_text("Hà Nội")
        column = await makeup_on_page(page, 1)
        assert {k: count for k, (count, _, _) in column.items()} == makeup_of(hanoi)
        # Back to every province.
        await page.locator("#province").select_option("")
        await expect(visible_rows(page)).to_have_count(866)
        await expect(page.locator("#makeup-province")).to_be_hidden()
    async with httpx.AsyncClient(base_url=server.http) as c:
        download = await c.get(csv_href)
    assert {r["code"] for r in as_dicts(read_csv(download.text))} == {"01"}
    assert len(read_csv(download.text)) == len(hanoi) + 1


async def test_without_javascript_the_form_filters_on_the_server(server, browser):
    hanoi = [r for r in fixture_rows() if r["code"] == "01"]
    async with reader(browser, server.http, js=False) as page:
        await expect(visible_rows(page)).to_have_count(866)
        await page.locator("#province").select_option("01")
        await page.get_by_role("button", name=i18n.label("cand_apply", "vi")).click()
        await page.wait_for_url(re.compile(r"province=01"))
        await expect(visible_rows(page)).to_have_count(len(hanoi))
        assert await shown_ballots(page) == ballots(hanoi)
        await expect(page.locator("#makeup-province")).to_have_text("Hà Nội")
        await page.goto("/candidates?q=nguyen+phu+trong&lang=en")
        await expect(visible_rows(page)).to_have_count(1)
        await expect(visible_rows(page).locator(".name")).to_have_text(TRONG)


async def test_the_accent_free_search_finds_nguyen_phu_trong(server, browser):
    async with reader(browser, server.http) as page:
        await page.locator("#q").fill("nguyen phu trong")
        await expect(visible_rows(page)).to_have_count(1)
        assert await shown_ballots(page) == {"01-1": [(3, TRONG)]}
        # Accents, capitals and extra spaces change nothing; a part of the name is enough.
        for typed in ("NGUYỄN  Phú trọng", "phu trong", "Trọng"):
            await page.locator("#q").fill("zzzz")
            await expect(visible_rows(page)).to_have_count(0)
            await page.locator("#q").fill(typed)
            await expect(page.locator("#c-01-1-3")).to_be_visible()
        await page.locator("#q").fill("trong")
        with_trong = [r for r in fixture_rows() if "trong" in accent_free(r["name"])]
        assert len(with_trong) > 1
        await expect(visible_rows(page)).to_have_count(len(with_trong))
        await page.locator("#q").fill("zzzz")
        await expect(visible_rows(page)).to_have_count(0)
        await expect(page.locator("#nothing")).to_be_visible()
        await page.locator("#q").fill("nguyen phu trong")
        await expect(visible_rows(page)).to_have_count(1)
        json_href = await page.locator('.downloads a[data-format="json"]').get_attribute("href")
    async with httpx.AsyncClient(base_url=server.http) as c:
        body = (await c.get(json_href)).json()
    assert [
        (u["code"], u["unit"], [c["name"] for c in u["candidates"]]) for u in body["units"]
    ] == [("01", 1, [TRONG])]


# --- the make-up --------------------------------------------------------------------------------


async def test_the_make_up_numbers_are_those_of_the_csv(server, browser):
    async with httpx.AsyncClient(base_url=server.http) as c:
        table = read_csv((await c.get("/candidates.csv")).text)
    downloaded = as_dicts(table)
    expected = makeup_of(downloaded)
    assert expected == makeup_of(fixture_rows())  # the CSV carries the fixture's attributes
    assert expected["elected"] == 866
    for lang in ("vi", "en"):
        async with reader(browser, server.http, f"/candidates?lang={lang}") as page:
            shown = await makeup_on_page(page)
        assert {k: count for k, (count, _, _) in shown.items()} == expected
        for key, (count, text, share) in shown.items():
            assert int(re.sub(r"\D", "", text)) == count, (lang, key, text)
            if key == "elected":
                assert share == ""
            else:
                assert abs(share_value(share) - count * 100 / 866) <= 0.05, (lang, key, share)
    assert shown["women"][2].endswith("%") and "." in shown["women"][2]  # en: "45.4%"


# --- the downloads ---------------------------------------------------------------------------


async def test_the_csv_has_866_rows_and_a_header_and_runs_no_formula(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.get("/candidates.csv")
        one = await c.get("/candidates.csv", params={"province": "01", "q": "nguyen phu trong"})
        english = await c.get("/candidates.csv", params={"lang": "en", "province": "79"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment;")
    table = read_csv(r.text)
    assert len(table) == 867
    assert table[0][:7] == ["code", "province", "unit", "seats", "id", "ballot_no", "name"]
    by_id = {row["id"]: row for row in as_dicts(table)}
    expected = {r["candidate_id"]: r for r in fixture_rows()}
    assert list(by_id) == list(expected)  # ballot order
    for cid, row in by_id.items():
        source = expected[cid]
        assert row["name"] == _nfc(source["name"])
        assert row["birth_year"] == source["birth_year"]
        assert "votes" not in row and "elected" not in row  # phase 1: no outcome
    cells = [cell for row in table for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert [row["name"] for row in as_dicts(read_csv(one.text))] == [TRONG]
    provinces = {row["province"] for row in as_dicts(read_csv(english.text))}
    assert provinces == {i18n.province_name("79", "en")}


def test_text_a_spreadsheet_would_run_is_written_as_text():
    """A configured list is data from outside: a name like "=HYPERLINK(…)" must reach the
    CSV as text (OWASP), through the page's own CSV builder."""
    hostile = ('=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2", "@SUM(A1)", "\t=1")
    unit = Unit(
        code="01",
        unit=1,
        seats=1,
        description="=1+1",
        candidates=tuple(
            Candidate(f"01-1-{i}", i, name, "F", 1980, name, True, False, name)
            for i, name in enumerate(hostile, 1)
        ),
    )
    table = read_csv("\ufeff" + page_module.candidates_csv([(unit, unit.candidates)], "vi"))
    for row in as_dicts(table):
        for field in ("name", "ethnicity", "religion", "unit_description"):
            assert row[field].startswith("'"), (field, row[field])
            assert row[field][1:] in (*hostile, "=1+1")


async def test_the_json_is_the_published_units_shape_and_honours_the_filters(server):
    document = openapi_document()
    validator = jsonschema.Draft202012Validator(
        {"$ref": REF.format(model="Units"), "components": document["components"]}
    )
    async with httpx.AsyncClient(base_url=server.http) as c:
        everything = (await c.get("/candidates.json")).json()
        api = (await c.get("/api/units")).json()
        hanoi = (await c.get("/candidates.json", params={"province": "01"})).json()
        women = (await c.get("/candidates.json", params={"q": "thị"})).json()
    for body in (everything, hanoi, women):
        validator.validate(body)
    assert everything == api
    assert len(everything["units"]) == 184
    assert sum(len(u["candidates"]) for u in everything["units"]) == 866
    assert {u["code"] for u in hanoi["units"]} == {"01"}
    expected_thi = [r["candidate_id"] for r in fixture_rows() if "thi" in accent_free(r["name"])]
    assert [c["id"] for u in women["units"] for c in u["candidates"]] == expected_thi
    keys = {k for u in everything["units"] for c in u["candidates"] for k in c}
    assert not keys & {"votes", "pct", "elected", "confirmed", "rank"}


async def test_the_answers_are_cacheable_and_a_bad_province_is_refused(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        for path in ("/candidates", "/candidates.csv", "/candidates.json"):
            first = await c.get(path, params={"province": "01"})
            assert first.status_code == 200, path
            assert first.headers["cache-control"].startswith("public, max-age=")
            etag = first.headers["etag"]
            again = await c.get(path, params={"province": "01"}, headers={"if-none-match": etag})
            assert again.status_code == 304 and again.headers["etag"] == etag, path
            other = await c.get(path, params={"province": "79"})
            assert other.headers["etag"] != etag, path
            refused = await c.get(path, params={"province": "99"})
            assert refused.status_code == 400, path
            assert refused.json()["field"] == "province"
        page = await c.get(
            "/candidates", params={"province": "99"}, headers={"accept": "text/html"}
        )
        long = await c.get("/candidates", params={"q": "x" * 3000 + "\x00", "lang": "xx"})
        csp = (await c.get("/candidates")).headers["content-security-policy"]
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert long.status_code == 200 and 'lang="vi"' in long.text
    assert "unsafe-inline" not in csp and "form-action 'self'" in csp


# --- languages -------------------------------------------------------------------------------


def test_every_word_of_the_page_is_in_the_catalogue_in_six_languages():
    template = "".join(
        (TEMPLATES_DIR / name).read_text(encoding="utf-8")
        for name in ("candidates.html", "candidates_list.html")
    )
    script = (STATIC_DIR / "candidates.js").read_text(encoding="utf-8")
    module = (ROOT / "server" / "candidates.py").read_text(encoding="utf-8")
    used = set(re.findall(r"\bt\.(\w+)", template))
    used |= set(re.findall(r"\bt\(\"(\w+)\"", script))
    used |= set(re.findall(r"\"(cand_\w+)\"", module))
    used |= {f"cand_gender_{g}" for g in "FM"}
    missing = sorted(k for k in used if k not in LABELS)
    assert not missing, missing
    ours = [k for k in LABELS if k.startswith("cand_")]
    assert set(ours) <= used, f"unused: {sorted(set(ours) - used)}"
    for key in ours:
        assert len(LABELS[key]) == len(i18n.LANGS) and all(LABELS[key]), key


@pytest.mark.parametrize("lang", i18n.LANGS)
async def test_each_language_renders_without_a_missing_key(server, browser, lang):
    async with reader(browser, server.http, f"/candidates?lang={lang}") as page:
        assert await page.locator("html").get_attribute("lang") == lang
        await expect(page.locator("h1")).to_have_text(i18n.label("cand_page_title", lang))
        await page.locator("#province").select_option("79")
        await page.locator("#q").fill("thi")
        await page.wait_for_url(re.compile(r"q=thi"))
        await expect(page.locator("#makeup-province")).to_have_text(i18n.province_name("79", lang))
        text = await page.locator("body").inner_text()
        assert "cand_" not in text and "{" not in text, lang
        links = page.locator(".langs a")
        await expect(links).to_have_count(len(i18n.LANGS))
        assert await page.locator('.langs a[aria-current="true"]').get_attribute("lang") == lang
        # The language links keep the filters.
        href = await page.locator('.langs a[lang="en"]').get_attribute("href")
        assert "province=79" in href and "q=thi" in href and "lang=en" in href


# --- screenshots -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
async def test_screenshots(server, browser, lang, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = f"{lang}-{size['width']}x{size['height']}"
    async with reader(browser, server.http, f"/candidates?lang={lang}", size=size) as page:
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"the page is {width} px wide in {size['width']}"
        await page.screenshot(path=str(SHOTS / f"{name}.png"))
        await page.locator("#province").select_option("01")
        await page.locator("#q").fill("nguyen")
        await page.wait_for_url(re.compile(r"q=nguyen"))
        await expect(page.locator("#makeup-province")).to_be_visible()
        await page.locator("#find-title").evaluate("h => h.scrollIntoView({block: 'start'})")
        await page.screenshot(path=str(SHOTS / f"{name}-filtered.png"))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"filtered, the page is {width} px wide"
