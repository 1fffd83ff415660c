"""The daily budget and the request rate shared by workers through the database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest

from data_nexus.errors import QuotaExhausted
from data_nexus.storage.provider_state import RateBucket
from data_nexus.storage.store import Store
from data_nexus.sync.budget import (
    SharedCallBudget,
    SharedRateLimiter,
    calls_spent_today,
    grant,
    take_tokens,
)

NOON = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    s = Store.open(url)
    yield s
    s.close()


def test_budget_is_shared_and_refuses_before_sending(store: Store) -> None:
    """Two workers together never pass the daily limit; unused reservations return."""

    async def scenario() -> None:
        a = SharedCallBudget(store, limit=10, clock=lambda: NOON, block=1)
        b = SharedCallBudget(store, limit=10, clock=lambda: NOON, block=1)
        for _ in range(4):
            await a.charge(1)
            await b.charge(1)
        await a.charge(1)
        await b.charge(1)
        with pytest.raises(QuotaExhausted, match="resets at 2026-11-25 00:00 UTC"):
            await a.charge(1)
        await b.refund(1)  # a request the provider did not count
        await b.close()  # gives the refunded call back to the shared count
        await a.charge(1)
        await a.close()

    asyncio.run(scenario())
    assert calls_spent_today(store, NOON) == 10


def test_block_reservations_are_returned_on_close(store: Store) -> None:
    """Workers reserve calls in blocks; what they did not spend goes back when they stop."""

    async def scenario() -> None:
        budget = SharedCallBudget(store, limit=100, clock=lambda: NOON, block=20)
        await budget.charge(1)
        assert calls_spent_today(store, NOON) == 20  # reserved, not yet spent
        await budget.close()

    asyncio.run(scenario())
    assert calls_spent_today(store, NOON) == 1


def test_budget_rolls_over_at_gmt_midnight(store: Store) -> None:
    """A new GMT day starts a new count."""
    now = [NOON]

    async def scenario() -> None:
        budget = SharedCallBudget(store, limit=3, clock=lambda: now[0], block=1)
        for _ in range(3):
            await budget.charge(1)
        with pytest.raises(QuotaExhausted):
            await budget.charge(1)
        now[0] = NOON + dt.timedelta(hours=12)
        await budget.charge(1)
        await budget.close()

    asyncio.run(scenario())
    assert calls_spent_today(store, NOON + dt.timedelta(hours=12)) == 1


def test_shared_rate_never_exceeds_the_limit_in_any_window(store: Store) -> None:
    """Three workers acquiring as fast as they can stay under R per minute together."""
    clock = [NOON]

    async def sleep(seconds: float) -> None:
        clock[0] += dt.timedelta(seconds=seconds)
        await asyncio.sleep(0)

    stamps: list[dt.datetime] = []

    async def worker(limiter: SharedRateLimiter, n: int) -> None:
        for _ in range(n):
            await limiter.acquire()
            stamps.append(clock[0])

    async def scenario() -> None:
        limiters = [
            SharedRateLimiter(store, rate_limit=120, clock=lambda: clock[0], sleep=sleep)
            for _ in range(3)
        ]
        await asyncio.gather(*(worker(limiter, 100) for limiter in limiters))

    asyncio.run(scenario())
    stamps.sort()
    window = dt.timedelta(minutes=1)
    most = max(sum(1 for t in stamps[i:] if t - s < window) for i, s in enumerate(stamps))
    assert len(stamps) == 300
    assert most <= 120


def test_grant_and_take_tokens_are_pure_arithmetic() -> None:
    """A reservation gets what is left; the bucket refills at its rate and never goes back."""
    assert grant(8, 10, 5) == 2
    assert grant(8, None, 5) == 5
    assert grant(12, 10, 5) == -2
    full = RateBucket(4.0, NOON)
    taken, wait = take_tokens(full, NOON, capacity=4, rate=1.0, block=4)
    assert (taken, wait) == (RateBucket(0.0, NOON), 0.0)
    later = NOON + dt.timedelta(seconds=1)
    short, wait = take_tokens(taken, later, capacity=4, rate=1.0, block=4)
    assert (short, wait) == (RateBucket(1.0, later), 3.0)
    earlier = NOON - dt.timedelta(seconds=30)  # another worker's clock lags: no refill
    assert take_tokens(taken, earlier, capacity=4, rate=1.0, block=4)[0] == taken
