"""The public API as an OpenAPI 3.1 document, generated from the declared shapes.

Served as `GET /api/openapi.json` for the partner media who poll the snapshot and for any
integrator. Every schema in it is pydantic's JSON Schema of a model in `ingest/messages.py`
(what comes in) or `ingest/outgoing.py` (what goes out), so the document cannot say other
than the code; `tests/test_openapi.py` keeps its paths in step with the app's route table.

OpenAPI has no words for WebSockets: the three sockets are described beside the paths, in
the `x-websocket` extension (per socket: what the client sends, what the server sends, the
close codes), with their messages in `components/schemas` like every other shape.

Not published: the JSON routes our own pages use (`PAGE_ROUTES`); they may change freely.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ingest import outgoing as out
from ingest.messages import ClockSetting, ConfirmationMsg, HelloMsg, ReportMsg

REF = "#/components/schemas/{model}"
CONTRACT_VERSION = "1.1"

PAGE_ROUTES: frozenset[str] = frozenset(
    {
        "/api/me",
        "/api/my/reports",
        "/api/photos",
        "/api/board/items",
        "/api/board/figure/{name}",
    }
)
"""JSON routes that serve our own pages (the phone, the board): not part of the API."""


MODELS: tuple[type[BaseModel], ...] = (
    out.Picture,
    out.Results,
    out.Units,
    out.Clock,
    ClockSetting,
    out.Health,
    out.Ack,
    out.Error,
    out.Welcome,
    out.SnapshotMessage,
    out.Update,
    out.Batch,
    out.Resync,
    out.ClockMessage,
    out.CandidateResult,
    HelloMsg,
    ReportMsg,
    ConfirmationMsg,
)
"""Every shape the document names; the models they contain come along."""


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def schemas() -> dict[str, Any]:
    """`components/schemas`: each declared model's JSON Schema, refs between them."""
    _, defs = models_json_schema([(m, "validation") for m in MODELS], ref_template=REF)
    return defs["$defs"]


def _json(model: type[BaseModel], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": ref(model)}},
        **extra,
    }


def _error(description: str, *, retry: bool = False) -> dict[str, Any]:
    headers = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
    return _json(out.Error, description, **({"headers": headers} if retry else {}))


AT = {
    "name": "at",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The picture of that moment: ISO 8601 with an offset "
    "(2021-05-23T15:00:00+07:00), a local time without one, or HH:MM on the election day.",
}
EDITOR = [{"bearer": []}]
UNAVAILABLE = _error("`unavailable`: the database cannot be reached; retry.", retry=True)
BAD_AT = _error("`invalid` (field `at`): the time is not readable.")
NO_TOKEN = _error("`auth_failed`: no token, or an unknown or revoked one.")
NOT_EDITOR = _error("`forbidden`: the token is not an editor's.")
CACHED = {
    "ETag": {"schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}, "description": "public, max-age=1 (5 with at)"},
}


def paths() -> dict[str, Any]:
    """The public HTTP API (contract §2, §1's HTTP twin, §5, §6), operation by operation."""
    clock_ok = _json(out.Clock, "The election clock now.")
    return {
        "/api/snapshot": {
            "get": {
                "summary": "The picture now, or at a moment (§2)",
                "description": "Provinces that have not reported carry nulls, never zeros. "
                "`seq` is the last change the picture includes: poll with If-None-Match.",
                "parameters": [AT],
                "responses": {
                    "200": _json(out.Picture, "The picture.", headers=CACHED),
                    "304": {"description": "Unchanged since the ETag given."},
                    "400": BAD_AT,
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/reports": {
            "post": {
                "summary": "Send a report (§1 over HTTP: the bureau socket's twin)",
                "description": "The same body and answers as on `/ws/bureau`; `type` may be "
                "omitted. A retry with the same `id` is acked `duplicate`.",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref(ReportMsg)}},
                },
                "responses": {
                    "200": _json(out.Ack, "Stored (or already stored under this id)."),
                    "401": NO_TOKEN,
                    "403": _error("`forbidden`: the province is not this token's."),
                    "409": _error("`regression`: lower than the accepted figure."),
                    "413": _error("`too_large`: over 64 KiB."),
                    "422": _error("`invalid`: shape, type or range; `field` names it."),
                    "429": _error("`rate_limited`.", retry=True),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/clock": {
            "get": {
                "summary": "The election clock (§6)",
                "responses": {"200": clock_ok},
            },
            "post": {
                "summary": "Set a replay's clock (§6; an editor's token)",
                "security": EDITOR,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref(ClockSetting)}},
                },
                "responses": {
                    "200": clock_ok,
                    "401": NO_TOKEN,
                    "403": NOT_EDITOR,
                    "422": _error("`invalid`: `field` names `clock` or `speed`."),
                },
            },
            "delete": {
                "summary": "Back to wall time (§6; an editor's token)",
                "security": EDITOR,
                "responses": {"200": clock_ok, "401": NO_TOKEN, "403": NOT_EDITOR},
            },
        },
        "/api/results": {
            "get": {
                "summary": "The count now, or at a moment (§5)",
                "description": "Public readers see public results only; editors (bearer or "
                "session cookie) see internal ones too, answered `Cache-Control: private` "
                "with an ETag of their own. `?at=` applies the law to the results of that "
                "moment.",
                "parameters": [AT],
                "responses": {
                    "200": _json(out.Results, "The results.", headers=CACHED),
                    "304": {"description": "Unchanged since the ETag given."},
                    "400": BAD_AT,
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/results/confirmation": {
            "post": {
                "summary": "Record the Council's decision on a winner (§5; an editor's token)",
                "description": "A change like any other (its own seq, on the feed, seen by "
                "`?at=` from its `as_of`, default the election clock). The same decision "
                "again changes nothing.",
                "security": EDITOR,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref(ConfirmationMsg)}},
                },
                "responses": {
                    "200": _json(out.CandidateResult, "The candidate's entry."),
                    "401": NO_TOKEN,
                    "403": NOT_EDITOR,
                    "404": _error("`not_found`: no such candidate."),
                    "422": _error("`invalid`: the candidate is not elected, or a bad body."),
                },
            }
        },
        "/api/units": {
            "get": {
                "summary": "The electoral units and their candidates (§5, reference data)",
                "description": "Public and cacheable (ETag, max-age 300): the ballot is fixed "
                "before the day. `province` narrows it to one province's units.",
                "parameters": [
                    {
                        "name": "province",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[0-9]{2}$"},
                    }
                ],
                "responses": {
                    "200": _json(out.Units, "The units."),
                    "304": {"description": "Unchanged since the ETag given."},
                    "400": _error("`invalid` (field `province`): no such province."),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness and readiness",
                "responses": {
                    "200": _json(out.Health, "Every check holds."),
                    "503": _json(out.Health, "A check fails (the body says which)."),
                },
            }
        },
    }


