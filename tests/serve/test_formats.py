"""The bar encoders (pure): JSON literals, streaming pieces, metadata."""

from __future__ import annotations

import datetime as dt
import io
import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_nexus.serve import formats


def table(
    symbol: str, closes: list[float | None], start: dt.date = dt.date(2024, 1, 1)
) -> pa.Table:
    n = len(closes)
    return pa.table(
        {
            "symbol": pa.array([symbol] * n).dictionary_encode(),
            "date": pa.array([start + dt.timedelta(days=i) for i in range(n)], pa.date32()),
            "open": pa.array(closes, pa.float64()),
            "high": pa.array(closes, pa.float64()),
            "low": pa.array([float("nan")] * n, pa.float64()),
            "close": pa.array(closes, pa.float64()),
            "adjusted_close": pa.array([None] * n, pa.float64()),
            "volume": pa.array([i if i % 2 else None for i in range(n)], pa.int64()),
        }
    )


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(st.lists(st.one_of(st.none(), finite), max_size=30))
def test_json_rows_read_back_exactly(closes: list[float | None]) -> None:
    t = table("A.US", closes)
    rows = json.loads("[" + formats.json_rows(t) + "]")
    assert len(rows) == len(closes)
    for i, row in enumerate(rows):
        assert row["close"] == closes[i]  # float64 text round-trips exactly; None stays null
        assert row["low"] is None  # NaN is null, never the invalid JSON token NaN
        assert row["adjusted_close"] is None
        assert row["volume"] == (i if i % 2 else None)
        assert row["date"] == (dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat()
        assert row["symbol"] == "A.US"
        assert list(row) == list(formats.COLUMNS)


def test_json_rows_write_infinities_and_nan_as_null() -> None:
    t = table("A.US", [1.5, float("inf"), -float("inf"), float("nan"), None, 2.0])
    rows = json.loads("[" + formats.json_rows(t) + "]")  # strict JSON: no Infinity/NaN tokens
    assert [r["close"] for r in rows] == [1.5, None, None, None, None, 2.0]
    assert [r["open"] for r in rows] == [1.5, None, None, None, None, 2.0]


@given(
    st.lists(st.tuples(finite, finite, finite, finite, st.one_of(st.none(), finite)), max_size=20),
    st.integers(min_value=0, max_value=5),
)
def test_json_rows_keep_each_price_in_its_column(
    prices: list[tuple[float, float, float, float, float | None]], cut: int
) -> None:
    """The price columns are written as one array and sliced back: each value lands in its
    own column and row, also for a table of several chunks or a slice of one."""
    n = len(prices)
    names = ("open", "high", "low", "close", "adjusted_close")
    columns = {name: [p[k] for p in prices] for k, name in enumerate(names)}
    whole = pa.table(
        {
            "symbol": pa.array(["A.US"] * n),
            "date": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)]),
            **{name: pa.array(values, pa.float64()) for name, values in columns.items()},
            "volume": pa.array(range(n), pa.int64()),
        }
    )
    cut = min(cut, n)
    chunked = pa.concat_tables([whole.slice(0, cut), whole.slice(cut)])
    for t in (whole, chunked, chunked.slice(min(1, n))):
        first = n - t.num_rows
        rows = json.loads(b"[" + formats.json_row_bytes(t) + b"]")
        assert len(rows) == t.num_rows
        for i, row in enumerate(rows, start=first):
            assert [row[name] for name in names] == [columns[name][i] for name in names]
            assert row["volume"] == i


def test_json_stream_of_pieces_is_one_document() -> None:
    pieces = [table("A.US", [1.5, 2.0]), table("B.US", []), table("C.US", [3.25])]
    text = b"".join(formats.encode("json", pieces, {"adjust": "all"}, cutoff="2024-01-02"))
    body = json.loads(text)
    assert body["adjust"] == "all"
    assert body["cutoff"] == "2024-01-02"
    assert [(b["symbol"], b["close"]) for b in body["bars"]] == [
        ("A.US", 1.5),
        ("A.US", 2.0),
        ("C.US", 3.25),
    ]
    empty = json.loads(b"".join(formats.encode("json", [], {}, cutoff=None)))
    assert empty == {"bars": [], "cutoff": None}


def test_json_without_symbol() -> None:
    rows = json.loads("[" + formats.json_rows(table("A.US", [1.0]), with_symbol=False) + "]")
    assert "symbol" not in rows[0]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "arrow"])
def test_binary_formats_concatenate_pieces(fmt: str) -> None:
    pieces = [table("A.US", [1.5, None]), table("B.US", []), table("C.US", [3.25])]
    chunks = list(formats.encode(fmt, iter(pieces), {"adjust": "splits", "interval": "1w"}))
    assert len(chunks) >= 3  # written piece by piece, not in one final buffer
    data = b"".join(chunks)
    if fmt == "csv":
        out = pacsv.read_csv(io.BytesIO(data))
        assert data.startswith(b"date,symbol,open,high,low,close,adjusted_close,volume\n")
    elif fmt == "parquet":
        out = pq.read_table(io.BytesIO(data))
        assert out.schema.metadata[b"datanexus.interval"] == b"1w"
    else:
        out = pa.ipc.open_stream(data).read_all()
        assert out.schema.metadata[b"datanexus.adjust"] == b"splits"
    assert out.column("symbol").to_pylist() == ["A.US", "A.US", "C.US"]
    assert out.column("close").to_pylist() == [1.5, None, 3.25]
