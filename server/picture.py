"""Reading the picture (the national figures and every province's entry) now or at a
moment, for every route that shows one, and the public `GET /api/snapshot`.

`parse_at` reads the `at=` of every route that can rewind (snapshot, desk, charts) and the
desk's official `as_of`; `read_picture` is what a snapshot answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest.errors import Invalid
from ingest.messages import EARLIEST, LATEST, moment_in_range
from server import store
from server.bodies import EDITORS, PUBLIC_MOMENT, PUBLIC_NOW, answer, etag, kept_key
from server.jsonio import dumps
from server.security import route_kind
from server.settings import Election
from server.state import Votewire, votewire


def parse_at(raw: str, election: Election, field: str = "at") -> datetime:
    """`at=` as ISO 8601 (with an offset, or local without one), or a local time "15:00"
    on the election day; a moment at `datetime`'s ends (year 1 at +14:00) is `invalid`,
    never an overflow further on."""
    try:
        if len(raw) <= 5 and ":" in raw:
            return election.at(time.fromisoformat(raw))
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid.of(field, "moment") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=election.zone)
    if not moment_in_range(value):
        raise Invalid.of(field, "moment_range", first=EARLIEST.year, last=LATEST.year - 1)
    return value


def moment(request: Request) -> datetime | None:
    """The request's `at=` (None: now)."""
    raw = request.query_params.get("at")
    return parse_at(raw, votewire(request).settings.election) if raw else None


async def read_picture(app: Votewire, *, internal: bool, at: datetime | None) -> dict:
    """The picture as a snapshot gives it: `seq`, `at` (the moment asked, or now),
    `rehearsal`, `national`, `provinces`."""
    async with store.acquire(app.pool, app.settings.db_timeout_s) as conn:
        picture = await store.picture(conn, internal=internal, at=at)
    return snapshot_body(app, picture, at)


def snapshot_body(app: Votewire, picture: dict, at: datetime | None) -> dict:
    """The snapshot's body from the store's picture: `at` is the moment asked, else the
    election clock's now (`Votewire.at_text`)."""
    return {
        "seq": picture["seq"],
        "at": app.at_text(at),
        "rehearsal": app.settings.election.rehearsal,
        "national": picture["national"],
        "provinces": picture["provinces"],
    }


async def kept_answer(
    request: Request, name: str, read: Callable[..., Awaitable[dict]]
) -> Response:
    """A read body (`read(app, internal=, at=)`: the snapshot, the results) now from the
    kept bytes (server/bodies.py), or at a moment (`?at=`). Editors (bearer or session
    cookie) get the internal body, `private`, under their own ETag, never the public one."""
    app = votewire(request)
    editor = "editor" in request.auth.scopes
    audience = "internal" if editor else "public"
    at = moment(request)

    def fetch() -> Awaitable[dict]:
        return read(app, internal=editor, at=at)

    key = kept_key(name, audience)
    if at is None:
        body = await app.reads.now(key, fetch, dumps)
    else:
        body = await app.reads.moment(key, at.isoformat(), fetch, dumps)
    tag = etag(audience, body.seq, request.query_params.get("at"))
    if editor:
        control = EDITORS
    else:
        control = PUBLIC_NOW if at is None else PUBLIC_MOMENT
    return answer(request, body, app.at_text(at), tag, control)


@route_kind("read")
async def snapshot(request: Request) -> Response:
    return await kept_answer(request, "snapshot", read_picture)


routes = [Route("/api/snapshot", snapshot)]
