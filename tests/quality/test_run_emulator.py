"""Sync the emulator over a real socket, then check: exactly its gaps and its dirt.

The emulator trades on each exchange's real sessions (the calendars ``check`` judges with),
and thin symbols miss random sessions. ``run_checks`` must report exactly those missing
sessions (its gaps), nothing on any real holiday, and nothing else on clean data; bars the
emulator serves on non-sessions (dirt ``off_session_bar``) are stored and reported.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd
import pytest

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.quality import calendar_name
from data_nexus.quality.run import run_checks
from data_nexus.storage.store import Store
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.cli.test_db_cli import run_cli
from tests.sync.helpers import clock_at, settings_for

TODAY = dt.date(2026, 11, 27)


def test_check_after_a_sync_reports_only_the_sessions_the_market_missed(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    emu = start_emulator(
        seed=11, symbols=8, exchanges=("US", "LSE", "XETRA"), start=dt.date(2024, 1, 2),
        today=TODAY,
    )  # fmt: skip
    settings = settings_for(sqlite_url, emu)
    symbols = [s.symbol for code in ("US", "LSE", "XETRA") for s in emu.market.symbols(code)]
    add_assets(settings, symbols)
    clock = clock_at(TODAY)
    summary = run_sync(settings, SyncOptions(concurrency=4), clock=clock)
    assert summary.synced == len(symbols) and not summary.failed
    report = run_checks(settings, now=clock())

    assert {f.kind for f in report.findings} <= {"gap"}
    assert report.notes == []
    checked_holidays = 0
    for symbol in symbols:
        exchange = symbol.rpartition(".")[2]
        with warnings.catch_warnings():  # exchange_calendars warns about pandas deprecations
            warnings.simplefilter("ignore")
            calendar = xcals.get_calendar(str(calendar_name(exchange)), start="2020-01-02")
        days = [bar.date for bar in emu.market.bars(symbol)]
        first, last = pd.Timestamp(days[0]), pd.Timestamp(days[-1])
        real = {d.date() for d in calendar.sessions_in_range(first, last)}
        assert set(days) <= real, symbol  # no bar on a holiday or a weekend
        missing = real - set(days)
        gaps = [f for f in report.findings if f.symbol == symbol]
        assert {f.date for f in gaps} <= missing, symbol
        assert sum(int(f.detail.split()[0]) for f in gaps) == len(missing), symbol
        weekdays = {d.date() for d in pd.bdate_range(first, last)}
        checked_holidays += len(weekdays - real)
    assert len(report.findings) >= 2  # this seed has thin symbols on LSE and XETRA
    assert checked_holidays >= 3 * 20  # every exchange's real holidays lay in the checked range


def test_off_session_bars_are_synced_stored_and_checked_until_the_provider_drops_them(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """The dirt ``off_session_bar`` over a real socket: the sync stores the bars (real feeds
    send them; nothing is dropped or recorded), ``check`` reports each one the emulator says it
    injected, on the CLI too, and nothing once a full sync no longer receives them."""
    emu = start_emulator(
        seed=11, symbols=6, exchanges=("US", "LSE", "FOREX", "CC"), start=dt.date(2023, 1, 2),
        today=TODAY,
    )  # fmt: skip
    symbols = [s.symbol for code in emu.market.exchange_codes for s in emu.market.symbols(code)]
    dirty = [s for s in symbols if s.endswith((".US", ".LSE", ".FOREX"))][::6]
    injected = [i for symbol in dirty for i in emu.add_dirt(symbol, "off_session_bar")]
    assert {i.variant for i in injected} == {"weekend", "holiday"}
    assert all(i.finding for i in injected)
    with pytest.raises(ValueError, match="its exchange trades every day"):
        emu.add_dirt(next(s for s in symbols if s.endswith(".CC")), "off_session_bar")
    settings = settings_for(sqlite_url, emu)
    add_assets(settings, symbols)
    clock = clock_at(TODAY)
    summary = run_sync(settings, SyncOptions(concurrency=4), clock=clock)
    assert summary.synced == len(symbols) and not summary.failed

    with Store.open(settings) as store:  # stored as sent, not dropped
        stored = {(b.symbol, b.date) for b in store.read_bars(dirty)}
    assert {(i.symbol, i.date) for i in injected} <= stored
    report = run_checks(settings, now=clock())
    off = [f for f in report.findings if f.kind == "off_session_bar"]
    assert sorted((f.symbol, f.date) for f in off) == sorted((i.symbol, i.date) for i in injected)
    assert not [f for f in report.findings if f.source == "recorded"]
    for finding in off:
        calendar = calendar_name(finding.symbol.rpartition(".")[2])
        assert f"no session of {calendar}" in finding.detail

    env = {"DATANEXUS_DATABASE_URL": sqlite_url}
    shown = run_cli("check", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"off_session_bar ({sum(f.symbol == dirty[0] for f in off)})" in shown.stdout
    assert off[0].detail in shown.stdout

    emu.clear_dirt()  # the provider stops sending them
    summary = run_sync(settings, SyncOptions(concurrency=4, full=True), clock=clock)
    assert summary.synced == len(symbols) and not summary.failed
    after = run_checks(settings, now=clock())
    assert not [f for f in after.findings if f.kind == "off_session_bar"]
