"""The compact-JSON reader: the column-wise build gives the row-by-row reference's records,
and only a body made of compact rows and nothing else is read.

``test_parse_paths`` holds the whole parsers against the careful parser; this file holds
the two builds of ``_compact`` against each other on bodies that reach both of them, and
checks the proof that the matched rows tile the whole body.
"""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.providers.eodhd import _compact

SETTINGS = settings(max_examples=300, deadline=None)

prices = st.one_of(
    st.decimals(min_value="0.0001", max_value=10**6, places=4).map(str),
    st.integers(1, 10**6).map(str),
    st.sampled_from(["0", "0.0", "1.50", "177.8300", "0." + "0" * 28 + "1"]),
)
days = st.dates(dt.date(1999, 12, 25), dt.date(2000, 1, 20)).map(dt.date.isoformat)
volumes = st.one_of(st.integers(0, 10**12).map(str), st.just("null"))
codes = st.sampled_from(["AAPL", "BRK-B", "BF.B", "0700", "A&B"])
exchanges = st.sampled_from(["US", "", "LSE"])


def eod_row(day: str, five: tuple[str, ...], volume: str) -> str:
    o, h, lo, c, a = five
    return (
        f'{{"date":"{day}","open":{o},"high":{h},"low":{lo},"close":{c},'
        f'"adjusted_close":{a},"volume":{volume}}}'
    )


eod_rows = st.lists(
    st.builds(eod_row, days, st.tuples(*[prices] * 5), volumes), min_size=1, max_size=12
)
bulk_rows = st.lists(
    st.builds(
        lambda code, ex, row: f'{{"code":"{code}","exchange_short_name":"{ex}",' + row[1:],
        codes,
        exchanges,
        st.builds(eod_row, days, st.tuples(*[prices] * 5), volumes),
    ),
    min_size=1,
    max_size=12,
)


def both_builds(body: bytes, bulk: bool) -> None:
    """``_bars`` (column-wise when it can) and ``_by_rows`` give the same outcome."""
    pattern, fixed = (
        (_compact._BULK_ROW, _compact._BULK_FIXED)
        if bulk
        else (_compact._EOD_ROW, _compact._EOD_FIXED)
    )
    rows = _compact._rows(body, pattern, fixed)
    assert rows is not None, body
    columns = list(zip(*rows, strict=True))
    if bulk:
        symbols = [f"{c}.{s or 'US'}" for c, s in zip(columns[0], columns[1], strict=True)]
        columns = columns[2:]
        key = _compact._by_date_symbol
    else:
        symbols = ["X.US"] * len(rows)
        key = _compact._by_date

    def run(build: object) -> tuple[object, ...]:
        zero_rows: list[str] = []
        try:
            bars = build(symbols, columns, key, zero_rows, ())  # type: ignore[operator]
        except Exception as error:
            return ("error", type(error), str(error))
        return ("bars", None if bars is None else [repr(b) for b in bars], zero_rows)

    assert run(_compact._bars) == run(_compact._by_rows)


@SETTINGS
@given(eod_rows)
def test_column_wise_eod_build_equals_row_by_row(rows: list[str]) -> None:
    both_builds(("[" + ",".join(rows) + "]").encode(), bulk=False)


@SETTINGS
@given(bulk_rows)
def test_column_wise_bulk_build_equals_row_by_row(rows: list[str]) -> None:
    both_builds(("[" + ",".join(rows) + "]").encode(), bulk=True)


def test_the_fast_build_is_taken_for_a_plain_body_and_sorts_it() -> None:
    rows = [eod_row(f"2000-01-{d:02d}", ("1.5",) * 5, "10") for d in (5, 3, 4)]
    bars = _compact.compact_eod(
        ("[" + ",".join(rows) + "]").encode(), "X.US", zero_rows=[], secrets=()
    )
    assert bars is not None
    assert [b.date.day for b in bars] == [3, 4, 5]
    assert [type(b.volume) for b in bars] == [int] * 3


GOOD = eod_row("2000-01-03", ("1.5",) * 5, "10")
OTHER = eod_row("2000-01-04", ("2",) * 5, "null")


def test_only_a_body_of_compact_rows_and_nothing_else_is_read() -> None:
    def read(text: str) -> object:
        return _compact.compact_eod(text.encode(), "X.US", zero_rows=[], secrets=())

    assert read(f"[{GOOD},{OTHER}]") is not None
    for text in (
        f"[{GOOD}, {OTHER}]",  # a space between rows
        f"[{GOOD},,{OTHER}]",
        f"[{GOOD}]{OTHER}]",
        f"[{GOOD},x{OTHER}]",
        f"[{GOOD},{OTHER},]",
        f"[{GOOD}{OTHER}]",
        f'[{GOOD[:-1]},"extra":1}}]',
        f"[{GOOD},{OTHER.replace('2', '-2', 1)}]",
        "[]",
    ):
        assert read(text) is None, text
    assert json.loads(f"[{GOOD},{OTHER}]")[1]["volume"] is None
