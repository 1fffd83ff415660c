"""Fast, read-only reads into Arrow tables: the storage side of the query API.

Each backend takes its fastest measured path (``benchmarks/read_frames.py``):

- **SQLite**: ``adbc_driver_sqlite`` returns a whole SELECT as Arrow columns, about 4× faster
  than ``sqlite3.fetchall`` alone, let alone building Python tuples into arrays. Prices are
  stored as canonical decimal text (:mod:`data_nexus.types`), so they arrive as strings and
  are cast by Arrow: to ``float64`` (correctly rounded) or to ``decimal256(76, 30)`` exactly.
  Without the driver (or if its type inference refuses a column), ``sqlite3`` is used.
- **PostgreSQL / TimescaleDB**: ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` through psycopg,
  parsed by Arrow's multi-threaded CSV reader with the column types given up front
  (``float64`` or ``decimal256(76, 30)``: ``NUMERIC`` text is exact).

Connections are opened read-only and never upgrade the schema: SQLite through a
``mode=ro`` URI (``immutable=1`` when the directory is not writable either, so a read-only
copy of a database works), PostgreSQL with ``default_transaction_read_only``. A schema not
at head raises :class:`~data_nexus.errors.SchemaOutOfDate`.

Bar tables have the columns ``symbol`` (dictionary string), ``date`` (date32), ``open``,
``high``, ``low``, ``close``, ``adjusted_close`` (float64 or decimal256(76, 30)) and
``volume`` (int64), sorted by (symbol, date).

The parts: :mod:`~data_nexus.storage.bar_tables` (schema, memory),
:mod:`~data_nexus.storage.reader_connection` (opening read-only),
:mod:`~data_nexus.storage.sqlite_frames`, :mod:`~data_nexus.storage.pg_frames` (each
backend's bar reads) and :mod:`~data_nexus.storage.reader_rows` (assets, actions, findings,
runs). :class:`FrameReader` puts them together; the names other modules import stay here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import URL

from data_nexus.storage import aggregates
from data_nexus.storage.bar_tables import (
    BAR_COLUMNS,
    EXACT_PRICE,
    PRICE_COLUMNS,
    READ_POOL,
    bar_schema,
    price_type,
    release_freed,
)
from data_nexus.storage.capabilities import Capabilities, capabilities_of
from data_nexus.storage.engine import parse_database_url
from data_nexus.storage.pg_frames import PostgresFrames
from data_nexus.storage.reader_rows import SQLITE_SYMBOLS, AssetRow, RowReads, _day
from data_nexus.storage.sqlite_frames import SqliteFrames

__all__ = [
    "BAR_COLUMNS",
    "BAR_GROUP",
    "EXACT_PRICE",
    "PRICE_COLUMNS",
    "READ_POOL",
    "SMALL_DAYS",
    "SQLITE_SYMBOLS",
    "AssetRow",
    "FrameReader",
    "bar_schema",
    "open_reader",
    "price_type",
    "reading",
    "release_freed",
]

#: Symbols per bar SELECT or COPY (memory: see :meth:`FrameReader.bars`).
BAR_GROUP = 32
#: A date range of at most this many days is a small read on PostgreSQL (``_pg_one``).
SMALL_DAYS = 400


class FrameReader(SqliteFrames, PostgresFrames, RowReads):
    """A read-only connection to the warehouse that reads bars into Arrow tables.

    Open with :func:`open_reader`; close with :meth:`close` or use as a context manager.
    ``backend`` is ``"sqlite"`` or ``"postgresql"``; ``url`` is the display form (no
    password).
    """

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- bars ----------------------------------------------------------------------------

    def bars(
        self,
        symbols: Sequence[str] | None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        exact: bool = False,
    ) -> pa.Table:
        """Bars of ``symbols`` (None: all) in [start, end], sorted by (symbol, date)."""
        if symbols is not None and not symbols:
            return bar_schema(exact).empty_table()
        read = self._sqlite_bars if self._pg is None else self._pg_bars
        names = None if symbols is None else sorted(set(symbols))
        if names is None or len(names) <= BAR_GROUP:
            return read(names, start, end, exact)
        # Groups of symbols: each group's text (SQLite's columns, PostgreSQL's CSV) is freed
        # once typed, so the peak holds the typed result plus one group's text (two on
        # PostgreSQL, where the next group's COPY is read while one is parsed).
        groups = [names[i : i + BAR_GROUP] for i in range(0, len(names), BAR_GROUP)]
        if self._pg is not None:
            parts = self._pg_groups(groups, start, end, exact)
        else:
            parts = [read(group, start, end, exact) for group in groups]
        return pa.concat_tables(parts).unify_dictionaries(memory_pool=READ_POOL)

    def symbol_bars(
        self, symbol: str, start: dt.date | None, end: dt.date | None, *, exact: bool = False
    ) -> tuple[pa.Table, dt.date | None] | None:
        """The small read: bars of one ``symbol`` in [start, end] and its last stored date
        (``assets.last_date``) in one query (a second when there are no bars in the range);
        None if ``symbol`` is not a registered asset.

        The same table :meth:`bars` returns, typed by the same casts (SQLite) or CSV
        parse (PostgreSQL), but built directly: a symbol-year is ~250 rows, and three
        queries and the per-group machinery cost more than the read (docs/benchmarks.md,
        "HTTP").
        """
        parts: list[str] = ["symbol = ?"]
        params: list[Any] = [symbol, symbol]
        if start is not None:
            parts.append("time >= ?")
            params.append(start if self._pg is not None else start.isoformat())
        if end is not None:
            parts.append("time <= ?")
            params.append(end if self._pg is not None else end.isoformat())
        # the last date as a scalar subquery (evaluated once): the bars keep the index order
        # and need no sort, which a join to assets would add on PostgreSQL
        sql = (
            "SELECT (SELECT last_date FROM assets WHERE symbol = ?) AS last_date, time, open, "
            f"high, low, close, adjusted_close, volume FROM market_data "
            f"WHERE {' AND '.join(parts)} ORDER BY time"
        )
        if self._pg is None:
            raw = self._sqlite_one(sql, params)
        else:
            few = start is not None and end is not None and (end - start).days <= SMALL_DAYS
            raw = self._pg_one(sql, params, exact, few)
        if raw is None or raw.num_rows == 0:  # no bars: is the symbol known at all?
            rows = self._rows("SELECT last_date FROM assets WHERE symbol = ?", [symbol])
            return (bar_schema(exact).empty_table(), _day(rows[0][0])) if rows else None
        last = _day(raw.column(0)[0].as_py())  # bars exist: their symbol is an asset (the FK)
        schema = bar_schema(exact)
        columns: list[pa.Array | pa.ChunkedArray] = [
            pa.DictionaryArray.from_arrays(
                pa.repeat(pa.scalar(0, pa.int32()), raw.num_rows), pa.array([symbol], pa.string())
            )
        ]
        for i, field in enumerate(list(schema)[1:], start=1):  # date, prices, volume
            column = raw.column(i)
            if column.type != field.type:  # as _typed casts: text, else what ADBC inferred
                if field.name != "volume" and not pa.types.is_string(column.type):
                    column = column.cast(pa.string())
                column = pc.cast(column, field.type)
            columns.append(column)
        return pa.Table.from_arrays(columns, schema=schema), last

    # -- bars aggregated by the database (storage/aggregates.py) ----------------------------

    @property
    def capabilities(self) -> Capabilities:
        """What the database can do (detected on first use)."""
        if self._caps is None:
            self._caps = capabilities_of(
                self.backend, lambda sql: next(iter(self._rows(sql, [])), (None,))[0]
            )
        return self._caps

    def period_bars(
        self,
        symbols: Sequence[str],
        start: dt.date | None,
        end: dt.date | None,
        interval: str,
        **adjustment: Any,
    ) -> pa.Table:
        """:func:`data_nexus.storage.aggregates.period_bars` on this connection."""
        conn = self._pg if self._pg is not None else self._sqlite
        assert conn is not None
        return aggregates.period_bars(
            conn, self.capabilities, symbols, start, end, interval=interval, **adjustment
        )


def open_reader(url: str | URL) -> FrameReader:
    """A read-only :class:`FrameReader` on the database at ``url`` (a URL or an SQLite path).

    Raises :class:`~data_nexus.errors.ConfigError` for a bad URL,
    :class:`~data_nexus.errors.DatabaseUnavailable` if it cannot be opened and
    :class:`~data_nexus.errors.SchemaOutOfDate` if its schema is not at head.
    """
    parsed = url if isinstance(url, URL) else parse_database_url(url)
    return FrameReader(parsed)


@contextmanager
def reading(url: str | URL) -> Iterator[FrameReader]:
    """:func:`open_reader` as a context manager."""
    reader = open_reader(url)
    try:
        yield reader
    finally:
        reader.close()
