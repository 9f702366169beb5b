"""The editors' desk (issue 6): sign-in, the `/editor` pages and the editor API, official
figures, bureau photos and the phase summary.

Who may enter
    An editor or admin token signs in once (`POST /editor/signin`) and gets a session
    cookie: the token's id, signed with itsdangerous (key: `VOTEWIRE_SECRET`, or one
    generated once and kept in `VOTEWIRE_DATA/secret`, mode 0600), HttpOnly, SameSite=Strict,
    valid `VOTEWIRE_SESSION_H` hours and only while the token is not revoked (checked on
    every request). API clients may send `Authorization: Bearer <editor token>` instead.
    Everyone else is refused with the contract's error shape: no or a bad credential →
    401 `auth_failed`; a bureau token (or an editor at an admin endpoint) → 403 `forbidden`.
    A state-changing request made with the cookie must come from the desk's own origin.
    `/ws/live/editor` accepts the same cookie (server/live.py, `session_bearer`), so the page
    never holds the token.

Endpoints (every one under /editor and /charts is editors-only; see `PUBLIC_PATHS`)
    GET  /editor/signin, POST /editor/signin, POST /editor/signout
    GET  /editor                        the live desk
    GET  /editor/summary?phase=N[&format=csv]   printable phase summary (or CSV)
    GET  /editor/api/desk?at=           the picture (internal) + overdue flags + official
    GET  /editor/api/queue              the review queue
    GET  /editor/api/reports/{id}       one report and its audit log
    POST /editor/api/reports/{id}/{verify|publish|retract|annotate}   {"why": "..."}
    GET  /editor/api/official, POST /editor/api/official, POST .../{id}/withdraw
    GET  /editor/api/photos?status=, POST /editor/api/photos/{id}/{approve|reject},
    GET  /editor/photos/{id}.jpg        any status
    GET  /editor/api/tokens, POST /editor/api/tokens, POST /editor/api/tokens/{id}/revoke
                                        (admin only)
    POST /api/photos                    a bureau's upload (bearer token, multipart)
    GET  /api/photos                    approved photos (public), GET /photos/{id}.jpg

Desk settings: `server.settings.DeskSettings` (VOTEWIRE_CHECKPOINTS,
VOTEWIRE_CHECKPOINT_GRACE_MIN, VOTEWIRE_JUMP_PP, VOTEWIRE_NEIGHBOUR_PP, VOTEWIRE_SESSION_H,
VOTEWIRE_PHOTO_MAX_MB).

Overdue: a checkpoint has passed when the moment looked at (now, or the desk's `at=`
when it rewinds) is at least the grace after it; a province is overdue when its latest
turnout figure's `as_of` is before the last passed checkpoint (or it has none).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import os
import re
import secrets
import statistics
import time as _time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dashboards import i18n, pages
from ingest import fixtures as fx
from ingest.errors import ContractError, Forbidden, Invalid, TooLarge, auth_failed
from server import auth, store
from server.bureau import STATUS
from server.settings import ConfigError, DeskSettings

log = logging.getLogger("votewire.editor")

# --- settings ---------------------------------------------------------------------------


def desk_settings(app) -> DeskSettings:
    """The desk's settings (`app` is the Starlette app)."""
    return app.state.votewire.settings.desk


def _server_app():
    from server import app as app_module  # server.app imports this module

    return app_module


# --- errors and JSON --------------------------------------------------------------------


class NotFound(ContractError):
    code = "not_found"


def not_found(what: str) -> NotFound:
    return NotFound(f"Không tìm thấy {what}", f"No such {what}")


def refusal(exc: ContractError) -> Response:
    status = 404 if exc.code == "not_found" else STATUS.get(exc.code, 400)
    return json_response(exc.to_wire(), status=status)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(i18n.ELECTION_TZ).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=_default)


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        dumps(data),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


# --- sessions ---------------------------------------------------------------------------

SESSION_COOKIE = "votewire_editor"
SESSION_SALT = "votewire.editor.session"
EDITOR_ROLES = ("editor", "admin")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def secret_key(settings) -> str:
    """`settings.secret`, else the key kept in `data_dir/secret` (created once, 0600)."""
    if settings.secret:
        return settings.secret
    path = Path(settings.data_dir) / "secret"
    for _ in range(50):
        try:
            value = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            value = None
        if value:
            return value
        if value is None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            value = secrets.token_urlsafe(48)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(value + "\n")
            return value
        _time.sleep(0.02)  # another process is writing it
    raise ConfigError(f"{path} is empty: delete it or set VOTEWIRE_SECRET")


def _serializer(app) -> URLSafeTimedSerializer:
    found = getattr(app.state, "editor_sessions", None)
    if found is None:
        key = secret_key(app.state.votewire.settings)
        found = app.state.editor_sessions = URLSafeTimedSerializer(key, salt=SESSION_SALT)
    return found


def _session(conn: HTTPConnection) -> dict | None:
    raw = conn.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(conn.app).loads(raw, max_age=desk_settings(conn.app).session_s)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("t"), int) else None


