"""AsyncWriter: database writes run on their own thread; the event loop keeps ticking."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from data_nexus.errors import DataValidationError
from data_nexus.records import Bar
from data_nexus.storage.store import AssetUpdate, AsyncWriter, Store, WriteResult
from tests.storage.conftest import add_assets, make_bars

D0 = dt.date(1990, 1, 1)


async def heartbeat(ticks: list[float], stop: asyncio.Event) -> None:
    """Record when the loop gets to run a 5 ms sleep; gaps show blocking."""
    while not stop.is_set():
        ticks.append(time.perf_counter())
        await asyncio.sleep(0.005)


def slow_bars(symbol: str) -> Iterator[Bar]:
    """5,000 bars, produced with pauses: each write lasts well over 0.1 s whatever the CPU."""
    for i, bar in enumerate(make_bars(symbol, D0, 5000)):
        if i % 1000 == 0:
            time.sleep(0.03)
        yield bar


def test_the_event_loop_stays_responsive_while_writes_run(sqlite_store: Store) -> None:
    """A heartbeat keeps ticking while about a second of writes runs; results in order.

    Had the writes run on the event loop, the heartbeat would stall for all of it.
    """
    symbols = [f"H{i}.US" for i in range(8)]
    add_assets(sqlite_store, *symbols)
    updates = [AssetUpdate(s, slow_bars(s)) for s in symbols]

    async def main() -> tuple[list[WriteResult], list[float], float]:
        ticks: list[float] = []
        stop = asyncio.Event()
        beat = asyncio.create_task(heartbeat(ticks, stop))
        started = time.perf_counter()
        async with AsyncWriter(sqlite_store, max_batch=4) as writer:
            results = await asyncio.gather(*(writer.write(u) for u in updates))
        elapsed = time.perf_counter() - started
        stop.set()
        await beat
        return list(results), ticks, elapsed

    results, ticks, elapsed = asyncio.run(main())
    assert [r.symbol for r in results] == symbols
    assert all(r.inserted == 5000 for r in results)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert elapsed > 0.5  # the pauses alone take 1.2 s (some overlap: prefetch)
    assert len(ticks) > elapsed / 0.05  # the loop ran all along, not once at the end
    assert max(gaps) < min(0.3, elapsed / 3), f"the event loop stalled {max(gaps):.3f}s"


def test_each_caller_gets_its_own_result_or_error(sqlite_store: Store) -> None:
    """Coalesced writes stay separate: a bad asset raises in its own caller only."""
    add_assets(sqlite_store, "A.US", "B.US")
    bad = [Bar("B.US", D0, None, None, None, Decimal("1.123456789"), None, None)]

    async def main() -> list[WriteResult | BaseException]:
        async with AsyncWriter(sqlite_store) as writer:
            return await asyncio.gather(
                writer.write(AssetUpdate("A.US", make_bars("A.US", D0, 10))),
                writer.write(AssetUpdate("B.US", bad)),
                return_exceptions=True,
            )

    good, error = asyncio.run(main())
    assert isinstance(good, WriteResult) and good.inserted == 10
    assert isinstance(error, DataValidationError)
    assert sqlite_store.read_bars(["B.US"]) == []


def test_a_closed_writer_refuses_new_writes(sqlite_store: Store) -> None:
    """After aclose the thread is gone and write raises instead of hanging."""

    async def main() -> None:
        writer = AsyncWriter(sqlite_store)
        await writer.aclose()
        await writer.aclose()  # idempotent
        with pytest.raises(RuntimeError, match="closed"):
            await writer.write(AssetUpdate("A.US"))

    asyncio.run(main())
