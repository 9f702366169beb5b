"""Bureau photos: a bureau uploads, an editor approves or rejects, the public sees the
approved ones.

    POST /api/photos                    a bureau's upload (bearer token, multipart:
                                        `photo`, `caption`, `province` for editors)
    GET  /api/photos                    approved photos, newest first (public)
    GET  /photos/{id}.jpg               an approved photo's bytes (public)
    GET  /editor/api/photos?status=     photos of a status (editors)
    POST /editor/api/photos/{id}/{approve|reject}
    GET  /editor/photos/{id}.jpg        a photo of any status (editors)

Every photo is stored re-encoded (server/images.py): a fresh JPEG without metadata, upright,
at most `images.MAX_SIDE` pixels, decoded within a memory budget, two at a time per
process. An upload costs, in this order: a place among the uploads in flight (`InFlight`:
`UPLOADS_IN_FLIGHT` per process, `UPLOADS_PER_TOKEN` per token), the body (at most
VOTEWIRE_PHOTO_MAX_MB), the token's rate (VOTEWIRE_PHOTO_PER_MIN) and the province's quota
(VOTEWIRE_PHOTO_QUOTA), checked before the decode and again, under a lock, as the photo is
stored; every one of them refuses with `429 rate_limited` + `Retry-After` and stores
nothing. A photo takes no seq: the board sees an approval at its next read.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterator

from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import fixtures as fx
from ingest.errors import Forbidden, Invalid, RateLimited, TooLarge
from server import store
from server.auth import caller, requires
from server.errors import not_found
from server.images import DECODER
from server.jsonio import json_response
from server.settings import Settings
from server.state import votewire

CAPTION_MAX = 300
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters a caption may not hold (line breaks and tabs it may; Postgres text
cannot hold NUL at all)."""
FORM_SLACK = 65_536
"""Bytes of a multipart body beyond the photo itself (boundaries, caption, province)."""
STATUSES = ("pending", "approved", "rejected", "all")
DECISIONS = {"approve": "approved", "reject": "rejected"}
UPLOADS_IN_FLIGHT = 16
"""Uploads one process receives or decodes at once (each holds its body, ≤ 2 × the limit)."""
UPLOADS_PER_TOKEN = 2
"""Uploads one token may have in flight at once (a phone sends one; a retry may overlap)."""


class InFlight:
    """The uploads this process is receiving or decoding, counted per process and per
    token, so that a burst is refused before it costs a body or a decode, not after."""

    def __init__(self, total: int, per_token: int) -> None:
        self.total, self.per_token = total, per_token
        self._tokens: Counter[tuple[int, int]] = Counter()

    @contextlib.contextmanager
    def admit(self, key: tuple[int, int]) -> Iterator[None]:
        """Hold a place for the upload of `key` (the app's state id, the token's id)."""
        if self._tokens[key] >= self.per_token:
            raise RateLimited.of("photo", "one_at_a_time")
        if self._tokens.total() >= self.total:
            raise RateLimited.of("photo", "busy")
        self._tokens[key] += 1
        try:
            yield
        finally:
            self._tokens[key] -= 1
            if not self._tokens[key]:
                del self._tokens[key]


UPLOADS = InFlight(UPLOADS_IN_FLIGHT, UPLOADS_PER_TOKEN)
"""This process's uploads in flight."""


def photo_limits(settings: Settings) -> store.PhotoLimits:
    """The photo rate and quota of these settings."""
    return store.PhotoLimits(settings.desk.photo_per_min, settings.desk.photo_quota)


def check_usage(usage: store.PhotoUsage, limits: store.PhotoLimits) -> None:
    """Refuse (`rate_limited`) an upload past the token's rate or the province's quota."""
    if usage.recent >= limits.per_minute:
        too_fast = RateLimited.of("photo", "per_minute", per_minute=limits.per_minute)
        too_fast.retry_after_s = 60  # at most: the oldest of the minute (RATE_WINDOW) ages out
        raise too_fast
    if usage.province >= limits.quota:
        used_up = RateLimited.of("province", "photo_quota", quota=limits.quota)
        used_up.retry_after_s = 0  # waiting will not help: no Retry-After
        raise used_up


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = TooLarge.of("photo", "upload", mb=limit // (1024 * 1024))
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
        raise Invalid.of("photo", "not_multipart")
    body = await _read_limited(request, limit)

    async def replay():
        yield body

    try:
        return await MultiPartParser(
            request.headers, replay(), max_files=1, max_fields=5, max_part_size=limit
        ).parse()
    except MultiPartException as exc:
        raise Invalid.of("photo", "bad_upload", detail=exc) from None


async def _received(request: Request, bearer: store.Bearer) -> tuple[bytes, str, str]:
    """The upload's photo bytes, caption and province, checked (not yet decoded)."""
    app = votewire(request)
    limit = app.settings.desk.photo_max_bytes
    form = await _form(request, limit)
    upload = form.get("photo")
    caption = form.get("caption")
    province = form.get("province") or bearer.province
    if upload is None or isinstance(upload, str):
        raise Invalid.of("photo", "missing")
    raw = await upload.read(limit + 1)
    await form.close()
    if len(raw) > limit:
        raise TooLarge.of("photo")
    if not isinstance(caption, str) or not caption.strip() or len(caption) > CAPTION_MAX:
        raise Invalid.of("caption", max=CAPTION_MAX)
    if CONTROL.search(caption):
        raise Invalid.of("caption", "control")
    if not isinstance(province, str) or province not in app.provinces:
        raise Invalid.of("province", "photo")
    if bearer.role == "bureau" and province != bearer.province:
        raise Forbidden.of("province", "photo")
    return raw, caption.strip(), province


@requires("authenticated")
async def photo_upload(request: Request) -> Response:
    """`POST /api/photos`: stored as a pending photo, re-encoded, until an editor approves."""
    app = votewire(request)
    bearer = caller(request).bearer
    bound = photo_limits(app.settings)
    with UPLOADS.admit((id(app), bearer.token_id)):
        raw, caption, province = await _received(request, bearer)
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            check_usage(
                await store.photo_usage(conn, token_id=bearer.token_id, province=province), bound
            )
        image = await DECODER.reencode(raw)
        del raw
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            added = await store.add_photo(
                conn,
                province=province,
                caption=caption,
                jpeg=image.jpeg,
                width=image.width,
                height=image.height,
                token_id=bearer.token_id,
                limits=bound,
            )
    if isinstance(added, store.PhotoUsage):
        check_usage(added, bound)
        raise AssertionError("add_photo refused a photo within its limits")
    return json_response(
        {
            "id": added,
            "status": "pending",
            "width": image.width,
            "height": image.height,
            "bytes": len(image.jpeg),
        },
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
        raise Forbidden.of(None, "unapproved_photos")
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
        raise Invalid.of("status")
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
