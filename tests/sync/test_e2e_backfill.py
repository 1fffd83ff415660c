"""`sync SYMBOL --since` backfills older history; held-back assets are listed and retried."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets, list_assets
from data_nexus.config import Settings
from data_nexus.emulator import EmulatorServer
from data_nexus.models import Asset
from data_nexus.storage.engine import open_engine
from data_nexus.storage.store import Store
from data_nexus.sync.events import AssetSynced, SyncEvent
from data_nexus.sync.plan import BulkMode, FetchMode
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


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


def _history_from(url: str) -> dict[str, dt.date | None]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(Asset.symbol, Asset.history_from))
            return {symbol: day for symbol, day in rows}
    finally:
        engine.dispose()


def _modes(settings: Settings, options: SyncOptions) -> dict[str, FetchMode]:
    """Run a sync; the fetch mode of each asset it synced."""
    events: list[SyncEvent] = []
    run_sync(settings, options, clock=clock_at(TODAY), on_event=events.append)
    return {e.symbol: e.mode for e in events if isinstance(e, AssetSynced)}


def test_a_since_before_the_listing_or_on_a_weekend_backfills_once(
    url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """`sync --since` before an asset's listing (and on a Saturday) asks the provider once.

    Before ``assets.history_from`` every run backfilled again: a named asset was due
    however fresh (one request per run, forever), a scheduled run never took the bulk path.
    A failed backfill (HTTP 500) records nothing and is retried; ``--full`` covers any since.
    """
    emu = start_emulator(seed=5, symbols=2, start=dt.date(2023, 1, 2), today=TODAY)
    settings = settings_for(url, emu, eodhd_max_retries=0)
    first, second = symbols_of(emu)
    add_assets(settings, [first, second])
    assert run_sync(settings, SyncOptions(since=dt.date(2025, 1, 2)), clock=clock_at(TODAY)).synced
    assert _history_from(url) == {first: dt.date(2025, 1, 2), second: dt.date(2025, 1, 2)}

    saturday = dt.date(2022, 1, 1)  # before the listing (January 2023), and a weekend
    named = SyncOptions(symbols=(first,), since=saturday)
    dry = run_sync(settings, replace(named, dry_run=True), clock=clock_at(TODAY))
    assert [(p.symbol, p.mode, p.start) for p in dry.plan] == [
        (first, str(FetchMode.BACKFILL), saturday)
    ]
    emu.reset_stats()
    assert _modes(settings, named) == {first: FetchMode.BACKFILL}
    assert price_calls(emu) == 1 and mismatches(url, emu, [first]) == []
    assert _history_from(url)[first] == saturday
    listed = emu.market.bars(first)[0].date  # its first session (2023-01-02 was a holiday)
    assert {a.symbol: a.first_date for a in list_assets(settings)}[first] == listed
    for _ in range(2):  # the same command again: fresh, nothing asked, the dry run agrees
        emu.reset_stats()
        assert run_sync(settings, replace(named, dry_run=True), clock=clock_at(TODAY)).plan == []
        again = run_sync(settings, named, clock=clock_at(TODAY))
        assert (again.synced, again.skipped, price_calls(emu)) == (0, {"fresh": 1}, 0)

    # the scheduled job over every asset, due again: the other one backfills once, then
    # both are incremental (and could take the bulk path)
    every = SyncOptions(since=saturday, max_age=dt.timedelta(0), bulk=BulkMode.NEVER)
    assert _modes(settings, every) == {first: FetchMode.INCREMENTAL, second: FetchMode.BACKFILL}
    assert _modes(settings, every) == {first: FetchMode.INCREMENTAL, second: FetchMode.INCREMENTAL}

    # an earlier since: a backfill again; a 500 on it leaves history_from as it was
    earlier = SyncOptions(symbols=(first,), since=dt.date(2021, 1, 4))
    emu.set_fault(first, "500", endpoint="eod")
    assert list(run_sync(settings, earlier, clock=clock_at(TODAY)).failed) == [first]
    assert _history_from(url)[first] == saturday
    emu.clear_faults()
    assert _modes(settings, earlier) == {first: FetchMode.BACKFILL}  # retried
    assert _history_from(url)[first] == dt.date(2021, 1, 4)

    # --full without --since asked for the whole history: no since is earlier
    full = _modes(settings, SyncOptions(symbols=(second,), full=True))
    assert full == {second: FetchMode.FULL_REFRESH}
    assert _history_from(url)[second] == dt.date.min
    emu.reset_stats()
    ancient = SyncOptions(symbols=(second,), since=dt.date(1990, 1, 1))
    assert run_sync(settings, replace(ancient, dry_run=True), clock=clock_at(TODAY)).plan == []
    assert run_sync(settings, ancient, clock=clock_at(TODAY)).synced == 0
    assert price_calls(emu) == 0
