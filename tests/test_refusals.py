"""The refusals' one table (`ingest/refusals.py`): every key a raise site names exists in
both languages with the slots it fills, and a keyed refusal says what the inline texts said."""

from __future__ import annotations

import ast
import string
import typing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dashboards import catalogue
from ingest import errors, refusals
from ingest.errors import AuthFailed, Forbidden, Invalid, Regression

ROOT = Path(__file__).resolve().parent.parent
CODES = {
    name: cls.code
    for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, errors.ContractError)
}


def _slots(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _keyed_sites() -> list[tuple[str, ast.Call]]:
    sites = []
    for package in ("ingest", "server"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "of"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in CODES
                ):
                    sites.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return sites


def test_one_table_in_both_languages():
    assert catalogue.ERRORS is refusals.MESSAGES
    for key, row in refusals.MESSAGES.items():
        assert len(row) == 2 and all(row), key


def test_every_key_a_raise_site_names_is_in_the_table():
    sites = _keyed_sites()
    assert len(sites) >= 50, len(sites)  # the scan finds the keyed refusals
    for where, call in sites:
        code = CODES[call.func.value.id]  # type: ignore[attr-defined]
        args = list(call.args)
        field_node = args[0] if args else None
        reason_node = args[1] if len(args) > 1 else None
        for kw in call.keywords:
            if kw.arg == "field":
                field_node = kw.value
            if kw.arg == "reason":
                reason_node = kw.value
        literal_field = field_node is None or isinstance(field_node, ast.Constant)
        field = field_node.value if isinstance(field_node, ast.Constant) else None
        if where.startswith("server/auth.py") and isinstance(reason_node, ast.Name):
            continue  # auth.forbidden(reason): its Literal reasons are checked below
        if reason_node is not None:
            assert isinstance(reason_node, ast.Constant), where
            reason = reason_node.value
            key = refusals.lookup(code, field if literal_field else "?", reason)
            assert key.endswith(f".{reason}"), (where, code, reason)
        else:
            assert literal_field, f"{where}: a computed field needs a reason"
            key = refusals.lookup(code, field)
            assert key in refusals.MESSAGES, (where, key)
            assert field is None or key == f"{code}.{field}" or code == "auth_failed", where
        given = {kw.arg for kw in call.keywords if kw.arg} | {"field"}
        for text in refusals.MESSAGES[key]:
            assert _slots(text) <= given, (where, key, _slots(text) - given)


def test_the_guards_reasons_are_in_the_table():
    from server import auth

    reasons = typing.get_args(typing.get_type_hints(auth.forbidden)["reason"])
    assert reasons and all(f"forbidden.*.{r}" in refusals.MESSAGES for r in reasons)
    assert auth.forbidden().message == "Chỉ dành cho biên tập viên / Editors only"
    assert auth.forbidden("cross_site").message_en == "Cross-site request refused"


def test_keyed_refusals_read_as_before():
    assert errors.auth_failed().to_wire()["message"] == (
        "Mã truy cập không đúng hoặc đã bị thu hồi / "
        "Unknown or revoked token: ask the desk for a new one"
    )
    assert errors.auth_failed().field == "token"
    big = errors.too_large(65536, id="x")
    assert (big.message_vi, big.message_en, big.id) == (
        "Bản tin quá lớn (tối đa 64 KiB)",
        "Frame too large (limit 64 KiB)",
        "x",
    )
    assert errors.unavailable().message_en == (
        "The database is unavailable; nothing was stored, retry later"
    )
    zone = timezone(timedelta(hours=7))
    start, end = datetime(2021, 5, 23, 7, tzinfo=zone), datetime(2021, 5, 23, 21, tzinfo=zone)
    window = Invalid.of(
        "as_of", "window", id="r1", start=start, end=end,
        start_iso=start.isoformat(), end_iso=end.isoformat(),
    )  # fmt: skip
    assert (window.message_vi, window.message_en, window.field, window.id) == (
        "as_of nằm ngoài thời gian bầu cử (23/05/2021 – 23/05/2021)",
        "as_of is outside the election window (2021-05-23T07:00:00+07:00 to "
        "2021-05-23T21:00:00+07:00)",
        "as_of",
        "r1",
    )
    above = Invalid.of("data.turnout_pct", "above_registered", voted=1234567, registered=1000)
    assert (above.message_vi, above.message_en, above.field) == (
        "Số cử tri đã bầu (1,234,567) lớn hơn số cử tri (1,000)",
        "voted (1,234,567) is greater than registered (1,000)",
        "data.turnout_pct",
    )
    null = Invalid.of("data.note", "null")
    assert null.message_en == (
        "data.note is null: send a value, or leave an optional field out "
        "(null never means the default)"
    )
    assert Forbidden.of("province", own="01", province="79").message == (
        "Mã của văn phòng 01 không được báo cáo cho tỉnh 79 / "
        "This bureau token reports for province 01 only, not 79"
    )
    back = Regression.of("data.voted", as_of="2021-05-23T11:00:00+07:00", voted=12345)
    assert back.message_en == (
        "Turnout is lower than the accepted figure of 2021-05-23T11:00:00+07:00 (12,345); "
        "resend with data.correction true if it corrects it"
    )
    assert isinstance(AuthFailed.of("token"), AuthFailed)


@pytest.mark.parametrize(
    ("frame", "field", "en"),
    [
        ('{"type": "nope"}', "type", "Unknown message type: expected 'hello' or 'report'"),
        ("[1]", None, "The frame must be a JSON object"),
        ('{"type": "hello", "token": "\\ud800"}', "token",
         "token holds a lone UTF-16 surrogate (e.g. half an emoji): not Unicode text"),
    ],
)  # fmt: skip
def test_parse_frame_refusals_read_as_before(frame, field, en):
    from ingest.messages import parse_frame

    with pytest.raises(Invalid) as caught:
        parse_frame(frame)
    assert (caught.value.field, caught.value.message_en) == (field, en)


def test_a_slot_nobody_filled_stays_visible():
    assert refusals.render("invalid.kind") == (
        "Loại báo cáo '{kind}' không tồn tại",
        "Unknown kind: expected one of {kinds}",
    )
    assert refusals.render("invalid.*.above_registered", voted=5)[1] == (
        "voted (5) is greater than registered ({registered})"
    )
