"""off_session_bar: a bar on a day the exchange's calendar has no session, and only then.

The family: weekend bars, weekday holidays (fixed, moving and observed ones), crypto (every
day is a session), an exchange without a calendar and dates before the calendar's range (a
weekday guess never flags), through ``check_history`` and ``run_checks``, and the finding goes
away with the bar.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from data_nexus.assets import add_assets
from data_nexus.quality import FINDING_KINDS, check_history, off_session_bars, sessions
from data_nexus.quality.run import run_checks
from data_nexus.records import Bar
from data_nexus.storage.store import AssetUpdate, Store
from tests.conftest import make_settings

D = dt.date
NOW = dt.datetime(2025, 1, 10, 23, tzinfo=dt.UTC)


def bar(symbol: str, day: dt.date) -> Bar:
    c = Decimal(10)
    return Bar(symbol, day, c, c, c, c, c, 100)


def with_extra(exchange: str, start: dt.date, end: dt.date, *extra: dt.date) -> list[dt.date]:
    """Every session of ``exchange`` in [start, end] plus ``extra`` days, sorted."""
    return sorted({*sessions(exchange, start, end).days, *extra})


def flagged(exchange: str, days: list[dt.date]) -> list[tuple[dt.date, str]]:
    found = off_session_bars(f"X.{exchange}", days, sessions(exchange, days[0], days[-1]))
    assert all(f.kind == "off_session_bar" and f.symbol == f"X.{exchange}" for f in found)
    return [(f.date, f.detail) for f in found]  # type: ignore[misc]


def test_the_kind_is_listed() -> None:
    assert "off_session_bar" in FINDING_KINDS


def test_weekend_and_holiday_bars_are_flagged_naming_the_calendar() -> None:
    extra = (D(2024, 11, 30), D(2024, 11, 28), D(2024, 12, 25), D(2025, 1, 9))
    days = with_extra("US", D(2024, 11, 1), D(2025, 1, 31), *extra)
    assert flagged("US", days) == [
        (D(2024, 11, 28), "bar on Thursday 2024-11-28: no session of XNYS (a holiday)"),
        (D(2024, 11, 30), "bar on Saturday 2024-11-30: no session of XNYS (a weekend)"),
        (D(2024, 12, 25), "bar on Wednesday 2024-12-25: no session of XNYS (a holiday)"),
        (D(2025, 1, 9), "bar on Thursday 2025-01-09: no session of XNYS (a holiday)"),
    ]


@pytest.mark.parametrize(
    ("exchange", "day", "calendar"),
    [
        ("US", D(2024, 3, 29), "XNYS"),  # Good Friday
        ("US", D(2021, 12, 24), "XNYS"),  # Christmas observed on the Friday
        ("LSE", D(2024, 4, 1), "XLON"),  # Easter Monday
        ("XETRA", D(2024, 12, 31), "XETR"),
        ("TO", D(2024, 8, 5), "XTSE"),  # Civic Holiday
        ("COMM", D(2024, 3, 29), "CMES"),  # Good Friday (CME trades on 4 July)
        ("FOREX", D(2024, 12, 28), "24/5"),  # a Saturday: 24/5 has no holiday
    ],
)
def test_each_calendar_flags_its_own_closures(exchange: str, day: dt.date, calendar: str) -> None:
    days = with_extra(exchange, day - dt.timedelta(days=10), day + dt.timedelta(days=10), day)
    [(date, detail)] = flagged(exchange, days)
    assert date == day and f"no session of {calendar}" in detail


def test_sessions_only_and_crypto_weekends_are_never_flagged() -> None:
    assert flagged("US", with_extra("US", D(2024, 1, 2), D(2024, 12, 31))) == []
    every_day = [D(2024, 12, 20) + dt.timedelta(days=n) for n in range(20)]
    assert flagged("CC", every_day) == []  # 24/7: Christmas and weekends are sessions
    assert flagged("FOREX", with_extra("FOREX", D(2024, 12, 23), D(2025, 1, 3))) == []


def test_no_calendar_no_flag_and_the_report_says_sessions_are_guessed() -> None:
    days = [D(2024, 12, 20), D(2024, 12, 21), D(2024, 12, 25), D(2024, 12, 27)]
    found = sessions("ZZ", days[0], days[-1])
    assert found.calendar is None and found.exact_from is None
    assert off_session_bars("X.ZZ", days, found) == []


def test_bars_before_the_calendars_first_session_are_not_judged() -> None:
    # 1989 is before the calendars' range: a Saturday there is a guess's business, not a flag
    days = [D(1989, 12, 22), D(1989, 12, 23), D(1989, 12, 26), D(1990, 1, 2), D(1990, 1, 6)]
    found = sessions("US", days[0], days[-1])
    assert found.approximate and "weekdays assumed up to 1989-12-31" in found.note
    assert [f.date for f in off_session_bars("X.US", days, found)] == [D(1990, 1, 6)]


def test_check_history_includes_it_beside_gaps() -> None:
    days = with_extra("US", D(2024, 3, 25), D(2024, 4, 5), D(2024, 3, 29))
    days.remove(D(2024, 4, 2))
    found = check_history("AAA.US", [bar("AAA.US", d) for d in days], sessions=sessions(
        "US", days[0], days[-1]
    ))  # fmt: skip
    assert [(f.date, f.kind) for f in found] == [
        (D(2024, 3, 29), "off_session_bar"),
        (D(2024, 4, 2), "gap"),
    ]
    assert check_history("AAA.US", [bar("AAA.US", d) for d in days]) == []  # no sessions given


def test_run_checks_reports_it_until_the_bar_goes_away(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url)
    start, end = D(2024, 12, 2), D(2025, 1, 10)
    holiday, saturday = D(2024, 12, 25), D(2024, 12, 28)
    clean = with_extra("US", start, end)
    with Store.open(settings) as store:
        add_assets(store, ["AAA.US", "BTC-USD.CC"])
        state = {"last_synced": NOW}
        dirty = [bar("AAA.US", d) for d in with_extra("US", start, end, holiday, saturday)]
        store.write_asset(AssetUpdate("AAA.US", dirty, state=state))
        crypto = [bar("BTC-USD.CC", start + dt.timedelta(days=n)) for n in range(40)]
        store.write_asset(AssetUpdate("BTC-USD.CC", crypto, state=state))
    report = run_checks(settings, now=NOW)
    assert [(f.symbol, f.date, f.kind, f.source) for f in report.findings] == [
        ("AAA.US", holiday, "off_session_bar", "check"),
        ("AAA.US", saturday, "off_session_bar", "check"),
    ]
    assert report.as_dict()["by_kind"] == {"off_session_bar": 2} and report.notes == []
    # the provider stops sending them: the window's answer deletes the bars, the finding goes
    with Store.open(settings) as store:
        fixed = [bar("AAA.US", d) for d in clean]
        store.write_asset(AssetUpdate("AAA.US", fixed, window=(start, end), state=state))
    assert run_checks(settings, now=NOW).findings == []
