"""Price and total returns: CRSP's holding-period return, dividends reinvested on the ex-date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.errors import UsageError
from data_nexus.exdates import ex_dates
from data_nexus.query.returns import daily_returns, ex_date_dividends, growth
from data_nexus.records import Dividend

closes = st.lists(st.floats(0.5, 1000), min_size=2, max_size=50)


@settings(max_examples=100, deadline=None)
@given(closes)
def test_price_growth_is_the_close_over_the_first_close(values: list[float]) -> None:
    close = np.array(values)
    runs = np.array([0])
    r = daily_returns(close, np.zeros_like(close), runs, "price")
    assert np.isnan(r[0])
    np.testing.assert_allclose(growth(r, runs), close / close[0], rtol=1e-9)


@settings(max_examples=100, deadline=None)
@given(closes, st.data())
def test_total_return_reinvests_each_dividend_at_the_ex_date_close(
    values: list[float], data: st.DataObject
) -> None:
    close = np.array(values)
    n = len(close)
    paid = np.array(data.draw(st.lists(st.floats(0, 5), min_size=n, max_size=n)))
    paid[0] = 0.0
    runs = np.array([0])
    total = growth(daily_returns(close, paid, runs, "total"), runs)
    # simulate a holder: shares grow by dividend / close on each ex-date
    shares, wealth = 1.0 / close[0], [1.0]
    for t in range(1, n):
        shares += shares * paid[t] / close[t]
        wealth.append(shares * close[t])
    np.testing.assert_allclose(total, wealth, rtol=1e-9)
    assert np.all(total >= growth(daily_returns(close, paid, runs, "price"), runs) * (1 - 1e-12))


def test_each_symbol_starts_afresh() -> None:
    close = np.array([1.0, 2.0, 10.0, 11.0])
    r = daily_returns(close, np.zeros(4), np.array([0, 2]), "price")
    assert np.isnan(r[0]) and np.isnan(r[2])
    np.testing.assert_allclose(r[[1, 3]], [1.0, 0.1])


def test_unknown_kind() -> None:
    with pytest.raises(UsageError, match="unknown return kind 'log'"):
        daily_returns(np.ones(2), np.zeros(2), np.array([0]), "log")


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_same_day_dividends_are_reinvested_as_their_total(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 30))
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-01") + n)
    factors = np.array(
        data.draw(st.lists(st.sampled_from([0.25, 0.5, 1.0]), min_size=n, max_size=n))
    )
    families: dict[int, list[Fraction]] = {}
    for row in data.draw(st.lists(st.integers(1, n - 1), max_size=8)):
        families.setdefault(row, []).append(Fraction(data.draw(st.integers(1, 300)), 100))
    dividends = [
        Dividend(
            "A.US",
            dt.date(2024, 1, 1) + dt.timedelta(days=row),
            Decimal(a.numerator) / a.denominator,
            None,
        )
        for row, amounts in families.items()
        for a in amounts
    ]
    off_bar = Dividend("A.US", dt.date(2023, 6, 1), Decimal(1), None)
    other = Dividend("B.US", dt.date(2024, 1, 2), Decimal(1), None)
    events = ex_dates([*dividends, off_bar, other])
    column = ex_date_dividends(["A.US"], np.array([0]), days, events, factors)
    expected = np.zeros(n)
    for row, amounts in families.items():
        expected[row] = float(sum(amounts, Fraction(0))) * factors[row]
    np.testing.assert_allclose(column, expected, rtol=1e-15, atol=0)
