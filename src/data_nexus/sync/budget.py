"""The daily call budget and the request rate, shared by every worker through the database.

Both implement the EODHD client's small protocols (``CallBudget``, ``RateLimiter``). They
work in blocks to keep database round trips rare: a worker reserves a few calls (or
request tokens) at a time in one short transaction and spends them locally; unused calls
are given back when the run ends.

- Calls spent per GMT day live in ``provider_state`` under ``calls:YYYY-MM-DD``; a charge
  that would pass the limit raises :class:`~data_nexus.errors.QuotaExhausted` before the
  request is sent.
- The rate is one token bucket under ``rate:eodhd`` whose capacity is carved out of the
  rate (as the client's in-memory bucket does), so all workers together stay under the
  provider's per-minute limit in any sliding window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

from data_nexus.clock import Clock, utcnow
from data_nexus.errors import QuotaExhausted
from data_nexus.providers.eodhd import next_gmt_midnight
from data_nexus.providers.eodhd.limits import bucket_shape
from data_nexus.storage import provider_state
from data_nexus.storage.provider_state import RateBucket
from data_nexus.storage.store import Store


def calls_spent_today(store: Store, now: dt.datetime) -> int:
    """Weighted calls Data Nexus workers recorded for ``now``'s GMT day."""
    with store.connection() as conn:
        return provider_state.calls_spent(conn, now.astimezone(dt.UTC).date())


def grant(spent: int, limit: int | None, wanted: int) -> int:
    """How many of ``wanted`` calls a reservation gets when ``spent`` of ``limit`` are used.

    All of them without a limit, else what is left (may be zero or negative).
    """
    return wanted if limit is None else min(wanted, limit - spent)


def take_tokens(
    bucket: RateBucket, now: dt.datetime, *, capacity: int, rate: float, block: int
) -> tuple[RateBucket, float]:
    """Take ``block`` tokens from ``bucket`` at ``now``: the new bucket, and the wait.

    The bucket refills at ``rate`` tokens a second up to ``capacity``; its time never moves
    back (a reading older than the last update refills nothing). The wait is 0 when the
    block was taken, else the seconds until it can be (nothing taken).
    """
    at = max(now, bucket.at)
    tokens = min(float(capacity), bucket.tokens + (at - bucket.at).total_seconds() * rate)
    if tokens >= block:
        return RateBucket(tokens - block, at), 0.0
    return RateBucket(tokens, at), (block - tokens) / rate


class SharedCallBudget:
    """A daily budget of ``limit`` weighted calls shared through the database."""

    def __init__(
        self, store: Store, *, limit: int | None, clock: Clock = utcnow, block: int = 20
    ) -> None:
        self._store = store
        self.limit = limit
        self._clock = clock
        self._block = max(1, block)
        self._day: dt.date | None = None
        self._local = 0
        self._lock = asyncio.Lock()

    def _reserve(self, day: dt.date, wanted: int, minimum: int) -> int:
        caps = self._store.caps
        with self._store.atomic() as conn:
            now = self._clock()
            current = provider_state.lock_calls(conn, caps, day, now)
            room = grant(current, self.limit, wanted)
            if room < minimum:
                resets = next_gmt_midnight(now)
                raise QuotaExhausted(
                    f"the daily budget of {self.limit} API calls is used up; it resets at "
                    f"{resets:%Y-%m-%d %H:%M} UTC (GMT midnight)",
                    resets_at=resets,
                )
            provider_state.set_calls(conn, day, current + room, now)
        return room

    def _give_back(self, day: dt.date, amount: int) -> None:
        if amount <= 0:
            return
        caps = self._store.caps
        with self._store.atomic() as conn:
            now = self._clock()
            spent = provider_state.lock_calls(conn, caps, day, now)
            provider_state.set_calls(conn, day, max(0, spent - amount), now)

    async def charge(self, weight: int) -> None:
        """Take ``weight`` calls from the local reservation, reserving a block when short."""
        async with self._lock:
            day = self._clock().astimezone(dt.UTC).date()
            if day != self._day:
                if self._day is not None and self._local:
                    await asyncio.to_thread(self._give_back, self._day, self._local)
                self._day, self._local = day, 0
            if self._local < weight:
                got = await asyncio.to_thread(
                    self._reserve, day, max(self._block, weight - self._local), weight - self._local
                )
                self._local += got
            self._local -= weight

    async def refund(self, weight: int) -> None:
        """Return calls the provider did not count to the local reservation."""
        async with self._lock:
            self._local += weight

    async def close(self) -> None:
        """Give the unused reservation back to the shared count."""
        async with self._lock:
            if self._day is not None and self._local:
                await asyncio.to_thread(self._give_back, self._day, self._local)
            self._local = 0


class SharedRateLimiter:
    """At most ``rate_limit`` requests per ``window`` seconds across all workers."""

    def __init__(
        self,
        store: Store,
        *,
        rate_limit: int,
        window: float = 60.0,
        headroom: float = 0.04,
        clock: Clock = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self.capacity, self.rate = bucket_shape(rate_limit, window, headroom)
        self._block = min(self.capacity, 4)
        self._clock = clock
        self._sleep = sleep
        self._local = 0
        self._lock = asyncio.Lock()

    def _take(self) -> float:
        """Take a block from the shared bucket; return 0, or the seconds to wait first."""
        with self._store.atomic() as conn:
            # Read the clock under the row lock (the bucket's time never moves back).
            now = self._clock()
            full = RateBucket(float(self.capacity), now)
            bucket = provider_state.lock_rate_bucket(conn, self._store.caps, full, now)
            bucket, wait = take_tokens(
                bucket, now, capacity=self.capacity, rate=self.rate, block=self._block
            )
            provider_state.set_rate_bucket(conn, bucket, now)
        return wait

    async def acquire(self) -> None:
        """Wait for a request token (shared with every other worker)."""
        async with self._lock:
            while self._local == 0:
                wait = await asyncio.to_thread(self._take)
                if wait == 0.0:
                    self._local = self._block
                else:
                    await self._sleep(wait)
            self._local -= 1
