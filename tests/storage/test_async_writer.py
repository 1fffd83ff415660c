"""AsyncWriter: database writes run on their own thread; the event loop keeps ticking."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest

from data_nexus.errors import DataValidationError
from data_nexus.records import Bar
from data_nexus.storage.store import AssetUpdate, AsyncWriter, Store, WriteResult
from tests.storage.conftest import add_assets, make_bars

D0 = dt.date(1990, 1, 1)


async def heartbeat(ticks: list[float], stop: asyncio.Event) -> None:
    """Record when the loop gets to run a 5 ms sleep."""
    while not stop.is_set():
        ticks.append(time.perf_counter())
        await asyncio.sleep(0.005)


class SlowBars:
    """5,000 bars produced with pauses; records the thread and the span of their production."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.threads: set[int] = set()
        self.pauses: list[tuple[float, float]] = []

    def __iter__(self) -> Iterator[Bar]:
        for i, bar in enumerate(make_bars(self.symbol, D0, 5000)):
            self.threads.add(threading.get_ident())
            if i % 1000 == 0:
                before = time.perf_counter()
                time.sleep(0.03)
                self.pauses.append((before, time.perf_counter()))
            yield bar


def test_writes_run_off_the_event_loop_and_it_keeps_ticking(sqlite_store: Store) -> None:
    """Bars are consumed on the writer thread, and the loop runs while a write is under way.

    No timing threshold (the machine may be loaded): the proof is structural. Had a write
    run on the event loop, the bars would be consumed on the loop's thread and no heartbeat
    could fall inside a pause in the middle of producing them.
    """
    symbols = [f"H{i}.US" for i in range(8)]
    add_assets(sqlite_store, *symbols)
    sources = [SlowBars(s) for s in symbols]
    updates = [AssetUpdate(src.symbol, iter(src)) for src in sources]

    async def main() -> tuple[list[WriteResult], list[float], int]:
        ticks: list[float] = []
        stop = asyncio.Event()
        beat = asyncio.create_task(heartbeat(ticks, stop))
        async with AsyncWriter(sqlite_store, max_batch=4) as writer:
            results = await asyncio.gather(*(writer.write(u) for u in updates))
        stop.set()
        await beat
        return list(results), ticks, threading.get_ident()

    results, ticks, loop_thread = asyncio.run(main())
    assert [r.symbol for r in results] == symbols
    assert all(r.inserted == 5000 for r in results)
    consumers = set().union(*(src.threads for src in sources))
    assert consumers and loop_thread not in consumers
    pauses = [span for src in sources for span in src.pauses]
    assert len(pauses) == 8 * 5
    inside = [t for t in ticks if any(a < t < b for a, b in pauses)]
    assert inside, "the event loop never ran while bars were being produced"


def test_each_caller_gets_its_own_result_or_error(sqlite_store: Store) -> None:
    """Coalesced writes stay separate: a bad asset raises in its own caller only."""
    add_assets(sqlite_store, "A.US", "B.US")
    bad = [Bar("B.US", D0, None, None, None, 1.5, None, None)]  # type: ignore[arg-type]  # a caller's bug

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


def test_expected_writes_share_one_transaction_and_each_keeps_its_own_outcome(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While writes are announced (expect), the writer waits for them and writes them in
    one write_assets call; a bad asset among them fails alone; the last withdrawal wakes
    the writer at once (linger 60 s: without the wake-up this would take a minute)."""
    add_assets(sqlite_store, "A.US", "B.US", "C.US")
    bad = [Bar("B.US", D0, None, None, None, 1.5, None, None)]  # type: ignore[arg-type]  # a caller's bug
    updates = [
        AssetUpdate("A.US", make_bars("A.US", D0, 10)),
        AssetUpdate("B.US", bad),
        AssetUpdate("C.US", make_bars("C.US", D0, 20)),
    ]
    calls: list[list[str]] = []
    write_assets = sqlite_store.write_assets

    def spy(batch: list[AssetUpdate]) -> list[WriteResult | Exception]:
        calls.append([u.symbol for u in batch])
        return write_assets(batch)

    monkeypatch.setattr(sqlite_store, "write_assets", spy)

    async def main() -> tuple[list[WriteResult | BaseException], float]:
        started = time.perf_counter()
        async with AsyncWriter(sqlite_store, linger=60) as writer:
            withdrawals = [writer.expect() for _ in updates]
            tasks = []
            for update, withdraw in zip(updates, withdrawals, strict=True):
                tasks.append(asyncio.create_task(writer.write(update, queued=withdraw)))
                await asyncio.sleep(0.05)  # the writer holds the first ones meanwhile
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        return list(outcomes), time.perf_counter() - started

    (good, error, other), elapsed = asyncio.run(main())
    assert calls == [["A.US", "B.US", "C.US"]]
    assert isinstance(good, WriteResult) and good.inserted == 10
    assert isinstance(other, WriteResult) and other.inserted == 20
    assert isinstance(error, DataValidationError)
    assert sqlite_store.read_bars(["B.US"]) == []
    assert elapsed < 30  # the wake-up, not the 60 s linger, ended the wait


def test_an_expected_write_that_never_comes_does_not_hold_the_others(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Withdrawing an expectation without writing (an asset that failed to fetch) lets the
    writer write what it holds; withdrawing twice counts once."""
    add_assets(sqlite_store, "A.US")
    calls: list[list[str]] = []
    write_assets = sqlite_store.write_assets
    monkeypatch.setattr(
        sqlite_store,
        "write_assets",
        lambda batch: calls.append([u.symbol for u in batch]) or write_assets(batch),
    )

    async def main() -> WriteResult:
        async with AsyncWriter(sqlite_store, linger=60) as writer:
            first, never = writer.expect(), writer.expect()
            pending = asyncio.create_task(
                writer.write(AssetUpdate("A.US", make_bars("A.US", D0, 5)), queued=first)
            )
            await asyncio.sleep(0.05)
            assert not pending.done()  # held: another write is expected
            never()
            never()
            return await asyncio.wait_for(pending, timeout=30)

    result = asyncio.run(main())
    assert result.inserted == 5
    assert calls == [["A.US"]]
