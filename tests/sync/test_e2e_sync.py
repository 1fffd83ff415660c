"""The main job end to end: the real client against the emulator over a socket.

200 symbols x 20 years on SQLite and PostgreSQL: the database equals the emulator's data
exactly; an immediate second run makes no price calls; a day later only the window is
fetched; a new split or dividend brings the whole adjusted history up to date again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from data_nexus.assets import add_assets, list_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.sync.events import AssetFailed, SyncEvent
from data_nexus.sync.runner import run_sync
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import (
    clock_at,
    mismatches,
    price_calls,
    settings_for,
    symbols_of,
    sync_runs,
)

TODAY = dt.date(2025, 6, 30)  # a Monday


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.mark.slow
def test_200_symbols_20_years_incremental_and_corporate_actions(
    url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """Full history, no-op rerun, one-day window, and a split/dividend rewrite, all exact."""
    emu = start_emulator(seed=5, symbols=200, start=dt.date(2005, 7, 1), today=TODAY)
    settings = settings_for(url, emu)
    symbols = symbols_of(emu)
    assert len(symbols) == 200
    add_assets(settings, symbols, clock=clock_at(TODAY))

    first = run_sync(settings, SyncOptions(), clock=clock_at(TODAY))
    assert (first.synced, first.failed, first.status) == (200, {}, RunStatus.OK)
    assert first.rows_inserted == sum(len(emu.market.bars(s)) for s in symbols) > 800_000
    # (the exact comparison of every bar and action happens once, on the final state below)
    requests = emu.stats()["requests"]
    assert (requests["eod"], requests["splits"], requests["div"]) == (200, 200, 200)

    emu.reset_stats()
    again = run_sync(settings, SyncOptions(), clock=clock_at(TODAY, 23))
    assert again.synced == 0 and again.skipped == {"fresh": 200}
    assert price_calls(emu) == 0

    emu.reset_stats()
    split_symbol, dividend_symbol = symbols[3], symbols[7]
    new_today = emu.advance(1, splits={split_symbol: "3/1"}, dividends={dividend_symbol: "0.5"})
    later = run_sync(settings, SyncOptions(), clock=clock_at(new_today))
    assert later.synced == 200 and not later.failed
    stats = emu.stats()
    refetched = set(stats["by_symbol"]["splits"])
    assert {split_symbol, dividend_symbol} <= refetched
    # the window for everyone, plus actions and the full history for each corporate action
    assert stats["requests"]["eod"] == 200 + len(refetched)
    assert stats["requests"]["splits"] == stats["requests"]["div"] == len(refetched)
    assert later.full_refreshes == len(refetched) < 20
    traded = sum(1 for s in symbols if emu.market.bars(s)[-1].date == new_today)
    assert later.rows_inserted == traded  # only the new session is new ...
    assert later.rows_revised > 1000  # ... and the re-adjusted histories were rewritten
    assert mismatches(url, emu, symbols) == []

    runs = sync_runs(url)
    assert [r["status"] for r in runs] == ["ok", "ok", "ok"]  # the no-op run is recorded too
    assert all(r["finished_at"] is not None and r["finished_at"] >= r["started_at"] for r in runs)
    assert runs[0]["assets_synced"] == 200 and runs[0]["rows_written"] == first.rows_written
    assert (runs[1]["assets_synced"], runs[1]["assets_skipped"], runs[1]["calls_spent"]) == (
        0,
        200,
        0,
    )
    assert runs[2]["calls_spent"] == later.calls_spent


def test_failures_are_isolated_recorded_and_retried(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """One broken asset fails with a redacted error and a backoff; the others commit."""
    emu = start_emulator(seed=2, symbols=12, start=dt.date(2024, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu)
    symbols = symbols_of(emu)
    add_assets(settings, symbols)
    broken = symbols[4]
    emu.set_fault(broken, "duplicate_date")  # two bars on one date: the body is refused
    events: list[SyncEvent] = []
    summary = run_sync(settings, SyncOptions(), clock=clock_at(TODAY), on_event=events.append)
    assert summary.synced == 11 and list(summary.failed) == [broken]
    assert summary.status is RunStatus.PARTIAL and summary.status == "partial"
    assert any(isinstance(e, AssetFailed) and e.symbol == broken for e in events)
    info = {a.symbol: a for a in list_assets(settings)}
    assert info[broken].fail_count == 1 and info[broken].last_date is None
    assert "duplicate date" in (info[broken].last_error or "")
    assert emu.token not in (info[broken].last_error or "")
    assert info[broken].next_attempt_at == clock_at(TODAY)() + dt.timedelta(minutes=15)

    emu.clear_faults()
    soon = run_sync(settings, SyncOptions(), clock=clock_at(TODAY))
    assert soon.synced == 0 and soon.skipped.get("in backoff") == 1
    named = run_sync(settings, SyncOptions(symbols=(broken,)), clock=clock_at(TODAY))
    assert named.synced == 1  # naming a symbol retries it now
    assert mismatches(sqlite_url, emu, symbols) == []
    assert {a.symbol: a.fail_count for a in list_assets(settings)}[broken] == 0


def test_unknown_symbol_is_a_failure_not_a_crash(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """A symbol the provider does not know fails alone with a clear reason."""
    emu = start_emulator(seed=2, symbols=3, start=dt.date(2024, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu)
    summary = run_sync(
        settings, SyncOptions(symbols=("NOPE.US", symbols_of(emu)[0])), clock=clock_at(TODAY)
    )
    assert summary.synced == 1
    assert "NOPE.US" in summary.failed and "NotFound" in summary.failed["NOPE.US"]


def test_auth_failure_stops_the_run(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """A refused token stops everything with exit code 3, nothing written."""
    emu = start_emulator(seed=2, symbols=3, start=dt.date(2024, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu).model_copy(
        update={"eodhd_api_token": settings_for(sqlite_url, emu).eodhd_api_token.__class__("bad")}
    )
    summary = run_sync(settings, SyncOptions(symbols=tuple(symbols_of(emu))), clock=clock_at(TODAY))
    assert summary.status is RunStatus.STOPPED and summary.synced == 0
    assert "401" in (summary.stop_reason or "")
    assert all(a.last_synced is None for a in list_assets(settings))
    (run,) = sync_runs(sqlite_url)
    assert run["status"] == "stopped" and run["finished_at"] is not None
    assert "401" in run["message"] or "auth" in run["message"].lower()
    assert "bad" not in run["message"].split()  # the token is never stored


def test_quota_is_planned_and_a_402_stops_cleanly(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """The run refuses a plan the budget cannot finish; with --allow-partial it stops at 402."""
    emu = start_emulator(seed=2, symbols=10, start=dt.date(2024, 1, 2), today=TODAY, daily_limit=20)
    settings = settings_for(sqlite_url, emu)
    add_assets(settings, symbols_of(emu))
    refused_run = run_sync(settings, SyncOptions(), clock=clock_at(TODAY))
    assert refused_run.status is RunStatus.STOPPED and refused_run.synced == 0
    assert "needs about 30 API calls but only 19 remain" in (refused_run.stop_reason or "")
    # 30 for the fetches, 1 for the usage check (already spent: 19 of 20 remain)
    assert (refused_run.calls_estimate, refused_run.calls_remaining) == (31, 19)
    partial = run_sync(settings, SyncOptions(allow_partial=True), clock=clock_at(TODAY))
    assert partial.status is RunStatus.STOPPED and partial.status == "stopped"
    assert 0 < partial.synced < 10 and not partial.failed
    assert "daily" in (partial.stop_reason or "")
    synced = [a.symbol for a in list_assets(settings) if a.last_synced is not None]
    assert mismatches(sqlite_url, emu, synced) == []
    assert all(a.lease_owner is None for a in list_assets(settings) if hasattr(a, "lease_owner"))
    refused, stopped = sync_runs(sqlite_url)
    assert (refused["status"], refused["assets_synced"], refused["calls_spent"]) == (
        "stopped",
        0,
        1,  # the usage check
    )
    assert "needs about 30 API calls" in refused["message"]
    assert stopped["status"] == "stopped" and stopped["assets_synced"] == partial.synced


def test_an_unreachable_provider_stops_the_run_early(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """When every request fails with server errors, the run stops after a few assets."""
    emu = start_emulator(seed=2, symbols=20, start=dt.date(2024, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu, eodhd_max_retries=1)
    add_assets(settings, symbols_of(emu))
    emu.set_fault("*", "503")
    summary = run_sync(settings, SyncOptions(concurrency=3), clock=clock_at(TODAY))
    assert summary.status is RunStatus.STOPPED and summary.status == "stopped"
    assert "failed for 3 assets in a row" in (summary.stop_reason or "")
    assert "no asset is marked failed" in (summary.stop_reason or "")
    assert summary.failed == {} and summary.synced == 0  # the counts agree with the stop line
    assets = list_assets(settings)
    # not one asset is marked failed or held back for an outage that is not theirs
    assert [a.symbol for a in assets if a.fail_count or a.next_attempt_at or a.last_error] == []


def test_a_refused_connection_is_an_outage_not_an_asset_failure(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """A closed port stops the run without backoff; once the URL is right, every asset syncs."""
    emu = start_emulator(seed=2, symbols=6, start=dt.date(2024, 1, 2), today=TODAY)
    good = settings_for(sqlite_url, emu, eodhd_max_retries=0)
    add_assets(good, symbols_of(emu))
    bad = good.model_copy(update={"eodhd_base_url": "http://127.0.0.1:1/api"})
    down = run_sync(bad, SyncOptions(concurrency=1), clock=clock_at(TODAY))
    assert down.status is RunStatus.STOPPED and down.failed == {} and down.synced == 0
    assert "failed for 3 assets in a row" in (down.stop_reason or "")
    assert "ConnectError" in (down.stop_reason or "")
    assert "(gave up after 1 try)" in (down.stop_reason or "")
    assert [a.symbol for a in list_assets(good) if a.fail_count or a.next_attempt_at] == []
    up = run_sync(good, SyncOptions(concurrency=1), clock=clock_at(TODAY))
    assert (up.synced, up.failed, up.status) == (6, {}, RunStatus.OK)


def test_failures_short_of_an_outage_are_still_recorded(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """Two assets failing while the others sync (or at the end of the run) do fail."""
    emu = start_emulator(seed=2, symbols=6, start=dt.date(2024, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu, eodhd_max_retries=0)
    symbols = symbols_of(emu)
    add_assets(settings, symbols)
    broken = sorted(symbols)[-2:]  # synced last: the run ends inside their streak
    for symbol in broken:
        emu.set_fault(symbol, "503")
    summary = run_sync(settings, SyncOptions(concurrency=1), clock=clock_at(TODAY))
    assert sorted(summary.failed) == broken and summary.synced == 4
    assert sorted(a.symbol for a in list_assets(settings) if a.fail_count == 1) == broken
