"""Sync the emulator's US, LSE and XETRA markets over 2024-2026, then check: no false gap.

The emulator closes on a few fixed-date holidays only (a subset of each exchange's real
ones), and thin symbols miss random sessions. ``run_checks`` must report exactly those
missing sessions (its gaps), nothing on any real holiday, and nothing else on clean data.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable

import exchange_calendars as xcals
import pandas as pd

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.quality import calendar_name
from data_nexus.quality.run import run_checks
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
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
        missing = real - set(days)
        gaps = [f for f in report.findings if f.symbol == symbol]
        assert {f.date for f in gaps} <= missing, symbol
        assert sum(int(f.detail.split()[0]) for f in gaps) == len(missing), symbol
        weekdays = {d.date() for d in pd.bdate_range(first, last)}
        checked_holidays += len(weekdays - real)
    assert len(report.findings) >= 2  # this seed has thin symbols on LSE and XETRA
    assert checked_holidays >= 3 * 20  # every exchange's real holidays lay in the checked range
