# ruff: noqa: E501  (a data table: long sentences stay on one line, one per language)
"""The one table of the refusals' messages: key → (vi, en).

A key is `code` (what any refusal of that code says when nothing more precise is known),
`code.field` (that code for that wire field) or `code.field.reason` (where one field can
fail in more than one way); `code.*.reason` is a reason whatever the field (the field then
usually fills the `{field}` slot). `lookup` picks the most precise key that exists:
`code.field.reason`, `code.*.reason`, `code.field`, `code`. `{slots}` are `str.format`
fields, filled by whoever raises (`ingest.errors.ContractError.of`) or shows the text
(`dashboards.i18n.error_message`); a slot nobody filled stays visible as `{slot}`.

The raise sites name keys (`Invalid.of("as_of", "future", id=…)`); the pages read the same
table through `dashboards.catalogue.ERRORS`. Data plus the lookup only: no imports.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # --- by code: what any refusal of that code says when nothing more precise is known --
    "invalid": ("Báo cáo không hợp lệ", "The report is invalid"),
    "forbidden": ("Không được phép", "Not allowed"),
    "regression": (
        "Số cử tri đã bầu thấp hơn số đã báo; nếu là đính chính, gửi lại với correction: true",
        "Turnout is lower than the accepted figure; send it again with correction: true"
        " if it is a correction",
    ),
    "rate_limited": ("Gửi quá nhanh; hãy thử lại sau", "Too many reports: retry later"),
    "too_large": (
        "Bản tin quá lớn (tối đa {limit} KiB)",
        "Frame too large (limit {limit} KiB)",
    ),
    "unavailable": (
        "Máy chủ tạm thời không ghi được dữ liệu; chưa lưu gì, hãy gửi lại sau",
        "The database is unavailable; nothing was stored, retry later",
    ),
    "auth_failed": (
        "Mã truy cập không đúng hoặc đã bị thu hồi",
        "Unknown or revoked token: ask the desk for a new one",
    ),
    # --- the report's fields (ingest.messages, server.reports) ----------------------------
    "invalid.id": ("Mã bản tin (id) phải là UUID", "id must be a UUID chosen by the client"),
    "invalid.id.reused": (
        "Mã bản tin này đã dùng cho một báo cáo khác (seq {seq})",
        "This id was already used for a different report (seq {seq}):"
        " use a new id for a new report",
    ),
    "invalid.type": (
        "Loại bản tin không đúng (cần 'hello' hoặc 'report')",
        "Unknown message type: expected 'hello' or 'report'",
    ),
    "invalid.kind": (
        "Loại báo cáo '{kind}' không tồn tại",
        "Unknown kind: expected one of {kinds}",
    ),
    "invalid.as_of": (
        "Thời điểm as_of phải theo ISO 8601 có múi giờ, ví dụ 2021-05-23T11:00:00+07:00",
        "as_of must be ISO 8601 with an offset, e.g. 2021-05-23T11:00:00+07:00",
    ),
    "invalid.as_of.window": (
        "as_of nằm ngoài thời gian bầu cử ({start:%d/%m/%Y} – {end:%d/%m/%Y})",
        "as_of is outside the election window ({start_iso} to {end_iso})",
    ),
    "invalid.as_of.future": (
        "as_of ở tương lai: kiểm tra đồng hồ của điện thoại",
        "as_of is in the future: check the phone's clock",
    ),
    "invalid.province": (
        "Mã tỉnh '{province}' không tồn tại",
        "Unknown province code: use the two-digit GSO code, e.g. '01'",
    ),
    "invalid.province.required": (
        "Tài khoản biên tập phải ghi rõ tỉnh (province) trong mỗi báo cáo",
        "An editor token must name the province in each report",
    ),
    "invalid.*.exactly_one": (
        "Cần đúng một trong hai: số cử tri đã bầu (voted) hoặc tỷ lệ (turnout_pct)",
        "Give exactly one of data.voted or data.turnout_pct",
    ),
    "invalid.*.above_registered": (
        "Số cử tri đã bầu ({voted:,}) lớn hơn số cử tri ({registered:,})",
        "voted ({voted:,}) is greater than registered ({registered:,})",
    ),
    "invalid.*.pair_missing": ("Thiếu {field}", "{field} is required with its pair"),
    "invalid.*.done_above_total": (
        "Số đã xong ({done}) lớn hơn tổng số ({total})",
        "{field} ({done}) is greater than {total_field} ({total})",
    ),
    "forbidden.province": (
        "Mã của văn phòng {own} không được báo cáo cho tỉnh {province}",
        "This bureau token reports for province {own} only, not {province}",
    ),
    "regression.data.voted": (
        "Số cử tri đã bầu thấp hơn số đã báo lúc {as_of} ({voted:,});"
        " nếu là đính chính, gửi lại với correction: true",
        "Turnout is lower than the accepted figure of {as_of} ({voted:,});"
        " resend with data.correction true if it corrects it",
    ),
    # --- results (§5) ---------------------------------------------------------------------
    "invalid.data.unit.unknown_unit": (
        "Tỉnh {province} không có đơn vị bầu cử số {unit} (có {units} đơn vị)",
        "Province {province} has no electoral unit {unit} (it has {units}): use the unit's number",
    ),
    "invalid.data.votes.missing_candidate": (
        "Thiếu số phiếu của ứng cử viên {candidate}: ghi số phiếu cho mọi người trong danh sách",
        "data.votes has no entry for candidate {candidate}: give every candidate of the unit",
    ),
    "invalid.data.votes.unknown_candidate": (
        "Ứng cử viên {candidate} không có trong danh sách của đơn vị {unit}",
        "Candidate {candidate} is not on the ballot of unit {unit}",
    ),
    "invalid.*.above_valid": (
        "Số phiếu của {candidate} ({votes:,}) lớn hơn số phiếu hợp lệ ({valid:,})",
        "{candidate} has {votes:,} votes, more than the {valid:,} valid ballots",
    ),
    "invalid.data.votes.sum_above_limit": (
        "Tổng số phiếu ({total:,}) lớn hơn số phiếu hợp lệ × số đại biểu được bầu ({limit:,})",
        "The votes add up to {total:,}, more than valid ballots × seats"
        " ({valid:,} × {seats} = {limit:,}): a ballot marks at most {seats} names",
    ),
    "invalid.candidate.not_elected": (
        "{candidate} không trúng cử: Hội đồng Bầu cử quốc gia chỉ xác nhận người trúng cử",
        "{candidate} is not elected: the Council confirms winners only",
    ),
    "regression.data.ballots_valid": (
        "Số phiếu hợp lệ thấp hơn kết quả đã nhận lúc {as_of} ({valid:,});"
        " nếu là đính chính, gửi lại với correction: true",
        "ballots_valid is lower than the accepted result of {as_of} ({valid:,});"
        " resend with data.correction true if it corrects it",
    ),
    "regression.data.stage": (
        "Đơn vị đã có kết quả chính thức lúc {as_of}; muốn sửa, gửi lại với correction: true",
        "The unit's final result of {as_of} is accepted; resend with data.correction true"
        " to correct it",
    ),
    "rate_limited.*.reports": (
        "Gửi quá nhanh; chờ vài giây rồi gửi lại",
        "Too many reports from this token; wait a few seconds and resend",
    ),
    # --- the frame and its JSON (ingest.messages) -----------------------------------------
    "invalid.*.not_json": (
        "Bản tin không phải JSON hợp lệ (UTF-8)",
        "The frame is not valid UTF-8 JSON: {detail}",
    ),
    "invalid.*.frame_not_object": (
        "Bản tin phải là một đối tượng JSON",
        "The frame must be a JSON object",
    ),
    "invalid.*.report_body_not_object": (
        "Bản tin phải là một đối tượng JSON",
        "The body must be a JSON object",
    ),
    "invalid.*.body_not_object": (
        "Nội dung phải là một đối tượng JSON",
        "The body must be a JSON object",
    ),
    "invalid.*.surrogate": (
        "{field} chứa ký tự không hợp lệ (nửa cặp UTF-16, như một emoji bị cắt)",
        "{field} holds a lone UTF-16 surrogate (e.g. half an emoji): not Unicode text",
    ),
    "invalid.*.surrogate_in_frame": (
        "Bản tin chứa ký tự không hợp lệ (nửa cặp UTF-16, như một emoji bị cắt)",
        "The frame holds a lone UTF-16 surrogate (e.g. half an emoji): not Unicode text",
    ),
    "invalid.*.unknown_field": (
        "Trường {field} không có trong hợp đồng",
        "Unknown field {field}: check its spelling against the contract",
    ),
    "invalid.*.null": (
        "Trường {field} là null: hãy gửi giá trị (trường không bắt buộc thì bỏ hẳn đi)",
        "{field} is null: send a value, or leave an optional field out"
        " (null never means the default)",
    ),
    "invalid.*.value": ("Giá trị của {field} không hợp lệ", "{field}: {detail}"),
    # --- query parameters and form fields (server.params, server.picture, …) -------------
    "invalid.limit": (
        "limit phải là số nguyên từ 1 đến {max}",
        "limit must be an integer from 1 to {max}",
    ),
    "invalid.*.unknown_province": ("Mã tỉnh không tồn tại", "Unknown province code"),
    "invalid.*.one_line": (
        "{field}: một dòng chữ, không có ký tự điều khiển",
        "{field} must be one line of text, without control characters",
    ),
    "invalid.*.moment": (
        "Tham số {field} phải là thời điểm ISO 8601, ví dụ 2021-05-23T15:00:00+07:00",
        "{field} must be an ISO 8601 time, e.g. 2021-05-23T15:00:00+07:00, or HH:MM",
    ),
    "invalid.*.moment_range": (
        "Tham số {field} phải trong khoảng năm {first}–{last}",
        "{field} must be between the years {first} and {last}",
    ),
    # --- JSON bodies (server.jsonio) --------------------------------------------------------
    "invalid.*.body_too_long": ("Quá dài", "Body too large"),
    "invalid.*.body_not_json": ("JSON không hợp lệ", "Body is not valid JSON"),
    "invalid.*.expected_object": ("Cần một đối tượng JSON", "Expected a JSON object"),
    # --- the bureau socket (server.hello, server.bureau) -----------------------------------
    "invalid.*.hello_first": (
        "Bản tin đầu tiên phải là hello",
        "The first message must be a hello",
    ),
    "invalid.type.authenticated": (
        "Đã đăng nhập; chỉ gửi báo cáo",
        "Already authenticated: send reports only",
    ),
    # --- charts (server.charts) --------------------------------------------------------------
    "unavailable.*.chart": (
        "Không vẽ được biểu đồ (trình duyệt xuất ảnh không chạy)",
        "The chart could not be rendered: {detail}",
    ),
    "invalid.provinces": (
        "provinces: tối đa {max} mã tỉnh, ví dụ 01,79",
        "provinces: at most {max} known province codes, e.g. 01,79",
    ),
    "invalid.lang": ("lang: vi, en, fr, es, zh hoặc ru", "lang must be one of vi en fr es zh ru"),
    "invalid.size": (
        "size: web, print, social-wide hoặc social-square",
        "size must be web, print, social-wide or social-square",
    ),
    # --- the desk (server.tokens, server.desk.*) ---------------------------------------------
    "invalid.role": ("Vai trò không hợp lệ", "role: bureau, editor or admin"),
    "invalid.phase": ("phase phải là 1, 2 hoặc 3", "phase must be 1, 2 or 3"),
    "invalid.format": ("format: html hoặc csv", "format must be html or csv"),
    "invalid.why": ("Lý do phải là chuỗi", "why must be a string"),
    "invalid.why.empty": ("Ghi chú cần nội dung", "An annotation needs a text"),
    "invalid.action.not_publishable": (
        "Chỉ tin an ninh, ghi chú và bầu lại mới có thể công khai",
        "Only security notes, notes and re-votes can be published",
    ),
    "invalid.*.required": ("Thiếu {field}", "{field} is required"),
    "invalid.*.not_a_number": ("{field} không hợp lệ", "{field} must be a number"),
    "invalid.*.out_of_range": ("{field} ngoài khoảng cho phép", "{field} is out of range"),
    "invalid.as_of.required": ("Thiếu thời điểm", "as_of is required"),
    # --- the desk's guard and sign-in (server.auth, server.desk.session) ---------------------
    "forbidden.*.editors": ("Chỉ dành cho biên tập viên", "Editors only"),
    "forbidden.*.admins": ("Chỉ dành cho quản trị viên", "Admins only"),
    "forbidden.*.cross_site": ("Yêu cầu từ trang khác", "Cross-site request refused"),
    "invalid.token.too_long": ("Quá dài", "Too long"),
    "invalid.token": ("Cần JSON {{token}}", "Expected JSON {{token}}"),
    "invalid.name": ("Tên phải là chuỗi", "name must be a string"),
    "invalid.name.one_line": (
        "Tên chỉ gồm một dòng chữ, không có ký tự điều khiển",
        "A name is one line of text, without control characters",
    ),
    "invalid.name.too_long": (
        "Tên quá dài (tối đa {max} ký tự)",
        "Name too long (at most {max} characters)",
    ),
    "rate_limited.token.signins": (
        "Nhập sai quá nhiều lần; hãy thử lại sau ít phút",
        "Too many wrong sign-ins; try again in a minute",
    ),
    # --- the board (server.board) ------------------------------------------------------------
    "invalid.name.no_chart": (
        "Không có biểu đồ {chart!r}; chọn một trong {charts}",
        "No chart {chart!r}; use one of {charts}",
    ),
    # --- photos (server.photos, server.images) -----------------------------------------------
    "invalid.photo": ("Ảnh phải là tệp JPEG hoặc PNG", "The photo must be a JPEG or PNG file"),
    "too_large.photo.decode": (
        "Ảnh quá lớn để xử lý ({size}): hãy gửi ảnh JPEG chụp từ điện thoại",
        "The photo is too large to decode ({size}, {why}): send the camera's JPEG",
    ),
    "too_large.photo.pixels": ("Ảnh quá lớn", "The photo has too many pixels"),
    "too_large.photo": ("Ảnh quá lớn", "The photo is too large"),
    "too_large.photo.upload": (
        "Ảnh quá lớn (tối đa {mb} MB)",
        "Upload too large (limit {mb} MB)",
    ),
    "rate_limited.photo.one_at_a_time": (
        "Đang gửi ảnh khác bằng mã này; gửi từng ảnh một",
        "Another photo from this token is still uploading: send one at a time",
    ),
    "rate_limited.photo.busy": (
        "Máy chủ đang bận xử lý ảnh; thử lại sau ít giây",
        "The server is busy with other photos: retry in a few seconds",
    ),
    "rate_limited.photo.per_minute": (
        "Gửi ảnh quá nhanh: tối đa {per_minute} ảnh mỗi phút; chờ rồi gửi lại",
        "Too many photos from this token: at most {per_minute} a minute; wait and resend",
    ),
    "rate_limited.province.photo_quota": (
        "Tỉnh này đã gửi đủ {quota} ảnh; hãy liên hệ ban biên tập",
        "This province has sent {quota} photos, all the desk takes: call the desk",
    ),
    "invalid.photo.not_multipart": ("Cần multipart/form-data", "Send multipart/form-data"),
    "invalid.photo.bad_upload": ("Dữ liệu gửi lên không hợp lệ", "Bad upload: {detail}"),
    "invalid.photo.missing": ("Thiếu ảnh", "The photo file is missing"),
    "invalid.caption": (
        "Cần chú thích (tối đa {max} ký tự)",
        "A caption is required (at most {max} characters)",
    ),
    "invalid.caption.control": (
        "Chú thích có ký tự điều khiển",
        "The caption holds control characters",
    ),
    "invalid.province.photo": ("Cần mã tỉnh", "Name the province"),
    "forbidden.province.photo": (
        "Văn phòng chỉ gửi ảnh của tỉnh mình",
        "A bureau sends photos of its own province only",
    ),
    "forbidden.*.unapproved_photos": (
        "Chỉ ảnh đã duyệt được công khai",
        "Only approved photos are public",
    ),
    "invalid.status": ("status không hợp lệ", "status: pending, approved, rejected or all"),
    # --- the connection guard (server.cli.connections) ---------------------------------------
    "unavailable.*.connections": (
        "Máy chủ đang đủ số kết nối, hãy thử lại sau",
        "The server is at its connection limit; retry later",
    ),
    "invalid.*.slow_request": ("Yêu cầu đến quá chậm", "The request arrived too slowly"),
}


class _Blank:
    """A slot nobody filled: shows as `{name}` whatever its format spec."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __format__(self, spec: str) -> str:
        return "{" + self.name + "}"


class _Values(dict):
    def __missing__(self, key: str) -> _Blank:
        return _Blank(key)


def lookup(code: str, field: str | None = None, reason: str = "") -> str:
    """The most precise key of `MESSAGES` for this refusal: `code.field.reason`,
    `code.*.reason`, `code.field`, then `code` (which need not exist: an unknown code)."""
    candidates = []
    if reason:
        if field is not None:
            candidates.append(f"{code}.{field}.{reason}")
        candidates.append(f"{code}.*.{reason}")
    if field is not None:
        candidates.append(f"{code}.{field}")
    for key in candidates:
        if key in MESSAGES:
            return key
    return code


def render(key: str, **values: Any) -> tuple[str, str]:
    """(vi, en) of `key` with its `{slots}` filled (a missing key reads as the key itself)."""
    filled = _Values(values)
    return tuple(text.format_map(filled) for text in MESSAGES.get(key, (key, key)))  # type: ignore[return-value]
