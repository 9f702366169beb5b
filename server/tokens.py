"""Token administration for admins: list, issue and revoke tokens from the desk.

    GET  /editor/api/tokens              every token ever issued (never a secret)
    POST /editor/api/tokens              {"role", "province" (bureaus), "label"}: the new
                                         token, shown this once (only its hash is kept)
    POST /editor/api/tokens/{id}/revoke  effective at once: the token's open sockets on
                                         every server process are closed (4401 "revoked")
                                         within a second (`server.revocation`)

The command line does the same with `votewire tokens` (server/cli/tokens.py).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest.errors import Invalid
from server import params, store
from server.auth import caller, new_token, requires
from server.errors import not_found
from server.jsonio import json_body, json_response
from server.state import votewire

log = logging.getLogger("votewire.editor")

ROLES = ("bureau", "editor", "admin")
LABEL_MAX = 200


@requires("admin")
async def tokens_list(request: Request) -> Response:
    app = votewire(request)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.list_tokens(conn)
    return json_response({"tokens": rows})


@requires("admin")
async def tokens_issue(request: Request) -> Response:
    app = votewire(request)
    actor = caller(request).actor
    data = await json_body(request)
    role = data.get("role")
    label = params.line(data, "label", LABEL_MAX)
    if role not in ROLES:
        raise Invalid.of("role")
    province = params.province(data, app.provinces, required=True) if role == "bureau" else None
    token = new_token()
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        token_id = await store.issue_token(conn, token, role, province, label or actor)
    log.info("token %s (%s %s) issued by %s", token_id, role, province or "", actor)
    return json_response(
        {"id": token_id, "token": token, "role": role, "province": province}, status=201
    )


@requires("admin")
async def tokens_revoke(request: Request) -> Response:
    app = votewire(request)
    token_id = params.row_id(request, "token_id", "token")
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        count = await store.revoke_tokens(conn, token_id=token_id)
    if not count:
        raise not_found("token")
    app.hub.notice("revoke")  # the other processes hear the database's NOTIFY
    log.info("token %s revoked by %s", request.path_params["token_id"], caller(request).actor)
    return json_response({"revoked": True})


routes = [
    Route("/editor/api/tokens", tokens_list, methods=["GET"]),
    Route("/editor/api/tokens", tokens_issue, methods=["POST"]),
    Route("/editor/api/tokens/{token_id:int}/revoke", tokens_revoke, methods=["POST"]),
]
