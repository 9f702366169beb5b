"""Who is asking, decided once per connection: bearer tokens and the editors' session.

Tokens are 32 random bytes, url-safe; the database keeps only their SHA-256. The lookup is
by hash (an index probe that reveals nothing about how much of a guess was right) and the
hash found is compared again with `hmac.compare_digest` (`store.find_bearer`).

`TokenBackend` (Starlette's `AuthenticationBackend`, run by `AuthenticationMiddleware`)
reads `Authorization: Bearer <token>` (parsed here and nowhere else) or, without that
header, the desk's session cookie. The cookie carries only a session's random id, signed
with itsdangerous (key: `VOTEWIRE_SECRET`, or one generated once and kept in
`VOTEWIRE_DATA/secret`, mode 0600); the session itself is a row in Postgres
(`store.session_bearer`, looked up on every request, joined with its token), so signing
out, revoking the token or reaching the expiry (`VOTEWIRE_SESSION_H`) ends it in every
process at once. The caller becomes `request.user` (a `Caller`) with its role's scopes:
`authenticated`, `bureau`, `editor` (editors and admins) or `admin`, and its token's id
goes on every log record of the request (`logs.acting_token`). A credential that is
unknown, revoked, ended or malformed leaves the request anonymous: public routes do not
care, guarded ones refuse.

`requires(scope)` guards a route: anonymous → 401 `auth_failed`; a request made with the
cookie that changes state from another site's page → 403 `forbidden`; a caller without
the scope → 403 `forbidden`. The refusals are rendered by `server.errors.handler`.
Sockets authenticate with their first frame instead (`server.hello`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import asyncpg
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from ingest.errors import ContractError, Forbidden, auth_failed, unavailable
from server import logs, store
from server.errors import error_json
from server.settings import ConfigError, Settings
from server.state import Votewire, votewire

log = logging.getLogger("votewire.auth")

TOKEN_MAX = 512
SESSION_COOKIE = "votewire_editor"
SESSION_SALT = "votewire.editor.session"
EDITOR_ROLES = ("editor", "admin")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SCOPES = {
    "bureau": ("authenticated", "bureau"),
    "editor": ("authenticated", "editor"),
    "admin": ("authenticated", "editor", "admin"),
}
"""What each role may do: an admin is also an editor."""


def new_token() -> str:
    """32 random bytes, url-safe; never starting with "-", which a command line would take
    for an option (`votewire tokens revoke --token -Ux…` fails in argparse)."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


@contextlib.asynccontextmanager
async def database(state: Votewire) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for checking a credential; any failure is `Unavailable`."""
    try:
        async with store.acquire(state.pool, state.settings.db_timeout_s) as conn:
            yield conn
    except ContractError:
        raise
    except Exception as exc:
        raise unavailable() from exc


async def bearer_for(state: Votewire, token: str) -> store.Bearer | None:
    """The bearer of `token`, None when unknown or revoked; `Unavailable` if the database is."""
    async with database(state) as conn:
        return await store.find_bearer(conn, token)


def clean_token(raw: str) -> str | None:
    """A token as typed or sent, stripped; None when empty or too long to be one."""
    token = raw.strip()
    return token if token and len(token) <= TOKEN_MAX else None


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization` header value, None unless it is `Bearer <token>`."""
    scheme, _, token = header.partition(" ")
    return clean_token(token) if scheme.lower() == "bearer" else None


# --- the session cookie -------------------------------------------------------------------


def secret_key(settings: Settings) -> str:
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
        time.sleep(0.02)  # another process is writing it
    raise ConfigError(f"{path} is empty: delete it or set VOTEWIRE_SECRET")


def signer(conn: HTTPConnection) -> URLSafeTimedSerializer:
    """The app's session signer, made at first use (that is when the key file is created)."""
    found = getattr(conn.app.state, "editor_sessions", None)
    if found is None:
        key = secret_key(votewire(conn).settings)
        found = conn.app.state.editor_sessions = URLSafeTimedSerializer(key, salt=SESSION_SALT)
    return found


async def open_session(conn: HTTPConnection, bearer: store.Bearer, name: str | None) -> str:
    """Record a new desk session for `bearer` and return the signed cookie value: a random
    id only (never the token, nor anything the database could turn into a cookie)."""
    state = votewire(conn)
    session_id = secrets.token_urlsafe(32)
    lasts_s = state.settings.desk.session_s
    async with database(state) as db:
        number = await store.open_session(db, session_id, bearer.token_id, name, lasts_s)
    log.info("session %s opened by token %s (%s)", number, bearer.token_id, name or "-")
    return signer(conn).dumps({"s": session_id})