def _one_of(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    return {"oneOf": [ref(m) for m in models]}


def websockets() -> dict[str, Any]:
    """The sockets, beside the paths (`x-websocket`): what each side sends."""
    since = {
        "name": "since",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
        "description": "The last seq this viewer got: the missed updates follow when still "
        "retained (the first one's `prev` is `since`), else a snapshot.",
    }
    return {
        "/ws/bureau": {
            "summary": "Bureau ingest (§1)",
            "description": "First message `hello` with a bureau or editor token, answered "
            "`welcome`; then one answer per report, in order. A refused report never "
            "closes the socket, except for auth failures and abuse.",
            "client": _one_of((HelloMsg, ReportMsg)),
            "server": _one_of(out.BUREAU_ANSWERS),
            "close": {
                "4401": "auth_failed (no valid hello within 15 s)",
                "1008": "too many refusals in a row (abuse)",
                "1009": "a frame over the hard limit (1 MiB)",
                "1012": "the server is restarting: reconnect",
                "1013": "the database is unavailable: try again later",
            },
        },
        "/ws/live": {
            "summary": "The public live feed (§3)",
            "description": "A snapshot (or the missed updates), then the clock, then one "
            "update per change in seq order, possibly grouped in batches; `resync` and a "
            "fresh snapshot when this viewer fell behind. Internal items never appear.",
            "parameters": [since],
            "server": _one_of(out.LIVE_MESSAGES),
            "close": {
                "1008": "the viewer did not read even its resyncs",
                "1012": "the server is restarting: reconnect with since=",
                "1013": "the database is unavailable: reconnect later",
            },
        },
        "/ws/live/editor": {
            "summary": "The editors' live feed (§3): everything, internal items included",
            "description": "First message `hello` with an editor token (or the desk's "
            "session cookie), answered `welcome`; then as `/ws/live`.",
            "parameters": [since],
            "client": ref(HelloMsg),
            "server": _one_of((out.Welcome, *out.LIVE_MESSAGES)),
            "close": {"4401": "auth_failed"},
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process: the shapes do not change at run time).
    Callers must not mutate it."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "votewire",
            "version": CONTRACT_VERSION,
            "summary": "Election-day live turnout and results (wire contract v1.1)",
            "description": "JSON, UTF-8, times ISO 8601 with an offset (+07:00). Figures "
            "are unrounded; a province that has not reported carries nulls, never zeros. "
            "The WebSockets are described in `x-websocket`.",
        },
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `votewire tokens issue`.",
                }
            },
        },
        "x-websocket": websockets(),
    }
