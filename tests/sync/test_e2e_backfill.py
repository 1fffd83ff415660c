"""`sync SYMBOL --since` backfills older history; held-back assets are listed and retried."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from data_nexus.assets import add_assets, list_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.storage.store import Store
from data_nexus.sync.plan import FetchMode
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import clock_at, mismatches, price_calls, settings_for, symbols_of

TODAY = dt.date(2025, 6, 30)  # a Monday


def test_since_before_the_first_bar_backfills_named_assets(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """A later --since earlier than the stored history fetches the gap in one request."""
    emu = start_emulator(seed=3, symbols=3, start=dt.date(2023, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu)
    first, *others = symbols_of(emu)
    add_assets(settings, [first, *others])
    recent = SyncOptions(since=dt.date(2025, 1, 2))
    assert run_sync(settings, recent, clock=clock_at(TODAY)).synced == 3
    with Store.open(sqlite_url) as store:
        assert min(b.date for b in store.read_bars([first])) >= dt.date(2025, 1, 2)

    emu.reset_stats()
    # the first session of the emulated history (2023-01-02 is New Year's Day observed)
    since = emu.market.bars(first)[0].date
    assert dt.date(2023, 1, 2) <= since < dt.date(2025, 1, 2)
    older = SyncOptions(symbols=(first,), since=since, dry_run=True)
    dry = run_sync(settings, older, clock=clock_at(TODAY))
    assert [(p.symbol, p.mode, p.start) for p in dry.plan] == [
        (first, str(FetchMode.BACKFILL), since)
    ]
    done = run_sync(settings, SyncOptions(symbols=(first,), since=since),
                    clock=clock_at(TODAY))  # fmt: skip
    assert done.synced == 1 and price_calls(emu) == 1  # one eod request, no actions
    assert mismatches(sqlite_url, emu, [first]) == []  # the whole history, exactly
    info = {a.symbol: a for a in list_assets(settings)}
    assert info[first].first_date == emu.market.bars(first)[0].date
    assert all(info[s].first_date >= dt.date(2025, 1, 2) for s in others)  # type: ignore[operator]
    again = run_sync(settings, SyncOptions(symbols=(first,), since=since),
                     clock=clock_at(TODAY))  # fmt: skip
    assert again.synced == 0 and again.skipped == {"fresh": 1}


def test_held_back_assets_are_listed_and_retry_failed_tries_them(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """The summary and the dry run name assets in a backoff; --retry-failed syncs them now."""
    emu = start_emulator(seed=2, symbols=4, start=dt.date(2024, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu)
    symbols = symbols_of(emu)
    add_assets(settings, symbols)
    broken = symbols[1]
    emu.set_fault(broken, "duplicate_date")  # two bars on one date: the body is refused
    assert list(run_sync(settings, SyncOptions(), clock=clock_at(TODAY)).failed) == [broken]
    emu.clear_faults()
    later = clock_at(TODAY, hour=23)
    retry_at = later() + dt.timedelta(minutes=15)
    for options in (SyncOptions(max_age=dt.timedelta(0)), SyncOptions(dry_run=True)):
        summary = run_sync(settings, options, clock=later)
        assert [(h.symbol, h.next_attempt_at, h.fail_count) for h in summary.held_back] == [
            (broken, retry_at, 1)
        ]
        assert "duplicate date" in (summary.held_back[0].last_error or "")
        assert summary.as_dict()["held_back"][0]["next_attempt_at"] == retry_at.isoformat()
    retried = run_sync(settings, SyncOptions(retry_failed=True), clock=later)
    assert retried.synced == 1 and retried.held_back == []
    assert mismatches(sqlite_url, emu, symbols) == []
