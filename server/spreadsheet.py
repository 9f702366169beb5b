"""Every CSV the project writes (a chart's numbers, the phase summary), cell by cell.

A spreadsheet must read the same numbers in any language: `cell` prints a float with two
decimals, "." as the decimal point and no grouping (85.10716712371176 → "85.11"), keeps
an integer an integer, a moment ISO 8601 in the election's zone, and a null an empty cell
(never 0). This is the one place a cell is written, so it is also where text that a
spreadsheet would run as a formula is neutralised (OWASP's rule, issue 12 finding 5): a
text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (a bureau's
note "=HYPERLINK(…)", a re-vote unit "+1+cmd|…") gets a leading `'`, so the spreadsheet
shows it as text. Numbers are never text here, so -2.5 stays a number.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from dashboards import export, i18n
from dashboards.figures import picture_moment
from server.jsonio import json_default

DECIMALS = 2
BOM = "\ufeff"
"""Put before a whole file so that Excel reads it as UTF-8."""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""


def text_cell(text: str) -> str:
    """Text as a cell a spreadsheet shows and never runs."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> Any:
    """One value as a CSV cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{DECIMALS}f}"
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, date):
        return json_default(value)
    return text_cell(str(value))


class Sheet:
    """A CSV text built row by row, every value through `cell`; CRLF line ends."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, lineterminator="\r\n")

    def row(self, *values: Any) -> None:
        self._writer.writerow([cell(v) for v in values])

    def text(self) -> str:
        return self._out.getvalue()


def picture_rows(sheet: Sheet, picture: dict, lang: str) -> None:
    """One row per province (`export.CSV_FIELDS`, names in `lang`), then the national row
    (code "VN"), after a header row."""
    sheet.row(*export.CSV_FIELDS)
    for p in picture["provinces"]:
        sheet.row(
            *(
                p.get(f) if f != "name" else i18n.province_name(p["code"], lang)
                for f in export.CSV_FIELDS
            )
        )
    nat = picture.get("national") or {}
    sheet.row(
        export.NATIONAL_CODE,
        i18n.label("national", lang),
        nat.get("voted"),
        nat.get("registered"),
        nat.get("turnout_pct"),
        picture_moment(picture),
        nat.get("areas_done"),
        nat.get("areas_total"),
        nat.get("revote_units"),
    )


def picture_csv(picture: dict, lang: str = "vi") -> str:
    """A picture's numbers as CSV (the `csv` format of every chart)."""
    sheet = Sheet()
    picture_rows(sheet, picture, lang)
    return sheet.text()
