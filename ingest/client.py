"""A bureau client over `/ws/bureau` that loses nothing: the outbox keeps every report until
its answer arrives; after any drop it reconnects with backoff and resends the unanswered
reports with the same ids (the server acks a resend as a duplicate, never counts it twice).

Used by the simulator, the tests and the benchmarks; a phone does the same in JavaScript.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import websockets

RETRY_CODES = ("unavailable", "rate_limited")


@dataclass
class Stats:
    sent: int = 0
    acked: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    cuts: int = 0


class AuthError(Exception):
    pass


class BureauClient:
    def __init__(
        self,
        url: str | list[str],
        token: str,
        *,
        client: str = "votewire-sim/1.0",
        drop_rate: float = 0.0,
        rng: random.Random | None = None,
        answer_timeout: float = 15.0,
    ) -> None:
        self.urls = [url] if isinstance(url, str) else list(url)
        """Several servers behind the clients: after a failure the next one is tried."""
        self._next_url = 0
        self.token, self.client = token, client
        self.drop_rate = drop_rate
        self.rng = rng or random.Random()
        self.answer_timeout = answer_timeout
        self.outbox: OrderedDict[str, dict] = OrderedDict()
        self.answers: dict[str, dict] = {}
        self._waiters: dict[str, asyncio.Future] = {}
        self.stats = Stats()
        self.welcome: dict | None = None

    async def send(self, report: dict[str, Any]) -> dict:
        """Queue a report and wait for its final answer (ack or a non-retryable error)."""
        rid = report["id"]
        self.outbox[rid] = report
        fut = asyncio.get_running_loop().create_future()
        self._waiters[rid] = fut
        await self._deliver()
        return await fut

    async def _deliver(self) -> None:
        backoff = 0.1
        while self.outbox:
            url = self.urls[self._next_url % len(self.urls)]
            try:
                async with websockets.connect(
                    url, max_size=2**20, open_timeout=10, compression=None
                ) as ws:
                    await ws.send(
                        json.dumps({"type": "hello", "token": self.token, "client": self.client})
                    )
                    hello = json.loads(await asyncio.wait_for(ws.recv(), self.answer_timeout))
                    if hello.get("type") != "welcome":
                        if hello.get("code") == "auth_failed":
                            raise AuthError(hello.get("message"))
                        raise ConnectionError(hello.get("message"))
                    self.welcome = hello
                    backoff = 0.1
                    while self.outbox:
                        rid, report = next(iter(self.outbox.items()))
                        await ws.send(json.dumps(report, ensure_ascii=False))
                        self.stats.sent += 1
                        if self.drop_rate and self.rng.random() < self.drop_rate:
                            self.stats.cuts += 1
                            ws.transport.abort()
                            raise ConnectionError("simulated cut")
                        answer = json.loads(await asyncio.wait_for(ws.recv(), self.answer_timeout))
                        self._settle(rid, answer)
                        if answer.get("code") in RETRY_CODES:
                            await asyncio.sleep(
                                1.0 if answer["code"] == "rate_limited" else backoff
                            )
            except AuthError:
                raise
            except (OSError, ConnectionError, TimeoutError, websockets.WebSocketException):
                self.stats.reconnects += 1
                self._next_url += 1
                await asyncio.sleep(backoff * (0.5 + self.rng.random()))
                backoff = min(backoff * 2, 5.0)

    def _settle(self, rid: str, answer: dict) -> None:
        if answer.get("id") != rid:
            raise ConnectionError(f"answer for {answer.get('id')} while waiting for {rid}")
        if answer["type"] == "error" and answer.get("code") in RETRY_CODES:
            return
        self.outbox.pop(rid, None)
        self.answers[rid] = answer
        if answer["type"] == "ack":
            self.stats.acked += 1
            self.stats.duplicates += bool(answer.get("duplicate"))
        else:
            # by code and field ("invalid as_of"): what was refused, and where, at a glance
            what = " ".join(filter(None, (answer["code"], answer.get("field"))))
            self.stats.refused[what] = self.stats.refused.get(what, 0) + 1
        fut = self._waiters.pop(rid, None)
        if fut is not None and not fut.done():
            fut.set_result(answer)
