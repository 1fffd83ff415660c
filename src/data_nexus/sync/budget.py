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
import json
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from data_nexus.assets import write_transaction
from data_nexus.clock import Clock, utcnow
from data_nexus.errors import QuotaExhausted
from data_nexus.models import PROVIDER_STATE
from data_nexus.providers.eodhd import next_gmt_midnight
from data_nexus.providers.eodhd.limits import bucket_shape
from data_nexus.storage.store import Store

_table = PROVIDER_STATE
_c = _table.c
RATE_KEY = "rate:eodhd"


def _calls_key(day: dt.date) -> str:
    return f"calls:{day.isoformat()}"


def _read_int(conn: sa.Connection, key: str) -> int | None:
    value = conn.execute(sa.select(_c.value).where(_c.key == key)).scalar()
    return None if value is None else int(value)


def calls_spent_today(store: Store, now: dt.datetime) -> int:
    """Weighted calls Data Nexus workers recorded for ``now``'s GMT day."""
    with store.engine.connect() as conn:
        return _read_int(conn, _calls_key(now.astimezone(dt.UTC).date())) or 0


def _locked(conn: sa.Connection, store: Store, key: str, initial: str, now: dt.datetime) -> str:
    """The row's value, locked for this transaction; created with ``initial`` if missing.

    Creating the row first (``ON CONFLICT DO NOTHING``) means two workers starting at once
    both lock the same row instead of racing to insert it.
    """
    insert = (postgresql.insert if store.caps.is_postgres else sqlite.insert)(_table)
    conn.execute(
        insert.values(key=key, value=initial, updated_at=now).on_conflict_do_nothing(
            index_elements=[_c.key]
        )
    )
    query = sa.select(_c.value).where(_c.key == key)
    if store.caps.skip_locked:  # PostgreSQL: a row lock (SQLite already has BEGIN IMMEDIATE)
        query = query.with_for_update()
    return str(conn.execute(query).scalar_one())


def _update(conn: sa.Connection, key: str, value: str, now: dt.datetime) -> None:
    conn.execute(sa.update(_table).where(_c.key == key).values(value=value, updated_at=now))


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
        key = _calls_key(day)
        with write_transaction(self._store) as conn:
            now = self._clock()
            current = int(_locked(conn, self._store, key, "0", now))
            room = wanted if self.limit is None else min(wanted, self.limit - current)
            if room < minimum:
                resets = next_gmt_midnight(now)
                raise QuotaExhausted(
                    f"the daily budget of {self.limit} API calls is used up; it resets at "
                    f"{resets:%Y-%m-%d %H:%M} UTC (GMT midnight)",
                    resets_at=resets,
                )
            _update(conn, key, str(current + room), now)
        return room

    def _give_back(self, day: dt.date, amount: int) -> None:
        if amount <= 0:
            return
        key = _calls_key(day)
        with write_transaction(self._store) as conn:
            now = self._clock()
            spent = int(_locked(conn, self._store, key, "0", now))
            _update(conn, key, str(max(0, spent - amount)), now)

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
        with write_transaction(self._store) as conn:
            # Read the clock under the row lock, and never move the bucket's time back:
            # a worker whose clock reading is older than the last update refills nothing.
            now = self._clock()
            full = json.dumps({"tokens": float(self.capacity), "at": now.isoformat()})
            state = json.loads(_locked(conn, self._store, RATE_KEY, full, now))
            at = max(now, dt.datetime.fromisoformat(state["at"]))
            elapsed = (at - dt.datetime.fromisoformat(state["at"])).total_seconds()
            tokens = min(float(self.capacity), float(state["tokens"]) + elapsed * self.rate)
            wait = 0.0
            if tokens >= self._block:
                tokens -= self._block
            else:
                wait = (self._block - tokens) / self.rate
            _update(conn, RATE_KEY, json.dumps({"tokens": tokens, "at": at.isoformat()}), now)
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
