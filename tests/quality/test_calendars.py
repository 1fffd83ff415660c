"""Exchange sessions: real holidays are not sessions; unmapped exchanges say they guess."""

from __future__ import annotations

import datetime as dt

import pytest

from data_nexus.quality import EXCHANGE_CALENDARS, calendar_name, gaps, sessions

D = dt.date

# Real closures 2024-2026, from the exchanges' published holiday calendars.
HOLIDAYS = {
    "US": [
        D(2024, 1, 1), D(2024, 1, 15), D(2024, 2, 19), D(2024, 3, 29), D(2024, 5, 27),
        D(2024, 6, 19), D(2024, 7, 4), D(2024, 9, 2), D(2024, 11, 28), D(2024, 12, 25),
        D(2025, 1, 1), D(2025, 1, 9), D(2025, 1, 20), D(2025, 2, 17), D(2025, 4, 18),
        D(2025, 5, 26), D(2025, 6, 19), D(2025, 7, 4), D(2025, 9, 1), D(2025, 11, 27),
        D(2025, 12, 25), D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 4, 3),
        D(2026, 5, 25), D(2026, 6, 19), D(2026, 7, 3), D(2026, 9, 7), D(2026, 11, 26),
        D(2026, 12, 25),
    ],
    "LSE": [
        D(2024, 1, 1), D(2024, 3, 29), D(2024, 4, 1), D(2024, 5, 6), D(2024, 5, 27),
        D(2024, 8, 26), D(2024, 12, 25), D(2024, 12, 26), D(2025, 1, 1), D(2025, 4, 18),
        D(2025, 4, 21), D(2025, 5, 5), D(2025, 5, 26), D(2025, 8, 25), D(2025, 12, 25),
        D(2025, 12, 26), D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4),
        D(2026, 5, 25), D(2026, 8, 31), D(2026, 12, 25), D(2026, 12, 28),
    ],
    "XETRA": [
        D(2024, 1, 1), D(2024, 3, 29), D(2024, 4, 1), D(2024, 5, 1), D(2024, 12, 24),
        D(2024, 12, 25), D(2024, 12, 26), D(2024, 12, 31), D(2025, 1, 1), D(2025, 4, 18),
        D(2025, 4, 21), D(2025, 5, 1), D(2025, 12, 24), D(2025, 12, 25), D(2025, 12, 26),
        D(2025, 12, 31), D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 1),
        D(2026, 12, 24), D(2026, 12, 25), D(2026, 12, 31),
    ],
}  # fmt: skip


def _weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    days = (start + dt.timedelta(n) for n in range((end - start).days + 1))
    return [day for day in days if day.weekday() < 5]


def test_the_issue_mapping() -> None:
    assert calendar_name("US") == "XNYS"
    assert calendar_name("lse") == "XLON"
    assert calendar_name("XETRA") == "XETR"
    assert calendar_name("NOWHERE") is None
    assert set(EXCHANGE_CALENDARS.values()) >= {"XNYS", "XLON", "XETR", "24/7", "24/5"}


@pytest.mark.parametrize("exchange", sorted(HOLIDAYS))
def test_real_holidays_2024_2026_are_not_sessions(exchange: str) -> None:
    found = sessions(exchange, D(2024, 1, 1), D(2026, 12, 31))
    assert not found.approximate
    assert set(HOLIDAYS[exchange]).isdisjoint(found.days)
    # and every other weekday is a session: the calendar closes only on those holidays
    assert set(_weekdays(D(2024, 1, 1), D(2026, 12, 31))) - set(found.days) == set(
        HOLIDAYS[exchange]
    )


@pytest.mark.parametrize("exchange", sorted(HOLIDAYS))
def test_bars_on_every_session_have_no_gap_over_holidays(exchange: str) -> None:
    found = sessions(exchange, D(2024, 1, 2), D(2026, 12, 30))
    assert gaps(f"X.{exchange}", found.days, found) == []


def test_a_removed_session_is_one_gap_finding() -> None:
    found = sessions("US", D(2024, 11, 25), D(2024, 12, 6))
    stored = [day for day in found.days if day != D(2024, 12, 2)]
    [finding] = gaps("AAPL.US", stored, found)
    assert (finding.symbol, finding.date, finding.kind) == ("AAPL.US", D(2024, 12, 2), "gap")
    assert "1 session(s) missing: 2024-12-02" in finding.detail


def test_consecutive_missing_sessions_are_one_run_and_the_range_is_the_assets_own() -> None:
    found = sessions("LSE", D(2024, 3, 1), D(2024, 4, 30))
    stored = [d for d in found.days if not D(2024, 3, 27) <= d <= D(2024, 4, 3)]
    stored = [d for d in stored if d >= D(2024, 3, 11)]  # listed 2024-03-11: no gap before
    [finding] = gaps("VOD.LSE", stored, found)
    assert finding.date == D(2024, 3, 27)
    # 27, 28 March; Good Friday and Easter Monday are holidays; 2, 3 April
    assert finding.detail.startswith("4 session(s) missing: 2024-03-27 to 2024-04-03")


def test_unmapped_exchange_falls_back_to_weekdays_and_says_so() -> None:
    found = sessions("NOWHERE", D(2024, 12, 23), D(2024, 12, 27))
    assert found.approximate and found.calendar is None
    assert found.days == tuple(_weekdays(D(2024, 12, 23), D(2024, 12, 27)))
    assert "weekdays assumed" in found.note
    stored = [D(2024, 12, 23), D(2024, 12, 24), D(2024, 12, 26), D(2024, 12, 27)]
    [finding] = gaps("X.NOWHERE", stored, found)
    assert "weekdays assumed" in finding.detail


def test_crypto_trades_every_day_and_reversed_ranges_are_empty() -> None:
    assert len(sessions("CC", D(2024, 1, 1), D(2024, 1, 31)).days) == 31
    assert sessions("US", D(2024, 1, 31), D(2024, 1, 1)).days == ()


def test_dates_before_the_calendar_are_weekdays_and_flagged() -> None:
    found = sessions("US", D(1989, 12, 27), D(1990, 1, 5))
    assert found.approximate and "weekdays assumed up to 1989-12-31" in found.note
    assert D(1989, 12, 29) in found.days and D(1990, 1, 1) not in found.days
