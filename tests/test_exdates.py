"""One dividend rule everywhere: dividends sharing an ex-date are one factor ``1 - total / P``.

Three implementations are held to it on the same families of same-day events: the exact rule
(:mod:`data_nexus.exdates`, used by the ``adjustment`` check), the float query path
(``adjust="all"``, whose events the SQL factor steps reuse) and the emulator's independent
exact back-adjustment (the stand-in for the provider's ``adjusted_close``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.emulator.adjustment import build_view
from data_nexus.emulator.prices import DividendEvent, RawSeries, SplitEvent
from data_nexus.exdates import ExDate, dividend_factor, dividend_factors, ex_dates
from data_nexus.quality.checks import adjustment_factors
from data_nexus.query.adjust import Block, dividend_events, price_factors
from data_nexus.records import Bar, Dividend, Split

START = dt.date(2020, 1, 1).toordinal()
SYMBOL = "X.US"
RATIOS = [(Decimal(2), Decimal(1)), (Decimal(1), Decimal(4)), (Decimal(3), Decimal(2))]
DIGITS = 10  # the emulator's reference, rounded to 1e-10 instead of the served 1e-4


def day(row: int) -> dt.date:
    return dt.date.fromordinal(START + row)


def dividend(row: int, amount: str, *, symbol: str = SYMBOL) -> Dividend:
    return Dividend(symbol, day(row), Decimal(amount), Decimal(amount))


def block(closes: list[float], symbol: str = SYMBOL) -> Block:
    dates = np.array([day(r) for r in range(len(closes))], dtype="datetime64[D]")
    return Block([symbol], np.array([0]), dates, np.array(closes, dtype=np.float64))


def bars(closes: list[float | None]) -> list[Bar]:
    return [
        Bar(SYMBOL, day(r), None, None, None, None if c is None else Decimal(str(c)), None, None)
        for r, c in enumerate(closes)
    ]


def all_factors(closes: list[float], splits: list[Split], dividends: list[Dividend]) -> list[float]:
    factors = price_factors("all", block(closes), splits, dividends)
    assert factors is not None
    return [float(f) for f in factors]


# --- the families, by hand ------------------------------------------------------------------


def test_two_dividends_on_one_day_are_one_factor_of_their_total() -> None:
    # LPEX.US in the demo: a regular 0.17 and a special 0.34 on one ex-date
    closes = [16.0, 16.0, 15.5]
    family = [dividend(2, "0.17"), dividend(2, "0.34")]
    expected = 1 - Fraction("0.51") / 16
    assert all_factors(closes, [], family) == pytest.approx([float(expected)] * 2 + [1], 1e-15)
    assert adjustment_factors(bars(closes), [], family)[:2] == [expected, expected]
    product = (1 - Fraction("0.17") / 16) * (1 - Fraction("0.34") / 16)
    assert abs(float(product / expected) - 1) > 3e-5  # what the old rule gave: 3.7e-5 off


def test_three_dividends_on_one_day() -> None:
    closes = [40.0, 41.0, 39.0]
    family = [dividend(2, "0.25"), dividend(2, "1.10"), dividend(2, "0.05")]
    expected = 1 - Fraction("1.40") / 41
    assert all_factors(closes, [], family)[0] == pytest.approx(float(expected), rel=1e-15)
    assert adjustment_factors(bars(closes), [], family)[0] == expected
    [event] = ex_dates(family)
    assert event == ExDate(SYMBOL, day(2), Fraction("1.40"))


def test_dividends_and_a_split_on_one_day_use_the_previous_close_in_new_shares() -> None:
    closes = [100.0, 100.0, 51.0]
    split = Split(SYMBOL, day(2), Decimal(2), Decimal(1))
    family = [dividend(2, "0.5"), dividend(2, "0.3")]
    dividend_part = 1 - Fraction("0.8") / 50  # P = 100 old shares = 50 per new share
    expected = dividend_part / 2
    assert all_factors(closes, [split], family)[0] == pytest.approx(float(expected), rel=1e-15)
    assert adjustment_factors(bars(closes), [split], family)[0] == expected


def test_value_only_dividends_are_turned_back_into_declared_amounts_before_summing() -> None:
    closes = [30.0, 30.0, 30.0, 15.0]
    later = Split(SYMBOL, day(3), Decimal(2), Decimal(1))
    family = [
        Dividend(SYMBOL, day(2), Decimal("0.1"), None),  # declared 0.2 (a 2/1 split later)
        Dividend(SYMBOL, day(2), Decimal("0.15"), Decimal("0.3")),
    ]
    [event] = ex_dates(family, [later])
    assert event.total == Fraction("0.5")
    expected = (1 - Fraction("0.5") / 30) / 2
    assert adjustment_factors(bars(closes), [later], family)[0] == expected
    assert all_factors(closes, [later], family)[0] == pytest.approx(float(expected), rel=1e-15)


def test_a_dividend_on_the_first_bar_scales_nothing() -> None:
    closes = [10.0, 10.0]
    family = [dividend(0, "0.2"), dividend(0, "0.1")]
    assert all_factors(closes, [], family) == [1.0, 1.0]
    assert adjustment_factors(bars(closes), [], family) == [1, 1]


def test_a_dividend_whose_previous_close_is_missing_is_left_out() -> None:
    closes = [10.0, float("nan"), 10.0]
    family = [dividend(2, "0.2"), dividend(2, "0.1")]
    assert all_factors(closes, [], family) == [1.0, 1.0, 1.0]
    assert adjustment_factors(bars([10.0, None, 10.0]), [], family) == [1, 1, 1]
    assert dividend_factor(Fraction("0.3"), None) == 1
    assert dividend_factor(Fraction("0.3"), float("nan")) == 1


def test_a_family_after_the_block_needs_one_previous_close_and_reports_one_key() -> None:
    family = [dividend(5, "0.2"), dividend(5, "0.1")]
    events, missing = dividend_events(block([10.0, 10.0]), family, [])
    assert missing == [(SYMBOL, day(5))] and len(events.run) == 0
    events, missing = dividend_events(block([10.0, 10.0]), family, [], {(SYMBOL, day(5)): 12.0})
    assert missing == [] and events.factor.tolist() == [pytest.approx(1 - 0.3 / 12, rel=1e-15)]


def test_a_total_at_or_beyond_the_previous_close_is_ignored() -> None:
    assert dividend_factor(Fraction(6), Decimal(10)) == Fraction(4, 10)
    assert dividend_factor(Fraction(10), Decimal(10)) == 1
    assert dividend_factor(Fraction(0), Decimal(10)) == 1
    assert dividend_factor(Fraction(6), Decimal(10), Fraction(2)) == 1  # P = 5 per new share
    got = dividend_factors(
        np.array([6.0, 10.0, 0.0, 6.0, 1.0]),
        np.array([10.0, 10.0, 10.0, 10.0, np.nan]),
        np.array([1.0, 1.0, 1.0, 2.0, 1.0]),
    )
    assert got.tolist() == [pytest.approx(0.4, rel=1e-15), 1.0, 1.0, 1.0, 1.0]


def test_families_of_other_symbols_stay_apart() -> None:
    family = [dividend(1, "0.2"), dividend(1, "0.1", symbol="Y.US"), dividend(1, "0.3")]
    assert [(e.symbol, e.total) for e in ex_dates(family)] == [
        (SYMBOL, Fraction("0.5")),
        ("Y.US", Fraction("0.1")),
    ]


# --- the three implementations agree on random families -------------------------------------


@st.composite
def families(draw: st.DrawFn) -> RawSeries:
    """Random closes with ex-dates holding one to three dividends, some sharing a split."""
    n = draw(st.integers(2, 40))
    closes = draw(st.lists(st.integers(100, 900_000), min_size=n, max_size=n))
    rows = st.integers(0, n - 1)  # row 0: a family on the first bar
    splits = []
    for row in sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=3)))):
        new, old = draw(st.sampled_from(RATIOS))
        splits.append(SplitEvent(row, day(row), new, old))
    dividends = []
    for row in sorted(set(draw(st.lists(rows, max_size=5)))):
        for _ in range(draw(st.integers(1, 3))):
            # each at most a sixth of the previous close in new shares, so a family stays
            # below it (a real dividend is a few per cent)
            cents = draw(st.integers(1, max(1, min(2_000, closes[max(row - 1, 0)] // 24))))
            dividends.append(
                DividendEvent(row, day(row), Decimal(cents) / 100, None, None, None, None)
            )
    ints = np.array(closes, dtype=np.int64)
    volume = np.full(n, 1000, dtype=np.int64)
    return RawSeries(
        np.arange(START, START + n, dtype=np.int32),
        *(ints, ints, ints, ints),
        volume,
        splits,
        dividends,
        2,
    )


@settings(max_examples=300, deadline=None)
@given(families())
def test_query_check_and_emulator_agree_on_same_day_families(raw: RawSeries) -> None:
    view = build_view(SYMBOL, raw, DIGITS, "USD")
    closes = (raw.close / 100.0).tolist()
    exact = adjustment_factors(
        [
            Bar(SYMBOL, day(r), None, None, None, Decimal(int(c)) / 100, None, None)
            for r, c in enumerate(raw.close)
        ],
        view.splits,
        view.dividends,
    )
    reference = view.adjusted_close / 10.0**DIGITS  # the emulator's, rounded to 1e-10
    checked = np.array(
        [float(Fraction(int(c), 100) * f) for c, f in zip(raw.close, exact, strict=True)]
    )
    np.testing.assert_allclose(checked, reference, rtol=1e-12, atol=0.51 * 10.0**-DIGITS)
    queried = np.array(closes) * np.array(all_factors(closes, view.splits, view.dividends))
    np.testing.assert_allclose(queried, checked, rtol=1e-12, atol=0)