def same_origin(conn: HTTPConnection) -> bool:
    """The request comes from a page of this server (or from no page at all: a script).

    Browsers say where a request comes from in `Sec-Fetch-Site` (current ones) or `Origin`;
    an `Origin` of "null" (a sandboxed or privacy-stripped context) is not ours."""
    site = conn.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == conn.headers.get("host", "") != ""


async def session_bearer(ws) -> store.Bearer | None:
    """The editor signed in with the desk's cookie on a same-origin socket, else None."""
    data = _session(ws)
    if data is None or not same_origin(ws):
        return None
    app = ws.app.state.votewire
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        bearer = await store.bearer_by_id(conn, data["t"])
    return bearer if bearer is not None and bearer.role in EDITOR_ROLES else None


@dataclass(frozen=True)
class Caller:
    bearer: store.Bearer
    name: str | None
    via: str

    @property
    def actor(self) -> str:
        return self.name or f"{self.bearer.role} #{self.bearer.token_id}"


def forbidden(vi: str = "Chỉ dành cho biên tập viên", en: str = "Editors only") -> Forbidden:
    return Forbidden(vi, en)


async def caller_of(request: Request, roles: tuple[str, ...] = EDITOR_ROLES) -> Caller:
    """Who is asking, or the refusal: `auth_failed` (401) or `forbidden` (403)."""
    app = request.app.state.votewire
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 512:
            raise auth_failed()
        bearer = await auth.bearer_for(app, token)
        name, via = None, "bearer"
    else:
        data = _session(request)
        if data is None:
            raise auth_failed()
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            bearer = await store.bearer_by_id(conn, data["t"])
        name, via = data.get("n") or None, "session"
        if bearer is not None and request.method not in SAFE_METHODS and not same_origin(request):
            raise forbidden("Yêu cầu từ trang khác", "Cross-site request refused")
    if bearer is None:
        raise auth_failed()
    if bearer.role not in roles:
        if "editor" in roles:
            raise forbidden()
        raise forbidden("Chỉ dành cho quản trị viên", "Admins only")
    return Caller(bearer, name, via)


Handler = Callable[[Request, Caller], Awaitable[Response]]


