"""Trading days: the exchange's real sessions where its calendar decides, a fixed rule elsewhere.

The reference is :func:`data_nexus.quality.sessions` (what ``datanexus check`` judges with),
so a clean emulated history can show neither a gap nor a bar on a holiday.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from data_nexus.emulator import Market
from data_nexus.emulator.exchanges import (
    EXCHANGES,
    ExchangeSpec,
    TradingCalendar,
    exchange_spec,
    fallback_days,
)
from data_nexus.quality import calendar_name, sessions

D = dt.date
TODAY = D(2026, 11, 27)


def _dates(ordinals: object) -> list[dt.date]:
    return [dt.date.fromordinal(int(o)) for o in ordinals]  # type: ignore[attr-defined]


@pytest.mark.parametrize("code", sorted(EXCHANGES))
def test_every_exchange_trades_on_its_calendars_sessions(code: str) -> None:
    market = Market(today=TODAY, exchanges=(code,), symbols=1)
    real = sessions(code, market.start, TODAY)
    assert not real.approximate and real.calendar == calendar_name(code)
    assert market.trading_days(code, market.start, TODAY) == list(real.days)


def test_real_closures_are_no_trading_days_and_their_neighbours_are() -> None:
    market = Market(today=TODAY, exchanges=("US", "LSE", "XETRA", "TO", "COMM"), symbols=1)
    closed = {
        "US": [
            D(2001, 9, 11), D(2001, 9, 14), D(2004, 6, 11), D(2012, 10, 29),  # ad hoc
            D(2018, 12, 5), D(2025, 1, 9),  # national days of mourning
            D(2024, 3, 29), D(2024, 11, 28), D(2021, 12, 24), D(2022, 6, 20),  # observed
        ],
        "LSE": [D(2024, 4, 1), D(2022, 6, 3), D(2022, 9, 19), D(2020, 5, 8)],
        "XETRA": [D(2024, 3, 29), D(2017, 10, 31)],
        "TO": [D(2024, 8, 5), D(2024, 10, 14)],
        "COMM": [D(2024, 3, 29)],
    }  # fmt: skip
    for code, days in closed.items():
        for day in days:
            assert day.weekday() < 5
            assert market.trading_days(code, day, day) == [], (code, day)
    assert market.trading_days("US", D(2001, 9, 17), D(2001, 9, 17)) == [D(2001, 9, 17)]


def test_crypto_trades_every_day_and_forex_every_weekday() -> None:
    market = Market(today=TODAY, exchanges=("CC", "FOREX"), symbols=1)
    span = (D(2024, 12, 23), D(2025, 1, 5))
    assert len(market.trading_days("CC", *span)) == 14
    forex = market.trading_days("FOREX", *span)
    assert forex == [d for d in market.trading_days("CC", *span) if d.weekday() < 5]
    assert {D(2024, 12, 25), D(2025, 1, 1)} <= set(forex)  # 24/5: no holiday at all


def test_before_the_calendars_range_the_fixed_rule_applies_and_check_says_it_guesses() -> None:
    start = D(1985, 1, 2)
    market = Market(today=D(1991, 12, 31), exchanges=("US",), start=start, symbols=1)
    days = market.trading_days("US", start, D(1991, 12, 31))
    real = sessions("US", start, D(1991, 12, 31))
    assert real.approximate and "weekdays assumed up to 1989-12-31" in real.note
    assert real.exact_from == D(1990, 1, 1)
    guessed = [d for d in days if d < D(1990, 1, 1)]
    assert guessed == _dates(fallback_days(exchange_spec("US"), start, D(1989, 12, 31)))
    assert D(1985, 4, 5) in guessed  # Good Friday: only a calendar knows it
    assert D(1989, 12, 25) not in guessed and D(1989, 7, 4) not in guessed
    assert [d for d in days if d >= D(1990, 1, 1)] == [d for d in real.days if real.decides(d)]


def test_an_exchange_without_a_calendar_keeps_the_fixed_rule() -> None:
    spec = ExchangeSpec("ZZ", "Nowhere", None, "", "EUR", "", "", "stock", ((1, 1), (5, 1)))
    assert calendar_name("ZZ") is None
    calendar = TradingCalendar(spec, D(2024, 1, 1))
    days = calendar.days(D(2024, 1, 1), D(2024, 12, 31))
    assert days == _dates(fallback_days(spec, D(2024, 1, 1), D(2024, 12, 31)))
    assert D(2024, 3, 29) in days and D(2024, 5, 1) not in days and D(2024, 1, 1) not in days
    assert len(days) == 262 - 2  # 2024's weekdays minus New Year and 1 May (both weekdays)


def test_a_far_future_today_keeps_real_sessions() -> None:
    market = Market(today=D(2061, 1, 3), exchanges=("US",), symbols=1)
    real = sessions("US", D(2060, 1, 1), D(2060, 12, 31))
    assert not real.approximate
    assert market.trading_days("US", D(2060, 1, 1), D(2060, 12, 31)) == list(real.days)


def test_importing_the_emulator_does_not_import_exchange_calendars_or_pandas() -> None:
    """The calendar is built on first use (a request or --warm), never on import."""
    code = (
        "import sys, datetime as dt\n"
        "from data_nexus.emulator import Market, EmulatorServer\n"
        "Market(today=dt.date(2024, 6, 28), exchanges=('US', 'CC'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'exchange_calendars', 'pandas'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
