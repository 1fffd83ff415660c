"""Bars as NumPy columns (:class:`Frame`): built from the stored Arrow table, shaped into
the DataFrame or Arrow table the read functions return.

Dtypes of the results are those of :func:`data_nexus.query.bars.get_bars` (see its module
docstring). Conversions hand memory over instead of copying where they can: :func:`to_frame`
drops each Arrow column once copied, :func:`frame_to_pandas` consumes the frame.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data_nexus.storage.frames import PRICE_COLUMNS, bar_schema, release_freed


@dataclass(slots=True)
class Frame:
    """Bars as NumPy columns, sorted by (symbol, date), with their symbol runs.

    ``codes`` index ``names`` (the symbol of each row); ``starts`` are the first rows of each
    symbol's run; ``days`` are ``datetime64[D]``; prices float64 or, when exact, an Arrow
    table holds them instead (``exact``).
    """

    names: list[str]
    codes: npt.NDArray[np.int32]
    starts: npt.NDArray[np.int64]
    days: npt.NDArray[np.datetime64]
    prices: dict[str, npt.NDArray[np.float64]]
    volume: npt.NDArray[np.int64]
    volume_missing: npt.NDArray[np.bool_]
    exact: pa.Table | None = None

    def __len__(self) -> int:
        return len(self.days)


def _fill(column: pa.ChunkedArray, out: npt.NDArray[Any], null: Any) -> None:
    """Copy ``column`` into ``out`` chunk by chunk (nulls as ``null``): no whole-column
    temporary."""
    offset = 0
    for chunk in column.chunks:
        size = len(chunk)
        filled = chunk.fill_null(null) if chunk.null_count else chunk
        out[offset : offset + size] = filled.to_numpy(zero_copy_only=False)
        offset += size


def to_frame(holder: list[pa.Table], *, trim: bool = False) -> Frame:
    """NumPy columns of the bar table in ``holder`` (prices float64 unless exact).

    The table is taken out of ``holder`` and each Arrow column dropped once copied, so the
    peak holds the NumPy columns plus one Arrow column, not two copies of the data. ``trim``:
    hand each dropped column's pages back (see :func:`release_freed`).
    """
    table = holder.pop()
    n = table.num_rows
    exact = table if pa.types.is_decimal(table.schema.field("close").type) else None
    symbol = table.column("symbol").combine_chunks()
    table = table.drop_columns(["symbol"])
    names = [str(s) for s in symbol.dictionary.to_pylist()]
    codes = symbol.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    del symbol
    change = np.ones(n, dtype=bool)
    if n:
        change[1:] = codes[1:] != codes[:-1]
    starts = np.flatnonzero(change).astype(np.int64)
    del change
    days = np.empty(n, dtype="datetime64[D]")
    _fill(table.column("date"), days, 0)
    table = table.drop_columns(["date"])
    prices = {}
    if exact is None:  # exact prices stay in the (whole) Arrow table
        for name in PRICE_COLUMNS:
            column = table.column(name)
            table = table.drop_columns([name])  # free each Arrow column once converted
            values = np.empty(n, dtype=np.float64)
            _fill(column, values, np.nan)
            del column
            if trim:  # the freed column's pages, before the next one is allocated
                release_freed(n)
            prices[name] = values
    vol = table.column("volume")
    missing = np.empty(n, dtype=bool)
    _fill(pc.is_null(vol), missing, False)
    volume = np.empty(n, dtype=np.int64)
    _fill(vol, volume, 0)
    del vol, table
    return Frame(names, codes, starts, days, prices, volume, missing, exact)


def with_categories(frame: Frame, names: list[str]) -> Frame:
    """The frame with ``names`` (every symbol asked for, sorted) as its symbol categories,
    so the same request over another range has the same categories."""
    position = {name: i for i, name in enumerate(names)}
    remap = np.array([position[name] for name in frame.names], dtype=np.int32)
    frame.codes = remap[frame.codes] if len(remap) else frame.codes
    frame.names = names
    if frame.exact is not None:
        symbol = pa.DictionaryArray.from_arrays(
            pa.array(frame.codes, pa.int32()), pa.array(names, pa.string())
        )
        frame.exact = frame.exact.set_column(0, "symbol", symbol)
    return frame


def row_symbols(frame: Frame) -> list[str]:
    return [frame.names[int(c)] for c in frame.codes[frame.starts]]


# -- shaping -----------------------------------------------------------------------------------


def nanoseconds(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64]:
    out: npt.NDArray[np.datetime64] = days.astype("datetime64[ns]")
    return out


def _days_to_ns(frame: Frame) -> npt.NDArray[np.datetime64]:
    """``frame.days`` as ``datetime64[ns]``, converted in place (the frame gives them up)."""
    ticks = frame.days.view(np.int64)
    ticks *= 86_400 * 10**9
    frame.days = np.empty(0, dtype="datetime64[D]")
    return ticks.view("datetime64[ns]")


def frame_to_pandas(frame: Frame, attrs: dict[str, str]) -> pd.DataFrame:
    """The tidy DataFrame of :func:`get_bars` (dtypes in the module docstring).

    Consumes ``frame``: its arrays become the DataFrame's columns without copies (dates are
    converted to nanoseconds in place)."""
    symbol = pd.Categorical.from_codes(frame.codes, categories=pd.Index(frame.names, dtype=object))
    data: dict[str, Any] = {"date": _days_to_ns(frame), "symbol": symbol}
    if frame.exact is not None:
        for name in PRICE_COLUMNS:
            column = frame.exact.column(name)
            data[name] = pd.array(column.combine_chunks(), dtype=pd.ArrowDtype(column.type))
    else:
        data.update(frame.prices)
    data["volume"] = pd.arrays.IntegerArray(frame.volume, frame.volume_missing)
    out = pd.DataFrame(data, copy=False)
    out.attrs.update(attrs)
    return out


def frame_to_arrow(frame: Frame, attrs: dict[str, str]) -> pa.Table:
    """An Arrow table of the same columns, with ``attrs`` as schema metadata."""
    if frame.exact is not None and "symbol" in frame.exact.column_names:
        table = frame.exact
        if frame.exact.num_rows != len(frame):  # pragma: no cover - defensive
            raise AssertionError("exact table out of step")
    else:
        symbol = pa.DictionaryArray.from_arrays(
            pa.array(frame.codes, pa.int32()), pa.array(frame.names, pa.string())
        )
        columns: dict[str, Any] = {"symbol": symbol, "date": pa.array(frame.days, pa.date32())}
        if frame.exact is not None:
            for name in PRICE_COLUMNS:
                columns[name] = frame.exact.column(name)
        else:
            for name in PRICE_COLUMNS:
                values = frame.prices[name]
                columns[name] = pa.array(values, pa.float64(), mask=np.isnan(values))
        columns["volume"] = pa.array(frame.volume, pa.int64(), mask=frame.volume_missing)
        table = pa.table(columns)
    schema = bar_schema(frame.exact is not None)
    return table.cast(schema).replace_schema_metadata(attrs)


def symbol_runs(frame: Frame) -> list[tuple[str, int, int]]:
    """``(symbol, first row, end row)`` of each symbol's run of rows, in order."""
    bounds = [*frame.starts.tolist(), len(frame)]
    return [(frame.names[int(frame.codes[lo])], lo, hi) for lo, hi in itertools.pairwise(bounds)]
