"""SQLite bar reads into Arrow: ADBC's columns, with ``sqlite3`` as the exact fallback.

``adbc_driver_sqlite`` returns a whole SELECT as Arrow columns, about 4× faster than
``sqlite3.fetchall`` alone, let alone building Python tuples into arrays
(``benchmarks/read_frames.py``). Prices are stored as canonical decimal text
(:mod:`data_nexus.types`), so they arrive as strings and are cast by Arrow: to ``float64``
(correctly rounded) or to ``decimal256(76, 30)`` exactly. Without the driver (or if its type
inference refuses a column), ``sqlite3`` is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from data_nexus.storage.bar_tables import (
    BAR_COLUMNS,
    BAR_SELECT,
    READ_POOL,
    bar_schema,
    price_type,
)
from data_nexus.storage.json_bars import JsonBars, sqlite_json_bars
from data_nexus.storage.reader_connection import ReaderConnection

adbc_sqlite: Any
try:  # the fast SQLite path (a dependency; the fallback keeps reads working without it)
    import adbc_driver_sqlite.dbapi as adbc_sqlite
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    adbc_sqlite = None


def _where(
    symbols: Sequence[str] | None, start: dt.date | None, end: dt.date | None, mark: str
) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    if symbols is not None:
        parts.append(f"symbol IN ({', '.join([mark] * len(symbols))})")
        params.extend(symbols)
    if start is not None:
        parts.append(f"time >= {mark}")
        params.append(start.isoformat())
    if end is not None:
        parts.append(f"time <= {mark}")
        params.append(end.isoformat())
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def _typed(holder: list[pa.Table], exact: bool) -> pa.Table:
    """String dates and prices (SQLite) cast to the bar schema.

    Takes the table out of ``holder`` (so no caller keeps it alive) and drops each text
    column once it is typed: the peak holds the typed columns plus one text column.
    """
    raw = holder.pop()
    kind = price_type(exact)
    columns: list[pa.ChunkedArray | pa.Array] = []
    for name in BAR_COLUMNS:
        column = raw.column(name).combine_chunks(memory_pool=READ_POOL)  # few large buffers
        raw = raw.drop_columns([name])
        if name == "symbol":  # one dictionary for the group
            text = column.cast(pa.string())
            columns.append(pc.dictionary_encode(text, memory_pool=READ_POOL))
            del text
        elif name == "volume":
            columns.append(pc.cast(column, pa.int64(), memory_pool=READ_POOL))
        else:
            target = pa.date32() if name == "date" else kind
            columns.append(pc.cast(column.cast(pa.string()), target, memory_pool=READ_POOL))
        del column
    return pa.Table.from_arrays(columns, schema=bar_schema(exact))


class SqliteFrames(ReaderConnection):
    """The SQLite reads of :class:`~data_nexus.storage.frames.FrameReader`."""

    def _sqlite_bars(
        self,
        symbols: Sequence[str] | None,
        start: dt.date | None,
        end: dt.date | None,
        exact: bool,
    ) -> pa.Table:
        where, params = _where(symbols, start, end, "?")
        sql = f"{BAR_SELECT}{where} ORDER BY symbol, time"
        if adbc_sqlite is not None:
            try:
                return _typed([self._adbc_table(sql, params)], exact)
            except Exception:  # type inference refused a column: the sqlite3 path is exact
                self._adbc = None
        assert self._sqlite is not None
        rows = self._sqlite.execute(sql, params).fetchall()
        columns: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * len(BAR_COLUMNS)
        raw = pa.table(
            [pa.array(list(c), pa.string()) for c in columns[:7]]
            + [pa.array(list(columns[7]), pa.int64())],
            names=list(BAR_COLUMNS),
        )
        del rows, columns
        holder = [raw]
        del raw
        return _typed(holder, exact)

    def _adbc_table(self, sql: str, params: list[Any], *, rename: bool = True) -> pa.Table:
        if self._adbc is None:
            self._adbc = adbc_sqlite.connect(self._sqlite_uri)
        cur = self._adbc.cursor()
        try:
            cur.execute(sql, params or None)
            table: pa.Table = cur.fetch_arrow_table()
        finally:
            cur.close()
        return table.rename_columns(list(BAR_COLUMNS))

    def json_bars(self, symbol: str, start: dt.date | None, end: dt.date | None) -> JsonBars | None:
        """The bars of one ``symbol`` in [start, end] as JSON text written by the database,
        numbers exactly as stored (:mod:`data_nexus.storage.json_bars`); None where there is
        no such path (PostgreSQL) or it could not vouch for the row order: read
        :meth:`symbol_bars` instead."""
        if self._sqlite is None:
            return None
        return sqlite_json_bars(self._sqlite, symbol, start, end)

    def _sqlite_one(self, sql: str, params: list[Any]) -> pa.Table:
        """A small SELECT as an Arrow table of text (and ADBC's integer) columns."""
        if adbc_sqlite is not None:
            try:
                return self._adbc_table(sql, params, rename=False)
            except Exception:  # type inference refused a column: the sqlite3 path is exact
                self._adbc = None
        assert self._sqlite is not None
        cur = self._sqlite.execute(sql, params)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        return pa.table(
            {
                name: pa.array(list(c), pa.int64() if name == "volume" else pa.string())
                for name, c in zip(names, columns, strict=True)
            }
        )
