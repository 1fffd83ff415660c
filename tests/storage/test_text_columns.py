"""Text columns judged column-wise give exactly the validator's rows, or defer to it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_nexus.errors import DataValidationError
from data_nexus.records import Bar
from data_nexus.storage.text_columns import judge_columns
from data_nexus.storage.validate import MISSING, BarValidator, JudgedRows

TODAY = dt.date(2026, 1, 2)


def judge(rows: list[tuple[str, ...]], today: dt.date | None = TODAY) -> JudgedRows | None:
    """Rows of (date, open, high, low, close, adjusted_close, volume) texts."""
    columns = [pa.array(list(c), pa.string()) for c in zip(*rows, strict=True)]
    return judge_columns(columns[0], columns[1:6], columns[6], today=today)


def test_clean_rows_become_canonical_rows() -> None:
    judged = judge(
        [
            ("2024-01-02", "10.5000", "11", "9.25", "10.50", "", "100"),
            ("2024-01-03", "", "", "", "0.00000001", "1E-8", ""),
        ]
    )
    assert judged is None  # 1E-8 is exact, but not plain text: the row-by-row path judges it
    judged = judge(
        [
            ("2024-01-02", "10.5000", "11", "9.25", "10.50", "", "100"),
            ("2024-01-03", "", "", "", "0.00000001", "0.000000010", ""),
        ]
    )
    assert judged is not None
    assert judged.rows == [
        ("2024-01-02", f"10.5\t11\t9.25\t10.5\t{MISSING}", 100),
        ("2024-01-03", "\t".join([MISSING] * 3 + ["0.00000001"] * 2), None),
    ]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        (0, "2024-02-30"),  # not a date
        (0, "2024-1-02"),  # not ISO
        (0, "0000-01-01"),  # Arrow's year 0 is no date in Python or PostgreSQL
        (0, "2026-01-05"),  # after today: a finding
        (4, ""),  # no close: a finding
        (4, "-1.5"),  # stored, but a finding for shares
        (1, "0"),  # the same
        (1, "0.000"),
        (4, "1000000000000000"),  # 10^15: out of range
        (4, "1." + "0" * 30 + "1"),  # 31 decimals
        (4, " 10.5"),  # spaces: the row-by-row path reads them
        (4, "1e3"),
        (6, "1.5"),  # not whole
        (6, "-1"),
        (6, "1" * 19),  # may be above 2^63-1
    ],
)
def test_any_row_that_needs_judging_defers_the_whole_file(cell: int, value: str) -> None:
    row = ["2024-01-03", "10", "11", "9", "10.5", "10.4", "100"]
    row[cell] = value
    assert judge([("2024-01-02", "10", "11", "9", "10.5", "10.4", "100"), tuple(row)]) is None


def test_a_date_twice_defers() -> None:
    row = ("2024-01-02", "10", "11", "9", "10.5", "10.4", "100")
    assert judge([row, row]) is None


def test_absent_columns_are_missing_and_the_close_is_required() -> None:
    dates, close = pa.array(["2024-01-02"]), pa.array(["7.10"])
    judged = judge_columns(dates, [None, None, None, close, None], None, today=TODAY)
    assert judged is not None
    assert judged.rows == [("2024-01-02", "\t".join([MISSING] * 3 + ["7.1", MISSING]), None)]
    with pytest.raises(ValueError, match="close"):
        judge_columns(dates, [close, None, None, None, None], None, today=TODAY)


def test_the_validator_takes_judged_rows_refusing_a_date_twice_and_skipping_future_bars() -> None:
    validator = BarValidator("A.US", today=dt.date(2024, 1, 3))
    rows = [("2024-01-02", "1\t1\t1\t1\t1", 5), ("2024-01-04", "1\t1\t1\t1\t1", 5)]
    chunk = validator.chunk(JudgedRows(rows)[:2])
    assert chunk.rows == rows[:1] and (chunk.first, chunk.last) == ("2024-01-02", "2024-01-02")
    assert [(f.date.day, f.kind) for f in validator.findings] == [(4, "future_bar")]
    with pytest.raises(DataValidationError, match="2024-01-02: more than one bar"):
        validator.chunk(JudgedRows(rows[:1]))


_PRICE = st.decimals(
    min_value=Decimal("1E-12"), max_value=Decimal("1E14"), places=None, allow_nan=False
).filter(lambda d: d.as_tuple().exponent >= -30)


@given(st.lists(st.tuples(_PRICE, _PRICE, st.integers(0, 10**18 - 1)), min_size=1, max_size=20))
def test_judged_rows_equal_the_row_by_row_validator(values: list[tuple[Decimal, ...]]) -> None:
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(len(values))]
    texts = [(d.isoformat(), "", format(o, "f"), "", format(c, "f"), "", str(v))
             for d, (o, c, v) in zip(days, values, strict=True)]  # fmt: skip
    judged = judge(texts)
    bars = [
        Bar("A.US", d, None, o, None, c, None, v) for d, (o, c, v) in zip(days, values, strict=True)
    ]
    expected = BarValidator("A.US", today=TODAY).rows(bars)
    assert judged is not None and judged.rows == expected
