"""Validation at the write boundary refuses, with one exact line, what the schema would round."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_nexus.decimals import canonical, decimal_places
from data_nexus.errors import DataValidationError
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage.validate import (
    MISSING,
    BarValidator,
    split_prices,
    split_value,
    validate_actions,
    validate_bars,
)

DAY = dt.date(2024, 1, 2)


def bar(**changes: object) -> Bar:
    values: dict[str, object] = {
        "symbol": "AAPL.US", "date": DAY, "open": Decimal("1"), "high": Decimal("2"),
        "low": Decimal("0.5"), "close": Decimal("1.5"), "adjusted_close": Decimal("1.4"),
        "volume": 10,
    }  # fmt: skip
    values.update(changes)
    return Bar(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"close": Decimal("12.123456789")},
         "AAPL.US 2024-01-02 close: 12.123456789 has 9 decimal places; "
         "the schema keeps 8 (refusing to round)"),
        ({"open": Decimal("10000000000")},
         "AAPL.US 2024-01-02 open: 10000000000 is too large; the schema keeps values below 10^10"),
        ({"low": Decimal("-0.01")},
         "AAPL.US 2024-01-02 low: -0.01 is negative; the schema keeps values >= 0"),
        ({"high": Decimal("NaN")}, "AAPL.US 2024-01-02 high: NaN is not a finite number"),
        ({"adjusted_close": 1.5},
         "AAPL.US 2024-01-02 adjusted_close: 1.5 is a float, not an exact Decimal"),
        ({"volume": -1}, "AAPL.US 2024-01-02 volume: -1 is negative"),
        ({"volume": 2**63},
         f"AAPL.US 2024-01-02 volume: {2**63} is outside the BIGINT range (max 2^63-1)"),
        ({"symbol": "MSFT.US"}, "AAPL.US 2024-01-02 symbol: the bar belongs to 'MSFT.US'"),
    ],
)  # fmt: skip
def test_bad_bar_values_are_refused_with_symbol_date_field_and_value(
    changes: dict[str, object], message: str
) -> None:
    """Each refusal names symbol, date, field and value; nothing is rounded or clipped."""
    with pytest.raises(DataValidationError) as caught:
        validate_bars("AAPL.US", [bar(), bar(date=DAY + dt.timedelta(days=1), **changes)])
    assert str(caught.value) == message.replace("2024-01-02", "2024-01-03")


def test_a_date_twice_is_refused_even_across_chunks() -> None:
    """One bar per date: a streamed duplicate in a later chunk is caught too."""
    validator = BarValidator("AAPL.US")
    validator.rows([bar()])
    with pytest.raises(DataValidationError, match=r"^AAPL\.US 2024-01-02: more than one bar"):
        validator.rows([bar(close=Decimal("2"))])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("177.8300"), "177.83"),
        (Decimal("330.0"), "330"),
        (Decimal("1.100000000"), "1.1"),  # nine places, but only trailing zeros: exact
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("-0"), "0"),
        (Decimal("0E-12"), "0"),
        (Decimal("9999999999.99999999"), "9999999999.99999999"),
        (Decimal("1.2E+3"), "1200"),
        (7, "7"),
    ],
)
def test_accepted_values_become_canonical_text(value: Decimal, text: str) -> None:
    """Exact values pass and come out as the canonical text SQLite stores."""
    (row,) = validate_bars("AAPL.US", [bar(close=value)])
    assert split_prices(row[1])[3] == text


@given(
    st.integers(0, 8).flatmap(
        lambda places: st.decimals(
            min_value=0, max_value=Decimal("9999999999.99999999"), places=places
        )
    ),
    st.booleans(),
)
def test_every_representable_price_passes_unchanged(value: Decimal, canonical_text: bool) -> None:
    """Anything NUMERIC(18, 8) holds exactly passes as the same number (canonical on SQLite)."""
    (row,) = BarValidator("AAPL.US", canonical=canonical_text).rows([bar(close=value)])
    text = split_prices(row[1])[3]
    assert text is not None and Decimal(text) == value
    if canonical_text:
        assert text == canonical(value)


def test_split_value_is_the_ratio_rounded_half_even_to_12_places() -> None:
    """The convenience value is exact Fraction arithmetic, rounded once, half-even."""
    assert split_value(Decimal("1.000000"), Decimal("12.589830")) == Decimal("0.079429190068")
    assert split_value(Decimal(4), Decimal(1)) == Decimal(4)
    assert split_value(Decimal(1), Decimal(8)) == Decimal("0.125")
    assert split_value(Decimal("5E-13"), Decimal(1)) == Decimal(0)  # half-even: ties to 0
    assert split_value(Decimal("1.5E-12"), Decimal(1)) == Decimal("2E-12")


def test_actions_map_to_rows_and_refuse_bad_amounts() -> None:
    """Splits keep both sides; dividends keep 12 places; a 13th is refused, not rounded."""
    split, dividend = validate_actions(
        "AAPL.US",
        [Split("AAPL.US", DAY, Decimal(4), Decimal(1)),
         Dividend("AAPL.US", DAY, Decimal("0.24"), Decimal("0.96"), "USD")],
    )  # fmt: skip
    assert (split["action_type"], split["value"], split["numerator"]) == ("split", 4, 4)
    assert (dividend["action_type"], dividend["unadjusted_value"]) == ("dividend", Decimal("0.96"))
    with pytest.raises(DataValidationError) as caught:
        validate_actions("AAPL.US", [Dividend("AAPL.US", DAY, Decimal("0.1234567890123"))])
    assert str(caught.value) == (
        "AAPL.US 2024-01-02 value: 0.1234567890123 has 13 decimal places; "
        "the schema keeps 12 (refusing to round)"
    )
    with pytest.raises(DataValidationError, match="is not a ratio"):
        validate_actions("AAPL.US", [Split("AAPL.US", DAY, Decimal(0), Decimal(1))])
    with pytest.raises(DataValidationError, match="more than one on this date"):
        validate_actions("AAPL.US", [Dividend("AAPL.US", DAY, Decimal(1))] * 2)
    with pytest.raises(DataValidationError, match="currency: 'DOLLARS-US' is longer than 8"):
        validate_actions("AAPL.US", [Dividend("AAPL.US", DAY, Decimal(1), currency="DOLLARS-US")])


any_price = st.none() | st.integers(0, 10).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("-1"), max_value=Decimal("20000000000"), places=places
    )
)


@given(st.lists(any_price, min_size=5, max_size=5), st.booleans())
def test_the_fast_row_check_agrees_with_checking_each_value(
    prices: list[Decimal | None], canonical_text: bool
) -> None:
    """One regular expression per row decides exactly as the per-value rules would."""
    if prices[3] is None:
        prices[3] = Decimal(1)  # a bar needs a close
    values = dict(zip(("open", "high", "low", "close", "adjusted_close"), prices, strict=True))
    expected: list[str] | None = []
    for price in prices:
        ok = price is None or (
            Decimal(0) <= price < Decimal(10) ** 10 and decimal_places(price) <= 8
        )
        if not ok:
            expected = None
            break
        assert expected is not None
        expected.append(MISSING if price is None else canonical(price))
    validator = BarValidator("AAPL.US", canonical=canonical_text)
    if expected is None:
        with pytest.raises(DataValidationError):
            validator.rows([bar(**values)])
        return
    (row,) = validator.rows([bar(**values)])
    got = row[1].split("\t")
    if canonical_text:
        assert got == expected
    else:
        assert [None if g == MISSING else Decimal(g) for g in got] == [
            None if e == MISSING else Decimal(e) for e in expected
        ]
