"""`/api/openapi.json` stays in step with the code: valid OpenAPI 3.1, every public JSON
route of the app documented (and nothing documented that is not served), each schema its
model's current JSON Schema, and what the real server sends valid against the published
schemas (a partner's view, with plain JSON Schema)."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import jsonschema
import websockets
from openapi_spec_validator import validate
from pydantic import BaseModel, TypeAdapter
from starlette.routing import Route

from ingest import messages, outgoing
from ingest.openapi import PAGE_ROUTES, REF, openapi_document
from server.app import create_app
from tests import conftest
from tests.conftest import bureau, report

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def served_routes() -> dict[str, set[str]]:
    """The app's public JSON routes (`/api/…`, `/healthz`) → their methods, lower case."""
    app = create_app(conftest.test_settings(), "postgresql://127.0.0.1:1/unused")
    found: dict[str, set[str]] = {}

    def walk(routes, prefix: str = "") -> None:
        for route in routes:
            path = prefix + getattr(route, "path", "")
            if isinstance(route, Route):
                found.setdefault(path, set()).update(m.lower() for m in route.methods or ())
            elif getattr(route, "routes", None):
                walk(route.routes, path)

    walk(app.routes)
    public = {
        path: methods & HTTP_METHODS
        for path, methods in found.items()
        if (path.startswith("/api/") or path == "/healthz") and path not in PAGE_ROUTES
    }
    return public


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_public_json_route_is_documented_with_its_methods():
    documented = openapi_document()["paths"]
    for path, methods in served_routes().items():
        assert path in documented, f"{path} is served but not in /api/openapi.json"
        missing = methods - set(documented[path])
        assert not missing, f"{path}: {sorted(missing)} served but not documented"


def test_every_documented_path_is_served():
    served = served_routes()
    for path, operations in openapi_document()["paths"].items():
        assert path in served, f"{path} is documented but the app does not serve it"
        extra = set(operations) & HTTP_METHODS - served[path]
        assert not extra, f"{path}: {sorted(extra)} documented but not served"


def _model(name: str) -> type[BaseModel]:
    model = getattr(outgoing, name, None) or getattr(messages, name)
    assert isinstance(model, type) and issubclass(model, BaseModel), name
    return model


def test_each_schema_in_the_document_is_its_models_current_schema():
    components = openapi_document()["components"]["schemas"]
    for name, schema in components.items():
        current = TypeAdapter(_model(name)).json_schema(ref_template=REF)
        current.pop("$defs", None)
        assert schema == current, f"{name} differs from its model"


def test_the_websocket_messages_are_described_beside_the_paths():
    document = openapi_document()
    sockets = document["x-websocket"]
    assert set(sockets) == {"/ws/bureau", "/ws/live", "/ws/live/editor"}
    text = json.dumps(sockets)
    for model in (*outgoing.LIVE_MESSAGES, *outgoing.BUREAU_ANSWERS):
        assert REF.format(model=model.__name__) in text, model.__name__
    for shape in ("HelloMsg", "ReportMsg"):
        assert REF.format(model=shape) in text
    components = document["components"]["schemas"]
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in components, name


def _validator(document: dict, name: str) -> jsonschema.Draft202012Validator:
    """A plain JSON Schema validator for one published shape, refs resolved in the doc."""
    return jsonschema.Draft202012Validator(
        {"$ref": REF.format(model=name), "components": document["components"]}
    )


async def test_what_the_server_sends_is_valid_against_the_published_schemas(server):
    document = openapi_document()
    token = await server.token("01")
    async with websockets.connect(server.live_url()) as viewer:
        first = json.loads(await asyncio.wait_for(viewer.recv(), 10))
        _validator(document, "SnapshotMessage").validate(first)
        clock = json.loads(await asyncio.wait_for(viewer.recv(), 10))
        _validator(document, "ClockMessage").validate(clock)
        async with bureau(server, token) as b:
            ack = await b.send(report(voted=1000))
            error = await b.send(report(voted=-1))
            _validator(document, "Welcome").validate(b.welcome)
        _validator(document, "Ack").validate(ack)
        _validator(document, "Error").validate(error)
        update = json.loads(await asyncio.wait_for(viewer.recv(), 10))
        _validator(document, "Update" if update["type"] == "update" else "Batch").validate(update)
    async with httpx.AsyncClient(base_url=server.http) as c:
        _validator(document, "Picture").validate((await c.get("/api/snapshot")).json())
        _validator(document, "Health").validate((await c.get("/healthz")).json())
        _validator(document, "Units").validate((await c.get("/api/units")).json())
    wrong = {**first, "national": {**first["national"], "voted": 0, "extra": 1}}
    assert not _validator(document, "SnapshotMessage").is_valid(wrong)


async def test_the_server_serves_the_generated_document(server):
    async with httpx.AsyncClient(base_url=server.http) as c:
        r = await c.get("/api/openapi.json")
    assert r.status_code == 200, r.status_code
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == json.loads(json.dumps(openapi_document()))
