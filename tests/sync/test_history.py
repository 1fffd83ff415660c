"""The pure judgements of a re-fetched history (kinds 6–8), on hand-written inputs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from data_nexus.records import Bar, Dividend, Split
from data_nexus.sync.history import (
    explained_by_splits,
    price_factors,
    replaced_history,
    rescale_outside,
    retracted_actions,
)

S = "X.US"
D = Decimal


def bar(day: int, close: str, adjusted: str | None = None, volume: int | None = 100) -> Bar:
    return Bar(S, dt.date(2026, 1, day), None, None, None, D(close), D(adjusted or close), volume)


def test_the_example_400_becomes_100_and_volume_four_times() -> None:
    """A 4:1 split on the 20th, an answer from the 10th: the 5th goes from 400 to 100."""
    outside = [bar(5, "400", "400", 1_000)]
    answer = [bar(10, "400", "100"), bar(20, "101", "101")]
    split = Split(S, dt.date(2026, 1, 20), D(4), D(1))
    result = rescale_outside(outside, answer, [], [split])
    [rescaled] = result.bars
    assert (rescaled.adjusted_close, rescaled.volume, rescaled.close) == (D(100), 4_000, D(400))
    [finding] = result.findings
    assert (finding.kind, finding.date) == ("history_rescaled", split.date)


def test_split_factors_when_the_provider_rounds_its_own_way() -> None:
    """The answer's adjusted closes cannot be reproduced (the provider used other factors),
    but only a split changed: the outside rows take the split factor, rounded half-even to
    the answer's decimals."""
    outside = [bar(5, "30", "29.9999", 10), bar(6, "31", "30.5")]
    answer = [bar(10, "33", "10.9999"), bar(20, "11", "11")]
    split = Split(S, dt.date(2026, 1, 20), D(3), D(1))
    result = rescale_outside(outside, answer, [], [split])
    assert [(b.adjusted_close, b.volume) for b in result.bars] == [
        (D("10.0000"), 30),
        (D("10.1667"), 300),
    ]
    assert "split factors" in result.findings[0].detail


def test_stale_when_a_dividend_changed_and_the_answer_cannot_be_reproduced() -> None:
    outside = [bar(5, "50", "49")]
    answer = [bar(10, "50", "48.7"), bar(20, "51", "51")]
    dividend = Dividend(S, dt.date(2026, 1, 20), D("0.5"), D("0.5"))
    result = rescale_outside(outside, answer, [], [dividend])
    assert result.bars == []
    [finding] = result.findings
    assert (finding.kind, finding.date) == ("stale_history", dt.date(2026, 1, 10))
    assert "1 stored bars before it keep the old adjustment" in finding.detail


def test_nothing_when_no_action_after_the_outside_rows_changed() -> None:
    outside = [bar(5, "50", "50")]
    answer = [bar(10, "50", "50")]
    old = [Split(S, dt.date(2026, 1, 2), D(2), D(1))]  # before every outside row
    assert rescale_outside(outside, answer, old, []) == rescale_outside(outside, answer, [], [])
    assert rescale_outside(outside, answer, old, []).findings == []


def test_price_factors_follow_the_provider_conventions() -> None:
    """A dividend's factor uses the previous close, in post-split shares on a split's day."""
    bars = [bar(5, "100"), bar(6, "50")]
    actions = [
        Split(S, dt.date(2026, 1, 6), D(2), D(1)),
        Dividend(S, dt.date(2026, 1, 6), D(1), D(1)),
    ]
    first, second = price_factors(bars, actions)
    assert second == 1
    assert first == D(1) / 2 * (1 - D(1) / 50)


def test_price_factors_take_one_factor_from_the_total_of_an_ex_dates_dividends() -> None:
    """A regular 0.17 and a special 0.34 on one ex-date (one listed twice, counted once) are
    one factor 1 - 0.51 / 16, as EODHD's adjusted_close has it; a value-only dividend is
    turned back into its declared amount with the later split's ratio."""
    bars = [bar(5, "16"), bar(6, "16"), bar(7, "10"), bar(8, "5")]
    regular = Dividend(S, dt.date(2026, 1, 6), D("0.17"), D("0.17"))
    special = Dividend(S, dt.date(2026, 1, 6), D("0.34"), D("0.34"))
    value_only = Dividend(S, dt.date(2026, 1, 7), D("0.25"))  # declared 0.5 (2:1 on the 8th)
    split = Split(S, dt.date(2026, 1, 8), D(2), D(1))
    factors = price_factors(bars, [regular, special, regular, value_only, split])
    later = (1 - Fraction("0.5") / 16) / 2
    assert factors == [(1 - Fraction("0.51") / 16) * later, later, Fraction(1, 2), 1]


def test_a_replaced_history_needs_every_session_moved() -> None:
    stored = [bar(5, "10"), bar(6, "11"), bar(7, "12")]
    moved = [bar(5, "150"), bar(6, "165"), bar(7, "180")]
    replaced = replaced_history(stored, moved)
    assert replaced is not None and len(replaced.changes) == 3
    assert replaced_history(stored, [*moved[:2], bar(7, "12")]) is None  # one session kept
    assert replaced_history(stored, [bar(5, "10.2"), bar(6, "11.2"), bar(7, "12.2")]) is None
    assert replaced_history(stored[:1], moved[:1]) is None  # one session is a revision
    finding = replaced.finding(S, dt.date(2020, 1, 2))
    assert (finding.kind, finding.date) == ("history_replaced", dt.date(2020, 1, 2))


def test_a_new_split_explains_split_adjusted_raw_prices() -> None:
    stored = [bar(5, "100"), bar(6, "102")]
    fetched = [bar(5, "25"), bar(6, "25.5")]
    replaced = replaced_history(stored, fetched)
    assert replaced is not None
    split = Split(S, dt.date(2026, 1, 7), D(4), D(1))
    assert explained_by_splits(replaced, [], [split])
    assert not explained_by_splits(replaced, [split], [split])  # known before: no news
    assert not explained_by_splits(replaced, [], [Split(S, dt.date(2026, 1, 7), D(2), D(1))])


def test_retracted_actions_are_those_whose_date_and_type_are_gone() -> None:
    split = Split(S, dt.date(2026, 1, 7), D(2), D(1))
    dividend = Dividend(S, dt.date(2026, 1, 8), D("0.1"))
    revised = Dividend(S, dt.date(2026, 1, 8), D("0.2"))
    [finding] = retracted_actions([split, dividend], [revised])
    assert (finding.kind, finding.date) == ("action_retracted", split.date)
    assert "split 2/1" in finding.detail
    assert retracted_actions([split], [split]) == []
