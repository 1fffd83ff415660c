"""Judgement at the write boundary: bad rows skipped with findings, every legitimate value exact,
a caller's bug refused with one exact line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.decimals import canonical, decimal_places
from data_nexus.errors import DataValidationError
from data_nexus.records import Bar, Dividend, Finding, Split
from data_nexus.storage.clean_chunks import by_columns
from data_nexus.storage.validate import (
    MISSING,
    BarValidator,
    judge_actions,
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
        ({"adjusted_close": 1.5},
         "AAPL.US 2024-01-03 adjusted_close: 1.5 is a float, not an exact Decimal"),
        ({"volume": 1.5}, "AAPL.US 2024-01-03 volume: 1.5 is not an integer"),
        ({"symbol": "MSFT.US"}, "AAPL.US 2024-01-03 symbol: the bar belongs to 'MSFT.US'"),
    ],
)  # fmt: skip
def test_a_callers_bug_is_refused_with_symbol_date_field_and_value(
    changes: dict[str, object], message: str
) -> None:
    """A float, a string date, another symbol's bar: the caller's bug, not provider data."""
    with pytest.raises(DataValidationError) as caught:
        validate_bars("AAPL.US", [bar(), bar(date=DAY + dt.timedelta(days=1), **changes)])
    assert str(caught.value) == message
    with pytest.raises(
        DataValidationError, match=r"^AAPL\.US 2024-01-03 date: '2024-01-03' is not"
    ):
        validate_bars("AAPL.US", [bar(date="2024-01-03")])


@pytest.mark.parametrize(
    ("changes", "kind", "detail"),
    [
        ({"close": None}, "no_prices", "close: missing (open, high, low, adjusted_close sent)"),
        ({"open": None, "high": None, "low": None, "close": None, "adjusted_close": None},
         "no_prices", "close: missing, no prices"),
        ({"open": Decimal("1E+15")}, "out_of_range",
         "open: 1E+15 is outside the sane range |x| < 10^15"),
        ({"low": Decimal("-1E+16")}, "out_of_range",
         "low: -1E+16 is outside the sane range |x| < 10^15"),
        ({"close": Decimal("1E-31")}, "out_of_range", "close: 1E-31 has 31 decimal places (more than 30)"),
        ({"high": Decimal("NaN")}, "out_of_range", "high: NaN is not a finite number"),
        ({"adjusted_close": Decimal("Infinity")}, "out_of_range",
         "adjusted_close: Infinity is not a finite number"),
        ({"volume": -1}, "out_of_range", "volume: -1 is negative"),
        ({"volume": 2**63}, "out_of_range", f"volume: {2**63} is above BIGINT's 2^63-1"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("canonical_text", [True, False])
def test_a_bar_that_cannot_be_stored_is_skipped_with_a_finding(
    changes: dict[str, object], kind: str, detail: str, canonical_text: bool
) -> None:
    """The bad bar alone is skipped; its neighbours are stored; the finding names it."""
    validator = BarValidator("AAPL.US", canonical=canonical_text)
    bad_day = DAY + dt.timedelta(days=1)
    rows = validator.rows([bar(), bar(date=bad_day, **changes), bar(date=DAY + dt.timedelta(2))])
    assert [r[0] for r in rows] == ["2024-01-02", "2024-01-04"]
    assert validator.findings == [Finding("AAPL.US", bad_day, kind, detail)]
    assert "2024-01-03" in validator.dates  # a window never deletes its stored bar


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("-37.63"), "-37.63"),  # WTI, 2020-04-20
        (Decimal("-40.320"), "-40.32"),
        (Decimal("8.4401E-06"), "0.0000084401"),  # SHIB-USD.CC
        (Decimal("1E-12"), "0.000000000001"),
        (Decimal("12.123456789"), "12.123456789"),  # a ninth decimal is kept, not refused
        (Decimal("123456789012345.5"), "123456789012345.5"),
        (Decimal("-0.000000000000000000000000000001"), "-0.000000000000000000000000000001"),
    ],
)
def test_negative_and_tiny_prices_are_stored_exactly(value: Decimal, text: str) -> None:
    (row,) = validate_bars("CL.COMM", [bar(symbol="CL.COMM", low=value, close=value)])
    assert split_prices(row[1])[2:4] == (text, text)


def test_bars_after_today_are_skipped_with_a_finding() -> None:
    """A row dated 2026-12-31 on 2026-11-29 never becomes the asset's last date."""
    today = dt.date(2026, 11, 29)
    bars = [bar(date=today), bar(date=dt.date(2026, 12, 31)), bar(date=dt.date(2026, 11, 30))]
    validator = BarValidator("AAPL.US", today=today)
    assert [r[0] for r in validator.rows(bars)] == ["2026-11-29"]
    assert [(f.date, f.kind) for f in validator.findings] == [
        (dt.date(2026, 12, 31), "future_bar"),
        (dt.date(2026, 11, 30), "future_bar"),
    ]
    assert validator.findings[0].detail == "dated after the exchange's today 2026-11-29"


