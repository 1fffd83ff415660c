"""The adjustment core against the emulator's exact (rational) back-adjustment, and its laws."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.emulator.adjustment import build_view
from data_nexus.emulator.prices import DividendEvent, RawSeries, SplitEvent
from data_nexus.errors import UsageError
from data_nexus.query.adjust import Block, check_adjust, price_factors
from data_nexus.records import Dividend, Split

START = dt.date(2020, 1, 1).toordinal()
RATIOS = [
    (Decimal(2), Decimal(1)),
    (Decimal(3), Decimal(2)),
    (Decimal(1), Decimal(10)),
    (Decimal(4), Decimal(1)),
    (Decimal(1), Decimal(3)),
]


@st.composite
def raw_series(draw: st.DrawFn) -> RawSeries:
    n = draw(st.integers(2, 60))
    closes = draw(st.lists(st.integers(50, 900_000), min_size=n, max_size=n))
    rows = st.integers(1, n - 1)
    splits = []
    for row in sorted(set(draw(st.lists(rows, max_size=3)))):
        new, old = draw(st.sampled_from(RATIOS))
        splits.append(SplitEvent(row, dt.date.fromordinal(START + row), new, old))
    dividends = []
    for row in sorted(set(draw(st.lists(rows, max_size=4)))):
        # a dividend of at most half the previous close (a real one is a few per cent)
        cents = draw(st.integers(1, max(1, min(500, closes[row - 1] // 2))))
        day = dt.date.fromordinal(START + row)
        dividends.append(DividendEvent(row, day, Decimal(cents) / 100, None, None, None, None))
    ints = np.array(closes, dtype=np.int64)
    return RawSeries(
        np.arange(START, START + n, dtype=np.int32),
        ints,
        ints,
        ints,
        ints,
        np.full(n, 1000, dtype=np.int64),
        splits,
        dividends,
        2,
    )


def block_of(raw: RawSeries, symbol: str = "X.US") -> Block:
    dates = np.array([dt.date.fromordinal(int(o)) for o in raw.ordinals], dtype="datetime64[D]")
    return Block([symbol], np.array([0]), dates, raw.close / 100.0)


@settings(max_examples=200, deadline=None)
@given(raw_series(), st.booleans())
def test_all_matches_the_emulators_exact_adjusted_close(raw: RawSeries, declared: bool) -> None:
    view = build_view("X.US", raw, 4, "USD")
    dividends = (
        view.dividends
        if declared
        else [dataclasses.replace(d, unadjusted_value=None) for d in view.dividends]
    )
    factors = price_factors("all", block_of(raw), view.splits, dividends)
    assert factors is not None
    ours = raw.close / 100.0 * factors
    theirs = view.adjusted_close / 10_000.0
    # the emulator rounds to 4 decimals; the dividend value (fallback) to 6: turned back into
    # the declared amount with the later splits' ratio R, it is off by up to 0.5e-6 × R, which
    # moves the factor 1 - D/P by 0.5e-6 × R / P relative (P in post-split shares)
    fallback = 0.0
    if not declared:
        for d in raw.dividends:
            later = np.prod([float(s.new / s.old) for s in raw.splits if s.row > d.row])
            same = np.prod([float(s.new / s.old) for s in raw.splits if s.row == d.row])
            previous = raw.close[d.row - 1] / 100.0 / same
            if previous <= float(d.amount):
                continue  # paying the whole close or more: no factor on either side (1)
            fallback += 0.5e-6 * later / (previous - float(d.amount)) * 1.01
    tolerance = 0.5e-4 + (1e-9 + fallback) * np.abs(theirs)
    assert np.all(np.abs(ours - theirs) <= tolerance)


@settings(max_examples=100, deadline=None)
@given(raw_series())
def test_splits_undo_the_jumps_of_a_constant_value(raw: RawSeries) -> None:
    # a constant economic value quoted in ever-changing share counts
    per_row = np.ones(len(raw.close))
    for s in raw.splits:
        per_row[: s.row] *= float(s.new / s.old)
    quoted = 100.0 * per_row
    block = Block(["X.US"], np.array([0]), block_of(raw).dates, quoted)
    splits = [Split("X.US", s.date, s.new, s.old) for s in raw.splits]
    factors = price_factors("splits", block, splits, [])
    assert factors is not None
    np.testing.assert_allclose(quoted * factors, 100.0, rtol=1e-12)


def test_events_after_the_last_bar_or_on_the_first_do_not_apply() -> None:
    dates = np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]")
    block = Block(["A.US"], np.array([0]), dates, np.array([10.0, 10.0]))
    splits = [
        Split("A.US", dt.date(2024, 1, 5), Decimal(2), Decimal(1)),
        Split("A.US", dt.date(2024, 1, 2), Decimal(2), Decimal(1)),
    ]
    factors = price_factors("splits", block, splits, [])
    assert factors is not None
    assert factors.tolist() == [1.0, 1.0]


def test_runs_of_several_symbols_are_adjusted_apart() -> None:
    dates = np.array(["2024-01-02", "2024-01-03"] * 2, dtype="datetime64[D]")
    block = Block(["A.US", "B.US"], np.array([0, 2]), dates, np.array([10.0, 5.0, 8.0, 8.0]))
    splits = [Split("A.US", dt.date(2024, 1, 3), Decimal(2), Decimal(1))]
    dividends = [Dividend("B.US", dt.date(2024, 1, 3), Decimal("0.8"), Decimal("0.8"))]
    factors = price_factors("all", block, splits, dividends)
    assert factors is not None
    np.testing.assert_allclose(factors, [0.5, 1.0, 0.9, 1.0])


def test_events_after_the_block_but_before_the_cutoff_apply() -> None:
    # the block is a window [.., 2024-01-04] of a symbol stored up to 2024-01-10
    dates = np.array(["2024-01-03", "2024-01-04"], dtype="datetime64[D]")
    block = Block(["A.US"], np.array([0]), dates, np.array([10.0, 10.0]))
    later = dt.date(2024, 1, 9)
    dividends = [Dividend("A.US", later, Decimal(1), Decimal(1))]
    splits = [Split("A.US", dt.date(2024, 1, 8), Decimal(2), Decimal(1))]
    kept = price_factors(
        "all",
        block,
        splits,
        dividends,
        previous_close={("A.US", later): 20.0},
        cutoff={"A.US": dt.date(2024, 1, 10)},
    )
    cut = price_factors("all", block, splits, dividends, previous_close={("A.US", later): 20.0})
    assert kept is not None and cut is not None
    np.testing.assert_allclose(kept, [0.5 * 0.95, 0.5 * 0.95])
    np.testing.assert_allclose(cut, [1.0, 1.0])


def test_provider_mode_is_adjusted_over_raw_close() -> None:
    dates = np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]")
    block = Block(["A.US"], np.array([0]), dates, np.array([10.0, 0.0]))
    factors = price_factors("provider", block, [], [], adjusted_close=np.array([5.0, 1.0]))
    assert factors is not None
    assert factors[0] == 0.5 and np.isnan(factors[1])


def test_unknown_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown adjust mode 'al'"):
        check_adjust("al")
    assert [check_adjust(m) for m in ("ALL", " Splits ", "none")] == ["all", "splits", "none"]
