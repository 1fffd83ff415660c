"""The float screens of price_steps and adjustment_mismatches never change a verdict.

Values are drawn at and around the thresholds (×3 steps, the 0.5 % and 0.00015 tolerances),
where a float could misjudge; each verdict is compared with an exact Fraction reference.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.quality import adjustment_mismatches, price_steps
from data_nexus.records import Bar

DAY = dt.date(2024, 1, 1)
EDGES = [Fraction(3), Fraction(1, 3), Fraction(1005, 1000), Fraction(995, 1000), Fraction(1)]


def _bar(i: int, close: Decimal, adjusted: Decimal | None = None) -> Bar:
    return Bar("X.US", DAY + dt.timedelta(days=i), close, close, close, close, adjusted, 1)


def _near(base: Decimal, ratio: Fraction, nudge: int, places: int) -> Decimal:
    exact = Fraction(base) * ratio
    step = Fraction(1, 10**places)
    value = Fraction(round(exact / step)) * step + nudge * step
    return Decimal(value.numerator) / Decimal(value.denominator)


prices = st.decimals(
    min_value=Decimal("1E-9"), max_value=Decimal("1E12"), places=None, allow_nan=False
).filter(lambda d: d > 0 and d.as_tuple().exponent >= -12)  # type: ignore[operator]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(prices, st.sampled_from(EDGES), st.integers(-2, 2), st.integers(0, 14)),
        min_size=1,
        max_size=8,
    )
)
def test_price_steps_match_the_exact_rule(draws: list[tuple[Decimal, Fraction, int, int]]) -> None:
    bars = []
    for base, ratio, nudge, places in draws:
        value = _near(base, ratio, nudge, places)
        if value <= 0:
            continue
        bars += [_bar(len(bars), base), _bar(len(bars) + 1, value)]
    found = {f.date for f in price_steps("X.US", bars)}
    exact = {
        b.date
        for a, b in pairwise(bars)
        if not Fraction(1, 3) <= Fraction(b.close) / Fraction(a.close) <= 3
    }
    assert found == exact


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            prices, st.sampled_from(EDGES), st.integers(-2, 2), st.integers(0, 14), st.booleans()
        ),
        min_size=1,
        max_size=8,
    )
)
def test_adjustment_mismatches_match_the_exact_rule(
    draws: list[tuple[Decimal, Fraction, int, int, bool]],
) -> None:
    bars = []
    for base, ratio, nudge, places, absolute in draws:
        if absolute:  # around the absolute tolerance, which rules below a close of 0.03
            close = base % Decimal("0.03") or Decimal("0.01")
            off = Decimal("0.00015") + nudge * Decimal("1E-14")
            bars.append(_bar(len(bars), close, close + off if nudge % 2 else close - off))
            continue
        bars.append(_bar(len(bars), base, _near(base, ratio, nudge, places)))
    found = adjustment_mismatches("X.US", bars)
    bad = [
        abs(Fraction(b.adjusted_close) - Fraction(b.close))  # type: ignore[arg-type]
        > max(Fraction(5, 1000) * Fraction(b.close), Fraction(15, 100000))
        for b in bars
    ]
    runs = sum(1 for i, flag in enumerate(bad) if flag and (i + 1 == len(bad) or not bad[i + 1]))
    assert len(found) == runs
    assert {f.date for f in found} == {
        b.date for i, b in enumerate(bars) if bad[i] and (i + 1 == len(bad) or not bad[i + 1])
    }
