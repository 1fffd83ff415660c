"""Request-rate limiting and the daily call budget (pluggable; in-memory defaults).

Two small protocols let the sync engine plug in implementations shared between workers
(through the database): :class:`RateLimiter` (``await acquire()`` before each HTTP request)
and :class:`CallBudget` (``await charge(weight)`` before, ``await refund(weight)`` after a
request the provider did not count).

:class:`TokenBucket` guarantees that no sliding window of ``window`` seconds ever holds more
than ``rate_limit`` acquisitions: its burst capacity is carved out of the rate instead of
added to it (capacity ``b = max(1, ⌊h·R/2⌋)``, refill ``R·(1-h)/W``, so any window sees at
most ``b + R·(1-h) < R``), while the sustained rate stays ``R·(1-h)`` (≥ 0.95 R for the default
headroom ``h = 0.04``). The spare ``h·R/2`` absorbs network jitter between our clock and the
server's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from data_nexus.clock import Clock, utcnow
from data_nexus.errors import QuotaExhausted

#: Weights of EODHD endpoints in "API calls" against the daily allowance (``eodhd-api.md`` §5).
ENDPOINT_WEIGHTS: dict[str, int] = {
    "eod": 1,
    "splits": 1,
    "div": 1,
    "exchange-symbol-list": 1,
    "exchanges-list": 1,
    "user": 1,
    "intraday": 5,
    "eod-bulk-last-day": 100,
}

_EPSILON = 1e-9
_MIN_SLEEP = 1e-4  # seconds; never a wait too short to move a float clock

Sleep = Callable[[float], Awaitable[None]]
#: Seconds from a monotonic source (``time.monotonic``); not :data:`data_nexus.clock.Clock`.
Monotonic = Callable[[], float]


def bulk_weight(symbols: int = 0) -> int:
    """Calls charged for one bulk request: 100, plus one per symbol when ``symbols`` is given."""
    return ENDPOINT_WEIGHTS["eod-bulk-last-day"] + max(0, symbols)


def next_gmt_midnight(now: dt.datetime) -> dt.datetime:
    """The next 00:00 GMT after ``now`` (naive values are taken as UTC): when EODHD's daily
    allowance resets."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    day = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@runtime_checkable
class RateLimiter(Protocol):
    """Admits HTTP requests at a bounded rate; shared by every request of a client."""

    def acquire(self) -> Awaitable[None]:
        """Wait until one more request may be sent, and count it."""
        ...


@runtime_checkable
class CallBudget(Protocol):
    """The daily allowance in weighted API calls."""

    def charge(self, weight: int) -> Awaitable[None]:
        """Reserve ``weight`` calls, or raise :class:`QuotaExhausted` *without* reserving
        anything when that would exceed the budget. Called before the request is sent."""
        ...

    def refund(self, weight: int) -> Awaitable[None]:
        """Give back calls the provider did not count (5xx, 429, refused connections)."""
        ...


def bucket_shape(rate_limit: int, window: float, headroom: float) -> tuple[int, float]:
    """(burst capacity, refill tokens per second) of a bucket that never lets ``rate_limit``
    requests into any ``window``-second span (see the module docstring)."""
    if rate_limit < 1 or window <= 0:
        raise ValueError("rate_limit must be ≥ 1 and window > 0")
    if not 0 < headroom < 1:
        raise ValueError("headroom must be between 0 and 1")
    return max(1, math.floor(headroom * rate_limit / 2)), rate_limit * (1 - headroom) / window


class TokenBucket:
    """In-memory :class:`RateLimiter`: at most ``rate_limit`` requests in any sliding window of
    ``window`` seconds (see the module docstring for why), FIFO among waiters.

    ``clock`` (monotonic seconds) and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        rate_limit: int = 1000,
        window: float = 60.0,
        *,
        headroom: float = 0.04,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.capacity, self.rate = bucket_shape(rate_limit, window, headroom)
        self.rate_limit = rate_limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.capacity)
        self._stamp: float | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenBucket(rate_limit={self.rate_limit}, window={self.window})"

    async def acquire(self) -> None:
        """Wait for a token and take it."""
        async with self._lock:
            while True:
                now = self._clock()
                if self._stamp is not None:
                    elapsed = max(0.0, now - self._stamp)
                    self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
                self._stamp = now
                if self._tokens >= 1 - _EPSILON:  # float dust must not stall a waiter
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                await self._sleep(max(_MIN_SLEEP, (1 - self._tokens) / self.rate))


class Unlimited:
    """A :class:`RateLimiter` that never waits (for tests and local files)."""

    async def acquire(self) -> None:
        """Return at once."""


class InMemoryCallBudget:
    """In-memory :class:`CallBudget` of ``limit`` weighted calls per GMT day.

    ``limit=None`` means unlimited (only counting). ``spent`` starts at ``already_spent``
    (e.g. ``ApiUsage.api_requests`` read from ``/api/user``) and returns to 0 when the GMT day
    changes. ``now`` is injectable.
    """

    def __init__(
        self, limit: int | None = None, *, already_spent: int = 0, now: Clock = utcnow
    ) -> None:
        self.limit = limit
        self.spent = already_spent
        self._now = now
        self._day = self._today()

    def __repr__(self) -> str:
        return f"InMemoryCallBudget(limit={self.limit}, spent={self.spent})"

    def _today(self) -> dt.date:
        now = self._now()
        return (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self.spent = today, 0

    async def charge(self, weight: int) -> None:
        """Reserve ``weight`` calls or raise :class:`QuotaExhausted` (nothing reserved)."""
        self._roll()
        if self.limit is not None and self.spent + weight > self.limit:
            resets_at = next_gmt_midnight(self._now())
            raise QuotaExhausted(
                f"the daily budget of {self.limit} API calls would be exceeded "
                f"({self.spent} spent, this request costs {weight}); it resets at the next "
                f"GMT midnight ({resets_at:%Y-%m-%d %H:%M} UTC): run again after that "
                "or raise the budget",
                resets_at=resets_at,
            )
        self.spent += weight

    async def refund(self, weight: int) -> None:
        """Give back ``weight`` calls (never below zero)."""
        self._roll()
        self.spent = max(0, self.spent - weight)
