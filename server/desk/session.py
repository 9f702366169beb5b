"""Signing in to the desk and out of it; how a desk page refuses a browser.

`POST /editor/signin` takes a form (the page) or JSON `{"token", "name"}` and, for an
editor or admin token, opens a server-side session (`server.auth.open_session`) and sets
its cookie (signed, HttpOnly, SameSite=Strict, `VOTEWIRE_SESSION_H` hours).
`POST /editor/signout` ends that session in every process at once: the old cookie is
refused on every desk route from then on. The request must come from the desk's own
origin (a login CSRF would sign a victim in as someone else).

The name goes into the audit trail and the logs: it must be one line of at most
`NAME_MAX` characters without control or bidirectional-control characters, else the
sign-in is refused (`invalid`, field `name`; nothing is normalised away silently but
Unicode NFC and the surrounding spaces; a control character anywhere is refused).

Guessing is limited per client address (`VOTEWIRE_SIGNIN_FAILURES` wrong tokens a minute,
counted in Postgres for every process; an IPv6 client counts by its /64): past the limit
429 `rate_limited` with `Retry-After` until the oldest failure is a minute old. Behind the
proxy the address is the forwarded one (uvicorn's proxy headers, `forwarded_allow_ips`).
Every failure is logged with the address, never with the token.

`error_page` renders the refusals of every desk page for a browser: no session → the
sign-in form (via a redirect that remembers where the editor was going), wrong role → the
form again, with why.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
import time
import unicodedata
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dashboards import pages
from ingest.errors import ContractError, Invalid, RateLimited, auth_failed
from server import auth, errors, store
from server.desk.labels import desk_labels, desk_lang
from server.jsonio import json_response
from server.security import route_kind
from server.state import Votewire, votewire

log = logging.getLogger("votewire.desk.session")

SIGNIN_PATH = "/editor/signin"
BODY_MAX = 4096
NAME_MAX = 80
"""The longest name an editor may sign in with (characters, after NFC)."""
SIGNIN_WINDOW_S = 60
"""`VOTEWIRE_SIGNIN_FAILURES` counts the failures of this many seconds."""
NOT_IN_NAMES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
"""Unicode categories refused in a name: controls, format (bidirectional and invisible)
characters, surrogates, private use, line and paragraph separators."""


def signin_page(
    request: Request, *, status: int = 200, error: ContractError | None = None
) -> Response:
    lang = desk_lang(request)
    t = desk_labels(lang)
    message = None
    if error is not None:
        message = {
            "auth_failed": t["err_unknown_token"],
            "forbidden": t["err_not_editor"],
        }.get(error.code) or (error.message_en if lang == "en" else error.message_vi)
    target = request.query_params.get("next") or request.url.path
    html = pages.render("editor_signin.html", lang=lang, t=t, error=message, next=safe_next(target))
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, exc: ContractError, status: int) -> Response:
    """A desk page's refusal, for a browser (`server.errors.handler` calls this)."""
    if exc.code == "auth_failed" and request.url.path != SIGNIN_PATH:
        query = urlencode({"next": request.url.path, **request.query_params})
        return RedirectResponse(f"{SIGNIN_PATH}?{query}", status_code=303)
    if exc.code in ("auth_failed", "forbidden") or request.url.path == SIGNIN_PATH:
        return signin_page(request, status=status, error=exc)
    return errors.error_page(request, exc, status)


def safe_next(target: str) -> str:
    """Where to go after signing in: a desk page of this server, nothing else."""
    if not re.fullmatch(r"/editor(/summary)?", target):
        return "/editor"
    return target


@route_kind("desk")
async def signin_get(request: Request) -> Response:
    return signin_page(request)


async def _credentials(request: Request, is_json: bool) -> dict:
    body = await request.body()
    if len(body) > BODY_MAX:
        raise Invalid.of("token", "too_long")
    if not is_json:
        form = await request.form()
        return {k: form.get(k) for k in ("token", "name", "next")}
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Invalid.of("token")
    return data


