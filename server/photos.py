"""Bureau photos: a bureau uploads, an editor approves or rejects, the public sees the
approved ones.

    POST /api/photos                    a bureau's upload (bearer token, multipart:
                                        `photo`, `caption`, `province` for editors)
    GET  /api/photos                    approved photos, newest first (public)
    GET  /photos/{id}.jpg               an approved photo's bytes (public)
    GET  /editor/api/photos?status=     photos of a status (editors)
    POST /editor/api/photos/{id}/{approve|reject}
    GET  /editor/photos/{id}.jpg        a photo of any status (editors)

Every photo is stored re-encoded (`reencode`): a fresh JPEG without metadata (EXIF, GPS,
ICC, comments), upright, at most `PHOTO_MAX_SIDE` pixels; uploads are limited to
VOTEWIRE_PHOTO_MAX_MB. A photo takes no seq: the board sees an approval at its next read.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import fixtures as fx
from ingest.errors import ContractError, Forbidden, Invalid, TooLarge
from server import store
from server.auth import caller, requires
from server.errors import not_found
from server.jsonio import json_response
from server.state import votewire

PHOTO_MAX_SIDE = 2560
"""Longer side of a stored photo (bigger ones are scaled down)."""
PHOTO_MAX_PIXELS = 50_000_000
"""Refused beyond this (a decompression bomb guard)."""
CAPTION_MAX = 300
FORM_SLACK = 65_536
"""Bytes of a multipart body beyond the photo itself (boundaries, caption, province)."""
STATUSES = ("pending", "approved", "rejected", "all")
DECISIONS = {"approve": "approved", "reject": "rejected"}


def reencode(raw: bytes) -> tuple[bytes, int, int]:
    """JPEG or PNG bytes → a fresh JPEG without metadata (EXIF, GPS, ICC, comments), turned
    upright by its EXIF orientation and at most `PHOTO_MAX_SIDE` pixels on its longer side."""
    bad = Invalid(
        "Ảnh phải là tệp JPEG hoặc PNG", "The photo must be a JPEG or PNG file", field="photo"
    )
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in ("JPEG", "PNG"):
                raise bad
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise Invalid("Ảnh quá lớn", "The photo has too many pixels", field="photo")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
                img = img.convert("RGBA")
                flat = Image.new("RGB", img.size, (255, 255, 255))
                flat.paste(img, mask=img.getchannel("A"))
                img = flat
            else:
                img = img.convert("RGB")
            img.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            clean = Image.new("RGB", img.size)
            clean.paste(img)
            out = io.BytesIO()
            clean.save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue(), clean.width, clean.height
    except ContractError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise bad from None


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = TooLarge(
        f"Ảnh quá lớn (tối đa {limit // (1024 * 1024)} MB)",
        f"Upload too large (limit {limit // (1024 * 1024)} MB)",
        field="photo",
    )
    if declared and declared.isdigit() and int(declared) > limit + FORM_SLACK:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit + FORM_SLACK:
            raise too_big
    return bytes(body)


async def _form(request: Request, limit: int) -> FormData:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("Cần multipart/form-data", "Send multipart/form-data", field="photo")
    body = await _read_limited(request, limit)

    async def replay():
        yield body

    try:
        return await MultiPartParser(
            request.headers, replay(), max_files=1, max_fields=5, max_part_size=limit
        ).parse()
    except MultiPartException as exc:
        raise Invalid("Dữ liệu gửi lên không hợp lệ", f"Bad upload: {exc}", field="photo") from None


@requires("authenticated")
async def photo_upload(request: Request) -> Response:
    """`POST /api/photos`: stored as a pending photo, re-encoded, until an editor approves."""
    app = votewire(request)
    bearer = caller(request).bearer
    limit = app.settings.desk.photo_max_bytes
    form = await _form(request, limit)
    upload = form.get("photo")
    caption = form.get("caption")
    province = form.get("province") or bearer.province
    if upload is None or isinstance(upload, str):
        raise Invalid("Thiếu ảnh", "The photo file is missing", field="photo")
    raw = await upload.read(limit + 1)
    await form.close()
    if len(raw) > limit:
        raise TooLarge("Ảnh quá lớn", "The photo is too large", field="photo")
    if not isinstance(caption, str) or not caption.strip() or len(caption) > CAPTION_MAX:
        raise Invalid(
            f"Cần chú thích (tối đa {CAPTION_MAX} ký tự)",
            f"A caption is required (at most {CAPTION_MAX} characters)",
            field="caption",
        )
    if not isinstance(province, str) or province not in app.provinces:
        raise Invalid("Cần mã tỉnh", "Name the province", field="province")
    if bearer.role == "bureau" and province != bearer.province:
        raise Forbidden(
            "Văn phòng chỉ gửi ảnh của tỉnh mình",
            "A bureau sends photos of its own province only",
            field="province",
        )
    jpeg, width, height = await run_in_threadpool(reencode, raw)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        photo_id = await store.add_photo(
            conn,
            province=province,
            caption=caption.strip(),
            jpeg=jpeg,
            width=width,
            height=height,
            token_id=bearer.token_id,
        )
    return json_response(
        {"id": photo_id, "status": "pending", "width": width, "height": height, "bytes": len(jpeg)},
        status=201,
    )


def _photo_view(row: dict, base: str) -> dict:
    p = fx.province_index().get(row["province"])
    return {
        **row,
        "province_name": p.name if p else row["province"],
        "url": f"{base}/{row['id']}.jpg",
    }


async def photos_public(request: Request) -> Response:
    """Approved photos, newest first (the board's photo slide)."""
    app = votewire(request)
    if request.query_params.get("approved", "1") not in ("1", "true"):
        raise Forbidden("Chỉ ảnh đã duyệt được công khai", "Only approved photos are public")
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.photos(conn, status="approved", limit=100)
    items = []
    for row in rows:
        view = _photo_view(row, "/photos")
        for private in ("reviewer", "status"):
            view.pop(private, None)
        items.append(view)
    return json_response({"photos": items}, headers={"Cache-Control": "public, max-age=10"})


async def _jpeg(request: Request, approved_only: bool) -> Response:
    app = votewire(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        jpeg = await store.photo_jpeg(
            conn, request.path_params["photo_id"], approved_only=approved_only
        )
    if jpeg is None:
        raise not_found("photo")
    cache = "public, max-age=60" if approved_only else "private, no-store"
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": cache})


async def photo_public(request: Request) -> Response:
    return await _jpeg(request, approved_only=True)


@requires("editor")
async def photo_private(request: Request) -> Response:
    return await _jpeg(request, approved_only=False)


@requires("editor")
async def photo_list(request: Request) -> Response:
    app = votewire(request)
    status = request.query_params.get("status", "pending")
    if status not in STATUSES:
        raise Invalid(
            "status không hợp lệ", "status: pending, approved, rejected or all", field="status"
        )
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.photos(conn, status=None if status == "all" else status, limit=200)
    return json_response({"photos": [_photo_view(r, "/editor/photos") for r in rows]})


@requires("editor")
async def photo_review(request: Request) -> Response:
    app = votewire(request)
    who = caller(request)
    status = DECISIONS.get(request.path_params["decision"])
    if status is None:
        raise not_found("decision")
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        found = await store.review_photo(
            conn,
            request.path_params["photo_id"],
            status,
            token_id=who.bearer.token_id,
            actor=who.actor,
        )
    if not found:
        raise not_found("photo")
    return json_response({"status": status})


routes = [
    Route("/api/photos", photo_upload, methods=["POST"]),
    Route("/api/photos", photos_public, methods=["GET"]),
    Route("/photos/{photo_id:int}.jpg", photo_public),
    Route("/editor/api/photos", photo_list),
    Route("/editor/api/photos/{photo_id:int}/{decision}", photo_review, methods=["POST"]),
    Route("/editor/photos/{photo_id:int}.jpg", photo_private),
]
