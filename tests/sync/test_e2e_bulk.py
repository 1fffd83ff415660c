"""Bulk mode: cheaper per-exchange updates, the fallback when the plan lacks bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.storage.store import Store
from data_nexus.sync.bulk import bulk_known_unavailable
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import clock_at, mismatches, settings_for, symbols_of

TODAY = dt.date(2025, 6, 30)
RECENT = dt.date(2025, 5, 1)


def _first_sync(url: str, emu: EmulatorServer) -> list[str]:
    settings = settings_for(url, emu)
    symbols = symbols_of(emu)
    add_assets(settings, symbols)
    first = run_sync(settings, SyncOptions(concurrency=16), clock=clock_at(TODAY))
    assert first.synced == len(symbols) and not first.failed and not first.bulk_used
    emu.reset_stats()
    return symbols


def test_one_day_update_of_1000_symbols_uses_three_bulk_requests(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """A daily update of a large exchange: 3 bulk requests + refetches for new actions."""
    emu = start_emulator(seed=8, symbols=1000, start=RECENT, today=TODAY)
    symbols = _first_sync(sqlite_url, emu)
    split_symbol = symbols[10]
    new_today = emu.advance(1, splits={split_symbol: "2/1"})
    summary = run_sync(settings_for(sqlite_url, emu), SyncOptions(), clock=clock_at(new_today))
    stats = emu.stats()
    assert summary.bulk_used == ["US"] and not summary.failed
    assert summary.synced == len(symbols)
    assert stats["requests"]["eod-bulk-last-day"] == 3
    refetched = set(stats["by_symbol"]["eod"])
    assert split_symbol in refetched and len(refetched) < 40
    assert stats["requests"]["eod"] == stats["requests"]["splits"] == len(refetched)
    assert stats["calls_charged"] <= 300 + 3 * len(refetched) + 1  # + the quota check
    assert mismatches(sqlite_url, emu, symbols) == []


def test_without_bulk_in_the_plan_auto_falls_back_and_remembers(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """403 on bulk: per-symbol sync instead, and no bulk attempt for a day."""
    emu = start_emulator(seed=9, symbols=400, start=RECENT, today=TODAY, bulk_enabled=False)
    symbols = _first_sync(sqlite_url, emu)
    new_today = emu.advance(1)
    settings = settings_for(sqlite_url, emu)
    summary = run_sync(settings, SyncOptions(), clock=clock_at(new_today))
    assert summary.bulk_unavailable == ["US"] and summary.bulk_used == []
    assert summary.synced == len(symbols) and not summary.failed
    assert emu.stats()["requests"]["eod-bulk-last-day"] == 1
    assert mismatches(sqlite_url, emu, symbols) == []
    store = Store.open(settings)
    try:
        assert bulk_known_unavailable(store, "US", clock_at(new_today)())
    finally:
        store.close()
    emu.reset_stats()
    next_day = emu.advance(1)
    # 20 hours later: within a day of the refusal, so bulk is not tried again
    again = run_sync(settings, SyncOptions(max_age=dt.timedelta(0)), clock=clock_at(next_day, 19))
    assert again.synced == len(symbols)
    assert emu.stats()["requests"]["eod-bulk-last-day"] == 0  # remembered: not asked again


def test_small_universe_stays_per_symbol(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """60 symbols: bulk would cost 300 calls, per symbol about 60 — auto stays per symbol."""
    emu = start_emulator(seed=10, symbols=60, start=RECENT, today=TODAY)
    symbols = _first_sync(sqlite_url, emu)
    new_today = emu.advance(1)
    summary = run_sync(settings_for(sqlite_url, emu), SyncOptions(), clock=clock_at(new_today))
    stats = emu.stats()
    assert summary.bulk_used == [] and stats["requests"]["eod-bulk-last-day"] == 0
    assert stats["requests"]["eod"] == 60 + stats["requests"]["splits"]
    assert stats["requests"]["splits"] <= 5  # only refetches after real corporate actions
    assert mismatches(sqlite_url, emu, symbols) == []