def test_non_positive_prices_are_stored_and_flagged_only_for_stock_and_etf() -> None:
    validator = BarValidator("X.US")
    rows = validator.rows(
        [bar(symbol="X.US", low=Decimal("0"), close=Decimal("0.5")),
         bar(symbol="X.US", date=DAY + dt.timedelta(1), close=Decimal("-1.5")),
         bar(symbol="X.US", date=DAY + dt.timedelta(2))]
    )  # fmt: skip
    assert len(rows) == 3
    assert validator.findings == []
    assert validator.non_positive("Index") == validator.non_positive(None) == []
    assert validator.non_positive("Common Stock") == validator.non_positive("ETF") == [
        Finding("X.US", DAY, "non_positive_price", "price <= 0 stored as sent: low 0"),
        Finding(
            "X.US", DAY + dt.timedelta(1), "non_positive_price",
            "price <= 0 stored as sent: close -1.5",
        ),
    ]  # fmt: skip


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


def test_actions_map_to_rows() -> None:
    """Splits keep both sides; dividends keep every decimal; the key carries ``seq``."""
    dividend, split = validate_actions(
        "AAPL.US",
        [Split("AAPL.US", DAY, Decimal(4), Decimal(1)),
         Dividend("AAPL.US", DAY, Decimal("0.1234567890123"), Decimal("0.96"), "USD")],
    )  # fmt: skip
    assert (split["action_type"], split["value"], split["numerator"], split["seq"]) == (
        "split",
        4,
        4,
        0,
    )
    assert (dividend["value"], dividend["unadjusted_value"]) == (
        Decimal("0.1234567890123"), Decimal("0.96")
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "kind", "detail"),
    [
        (Split("A.US", DAY, Decimal("1.000000"), Decimal("0.000000")), "bad_split",
         "split: 1.000000/0.000000 is not a ratio"),
        (Split("A.US", DAY, Decimal(0), Decimal(1)), "bad_split", "split: 0/1 is not a ratio"),
        (Split("A.US", DAY, Decimal(-2), Decimal(1)), "bad_split", "numerator: -2 is negative"),
        (Split("A.US", DAY, Decimal(1), Decimal("1E+20")), "bad_split",
         "denominator: 1E+20 is outside the sane range |x| < 10^15"),
        (Split("A.US", DAY, Decimal(1), Decimal("1E+14")), "bad_split",
         "split: 1/1E+14 is outside any sane ratio"),
        (Dividend("A.US", DAY, None), "bad_action", "value: missing amount"),  # type: ignore[arg-type]
        (Dividend("A.US", DAY, Decimal("-0.1")), "bad_action", "value: -0.1 is negative"),
        (Dividend("A.US", DAY, Decimal("0.5"), currency="DOLLARS-US"), "bad_action",
         "currency: 'DOLLARS-US' is longer than 8 characters"),
    ],
)  # fmt: skip
def test_an_action_that_cannot_be_stored_is_skipped_with_a_finding(
    action: Split | Dividend, kind: str, detail: str
) -> None:
    good = Dividend("A.US", DAY + dt.timedelta(1), Decimal("0.25"))
    rows, findings = judge_actions("A.US", [action, good])
    assert [(r["date"], r["value"]) for r in rows] == [(good.date, Decimal("0.25"))]
    assert findings == [Finding("A.US", DAY, kind, detail)]


def test_two_dividends_on_one_day_are_kept_and_duplicates_stored_once() -> None:
    regular, special = Dividend("A.US", DAY, Decimal("0.25")), Dividend("A.US", DAY, Decimal("1"))
    rows, findings = judge_actions("A.US", [special, regular, special])
    assert [(r["seq"], r["value"]) for r in rows] == [(0, Decimal("0.25")), (1, Decimal("1"))]
    assert findings == [
        Finding("A.US", DAY, "duplicate_action", "dividend sent twice: stored once")
    ]
    # the numbering does not depend on the provider's order
    assert judge_actions("A.US", [regular, special])[0] == rows


def test_two_different_splits_on_one_day_are_kept_and_flagged() -> None:
    rows, findings = judge_actions(
        "A.US",
        [Split("A.US", DAY, Decimal(4), Decimal(1)), Split("A.US", DAY, Decimal(2), Decimal(1))],
    )
    assert [(r["seq"], r["numerator"]) for r in rows] == [(0, 2), (1, 4)]
    assert findings == [
        Finding(
            "A.US",
            DAY,
            "conflicting_splits",
            "2 different splits on one ex-date, all stored: 2/1, 4/1",
        )
    ]


