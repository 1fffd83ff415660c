"""Bars as JSON, CSV, Parquet or Arrow bytes, written piece by piece (pure, no I/O).

The query API hands over Arrow tables (:func:`data_nexus.query.bars.get_bars_arrow`); each
writer here turns a sequence of them into chunks of bytes, so an answer of many symbols is
streamed with memory flat in the size of one piece.

Shapes (every answer says what it is: ``adjust``, ``interval``, ``cutoff``):

- ``json``: ``{"adjust": …, "interval": …, "bars": [{"date", "symbol", "open", "high",
  "low", "close", "adjusted_close", "volume"}, …]}``; prices are JSON numbers (float64, the
  query API's default), missing values ``null``; ``cutoff`` (the newest stored bar date of
  the symbols read) closes the object, after the bars. (One symbol's unadjusted daily bars
  on SQLite are not written here: the database writes that document, prices as stored;
  :func:`data_nexus.serve.data.symbol_bars`.)
- ``csv``: a header line and one line per bar, same columns, dates ``YYYY-MM-DD``.
- ``parquet``: one file; a row group per piece; ``adjust``/``interval`` in the key-value
  metadata.
- ``arrow``: an Arrow IPC *stream* (``pyarrow.ipc.open_stream``), metadata as for Parquet.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data_nexus.query.bars import BAR_FIELDS

FORMATS = ("json", "csv", "parquet", "arrow")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}
EXTENSIONS = {"json": "json", "csv": "csv", "parquet": "parquet", "arrow": "arrows"}
#: The column order of every format: the CLI's and ``get_bars``' (one definition).
COLUMNS = BAR_FIELDS
SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("symbol", pa.string()),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("adjusted_close", pa.float64()),
        ("volume", pa.int64()),
    ]
)


def normalise(table: pa.Table) -> pa.Table:
    """The query API's table in :data:`SCHEMA` (symbol as plain strings, columns in order).

    A dictionary-encoded ``symbol`` differs from piece to piece; plain strings keep one
    schema for the whole stream.
    """
    return table.select(list(COLUMNS)).cast(SCHEMA)


def _as_text(column: pa.ChunkedArray | pa.Array) -> Any:
    """A column as JSON literals: numbers in shortest round-trip form, missing values null.

    Arrow's float-to-text cast writes the shortest text that reads back as the same float64
    (as Python's ``repr`` does; ``189`` for ``189.0``). NaN and infinities, which JSON
    cannot write, become null first; the query API makes NaN missing already, so a column
    without missing values is only checked (NumPy, a few microseconds), not rewritten.
    """
    if pa.types.is_floating(column.type) and not _all_finite(column):
        column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
    return column.cast(pa.string())


def _all_finite(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether every value is finite (a missing value counts as not: it reads as NaN)."""
    if isinstance(column, pa.Array):
        return bool(np.isfinite(column.to_numpy(zero_copy_only=False)).all())
    return all(
        bool(np.isfinite(chunk.to_numpy(zero_copy_only=False)).all()) for chunk in column.chunks
    )


def json_rows(table: pa.Table, *, with_symbol: bool = True) -> str:
    """The bars of ``table`` as the comma-separated JSON objects of a ``bars`` array."""
    return json_row_bytes(table, with_symbol=with_symbol).decode()


#: The price columns, written as JSON numbers.
_PRICES = ("open", "high", "low", "close", "adjusted_close")


def json_row_bytes(table: pa.Table, *, with_symbol: bool = True) -> bytes:
    """The bars of ``table`` as the comma-separated JSON objects of a ``bars`` array (UTF-8).

    Built column-wise by Arrow's string kernels (a third of the cost of ``json.dumps`` over
    per-row dicts; ``benchmarks/serve_http.py``): the five price columns are cast to text in
    one call (one array of them all, sliced back), every row starts with its separator
    ``,``, and the answer is the joined rows' data buffer without the first byte, so no row
    becomes a Python object. Symbols and dates need no escaping: they match
    ``CODE.EXCHANGE`` and ``YYYY-MM-DD``. Missing values, NaN and infinities are ``null``.
    """
    rows_n = table.num_rows
    if rows_n == 0:
        return b""
    prices = _as_text(
        pa.chunked_array(
            [chunk for name in _PRICES for chunk in table.column(name).chunks], pa.float64()
        ).combine_chunks()
    )
    parts: list[Any] = []
    for name in COLUMNS:
        if name == "symbol" and not with_symbol:
            continue
        lead = ",{" if not parts else ","
        if name in ("symbol", "date"):
            parts += [f'{lead}"{name}":"', table.column(name).cast(pa.string()), '"']
        elif name == "volume":
            parts += [f'{lead}"{name}":', _as_text(table.column(name))]
        else:
            at = _PRICES.index(name) * rows_n
            parts += [f'{lead}"{name}":', prices.slice(at, rows_n)]
    parts.append("}")
    rows = pc.binary_join_element_wise(*parts, "", null_handling="replace", null_replacement="null")
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    first, last = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
    data: bytes = rows.buffers()[2][first + 1 : last].to_pybytes()
    return data


def _meta_json(meta: dict[str, str]) -> str:
    return json.dumps(meta, separators=(",", ":"))[1:-1]


def encode_json(
    tables: Iterable[pa.Table],
    meta: dict[str, str],
    *,
    with_symbol: bool = True,
    cutoff: Any = None,
) -> Iterator[bytes]:
    """JSON chunks: the metadata, the bars piece by piece, the cut-off last.

    ``cutoff`` is called (if callable) after the last piece, so a streamed answer can report
    the newest bar date it actually sent.
    """
    head = _meta_json(meta)
    yield ("{" + (head + "," if head else "") + '"bars":[').encode()
    first = True
    for table in tables:
        rows = json_row_bytes(table, with_symbol=with_symbol)
        if not rows:
            continue
        yield rows if first else b"," + rows
        first = False
    last = cutoff() if callable(cutoff) else cutoff
    yield f'],"cutoff":{json.dumps(last)}}}'.encode()


def encode_csv(tables: Iterable[pa.Table]) -> Iterator[bytes]:
    """CSV chunks: the header, then each piece's lines."""
    yield (",".join(COLUMNS) + "\n").encode()
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for table in tables:
        if table.num_rows:
            sink = io.BytesIO()
            pacsv.write_csv(normalise(table), sink, write_options=options)
            yield sink.getvalue()


class _Chunks(io.RawIOBase):
    """A write-only file whose written bytes are taken out chunk by chunk."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


def _metadata(meta: dict[str, str]) -> dict[bytes, bytes]:
    return {f"datanexus.{k}".encode(): v.encode() for k, v in meta.items()}


def encode_parquet(tables: Iterable[pa.Table], meta: dict[str, str]) -> Iterator[bytes]:
    """Parquet chunks: a row group per non-empty piece; the footer last."""
    sink = _Chunks()
    schema = SCHEMA.with_metadata(_metadata(meta))
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema) as writer:
        for table in tables:
            if table.num_rows:
                writer.write_table(normalise(table).replace_schema_metadata(schema.metadata))
                yield sink.take()
    yield sink.take()


def encode_arrow(tables: Iterable[pa.Table], meta: dict[str, str]) -> Iterator[bytes]:
    """Arrow IPC stream chunks: the schema, a record batch per piece, the end marker."""
    sink = _Chunks()
    schema = SCHEMA.with_metadata(_metadata(meta))
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), schema) as writer:
        yield sink.take()
        for table in tables:
            if table.num_rows:
                writer.write_table(normalise(table).replace_schema_metadata(schema.metadata))
                yield sink.take()
    yield sink.take()


def encode(
    fmt: str,
    tables: Iterable[pa.Table],
    meta: dict[str, str],
    *,
    with_symbol: bool = True,
    cutoff: Any = None,
) -> Iterator[bytes]:
    """Bytes of ``tables`` in ``fmt`` (one of :data:`FORMATS`), chunk by chunk."""
    if fmt == "json":
        return encode_json(tables, meta, with_symbol=with_symbol, cutoff=cutoff)
    if fmt == "csv":
        return encode_csv(tables)
    if fmt == "parquet":
        return encode_parquet(tables, meta)
    if fmt == "arrow":
        return encode_arrow(tables, meta)
    raise ValueError(f"unknown format {fmt!r}")
