"""Helpers for client tests: a MockTransport-backed client with no real waiting."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from data_nexus.providers.eodhd import EodhdClient, ProviderEvent, RetryPolicy, Unlimited

TOKEN = "TESTTOKEN-5f2a9c1e7b"
NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
EOD_BODY = (
    b'[{"date":"2022-01-03","open":177.83,"high":182.88,"low":177.71,"close":182.01,'
    b'"adjusted_close":179.2736,"volume":104487900}]'
)
Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


@dataclass
class Harness:
    """What a test sees of a client run: requests, waits and events."""

    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    events: list[ProviderEvent] = field(default_factory=list)
    clock: float = 0.0

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock += seconds
        await asyncio.sleep(0)

    def client(self, handler: Handler, **options: Any) -> EodhdClient:
        async def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            response = handler(request)
            if not isinstance(response, httpx.Response):
                response = await response
            return response

        settings: dict[str, Any] = {
            "base_url": "https://eodhd.test/api",
            "transport": httpx.MockTransport(record),
            "rate_limiter": Unlimited(),
            "retry": RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0),
            "on_event": self.events.append,
            "sleep": self.sleep,
            "clock": lambda: self.clock,
            "now": lambda: NOW,
            "random": lambda: 0.5,
        }
        settings.update(options)
        return EodhdClient(TOKEN, **settings)


def run(client: EodhdClient, call: Callable[[EodhdClient], Awaitable[Any]]) -> Any:
    """Run one call on ``client`` and close it."""

    async def main() -> Any:
        async with client:
            return await call(client)

    return asyncio.run(main())


def responses(*items: httpx.Response | Exception) -> Handler:
    """A handler answering ``items`` in turn (the last one forever); exceptions are raised."""
    queue = list(items)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler
