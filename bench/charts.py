"""Snapshot charts: PNG export time per chart (cold and warm), and the time of a picture of a
past moment (`/api/snapshot?at=`) over a log of one full day and of ten full days.

    .venv/bin/python bench/charts.py [--samples 40] [--warm 5]

The day is the simulated election day of fixtures/scenarios (about 1,400 reports), written
with `store.accept_batch` as the server writes them; the ten-day log is that day ten times,
shifted by whole days (turnout marked as corrections so none is refused as a regression).
`at=` is timed over HTTP against `votewire serve` at random moments of the polling day, and
directly on `store.picture` for the database's share. PNGs are rendered in this process by
the server's own code (`server.charts.render_chart`, kaleido + Debian's Chromium): cold =
the first export with a freshly started browser, warm = the median of the next ones.
Targets (issue 6): warm PNG ≤ 1 s; at= p50 ≤ 50 ms on ten days. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import datetime, timedelta

import httpx

from bench.common import fresh_database, pct, postgres_server, serve
from ingest import scenario
from ingest.fixtures import provinces
from ingest.messages import parse_report, turnout_figures
from server import store

ZONE = "Asia/Ho_Chi_Minh"
DAY = datetime.fromisoformat("2021-05-23T00:00:00+07:00")


def items_of(
    events: list[dict], shift_days: int, registered: dict[str, int], corrections: bool
) -> list[dict]:
    out = []
    for e in events:
        as_of = datetime.fromisoformat(e["t"]) + timedelta(days=shift_days)
        data = dict(e["data"])
        if e["kind"] == "turnout" and corrections:
            data["correction"] = True
        rep = parse_report(
            {"id": str(uuid.uuid4()), "kind": e["kind"], "as_of": as_of.isoformat(), "data": data}
        )
        voted = reg = pct_ = None
        if rep.kind == "turnout":
            voted, reg = turnout_figures(rep, registered[e["province"]])
            given = rep.fields.turnout_pct  # type: ignore[attr-defined]
            pct_ = given if given is not None else voted / reg * 100
        out.append(
            {
                "id": str(rep.uuid),
                "province": e["province"],
                "kind": rep.kind,
                "as_of": rep.as_of.isoformat(),
                "data": rep.data,
                "voted": voted,
                "registered": reg,
                "turnout_pct": pct_,
                "correction": bool(getattr(rep.fields, "correction", False)),
                "audience": rep.audience,
                "token_id": None,
                "rate_ok": True,
            }
        )
    return out


async def load(url: str, days: int) -> int:
    conn = await store.connect(url, ZONE)
    try:
        await store.migrate(conn)
        await store.seed_provinces(conn, provinces())
        registered = {p.code: p.registered for p in provinces()}
        events = scenario.load()["events"]
        stored = 0
        for shift in range(-(days - 1), 1):  # earlier copies first, the real day last
            items = items_of(events, shift, registered, corrections=days > 1)
            for i in range(0, len(items), 500):
                outcomes = await store.accept_batch(conn, items[i : i + 500], False)
                stored += sum(o.outcome == "accepted" for o in outcomes)
        await conn.execute("ANALYZE")
        return stored
    finally:
        await conn.close()


def moments(n: int, seed: int = 7) -> list[datetime]:
    rng = random.Random(seed)
    return [DAY + timedelta(hours=7, minutes=rng.randrange(0, 15 * 60)) for _ in range(n)]


async def time_at(url: str, port: int, samples: int) -> tuple[list[float], list[float]]:
    http, direct = [], []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
        for m in moments(5, seed=1):  # warm the pool and the plans
            await c.get("/api/snapshot", params={"at": m.isoformat()})
        for m in moments(samples):
            t0 = time.perf_counter()
            r = await c.get("/api/snapshot", params={"at": m.isoformat()})
            http.append(time.perf_counter() - t0)
            assert r.status_code == 200
    conn = await store.connect(url, ZONE)
    try:
        for m in moments(samples):
            t0 = time.perf_counter()
            await store.picture(conn, internal=False, at=m)
            direct.append(time.perf_counter() - t0)
    finally:
        await conn.close()
    return http, direct


async def chart_pictures(port: int, token: str) -> dict[str, dict]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    ) as c:
        from dashboards.figures import FIGURES

        out = {}
        for name in FIGURES:
            params = {"at": "2021-05-23T15:00:00+07:00"}
            if name == "by_hour":
                params["provinces"] = "01,79"
            out[name] = (await c.get(f"/charts/{name}.json", params=params)).json()
        return out


async def http_png(port: int, token: str, warm: int) -> dict[str, float]:
    from dashboards.figures import FIGURES

    out = {}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    ) as c:
        await c.get("/charts/map.png", params={"at": "15:00"})  # the server's browser starts
        for name in FIGURES:
            times = []
            for _ in range(warm):
                t0 = time.perf_counter()
                r = await c.get(f"/charts/{name}.png", params={"at": "15:00"})
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
            out[name] = pct(times, 50)
    return out


def png_times(pictures: dict[str, dict], warm: int) -> dict[str, tuple[float, float]]:
    from dashboards import export
    from server.charts import render_chart

    out = {}
    for name, picture in pictures.items():
        codes = ("01", "79") if name == "by_hour" else ()
        export.stop()
        t0 = time.perf_counter()
        render_chart(name, picture, "vi", "web", "png", codes)
        cold = time.perf_counter() - t0
        times = []
        for _ in range(warm):
            t0 = time.perf_counter()
            render_chart(name, picture, "vi", "web", "png", codes)
            times.append(time.perf_counter() - t0)
        out[name] = (cold, pct(times, 50))
    export.stop()
    return out


async def issue_editor(url: str) -> str:
    from server.auth import new_token

    token = new_token()
    conn = await store.connect(url, ZONE)
    await store.issue_token(conn, token, "editor", None, "bench")
    await conn.close()
    return token


def ms(v: float) -> str:
    return f"{v * 1000:7.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40, help="at= moments per log")
    parser.add_argument("--warm", type=int, default=5, help="warm renders per chart")
    args = parser.parse_args()
    with postgres_server() as server_url:
        results = {}
        for days in (1, 10):
            async with fresh_database(server_url) as url:
                t0 = time.perf_counter()
                stored = await load(url, days)
                loaded = time.perf_counter() - t0
                with serve(url) as (port, _proc):
                    http, direct = await time_at(url, port, args.samples)
                    if days == 1:
                        token = await issue_editor(url)
                        pictures = await chart_pictures(port, token)
                        served = await http_png(port, token, args.warm)
                results[days] = (stored, loaded, http, direct)
        pngs = png_times(pictures, args.warm)

    print("at= snapshot (GET /api/snapshot?at=, random moments 07:00–22:00)")
    for days, (stored, loaded, http, direct) in results.items():
        print(
            f"  {days:2d} day(s), {stored:6d} reports (loaded in {loaded:5.1f} s):"
            f"  HTTP p50 {ms(pct(http, 50))}  p99 {ms(pct(http, 99))}"
            f"   store.picture p50 {ms(pct(direct, 50))}  p99 {ms(pct(direct, 99))}"
        )
    print("PNG export, web size (1200×675), in-process render_chart / over HTTP (warm)")
    for name, (cold, warm) in pngs.items():
        print(f"  {name:<11} cold {ms(cold)}   warm {ms(warm)}   HTTP warm {ms(served[name])}")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