def test_a_callers_bug_in_an_action_is_refused() -> None:
    with pytest.raises(DataValidationError, match=r"the action belongs to 'B\.US'"):
        validate_actions("A.US", [Dividend("B.US", DAY, Decimal(1))])
    with pytest.raises(DataValidationError, match="is a float"):
        validate_actions("A.US", [Dividend("A.US", DAY, 0.5)])  # type: ignore[arg-type]


any_price = st.none() | st.integers(0, 32).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("-2E+15"), max_value=Decimal("2E+15"), places=places
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
        ok = price is None or (abs(price) < Decimal(10) ** 15 and decimal_places(price) <= 30)
        if not ok:
            expected = None
            break
        assert expected is not None
        expected.append(MISSING if price is None else canonical(price))
    validator = BarValidator("AAPL.US", canonical=canonical_text)
    rows = validator.rows([bar(**values)])
    if expected is None:
        assert rows == [] and [f.kind for f in validator.findings] == ["out_of_range"]
        return
    (row,) = rows
    got = row[1].split("\t")
    if canonical_text:
        assert got == expected
    else:
        assert [None if g == MISSING else Decimal(g) for g in got] == [
            None if e == MISSING else Decimal(e) for e in expected
        ]


def mostly(common: st.SearchStrategy[object], rare: st.SearchStrategy[object]) -> Any:
    """``common`` 29 times in 30, else ``rare``."""
    return st.integers(0, 29).flatmap(lambda i: rare if i == 13 else common)  # 0 shrinks to common


# Mostly what the column-wise path takes (canonical positive prices, a new date, a volume
# in range, the validator's symbol), sometimes anything else.
plain_price = st.integers(1, 10**10).flatmap(
    lambda i: st.sampled_from([Decimal(canonical(Decimal(i).scaleb(-4))), Decimal(i).scaleb(-4)])
)  # canonical, or with the trailing zeros a provider may send (1.50)
odd_price = any_price | st.sampled_from(
    [Decimal("1.50"), Decimal("1E-7"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
     Decimal("-0"), Decimal("0E-5"), Decimal("1E+3"), 1.5, 2]
)  # fmt: skip
some_bar = st.builds(
    Bar,
    symbol=mostly(st.just("AAPL.US"), st.just("MSFT.US")),
    date=mostly(
        st.dates(dt.date(2023, 1, 1), dt.date(2024, 3, 1)), st.just(dt.datetime(2024, 1, 5))
    ),
    open=mostly(plain_price, odd_price),
    high=mostly(plain_price, odd_price),
    low=mostly(plain_price, odd_price),
    close=mostly(plain_price, odd_price),
    adjusted_close=mostly(plain_price, odd_price),
    volume=mostly(st.integers(0, 10**9), st.sampled_from([None, -1, 2**63, 2**63 - 1, True, 1.0])),
)


def _judged(validator: BarValidator, bars: list[Bar], by_rows: bool) -> object:
    try:
        chunk = validator._by_rows(bars) if by_rows else validator.chunk(bars)
    except DataValidationError as error:
        return ("raised", str(error), sorted(validator.dates))
    return (
        chunk,
        sorted(validator.dates),
        validator.findings,
        validator.non_positive("common stock"),
    )


@settings(max_examples=300)
@given(
    st.lists(st.lists(some_bar, max_size=12), min_size=1, max_size=3),
    st.booleans(),
    st.sampled_from([None, dt.date(2024, 2, 15)]),
)
def test_the_column_wise_check_gives_the_rows_of_the_row_by_row_reference(
    chunks: list[list[Bar]], canonical_text: bool, today: dt.date | None
) -> None:
    """Chunk after chunk, the column-wise path gives exactly the rows, dates, findings and
    errors of judging each bar on its own (it only ever declines a chunk, never differs)."""
    fast = BarValidator("AAPL.US", canonical=canonical_text, today=today)
    slow = BarValidator("AAPL.US", canonical=canonical_text, today=today)
    for bars in chunks:
        got, want = _judged(fast, bars, False), _judged(slow, bars, True)
        assert got == want
        if isinstance(got, tuple) and got[0] == "raised":
            break


def test_a_plain_chunk_is_judged_column_wise() -> None:
    """The common chunk takes the column-wise path, with the reference's rows (trailing
    zeros stripped)."""
    bars = [bar(date=DAY + dt.timedelta(days=i), close=Decimal(i + 1) / 4) for i in range(50)]
    bars[7] = bar(date=bars[7].date, close=Decimal("1.50"), low=Decimal("10"))
    dates: set[str] = set()
    chunk = by_columns(bars, "AAPL.US", dates, "9999-12-31", canonical=True)
    assert chunk is not None
    assert chunk == BarValidator("AAPL.US")._by_rows(bars)
    assert dates == {r[0] for r in chunk.rows}
    assert by_columns(bars[:1], "AAPL.US", dates, "9999-12-31", canonical=True) is None
