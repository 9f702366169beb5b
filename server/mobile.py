"""The correspondent's mobile page `/report` (issue 5) and the two small APIs it reads.

- `GET /report`: the page (Jinja2, autoescaped), with the election's window and the
  contract's limits handed to its JavaScript so client-side checks mirror the server's.
- `GET /report-sw.js`: the page's service worker (keeps the page usable offline).
- `GET /api/me`: who the bearer token is: `{role, province, server_time, ...}`.
- `GET /api/my/reports?limit=`: the bearer's own recent reports, newest first.

Both APIs take the token as `Authorization: Bearer <token>` (`server.auth`) and refuse
with the contract's error shape (`auth_failed`, 401). Reports themselves go through `/ws/bureau` or
`POST /api/reports` (server/bureau.py); nothing here writes.
"""

from __future__ import annotations

from typing import Any

from annotated_types import MaxLen
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from dashboards import i18n, pages
from ingest.fixtures import provinces
from ingest.messages import DATA_MODELS, MAX_VOTERS
from server import params, store
from server.auth import caller, requires
from server.security import route_kind
from server.state import Votewire, votewire

SERVICE_WORKER = pages.STATIC_DIR / "report-sw.js"

MY_REPORTS_DEFAULT = 20
MY_REPORTS_MAX = 100

NOTE_TAGS = {
    "voters": ("ethnic", "first_time_voters", "elderly", "disabled", "transient", "abroad"),
    "areas": ("remote", "island", "border", "industrial"),
}
"""The note form's tag buttons: special voters, then special areas (protocol §1, `note`)."""


def _max_len(kind: str, name: str) -> int:
    """The contract's length limit of `data.<name>` for `kind`, read from its schema."""
    for item in DATA_MODELS[kind].model_fields[name].metadata:
        if isinstance(item, MaxLen):
            return item.max_length
    raise LookupError(f"{kind}.{name} has no length limit")


def page_config(app: Votewire) -> dict[str, Any]:
    """What the page's checks and defaults need, from the same settings the server uses."""
    election = app.settings.election
    start, end = election.window
    return {
        "zone": election.zone.key,
        "day": election.day.isoformat(),
        "window": [start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")],
        "future_slack_s": app.settings.future_slack.total_seconds(),
        "rehearsal": election.rehearsal,
        "clock": app.clock.message(),
        "max_voters": MAX_VOTERS,
        "max_text": _max_len("note", "text"),
        "max_short": _max_len("revote", "unit"),
        "max_tags": _max_len("note", "tags"),
        "max_frame": app.settings.max_frame,
        "tags": NOTE_TAGS,
        "provinces": [
            {"code": p.code, "name": p.name, "name_en": p.name_en, "registered": p.registered}
            for p in provinces()
        ],
    }


def _labels() -> dict[str, dict[str, str]]:
    return {lang: i18n.catalogue(lang) for lang in ("vi", "en")}


@route_kind("phone")
async def report_page(request: Request) -> Response:
    lang = "en" if request.query_params.get("lang") == "en" else "vi"
    labels = _labels()
    html = pages.env.get_template("report.html").render(
        lang=lang,
        t=labels[lang],
        boot={"config": page_config(votewire(request)), "labels": labels},
    )
    return HTMLResponse(html)


async def service_worker(request: Request) -> Response:
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@requires("authenticated")
async def me(request: Request) -> Response:
    app = votewire(request)
    bearer = caller(request).bearer
    province = None
    if bearer.province:
        p = app.provinces[bearer.province]
        province = {
            "code": p.code,
            "name": p.name,
            "name_en": p.name_en,
            "region": p.region3,
            "registered": p.registered,
        }
    return JSONResponse(
        {
            "role": bearer.role,
            "province": province,
            "server_time": app.now_local().isoformat(timespec="seconds"),
            "rehearsal": app.settings.election.rehearsal,
        },
        headers={"Cache-Control": "no-store"},
    )


@requires("authenticated")
async def my_reports(request: Request) -> Response:
    app = votewire(request)
    zone = app.settings.election.zone
    limit = params.limit(request, MY_REPORTS_DEFAULT, MY_REPORTS_MAX)
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        rows = await store.reports_of_token(conn, caller(request).bearer.token_id, limit)
    reports = [
        {
            **row,
            "as_of": row["as_of"].astimezone(zone).isoformat(timespec="seconds"),
            "received_at": row["received_at"].astimezone(zone).isoformat(timespec="seconds"),
        }
        for row in rows
    ]
    return JSONResponse({"reports": reports}, headers={"Cache-Control": "no-store"})


routes = [
    Route("/report", report_page),
    Route("/report-sw.js", service_worker),
    Route("/api/me", me),
    Route("/api/my/reports", my_reports),
]
