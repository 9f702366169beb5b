"""The live desk: the page `/editor` (table, map, queue, official figures, downloads) and
its data `/editor/api/desk?at=`, the internal picture with overdue flags and the official
figures announced by then. The page follows `/ws/live/editor` for what changes after."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from dashboards import figures, i18n, pages
from ingest import fixtures as fx
from server import store
from server.auth import Caller, caller, requires
from server.desk.labels import desk_labels, desk_lang
from server.desk.official import official_view
from server.desk.overdue import last_passed_checkpoint, overdue
from server.jsonio import json_response
from server.picture import moment, read_picture
from server.security import route_kind
from server.state import Votewire, votewire


def desk_config(app: Votewire, who: Caller) -> dict[str, Any]:
    """What the page's script needs: the election, the desk's settings, the charts."""
    election = app.settings.election
    ds = app.settings.desk
    start, end = election.window
    return {
        "role": who.bearer.role,
        "actor": who.actor,
        "zone": election.zone.key,
        "day": election.day.isoformat(),
        "polls": [
            election.polls_open.isoformat("minutes"),
            election.polls_close.isoformat("minutes"),
        ],
        "window": [start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")],
        "rehearsal": election.rehearsal,
        "clock": app.clock.message(),
        "checkpoints": [c.isoformat("minutes") for c in election.checkpoints],
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


@route_kind("desk")
@requires("editor")
async def desk_page(request: Request) -> Response:
    lang = desk_lang(request)
    html = pages.render(
        "editor.html",
        lang=lang,
        t=desk_labels(lang),
        boot={
            "config": desk_config(votewire(request), caller(request)),
            "labels": desk_labels(lang),
            "catalogue": i18n.catalogue(lang),
        },
    )
    return HTMLResponse(html)


@requires("editor")
async def desk_data(request: Request) -> Response:
    """The picture the desk shows (editors see everything), at `at=` or now, with each
    province's overdue flag and the official figures announced by then."""
    app = votewire(request)
    at = moment(request)
    picture = await read_picture(app, internal=True, at=at)
    now = at or app.now_local()
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        official = official_view(await store.officials(conn, now, latest=True))
    checkpoint = last_passed_checkpoint(app.settings.election, app.settings.desk, now)
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


routes = [Route("/editor", desk_page), Route("/editor/api/desk", desk_data)]