def editor_name(raw: object) -> str | None:
    """The name to audit an editor's actions by (None: none given), or `Invalid` (`name`)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise Invalid.of("name")
    name = unicodedata.normalize("NFC", raw)
    if any(unicodedata.category(c) in NOT_IN_NAMES for c in name):
        raise Invalid.of("name", "one_line")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise Invalid.of("name", "too_long", max=NAME_MAX)
    return name or None


def client_address(request: Request) -> str:
    """Whom sign-in failures are counted against: the client's address (the forwarded one
    behind a trusted proxy: uvicorn rewrote it), an IPv6 client by its /64 network."""
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def too_many(request: Request, retry_after: float) -> Response:
    """429 `rate_limited` saying in `Retry-After` when the address may try again."""
    exc = RateLimited.of("token", "signins")
    if "text/html" in request.headers.get("accept", ""):
        response = signin_page(request, status=429, error=exc)
    else:
        response = errors.error_json(exc, 429)
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


class Refused:
    """The addresses this process was told (by Postgres) to refuse, and until when: while a
    flood lasts its guesses are answered 429 from memory, without a query. Postgres stays
    the authority: an address is only remembered after it refused one, and for as long as
    it said. At most `MAX` addresses are kept (the oldest go first)."""

    MAX = 10_000

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    @staticmethod
    def of(request: Request) -> Refused:
        found = getattr(request.app.state, "signin_refused", None)
        if found is None:
            found = request.app.state.signin_refused = Refused()
        return found

    def retry_after(self, address: str) -> float | None:
        """Seconds the address must still wait, None when it is not refused here."""
        until = self._until.get(address)
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            del self._until[address]
            return None
        return left

    def remember(self, address: str, seconds: float) -> None:
        if len(self._until) >= self.MAX:
            now = time.monotonic()
            self._until = {a: u for a, u in self._until.items() if u > now}
            while len(self._until) >= self.MAX:
                del self._until[next(iter(self._until))]
        self._until[address] = time.monotonic() + seconds


async def _check_token(
    app: Votewire, request: Request, token: str | None
) -> store.Bearer | Response:
    """The bearer of `token` with the attempt charged to the client's address (and
    uncharged when the token was right), or the 429 once the address is past its limit."""
    address = client_address(request)
    refused = Refused.of(request)
    wait = refused.retry_after(address)
    if wait is not None:
        return too_many(request, wait)
    quota = app.settings.desk.signin_failures
    async with auth.database(app) as db:
        attempt = await store.signin_attempt(db, address, quota, SIGNIN_WINDOW_S)
    if attempt.id is None:
        wait = attempt.retry_after or SIGNIN_WINDOW_S
        refused.remember(address, wait)
        return too_many(request, wait)
    bearer = await auth.bearer_for(app, token) if token else None
    if bearer is not None:
        async with auth.database(app) as db:
            await store.signin_succeeded(db, attempt.id)
        return bearer
    log.warning(
        "desk sign-in failed from %s: unknown or revoked token (%s of %s a minute)",
        address,
        attempt.used,
        quota,
    )
    if attempt.used >= quota:
        log.warning("desk sign-in from %s refused for a minute: too many failures", address)
    raise auth_failed()


@route_kind("desk")
async def signin_post(request: Request) -> Response:
    """A form (the page) or JSON `{"token", "name"}`: the cookie for an editor or admin."""
    app = votewire(request)
    is_json = request.headers.get("content-type", "").startswith("application/json")
    if not auth.same_origin(request):
        raise auth.forbidden("cross_site")
    data = await _credentials(request, is_json)
    name = editor_name(data.get("name"))
    raw_token = data.get("token")
    token = auth.clean_token(raw_token) if isinstance(raw_token, str) else None
    bearer = await _check_token(app, request, token)
    if isinstance(bearer, Response):
        return bearer
    if bearer.role not in auth.EDITOR_ROLES:
        raise auth.forbidden()
    target = safe_next(str(data.get("next") or ""))
    if desk_lang(request) == "en" and "lang=" not in target:
        target += "?lang=en"
    response: Response
    if is_json:
        response = json_response({"role": bearer.role, "token_id": bearer.token_id})
    else:
        response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        await auth.open_session(request, bearer, name),
        max_age=app.settings.desk.session_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=app.settings.edge.secure_cookies or request.url.scheme == "https",
    )
    return response


async def signout(request: Request) -> Response:
    """End the cookie's session everywhere (the cookie is dropped too, but a copy kept
    elsewhere is refused from now on)."""
    await auth.end_session(request)
    target = SIGNIN_PATH + ("?lang=en" if desk_lang(request) == "en" else "")
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


routes = [
    Route(SIGNIN_PATH, signin_get, methods=["GET"]),
    Route(SIGNIN_PATH, signin_post, methods=["POST"]),
    Route("/editor/signout", signout, methods=["POST"]),
]
