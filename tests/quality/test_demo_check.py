"""`datanexus check` on the demo database: exactly the dirt the demo's emulator served."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections import Counter
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd

from data_nexus.demo import DEMO_DIRT, run_demo
from data_nexus.quality.run import run_checks
from tests.cli.test_db_cli import run_cli

NOW = dt.datetime(2026, 11, 27, 23, tzinfo=dt.UTC)  # a Friday evening in New York
#: The finding each injected fault of the demo's dirt kinds is recorded as.
KIND_OF_VARIANT = {
    "null_row": "no_prices",
    "split_zero_old": "bad_split",
    "split_zero_new": "bad_split",
    "split_negative": "bad_split",
    "split_empty": "bad_split",
    "split_zero_date": "bad_split",
    "dividend_zero_date": "bad_action",
    "dividend_no_amount": "bad_action",
    "dividend_duplicate": "duplicate_action",
}


def test_demo_suggests_check_and_check_reads_its_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo = run_cli("demo", "-d", str(db), "--symbols", "4", "--years", "1", cwd=tmp_path)
    assert f"datanexus check --database-url {db}" in demo.stdout, demo.stderr
    assert "the emulator served real-world dirt (" in demo.stdout
    check = run_cli("check", "--database-url", str(db), "--json", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["assets"] == 4


def test_check_reports_exactly_the_demo_dirt_and_no_false_gap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run_demo(database_url=url, symbols=12, years=3, clock=lambda: NOW)
    assert result.summary.status == "ok" and not result.summary.failed
    assert {i.kind for i in result.injected} == set(DEMO_DIRT)
    report = run_checks(url, now=NOW)

    expected = Counter(
        (i.symbol, i.date, KIND_OF_VARIANT[i.variant])
        for i in result.injected
        if i.finding and i.source == "recorded"
    )
    recorded = Counter(
        (f.symbol, f.date, f.kind) for f in report.findings if f.source == "recorded"
    )
    assert recorded == expected
    assert result.findings == sum(expected.values())

    # checks: gaps only where the emulator's market has no bar on a real NYSE session
    assert result.config is not None
    market = result.config.build_market()
    with warnings.catch_warnings():  # exchange_calendars warns about pandas deprecations
        warnings.simplefilter("ignore")
        nyse = xcals.get_calendar("XNYS", start=pd.Timestamp(2015, 1, 2))
    missing: dict[str, set[dt.date]] = {}
    for symbol in result.symbols:
        days = [bar.date for bar in market.bars(symbol)]
        open_days = nyse.sessions_in_range(pd.Timestamp(days[0]), pd.Timestamp(days[-1]))
        missing[symbol] = {d.date() for d in open_days} - set(days)
    checked = [f for f in report.findings if f.source == "check" and f.kind != "off_session_bar"]
    assert {f.kind for f in checked} <= {"gap"}
    # the bars served on closed days, each found by check's calendar and only those
    off_session = Counter(
        (f.symbol, f.date) for f in report.findings if f.kind == "off_session_bar"
    )
    served = Counter(
        (i.symbol, i.date) for i in result.injected if i.kind == "off_session_bar" and i.finding
    )
    assert served and off_session == served
    for symbol, day in served:  # a served closed day is no gap of the rest of the history
        missing[symbol].discard(day)
    for symbol, gone in missing.items():
        gaps = [f for f in checked if f.symbol == symbol]
        assert {f.date for f in gaps} <= gone
        assert sum(int(f.detail.split()[0]) for f in gaps) == len(gone)
    first = pd.Timestamp(2024, 1, 1)
    holidays = {d.date() for d in nyse.regular_holidays.holidays(first, pd.Timestamp(NOW.date()))}
    holidays |= {d.date() for d in nyse.adhoc_holidays if first <= d <= pd.Timestamp(NOW.date())}
    assert len(holidays) >= 25  # 2024-2026: every real holiday lies in the checked range
    assert not {f.date for f in report.findings} & holidays - {i.date for i in result.injected}


def test_the_demo_serves_no_bar_for_a_session_new_york_has_not_had(tmp_path: Path) -> None:
    # 01:30 UTC on Monday is Sunday evening in New York: Monday's bar does not exist yet
    monday_night_utc = dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run_demo(database_url=url, symbols=4, years=1, clock=lambda: monday_night_utc)
    assert result.summary.status == "ok"
    report = run_checks(url, now=monday_night_utc)
    assert not [f for f in report.findings if f.kind == "future_bar"]
    market = result.config.build_market() if result.config else None
    assert market is not None
    assert max(bar.date for s in result.symbols for bar in market.bars(s)) == dt.date(2026, 11, 27)
