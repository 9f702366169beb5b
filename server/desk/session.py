"""Signing in to the desk and out of it; how a desk page refuses a browser.

`POST /editor/signin` takes a form (the page) or JSON `{"token", "name"}` and, for an
editor or admin token, sets the session cookie (`server.auth`: signed, HttpOnly,
SameSite=Strict, `VOTEWIRE_SESSION_H` hours). The request must come from the desk's own
origin (a login CSRF would sign a victim in as someone else). `error_page` renders the
refusals of every desk page for a browser: no session → the sign-in form (via a redirect
that remembers where the editor was going), wrong role → the form again, with why.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dashboards import pages
from ingest.errors import ContractError, Invalid, auth_failed
from server import auth, errors
from server.desk.labels import desk_labels, desk_lang
from server.jsonio import json_response
from server.security import route_kind
from server.state import votewire

SIGNIN_PATH = "/editor/signin"
BODY_MAX = 4096


def signin_page(request: Request, *, status: int = 200, error: str | None = None) -> Response:
    lang = desk_lang(request)
    t = desk_labels(lang)
    message = {
        "auth_failed": t["err_unknown_token"],
        "forbidden": t["err_not_editor"],
    }.get(error or "")
    target = request.query_params.get("next") or request.url.path
    html = pages.render("editor_signin.html", lang=lang, t=t, error=message, next=safe_next(target))
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, exc: ContractError, status: int) -> Response:
    """A desk page's refusal, for a browser (`server.errors.handler` calls this)."""
    if exc.code == "auth_failed" and request.url.path != SIGNIN_PATH:
        query = urlencode({"next": request.url.path, **request.query_params})
        return RedirectResponse(f"{SIGNIN_PATH}?{query}", status_code=303)
    if exc.code in ("auth_failed", "forbidden") or request.url.path == SIGNIN_PATH:
        return signin_page(request, status=status, error=exc.code)
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
        raise Invalid("Quá dài", "Too long", field="token")
    if not is_json:
        form = await request.form()
        return {k: form.get(k) for k in ("token", "name", "next")}
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Invalid("Cần JSON {token}", "Expected JSON {token}", field="token")
    return data


@route_kind("desk")
async def signin_post(request: Request) -> Response:
    """A form (the page) or JSON `{"token", "name"}`: the cookie for an editor or admin."""
    app = votewire(request)
    is_json = request.headers.get("content-type", "").startswith("application/json")
    if not auth.same_origin(request):
        raise auth.forbidden("Yêu cầu từ trang khác", "Cross-site request refused")
    data = await _credentials(request, is_json)
    token = auth.clean_token(str(data.get("token") or ""))
    name = str(data.get("name") or "").strip()[:80]
    bearer = await auth.bearer_for(app, token) if token else None
    if bearer is None:
        raise auth_failed()
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
        auth.session_value(request, bearer.token_id, name),
        max_age=app.settings.desk.session_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def signout(request: Request) -> Response:
    target = SIGNIN_PATH + ("?lang=en" if desk_lang(request) == "en" else "")
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


routes = [
    Route(SIGNIN_PATH, signin_get, methods=["GET"]),
    Route(SIGNIN_PATH, signin_post, methods=["POST"]),
    Route("/editor/signout", signout, methods=["POST"]),
]
