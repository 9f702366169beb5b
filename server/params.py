"""Parameters that several routes read the same way: `?limit=`, a row's id in the path,
a province code or a line of text in a JSON body. Each refuses what it cannot use with the
contract's error (never a TypeError or a database error further on: issue 12, finding 8)."""

from __future__ import annotations

import re
from collections.abc import Container
from typing import Any

from starlette.requests import Request

from ingest.errors import Invalid
from server.errors import not_found

ROW_ID_MAX = 2**63 - 1
"""Ids are Postgres bigints: a larger number in a path names no row."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""No line of text carries a control character (Postgres cannot store NUL at all)."""


def limit(request: Request, default: int, maximum: int) -> int:
    """`?limit=`: an integer from 1 to `maximum` (`default` when absent), else `invalid`."""
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        raise Invalid.of("limit", max=maximum)
    return value


def row_id(request: Request, name: str, what: str) -> int:
    """The path's `{name:int}`; beyond a bigint it can be no row's: `not_found(what)`
    (Starlette's `int` convertor takes any number of digits)."""
    value: int = request.path_params[name]
    if not 0 <= value <= ROW_ID_MAX:
        raise not_found(what)
    return value


def province(
    data: dict[str, Any], known: Container[str], *, required: bool, field: str = "province"
) -> str | None:
    """`data[field]`: a known province code (text), or None when absent, null or "" and
    not `required`. Anything else (a list, an object, a number, an unknown code) is
    `invalid` naming `field`."""
    value = data.get(field)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or value not in known:
        raise Invalid.of(field, "unknown_province")
    return value


def line(data: dict[str, Any], field: str, limit: int) -> str | None:
    """`data[field]` as one line of text, stripped and cut at `limit` characters (None when
    absent, null or blank). Not text, or with a control character (NUL, a newline): `invalid`
    naming `field`."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or CONTROL.search(value):
        raise Invalid.of(field, "one_line")
    return value.strip()[:limit] or None