def read_session(conn: HTTPConnection) -> str | None:
    """The session id the request's cookie carries, None without a cookie signed by us."""
    raw = conn.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = signer(conn).loads(raw, max_age=votewire(conn).settings.desk.session_s)
    except BadSignature:
        return None
    session_id = data.get("s") if isinstance(data, dict) else None
    return session_id if isinstance(session_id, str) and session_id else None


async def end_session(conn: HTTPConnection) -> int | None:
    """End the session of the request's cookie (signing out), in every process at once;
    its number, None when the cookie named no live session."""
    session_id = read_session(conn)
    if session_id is None:
        return None
    async with database(votewire(conn)) as db:
        number = await store.end_session(db, session_id)
    if number is not None:
        log.info("session %s ended (signed out)", number)
    return number


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


# --- the backend --------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller(BaseUser):
    """An authenticated caller: its token, the name an editor signed in with, and how."""

    bearer: store.Bearer
    name: str | None
    via: str
    """"bearer" (the Authorization header) or "session" (the desk's cookie)."""
    session_id: int | None = None
    """The session's number (`sessions.id`) when `via` is "session"."""

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.actor

    @property
    def identity(self) -> str:
        return str(self.bearer.token_id)

    @property
    def actor(self) -> str:
        return self.name or f"{self.bearer.role} #{self.bearer.token_id}"


class Unverifiable(AuthenticationError):
    """The credential could not be checked (the database is away)."""

    def __init__(self, error: ContractError) -> None:
        super().__init__(error.message_en)
        self.error = error


class TokenBackend(AuthenticationBackend):
    """The bearer header, else the session cookie (see the module docstring)."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Caller] | None:
        header = conn.headers.get("authorization")
        session_id = None
        if header is None:
            session_id = read_session(conn)
            if session_id is None:
                return None
        state = votewire(conn)
        caller = None
        try:
            if session_id is None:
                token = bearer_token(header or "")
                bearer = await bearer_for(state, token) if token else None
                if bearer is not None:
                    caller = Caller(bearer, None, "bearer")
            else:
                async with database(state) as db:
                    session = await store.session_bearer(db, session_id)
                if session is not None:
                    caller = Caller(session.bearer, session.name, "session", session.id)
        except ContractError as exc:
            raise Unverifiable(exc) from exc
        if caller is None:
            return None
        logs.acting_token.set(caller.bearer.token_id)
        return AuthCredentials(list(SCOPES[caller.bearer.role])), caller


def on_auth_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """`AuthenticationMiddleware`'s answer when a credential could not be checked."""
    return error_json(exc.error if isinstance(exc, Unverifiable) else auth_failed())


# --- the guard ----------------------------------------------------------------------------


def forbidden(reason: Literal["editors", "admins", "cross_site"] = "editors") -> Forbidden:
    """`forbidden` for `reason`: `editors` (only), `admins` (only), `cross_site`."""
    return Forbidden.of(None, reason)


def _wrong_role(scope: str) -> ContractError:
    if scope == "admin":
        return forbidden("admins")
    return forbidden()


def check(
    conn: HTTPConnection,
    scope: str,
    wrong_role: Callable[[str], ContractError] = _wrong_role,
) -> Caller:
    """The caller if it holds `scope`, else the refusal (see the module docstring)."""
    user = conn.user
    if not isinstance(user, Caller):
        raise auth_failed()
    if user.via == "session" and conn.scope.get("method", "GET") not in SAFE_METHODS:
        if not same_origin(conn):
            raise forbidden("cross_site")
    if scope not in conn.auth.scopes:
        raise wrong_role(scope)
    return user


def caller(conn: HTTPConnection) -> Caller:
    """The caller of a guarded route (`requires` has checked it)."""
    user = conn.user
    assert isinstance(user, Caller)
    return user


Endpoint = Callable[[Request], Awaitable[Response]]


def requires(
    scope: str, *, wrong_role: Callable[[str], ContractError] = _wrong_role
) -> Callable[[Endpoint], Endpoint]:
    """Guard an endpoint: only callers holding `scope` get through (`check`)."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            check(request, scope, wrong_role)
            return await endpoint(request)

        guarded.required_scope = scope  # type: ignore[attr-defined]
        return guarded

    return wrap


def required_scope(endpoint: Any) -> str | None:
    """The scope `requires` guards `endpoint` with (None: not guarded)."""
    return getattr(endpoint, "required_scope", None)