def guarded(
    roles: tuple[str, ...] = EDITOR_ROLES, *, page: bool = False
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """An endpoint for `roles` only: everyone else gets the contract's error (a browser
    asking for a page gets the sign-in form, still with the refusal's status)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                caller = await caller_of(request, roles)
            except ContractError as exc:
                if page and "text/html" in request.headers.get("accept", ""):
                    if exc.code == "auth_failed":  # a browser without a session: sign in
                        query = urlencode({"next": request.url.path, **request.query_params})
                        return RedirectResponse(f"/editor/signin?{query}", status_code=303)
                    return signin_page(request, status=STATUS.get(exc.code, 403), error=exc.code)
                return refusal(exc)
            try:
                return await handler(request, caller)
            except ContractError as exc:
                return refusal(exc)

        endpoint.editors_only = True  # type: ignore[attr-defined]
        return endpoint

    return wrap


# --- pages ------------------------------------------------------------------------------


def desk_lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def desk_labels(lang: str) -> dict[str, str]:
    i = 1 if lang == "en" else 0
    return {k: v[i] for k, v in i18n.DESK.items()}


def page_headers(request: Request) -> dict[str, str]:
    host = request.headers.get("host", "")
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; img-src 'self' data: blob:; "
        f"connect-src 'self' ws://{host} wss://{host}; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }


def signin_page(request: Request, *, status: int = 200, error: str | None = None) -> Response:
    lang = desk_lang(request)
    t = desk_labels(lang)
    message = {
        "auth_failed": t["err_unknown_token"],
        "forbidden": t["err_not_editor"],
    }.get(error or "")
    target = request.query_params.get("next") or request.url.path
    html = pages.render(
        "editor_signin.html",
        lang=lang,
        t=t,
        error=message,
        next=_safe_next(target),
    )
    return HTMLResponse(html, status_code=status, headers=page_headers(request))


def _safe_next(target: str) -> str:
    """Where to go after signing in: a desk page of this server, nothing else."""
    if not re.fullmatch(r"/editor(/summary)?", target):
        return "/editor"
    return target


async def signin_get(request: Request) -> Response:
    return signin_page(request)


async def signin_post(request: Request) -> Response:
    """A form (the page) or JSON `{"token", "name"}`: the cookie for an editor or admin."""
    app = request.app.state.votewire
    is_json = request.headers.get("content-type", "").startswith("application/json")
    try:
        if not same_origin(request):
            raise forbidden("Yêu cầu từ trang khác", "Cross-site request refused")
        body = await request.body()
        if len(body) > 4096:
            raise Invalid("Quá dài", "Too long", field="token")
        if is_json:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise Invalid("Cần JSON {token}", "Expected JSON {token}", field="token")
        else:
            form = await request.form()
            data = {k: form.get(k) for k in ("token", "name", "next")}
        token = str(data.get("token") or "").strip()
        name = str(data.get("name") or "").strip()[:80]
        if not token or len(token) > 512:
            raise auth_failed()
        bearer = await auth.bearer_for(app, token)
        if bearer is None:
            raise auth_failed()
        if bearer.role not in EDITOR_ROLES:
            raise forbidden()
    except ContractError as exc:
        if is_json:
            return refusal(exc)
        return signin_page(request, status=STATUS.get(exc.code, 400), error=exc.code)
    value = _serializer(request.app).dumps({"t": bearer.token_id, "n": name})
    target = _safe_next(str(data.get("next") or ""))
    if desk_lang(request) == "en" and "lang=" not in target:
        target += "?lang=en"
    response: Response
    if is_json:
        response = json_response({"role": bearer.role, "token_id": bearer.token_id})
    else:
        response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=desk_settings(request.app).session_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def signout(request: Request) -> Response:
    target = "/editor/signin" + ("?lang=en" if desk_lang(request) == "en" else "")
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def desk_config(request: Request, caller: Caller) -> dict[str, Any]:
    from dashboards import figures

    app = request.app.state.votewire
    election = app.settings.election
    ds = desk_settings(request.app)
    start, end = election.window
    return {
        "role": caller.bearer.role,
        "actor": caller.actor,
        "zone": election.zone.key,
        "day": election.day.isoformat(),
        "polls": [
            election.polls_open.isoformat("minutes"),
            election.polls_close.isoformat("minutes"),
        ],
        "window": [start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")],
        "rehearsal": election.rehearsal,
        "checkpoints": [c.isoformat("minutes") for c in ds.checkpoints],
        "grace_min": ds.grace.total_seconds() / 60,
        "charts": list(figures.FIGURES),
        "sizes": {k: list(v) for k, v in figures.SIZES.items()},
        "langs": list(i18n.LANGS),
        "regions": list(figures.REGIONS),
        "plotly_config": figures.PLOTLY_CONFIG,
        "provinces": [
            {"code": p.code, "name": p.name, "name_en": p.name_en, "region": p.region3}
            for p in fx.provinces()
        ],
    }


@guarded(page=True)
async def desk_page(request: Request, caller: Caller) -> Response:
    lang = desk_lang(request)
    html = pages.render(
        "editor.html",
        lang=lang,
        t=desk_labels(lang),
        boot={
            "config": desk_config(request, caller),
            "labels": desk_labels(lang),
            "catalogue": i18n.catalogue(lang),
        },
    )
    return HTMLResponse(html, headers=page_headers(request))


# --- the desk's data --------------------------------------------------------------------


def _moment(request: Request) -> datetime | None:
    raw = request.query_params.get("at")
    return _server_app().parse_at(raw, request.app.state.votewire) if raw else None


def checkpoint_moments(app, ds: DeskSettings) -> list[datetime]:
    return [app.settings.election.at(c) for c in ds.checkpoints]


def last_passed_checkpoint(app, ds: DeskSettings, now: datetime) -> datetime | None:
    passed = [c for c in checkpoint_moments(app, ds) if c + ds.grace <= now]
    return passed[-1] if passed else None


def overdue(entry: dict, checkpoint: datetime | None) -> bool:
    """No turnout figure with an `as_of` at or after the last passed checkpoint."""
    if checkpoint is None:
        return False
    as_of = entry.get("as_of")
    return as_of is None or datetime.fromisoformat(as_of) < checkpoint


def _official_view(rows: list[dict]) -> dict[str, Any]:
    """The latest official figure of the nation and of each province, with ours beside."""
    out: dict[str, Any] = {"national": None, "provinces": {}}
    for row in rows:  # newest first
        item = {
            "id": row["id"],
            "province": row["province"],
            "as_of": row["as_of"],
            "turnout_pct": row["turnout_pct"],
            "voted": row["voted"],
            "registered": row["registered"],
            "source": row["source"],
            "actor": row["actor"],
            "recorded_at": row["recorded_at"],
            "ours_pct": row["ours_pct"],
            "diff": None if row["ours_pct"] is None else row["ours_pct"] - row["turnout_pct"],
        }
        if row["province"] is None:
            out["national"] = out["national"] or item
        else:
            out["provinces"].setdefault(row["province"], item)
    return out


@guarded()
async def desk_data(request: Request, caller: Caller) -> Response:
    """The picture the desk shows (editors see everything), at `at=` or now, with each
    province's overdue flag and the official figures announced by then."""
    app = request.app.state.votewire
    ds = desk_settings(request.app)
    at = _moment(request)
    picture = await _server_app().read_picture(app, internal=True, at=at)
    now = at or app.now_local()
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        official = _official_view(await store.officials(conn, now, latest=True))
    checkpoint = last_passed_checkpoint(app, ds, now)
    for entry in picture["provinces"]:
        entry["overdue"] = overdue(entry, checkpoint)
        entry["official"] = official["provinces"].get(entry["code"])
    picture.update(
        live=at is None,
        checkpoint=checkpoint,
        overdue_count=sum(e["overdue"] for e in picture["provinces"]),
        official=official["national"],
    )
    return json_response(picture)


@functools.cache
def neighbours() -> dict[str, tuple[str, ...]]:
    """Provinces next to each other on the tile grid (8-neighbourhood)."""
    grid = fx.tile_grid()
    at = {rc: code for code, rc in grid.items()}
    out = {}
    for code, (r, c) in grid.items():
        near = [
            at[(r + dr, c + dc)]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (dr or dc) and (r + dr, c + dc) in at
        ]
        out[code] = tuple(near)
    return out


def out_of_line(latest: dict[str, dict], threshold: float) -> dict[str, float]:
    """code → the median of its neighbours' turnout, for provinces whose current figure is
    more than `threshold` points away from it (neighbours' figures within 30 minutes of its
    own, at least two of them)."""
    flagged = {}
    for code, row in latest.items():
        near = []
        for other in neighbours().get(code, ()):
            o = latest.get(other)
            if o is not None and abs((o["as_of"] - row["as_of"]).total_seconds()) <= 1800:
                near.append(o["turnout_pct"])
        if len(near) >= 2:
            median = statistics.median(near)
            if abs(row["turnout_pct"] - median) > threshold:
                flagged[code] = median
    return flagged


def queue_item(row: dict, jump_pp: float, median: float | None = None) -> dict:
    reasons = []
    if row["kind"] == "security":
        reasons.append("security")
    if row["kind"] == "note" and row["audience"] == "internal":
        reasons.append("internal_note")
    if row.get("correction"):
        reasons.append("correction")
    prev = row.get("prev_pct")
    if prev is not None and row.get("turnout_pct") is not None:
        move = row["turnout_pct"] - prev
        if abs(move) > jump_pp:
            reasons.append("jump" if move > 0 else "fall")
    if median is not None:
        reasons.append("neighbours")
    if row.get("actions") and not reasons:
        reasons.append("acted")
    p = fx.province_index().get(row["province"])
    return {
        "id": row["id"],
        "seq": row["seq"],
        "province": row["province"],
        "province_name": p.name if p else row["province"],
        "kind": row["kind"],
        "as_of": row["as_of"],
        "received_at": row["received_at"],
        "data": row["data"],
        "audience": row["audience"],
        "retracted": row["retracted"],
        "verified": row["verified"],
        "correction": row.get("correction", False),
        "turnout_pct": row.get("turnout_pct"),
        "prev_pct": prev,
        "prev_as_of": row.get("prev_as_of"),
        "neighbours_pct": median,
        "actions": row.get("actions", 0),
        "reasons": reasons,
    }


QUEUE_LIMIT = 300


@guarded()
async def queue(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    ds = desk_settings(request.app)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.review_queue(conn, jump_pp=ds.jump_pp, limit=QUEUE_LIMIT)
        latest = {r["province"]: r for r in await store.latest_turnout(conn)}
    flagged = out_of_line(latest, ds.neighbour_pp)
    items = {
        r["id"]: queue_item(
            r,
            ds.jump_pp,
            flagged.get(r["province"])
            if latest.get(r["province"], {}).get("id") == r["id"]
            else None,
        )
        for r in rows
    }
    for code, median in flagged.items():
        row = latest[code]
        if row["id"] not in items:
            items[row["id"]] = queue_item(row, ds.jump_pp, median)
    ordered = sorted(items.values(), key=lambda i: i["seq"] or 0, reverse=True)
    return json_response({"items": ordered, "jump_pp": ds.jump_pp, "neighbour_pp": ds.neighbour_pp})


def _report_id(request: Request) -> str:
    raw = request.path_params["report_id"]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise not_found("report") from None


@guarded()
async def report_detail(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    report_id = _report_id(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        row = await store.report_by_id(conn, report_id)
        if row is None:
            raise not_found("report")
        log_rows = await store.audit_log(conn, report_id)
    row.pop("token_id", None)
    return json_response({"report": row, "audit": log_rows})


ACTIONS = ("verify", "publish", "retract", "annotate")


async def _json_body(request: Request, limit: int = 16_384) -> dict:
    body = await request.body()
    if not body:
        return {}
    if len(body) > limit:
        raise Invalid("Quá dài", "Body too large")
    try:
        data = json.loads(body)
    except ValueError:
        raise Invalid("JSON không hợp lệ", "Body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Invalid("Cần một đối tượng JSON", "Expected a JSON object")
    return data


@guarded()
async def act(request: Request, caller: Caller) -> Response:
    """verify / publish / retract / annotate one report (store.apply_action), audited."""
    app = request.app.state.votewire
    action = request.path_params["action"]
    report_id = _report_id(request)
    if action not in ACTIONS:
        raise not_found("action")
    body = await _json_body(request)
    why = body.get("why")
    if why is not None and not isinstance(why, str):
        raise Invalid("Lý do phải là chuỗi", "why must be a string", field="why")
    why = (why or "").strip()[:2000] or None
    if action == "annotate" and not why:
        raise Invalid("Ghi chú cần nội dung", "An annotation needs a text", field="why")
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        out = await store.apply_action(
            conn,
            report_id,
            action,
            token_id=caller.bearer.token_id,
            actor=caller.actor,
            why=why,
            rehearsal=app.settings.election.rehearsal,
        )
    if out.outcome == "not_found":
        raise not_found("report")
    if out.outcome == "not_publishable":
        raise Invalid(
            "Chỉ tin an ninh và ghi chú mới có thể công khai",
            "Only security notes and notes can be published",
            field="action",
        )
    if out.outcome == "done" and out.seq is not None:
        app.hub.committed(out.seq)
        log.info("%s %s by %s", action, report_id, caller.actor)
    return json_response({"outcome": out.outcome, "seq": out.seq})


# --- official figures -------------------------------------------------------------------


def _official_rows(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["diff"] = None if row["ours_pct"] is None else row["ours_pct"] - row["turnout_pct"]
    return rows


@guarded()
async def official_list(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    at = _moment(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.officials(conn, at, latest=False)
    return json_response({"items": _official_rows(rows)})


def _number(data: dict, name: str, kind, *, low: float, high: float, required: bool) -> Any:
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise Invalid(f"Thiếu {name}", f"{name} is required", field=name)
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", ".").rstrip("%").strip()
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} không hợp lệ", f"{name} must be a number", field=name) from None
    if isinstance(value, bool) or not (low <= number <= high) or number != number:
        raise Invalid(f"{name} ngoài khoảng cho phép", f"{name} is out of range", field=name)
    return number


@guarded()
async def official_add(request: Request, caller: Caller) -> Response:
    """Record an official announcement: `{"province": null|"01", "turnout_pct": 95.65,
    "as_of": "17:30" or ISO, "source": "...", "voted"?, "registered"?}`."""
    app = request.app.state.votewire
    data = await _json_body(request)
    province = data.get("province") or None
    if province is not None and province not in app.provinces:
        raise Invalid("Mã tỉnh không tồn tại", "Unknown province code", field="province")
    pct = _number(data, "turnout_pct", float, low=0, high=100, required=True)
    voted = _number(data, "voted", int, low=0, high=200_000_000, required=False)
    registered = _number(data, "registered", int, low=1, high=200_000_000, required=False)
    raw_at = data.get("as_of")
    if not isinstance(raw_at, str) or not raw_at.strip():
        raise Invalid("Thiếu thời điểm", "as_of is required", field="as_of")
    try:
        as_of = _server_app().parse_at(raw_at.strip(), app)
    except ContractError as exc:
        exc.field = "as_of"
        raise
    source = str(data.get("source") or "").strip()[:300]
    if not source:
        source = i18n.DESK["official_source_default"][0]
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        new_id = await store.add_official(
            conn,
            province=province,
            as_of=as_of,
            turnout_pct=pct,
            voted=voted,
            registered=registered,
            source=source,
            token_id=caller.bearer.token_id,
            actor=caller.actor,
        )
    return json_response({"id": new_id}, status=201)


@guarded()
async def official_withdraw(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        count = await store.withdraw_official(conn, request.path_params["official_id"])
    if not count:
        raise not_found("official figure")
    return json_response({"withdrawn": True})


# --- photos -----------------------------------------------------------------------------

PHOTO_MAX_SIDE = 2560
"""Longer side of a stored photo (bigger ones are scaled down)."""
PHOTO_MAX_PIXELS = 50_000_000
"""Refused beyond this (a decompression bomb guard)."""
CAPTION_MAX = 300


def reencode(raw: bytes) -> tuple[bytes, int, int]:
    """JPEG or PNG bytes → a fresh JPEG without metadata (EXIF, GPS, ICC, comments), turned
    upright by its EXIF orientation and at most `PHOTO_MAX_SIDE` pixels on its longer side."""
    from PIL import Image, ImageOps, UnidentifiedImageError

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
    if declared and declared.isdigit() and int(declared) > limit + 65_536:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit + 65_536:
            raise too_big
    return bytes(body)


async def photo_upload(request: Request) -> Response:
    """`POST /api/photos` (multipart: `photo`, `caption`, and `province` for editors) with a
    bearer token: stored as a pending photo, re-encoded, until an editor approves it."""
    app = request.app.state.votewire
    limit = desk_settings(request.app).photo_max_bytes
    try:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 512:
            raise auth_failed()
        bearer = await auth.bearer_for(app, token)
        if bearer is None:
            raise auth_failed()
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise Invalid("Cần multipart/form-data", "Send multipart/form-data", field="photo")
        body = await _read_limited(request, limit)

        async def replay():
            yield body

        try:
            form = await MultiPartParser(
                request.headers, replay(), max_files=1, max_fields=5, max_part_size=limit
            ).parse()
        except MultiPartException as exc:
            raise Invalid(
                "Dữ liệu gửi lên không hợp lệ", f"Bad upload: {exc}", field="photo"
            ) from None
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
    except ContractError as exc:
        return refusal(exc)
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
    app = request.app.state.votewire
    if request.query_params.get("approved", "1") not in ("1", "true"):
        return refusal(
            forbidden("Chỉ ảnh đã duyệt được công khai", "Only approved photos are public")
        )
    try:
        async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
            rows = await store.photos(conn, status="approved", limit=100)
    except ContractError as exc:
        return refusal(exc)
    items = []
    for row in rows:
        view = _photo_view(row, "/photos")
        for private in ("reviewer", "status"):
            view.pop(private, None)
        items.append(view)
    return json_response({"photos": items}, headers={"Cache-Control": "public, max-age=10"})


async def _jpeg(request: Request, approved_only: bool) -> Response:
    app = request.app.state.votewire
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        jpeg = await store.photo_jpeg(
            conn, request.path_params["photo_id"], approved_only=approved_only
        )
    if jpeg is None:
        raise not_found("photo")
    cache = "public, max-age=60" if approved_only else "private, no-store"
    return Response(
        jpeg,
        media_type="image/jpeg",
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )


async def photo_public(request: Request) -> Response:
    try:
        return await _jpeg(request, approved_only=True)
    except ContractError as exc:
        return refusal(exc)


@guarded()
async def photo_private(request: Request, caller: Caller) -> Response:
    return await _jpeg(request, approved_only=False)


@guarded()
async def photo_list(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    status = request.query_params.get("status", "pending")
    if status not in ("pending", "approved", "rejected", "all"):
        raise Invalid(
            "status không hợp lệ", "status: pending, approved, rejected or all", field="status"
        )
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.photos(conn, status=None if status == "all" else status, limit=200)
    return json_response({"photos": [_photo_view(r, "/editor/photos") for r in rows]})


@guarded()
async def photo_review(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    decision = request.path_params["decision"]
    status = {"approve": "approved", "reject": "rejected"}.get(decision)
    if status is None:
        raise not_found("decision")
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        found = await store.review_photo(
            conn,
            request.path_params["photo_id"],
            status,
            token_id=caller.bearer.token_id,
            actor=caller.actor,
        )
    if not found:
        raise not_found("photo")
    return json_response({"status": status})


# --- tokens (admins) --------------------------------------------------------------------


@guarded(("admin",))
async def tokens_list(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.list_tokens(conn)
    return json_response({"tokens": rows})


@guarded(("admin",))
async def tokens_issue(request: Request, caller: Caller) -> Response:
    """`{"role": "bureau"|"editor"|"admin", "province": "01" (bureaus), "label": "..."}`:
    the new token, shown this once (only its hash is kept)."""
    app = request.app.state.votewire
    data = await _json_body(request)
    role = data.get("role")
    province = data.get("province") or None
    label = str(data.get("label") or "").strip()[:200] or None
    if role not in ("bureau", "editor", "admin"):
        raise Invalid("Vai trò không hợp lệ", "role: bureau, editor or admin", field="role")
    if role == "bureau" and province not in app.provinces:
        raise Invalid(
            "Mã của văn phòng cần mã tỉnh", "A bureau token needs a province", field="province"
        )
    if role != "bureau":
        province = None
    token = auth.new_token()
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        token_id = await store.issue_token(conn, token, role, province, label or caller.actor)
    log.info("token %s (%s %s) issued by %s", token_id, role, province or "", caller.actor)
    return json_response(
        {"id": token_id, "token": token, "role": role, "province": province}, status=201
    )


@guarded(("admin",))
async def tokens_revoke(request: Request, caller: Caller) -> Response:
    app = request.app.state.votewire
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        count = await store.revoke_token_id(conn, request.path_params["token_id"])
    if not count:
        raise not_found("token")
    log.info("token %s revoked by %s", request.path_params["token_id"], caller.actor)
    return json_response({"revoked": True})


# --- the phase summary ------------------------------------------------------------------

PHASES = (1, 2, 3)


def phase_span(election, phase: int) -> tuple[datetime, datetime]:
    """1 = early voting (window start → polling day), 2 = the polling day and its evening,
    3 = re-votes and supplementary votes (the day after → window end)."""
    day0 = datetime.combine(election.day, time(0), tzinfo=election.zone)
    day1 = day0 + timedelta(days=1)
    if phase == 1:
        return election.window_start, day0
    if phase == 2:
        return day0, day1
    if phase == 3:
        return day1, election.window_end
    raise Invalid("phase phải là 1, 2 hoặc 3", "phase must be 1, 2 or 3", field="phase")


def summary_moments(election, start: datetime, end: datetime) -> list[datetime]:
    """Hourly through the polls (and the evening) on the polling day, daily otherwise."""
    if end - start <= timedelta(days=1):
        first = election.at(election.polls_open)
        moments, t = [], first
        while t <= end:
            if t >= start:
                moments.append(t)
            t += timedelta(hours=1)
        return moments or [end]
    moments, t = [], start + timedelta(days=1)
    while t < end:
        moments.append(t)
        t += timedelta(days=1)
    return [*moments, end]


async def build_summary(state, phase: int, now: datetime | None = None) -> dict[str, Any]:
    """What a unit files after a phase: the public picture at the phase's end (or now),
    the turnout timeline through it, the re-vote units and the notes published in it."""
    election = state.settings.election
    start, end = phase_span(election, phase)
    now = now or state.now_local()
    moment = min(end, now)
    picture = await _server_app().read_picture(state, internal=False, at=moment)
    async with store.acquire(state.pool, state.settings.db_timeout_s) as conn:
        points = await store.timeline(
            conn, [m for m in summary_moments(election, start, end) if m <= moment]
        )
        revotes = await store.revotes_at(conn, moment)
        notes = await store.published_notes(conn, start, end)
        official = _official_view(await store.officials(conn, moment, latest=True))
    return {
        "phase": phase,
        "start": start,
        "end": end,
        "moment": moment,
        "complete": moment >= end,
        "rehearsal": election.rehearsal,
        "picture": picture,
        "timeline": [{"t": p["t"], **p["national"]} for p in points],
        "revotes": revotes,
        "notes": notes,
        "official": official,
    }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _default(value)
    return value


def summary_csv(summary: dict, lang: str = "vi") -> str:
    """Four blocks, each a title row then a header row: provinces, timeline, re-votes,
    published notes. Nulls are empty cells, never 0; figures unrounded."""
    from dashboards import export

    t = desk_labels("en" if lang == "en" else "vi")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(
        [f"# {t['summary']} – {t['phase_' + str(summary['phase'])]}", _cell(summary["moment"])]
    )
    w.writerow([f"# {t['summary_provinces']}"])
    out.write(export.picture_csv(summary["picture"], lang))
    w.writerow([])
    w.writerow([f"# {t['summary_timeline']}"])
    w.writerow(["t", "voted", "registered", "turnout_pct", "provinces_reporting"])
    for p in summary["timeline"]:
        w.writerow(
            [
                _cell(p["t"]),
                *(
                    _cell(p.get(k))
                    for k in ("voted", "registered", "turnout_pct", "provinces_reporting")
                ),
            ]
        )
    w.writerow([])
    w.writerow([f"# {t['summary_revotes']}"])
    w.writerow(["province", "unit", "level", "reason", "status", "as_of"])
    for r in summary["revotes"]:
        w.writerow(
            [_cell(r.get(k)) for k in ("province", "unit", "level", "reason", "status", "as_of")]
        )
    w.writerow([])
    w.writerow([f"# {t['summary_notes']}"])
    w.writerow(["seq", "province", "kind", "as_of", "text"])
    for n in summary["notes"]:
        w.writerow(
            [n["seq"], n["province"], n["kind"], _cell(n["as_of"]), n["data"].get("text", "")]
        )
    return out.getvalue()


def summary_chart_svg(summary: dict, lang: str) -> str | None:
    """The turnout timeline as an inline SVG (kaleido), None when it cannot be drawn."""
    from dashboards import export, figures

    picture = dict(summary["picture"])
    picture["timeline"] = {
        "national": [
            {"t": _default(p["t"]), "turnout_pct": p.get("turnout_pct")}
            for p in summary["timeline"]
        ]
    }
    try:
        fig = figures.build(
            "by_hour", picture, i18n.DEFAULT_LANG if lang not in i18n.LANGS else lang, "web"
        )
        svg = export.render(fig, "svg").decode("utf-8")
    except Exception as exc:  # no browser on this machine: the page goes without it
        log.warning("summary chart not drawn: %s", exc)
        return None
    return re.sub(r"^<\?xml[^>]*>", "", svg).strip()


def summary_html(summary: dict, lang: str = "vi", chart_svg: str | None = None) -> str:
    t = desk_labels("en" if lang == "en" else "vi")
    picture = summary["picture"]
    rows = []
    for p in picture["provinces"]:
        official = summary["official"]["provinces"].get(p["code"])
        rows.append(
            {
                "code": p["code"],
                "name": i18n.province_name(p["code"], lang),
                "region": i18n.region_name(p.get("region") or "", lang) if p.get("region") else "",
                "voted": i18n.fmt_int(p["voted"], lang) if p.get("voted") is not None else "—",
                "registered": i18n.fmt_int(p.get("registered"), lang)
                if p.get("registered")
                else "—",
                "pct": i18n.fmt_pct(p["turnout_pct"], lang)
                if p.get("turnout_pct") is not None
                else "—",
                "as_of": _hm(p.get("as_of")),
                "areas": (
                    f"{i18n.fmt_int(p['areas_done'], lang)}/{i18n.fmt_int(p['areas_total'], lang)}"
                    if p.get("areas_total")
                    else "—"
                ),
                "revotes": p.get("revote_units") or 0,
                "official": (
                    f"{i18n.fmt_pct(official['turnout_pct'], lang)} ({_hm(official['as_of'])})"
                    if official
                    else ""
                ),
            }
        )
    nat = picture["national"]
    return pages.render(
        "editor_summary.html",
        lang=lang,
        t=t,
        c=i18n.catalogue(lang),
        s=summary,
        rows=rows,
        national={
            "pct": i18n.fmt_pct(nat.get("turnout_pct"), lang),
            "voted": i18n.fmt_int(nat.get("voted"), lang) if nat.get("voted") is not None else "—",
            "registered": i18n.fmt_int(nat.get("registered"), lang)
            if nat.get("registered")
            else "—",
            "reporting": f"{nat.get('provinces_reporting')}/{nat.get('provinces_total')}",
            "revotes": nat.get("revote_units"),
        },
        official=_official_text(summary["official"]["national"], lang, t),
        moment=i18n.as_of_label(summary["moment"], lang),
        span=f"{_dmhm(summary['start'])} – {_dmhm(summary['end'])}",
        timeline=[
            {
                "t": _hm(p["t"]),
                "pct": i18n.fmt_pct(p.get("turnout_pct"), lang),
                "reporting": p.get("provinces_reporting"),
            }
            for p in summary["timeline"]
        ],
        revotes=[
            {
                **r,
                "name": i18n.province_name(r["province"], lang),
                "level_label": i18n.label(f"level_{r['level']}", lang),
                "reason_label": i18n.label(f"reason_{r['reason']}", lang),
                "status_label": i18n.label(f"revote_status_{r['status']}", lang),
            }
            for r in summary["revotes"]
        ],
        notes=[
            {
                "t": _dmhm(n["as_of"]),
                "name": i18n.province_name(n["province"], lang),
                "kind": i18n.label(f"kind_{n['kind']}", lang),
                "text": n["data"].get("text", ""),
            }
            for n in summary["notes"]
        ],
        chart_svg=chart_svg,
    )


def _official_text(official: dict | None, lang: str, t: dict[str, str]) -> str | None:
    if official is None:
        return None
    text = (
        f"{t['official']}: {i18n.fmt_pct(official['turnout_pct'], lang)}"
        f" ({_hm(official['as_of'])}, {official['source']})"
    )
    if official["diff"] is not None:
        diff = f"{official['diff']:+.2f}".replace("-", "\u2212")
        text += f" · {t['diff']} {diff.replace('.', i18n.separators(lang)[0])}"
    return text


def _hm(value: Any) -> str:
    local = i18n.to_local(value) if value else None
    return f"{local:%H:%M}" if local else "—"


def _dmhm(value: Any) -> str:
    local = i18n.to_local(value) if value else None
    return f"{local:%d/%m %H:%M}" if local else "—"


def _phase(request: Request, app) -> int:
    raw = request.query_params.get("phase")
    if raw is None:
        now = app.now_local()
        return next((p for p in PHASES if now < phase_span(app.settings.election, p)[1]), 3)
    if raw not in ("1", "2", "3"):
        raise Invalid("phase phải là 1, 2 hoặc 3", "phase must be 1, 2 or 3", field="phase")
    return int(raw)


async def _summary_response(request: Request, fmt: str) -> Response:
    app = request.app.state.votewire
    lang = desk_lang(request)
    phase = _phase(request, app)
    summary = await build_summary(app, phase)
    name = f"votewire-summary-phase{phase}-{summary['moment']:%Y%m%d-%H%M}"
    if fmt == "csv":
        return Response(
            "\ufeff" + summary_csv(summary, lang),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}.csv"',
                "Cache-Control": "no-store",
            },
        )
    chart = None
    if request.query_params.get("chart", "1") != "0":
        chart = await run_in_threadpool(summary_chart_svg, summary, lang)
    return HTMLResponse(summary_html(summary, lang, chart), headers=page_headers(request))


@guarded(page=True)
async def summary_page(request: Request, caller: Caller) -> Response:
    fmt = request.query_params.get("format", "html")
    if fmt not in ("html", "csv"):
        raise Invalid("format: html hoặc csv", "format must be html or csv", field="format")
    return await _summary_response(request, fmt)


@guarded()
async def summary_csv_route(request: Request, caller: Caller) -> Response:
    return await _summary_response(request, "csv")


# --- routes -----------------------------------------------------------------------------

PUBLIC_PATHS = frozenset(
    {"/editor/signin", "/editor/signout", "/api/photos", "/photos/{photo_id:int}.jpg"}
)
"""Routes of this module that are not editors-only (the sign-in itself, the bureau's upload
with its own bearer check, and the approved photos)."""

routes = [
    Route("/editor/signin", signin_get, methods=["GET"]),
    Route("/editor/signin", signin_post, methods=["POST"]),
    Route("/editor/signout", signout, methods=["POST"]),
    Route("/editor", desk_page),
    Route("/editor/summary", summary_page),
    Route("/editor/summary.csv", summary_csv_route),
    Route("/editor/api/desk", desk_data),
    Route("/editor/api/queue", queue),
    Route("/editor/api/reports/{report_id}", report_detail),
    Route("/editor/api/reports/{report_id}/{action}", act, methods=["POST"]),
    Route("/editor/api/official", official_list, methods=["GET"]),
    Route("/editor/api/official", official_add, methods=["POST"]),
    Route("/editor/api/official/{official_id:int}/withdraw", official_withdraw, methods=["POST"]),
    Route("/editor/api/photos", photo_list),
    Route("/editor/api/photos/{photo_id:int}/{decision}", photo_review, methods=["POST"]),
    Route("/editor/photos/{photo_id:int}.jpg", photo_private),
    Route("/editor/api/tokens", tokens_list, methods=["GET"]),
    Route("/editor/api/tokens", tokens_issue, methods=["POST"]),
    Route("/editor/api/tokens/{token_id:int}/revoke", tokens_revoke, methods=["POST"]),
    Route("/api/photos", photo_upload, methods=["POST"]),
    Route("/api/photos", photos_public, methods=["GET"]),
    Route("/photos/{photo_id:int}.jpg", photo_public),
]
