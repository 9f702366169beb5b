"""No route answers 5xx to what a caller sends: every route of the app's route table, with
every parameter it reads, out of range or of the wrong type, as anonymous, bureau and admin
callers. A refusal is a 4xx in the contract's error shape (issue 12, finding 8).

Query parameters: each route gets every bad value of each parameter it looks at when called
plainly (`Observed` notes the names), and one route (`EVERY_NAME_ON`) gets every name of
`QUERY`. A request differs from the plain one only by its bad parameter, so a route that
never looks at that name runs exactly as it does for the plain request: sending it every
name nobody reads proved the same thing 20 times over (and drew the phase summary's chart
253 times for the admin). What every request shares whatever the route (uvicorn's parser,
the middleware, Starlette's `QueryParams`) is swept with every name on `EVERY_NAME_ON`.
Bodies and path parameters are swept in full.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re

import httpx
import pytest
from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection
from starlette.routing import Route

from server.app import create_app
from tests.conftest import ROOT, serve_in_loop
from tests.conftest import test_settings as settings_for_tests

SERVER = ROOT / "server"
QUERY = (
    "at",
    "since",
    "limit",
    "lang",
    "size",
    "provinces",
    "download",
    "phase",
    "format",
    "layout",
    "slides",
    "seconds",
    "stale",
    "refresh",
    "status",
    "approved",
    "chart",
    "next",
    "province",
    "q",
    "unit",
    "dimension",
    "seats",
)
"""Every query parameter a route reads (`test_the_sweep_knows_every_parameter_a_route_reads`
keeps this list in step with the code)."""
BODY = (
    "province",
    "as_of",
    "turnout_pct",
    "voted",
    "registered",
    "source",
    "role",
    "label",
    "token",
    "name",
    "next",
    "why",
    "clock",
    "speed",
    "t",
    "caption",
    "kind",
    "data",
    "id",
    "type",
)
"""Every JSON body field a route reads."""
FAR_PAST = "0001-01-01T00:00:00+14:00"
FAR_FUTURE = "9999-12-31T23:59:59-14:00"
BAD_TEXT = (
    FAR_PAST,
    FAR_FUTURE,
    "0001-01-01",
    "99999999999999999999",
    "-1",
    "1e999",
    "nan",
    "24:61",
    "x" * 3000,
    "\x00",
    "[]",
)
BAD_JSON = (
    {},
    [],
    ["01"],
    True,
    -1,
    1e308,
    99999999999999999999,
    FAR_PAST,
    FAR_FUTURE,
    "\x00",
    "x" * 3000,
)
BASE_BODY = {
    "type": "report",
    "id": "6f1c4bba-6e0c-4a52-8a3e-55d3c7a1d2b0",
    "kind": "turnout",
    "as_of": "2021-05-23T11:00:00+07:00",
    "data": {"voted": 1},
    "province": "01",
    "turnout_pct": 50.0,
    "voted": 1,
    "registered": 2,
    "source": "sweep",
    "role": "bureau",
    "label": "sweep",
    "name": "sweep",
    "why": "sweep",
}
"""A body most POST routes take, so that one bad field is read past the required ones."""
BAD_IDS = ("0", "99999999999999999999", "18446744073709551616")
PATH_DEFAULTS = {"name": "map", "fmt": "json", "decision": "approve", "action": "verify"}
"""Path parameters of a plain request; ids are 0, a row that never exists (the sweep must
not revoke its own token)."""
EVERY_NAME_ON = ("GET", "/api/snapshot")
"""The route that gets every name of `QUERY` with every bad value, read or not: what the
query goes through before a route reads it is the same for every route."""
ANY = "*"
"""A route that looked at the whole query (iterated it, copied it, read the URL)."""


class Observed(QueryParams):
    """`request.query_params` during the sweep's plain requests: notes in `looked_at` each
    name the app looks up (`ANY` for the whole query)."""

    looked_at: set[str] = set()

    def get(self, key, default=None):
        self.looked_at.add(key)
        return super().get(key, default)

    def getlist(self, key):
        self.looked_at.add(key)
        return super().getlist(key)

    def __getitem__(self, key):
        self.looked_at.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.looked_at.add(key)
        return super().__contains__(key)

    def _whole(self):
        self.looked_at.add(ANY)

    def keys(self):
        self._whole()
        return super().keys()

    def values(self):
        self._whole()
        return super().values()

    def items(self):
        self._whole()
        return super().items()

    def multi_items(self):
        self._whole()
        return super().multi_items()

    def __iter__(self):
        self._whole()
        return super().__iter__()

    def __len__(self):
        self._whole()
        return super().__len__()

    def __eq__(self, other):
        self._whole()
        return super().__eq__(other)

    __hash__ = None

    def __str__(self):
        self._whole()
        return super().__str__()


@pytest.fixture
def observed(monkeypatch) -> set[str]:
    """Every `request.query_params` an `Observed`; reading `request.url` counts as looking at
    the whole query (`test_the_server_reads_a_query_only_where_the_sweep_observes_it`: the
    server reads a query no other way)."""
    plain_url = HTTPConnection.url.fget

    def query_params(self) -> QueryParams:
        if not hasattr(self, "_query_params"):
            self._query_params = Observed(self.scope["query_string"])
        return self._query_params

    def url(self):
        Observed.looked_at.add(ANY)
        return plain_url(self)

    monkeypatch.setattr(HTTPConnection, "query_params", property(query_params))
    monkeypatch.setattr(HTTPConnection, "url", property(url))
    Observed.looked_at = set()
    return Observed.looked_at


def http_routes() -> list[tuple[str, str, dict[str, str]]]:
    """(method, path template, {param: convertor}) of every HTTP route in the table."""
    app = create_app(settings_for_tests(), "postgresql://unused")
    out = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                params = {k: type(v).__name__ for k, v in route.param_convertors.items()}
                out.append((method, route.path, params))
    return out


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: values[m.group(1)], path)


def default_path(path: str, params: dict[str, str]) -> str:
    values = {
        k: PATH_DEFAULTS.get(k, "0" if conv == "IntegerConvertor" else "x")
        for k, conv in params.items()
    }
    return fill(path, values)


def paths_with_bad_ids(path: str, params: dict[str, str]) -> list[str]:
    """`path` with each of its parameters in turn out of range (ids) or junk (text)."""
    out = []
    for name, conv in params.items():
        bad = BAD_IDS if conv == "IntegerConvertor" else ("x" * 3000, "%00", "..")
        for value in bad:
            values = {
                k: PATH_DEFAULTS.get(k, "0" if c == "IntegerConvertor" else "x")
                for k, c in params.items()
            }
            values[name] = value
            out.append(fill(path, values))
    return out


def requests_for(
    method: str, path: str, params: dict[str, str], looked_at: set[str] | None = None
) -> list[dict]:
    """The hostile requests of one route: bad path parameters, each query parameter it looks
    at (`looked_at`; None or `ANY`: every one) with each bad text, and (for methods with a
    body) each body field with each bad JSON value, plus bodies that are not objects."""
    plain = default_path(path, params)
    out = [{"method": method, "url": p} for p in paths_with_bad_ids(path, params)]
    if method in ("GET", "DELETE"):
        names = QUERY if looked_at is None or ANY in looked_at else sorted(looked_at)
        for name, value in itertools.product(names, BAD_TEXT):
            out.append({"method": method, "url": plain, "params": {name: value}})
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        for name, value in itertools.product(BODY, BAD_JSON):
            out.append({"method": method, "url": plain, "json": {name: value}})
            out.append({"method": method, "url": plain, "json": {**BASE_BODY, name: value}})
        for body in ("[]", '"x"', "1e999", "{", '{"province": {"a": 1}}'):
            out.append({"method": method, "url": plain, "content": body.encode()})
        out.append(
            {"method": method, "url": plain, "files": {"province": (None, "x" * 3000)}},
        )
    return out


def test_the_sweep_knows_every_parameter_a_route_reads():
    """A parameter added to a route without being added here would escape the sweep."""
    # auth.py reads the session cookie's payload, not a request body.
    source = "\n".join(p.read_text() for p in SERVER.rglob("*.py") if p.name != "auth.py")
    read = set(re.findall(r"(?:query_params|\bq)\.get\(\s*\"(\w+)\"", source))  # query parameters
    body = set(re.findall(r"(?:\bdata|\bform|\bbody)\.get\(\s*\"(\w+)\"", source))
    body |= set(re.findall(r"number\(data, \"(\w+)\"", source))
    assert read <= set(QUERY), sorted(read - set(QUERY))
    assert body <= set(BODY) | {"photo"}, sorted(body - set(BODY))


def is_contract_error(response: httpx.Response) -> bool:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return False
    body = response.json()
    return body.get("type") == "error" and {"code", "field", "message"} <= set(body)


async def sweep(
    base: str, headers: dict[str, str], observed: set[str]
) -> tuple[list[str], list[str]]:
    """(5xx answers, 4xx answers not in the contract's shape) of every hostile request.
    The plain requests go one at a time, each noting the query names its route looks at."""
    server_errors: list[str] = []
    shapeless: list[str] = []
    gate = asyncio.Semaphore(6)
    limits = httpx.Limits(max_connections=6)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:

        async def one(req: dict) -> None:
            async with gate:
                r = await client.request(timeout=60, **req)
            body = req.get("json")
            if isinstance(body, dict) and len(body) > 1:  # BASE_BODY with one field changed
                body = {k: v for k, v in body.items() if BASE_BODY.get(k, ...) != v}
            shown = json.dumps(body) if "json" in req else req.get("content") or ""
            what = f"{req['method']} {r.request.url} {str(shown)[:100]}"
            if r.status_code >= 500 and r.status_code != 503:
                server_errors.append(f"{r.status_code} {what}: {r.text[:120]}")
            elif r.status_code == 503 and not is_contract_error(r):
                server_errors.append(f"503 without the contract's shape {what}")
            elif (
                400 <= r.status_code < 500
                and r.status_code not in (404, 405)
                and not r.headers.get("content-type", "").startswith("text/html")
                and not is_contract_error(r)
            ):
                shapeless.append(f"{r.status_code} {what}: {r.text[:120]}")

        routes = http_routes()
        plain, looked_at = [], []
        for m, p, c in routes:
            observed.clear()
            answer = await client.request(
                m, default_path(p, c), json=BASE_BODY if m == "POST" else None
            )
            plain.append(answer)
            looked_at.append(None if (m, p) == EVERY_NAME_ON else set(observed))
        assert EVERY_NAME_ON in {(m, p) for m, p, _ in routes}
        # Routes that refuse this caller at the door are swept by the callers they serve.
        work = [
            req
            for (m, p, c), answer, names in zip(routes, plain, looked_at, strict=True)
            if answer.status_code not in (401, 403)
            for req in requests_for(m, p, c, names)
        ]
        names_seen = set().union(*(n for n in looked_at if n is not None)) - {ANY}
        assert names_seen <= set(QUERY), sorted(names_seen - set(QUERY))
        await asyncio.gather(*(one(req) for req in work))
    return server_errors, shapeless


@pytest.mark.parametrize("who", ["anonymous", "bureau", "admin"])
async def test_no_route_answers_5xx_to_out_of_range_or_wrong_typed_parameters(
    db_url, observed, who
):
    async with serve_in_loop(db_url) as srv:
        headers = {"origin": srv.http}
        if who != "anonymous":
            token = await srv.token("01" if who == "bureau" else None, who)
            headers["authorization"] = f"Bearer {token}"
        server_errors, shapeless = await sweep(srv.http, headers, observed)
    assert not server_errors, "\n".join(sorted(server_errors)[:40])
    assert not shapeless, "\n".join(sorted(shapeless)[:40])


EDGES_OF_TIME = (FAR_PAST, FAR_FUTURE, "0001-01-01T00:00:00", "9999-12-31T23:59:59.999999+00:00")


async def test_moments_at_the_ends_of_time_are_refused_by_every_route_that_takes_one(server):
    """The probe's 500s: `at=` of the snapshot, the desk, the charts and the official list,
    an official figure's `as_of`, the election clock's `clock`."""
    editor = await server.token(role="editor")
    auth = {"authorization": f"Bearer {editor}", "origin": server.http}
    async with httpx.AsyncClient(base_url=server.http, headers=auth, timeout=60) as c:
        for moment in EDGES_OF_TIME:
            answers = {
                "snapshot": (await c.get("/api/snapshot", params={"at": moment}), "at"),
                "desk": (await c.get("/editor/api/desk", params={"at": moment}), "at"),
                "chart": (await c.get("/charts/map.json", params={"at": moment}), "at"),
                "officials": (await c.get("/editor/api/official", params={"at": moment}), "at"),
                "official": (
                    await c.post(
                        "/editor/api/official",
                        json={"turnout_pct": 50.0, "as_of": moment, "source": "NEC"},
                    ),
                    "as_of",
                ),
                "clock": (await c.post("/api/clock", json={"clock": moment, "speed": 1}), "clock"),
            }
            for what, (r, field) in answers.items():
                assert 400 <= r.status_code < 500, (what, moment, r.status_code, r.text[:200])
                assert is_contract_error(r) and r.json()["field"] == field, (what, r.text)


def test_the_server_reads_a_query_only_where_the_sweep_observes_it():
    """The sweep sends a route only the query names it saw the route look at, through
    `request.query_params` or `request.url`. A query read another way (the scope's raw
    `query_string`, a `URL` built from the scope, `parse_qs`) would escape it; the one raw
    read is the kept reads' "is there a query at all" (server/kept_reads.py), the same for
    every name and swept on `EVERY_NAME_ON`, one of the paths it keeps."""
    raw = re.compile(r"query_string|parse_qs|\bURL\(")
    readers = {
        str(p.relative_to(SERVER))
        for p in SERVER.rglob("*.py")
        if raw.search(p.read_text(encoding="utf-8"))
    }
    assert readers == {"kept_reads.py"}, readers
    from server.kept_reads import PATHS

    assert EVERY_NAME_ON[1] in PATHS


def test_a_route_is_swept_with_each_name_it_looks_at_or_all_when_it_looks_at_the_whole_query():
    lookups = QueryParams("at=1&lang=vi")
    Observed.looked_at = set()
    seen = Observed(b"at=1&lang=vi")
    assert seen.get("at") == lookups.get("at") and "lang" in seen and seen.get("q") is None
    assert Observed.looked_at == {"at", "lang", "q"}
    by_name = requests_for("GET", "/x", {}, {"at", "lang"})
    assert {name for r in by_name for name in r["params"]} == {"at", "lang"}
    assert len(by_name) == 2 * len(BAD_TEXT)
    dict(seen)
    assert ANY in Observed.looked_at
    for everything in (None, {ANY}):
        every = requests_for("GET", "/x", {}, everything)
        assert {name for r in every for name in r["params"]} == set(QUERY)
