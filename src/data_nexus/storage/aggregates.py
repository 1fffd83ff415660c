"""Weekly, monthly, quarterly and yearly bars aggregated in SQL: the storage side of resampling.

The same bars as the pure NumPy reference (:mod:`data_nexus.query.resample`), computed by the
database so only the aggregated rows travel: for one symbol × 20 years about 1,000 weekly
rows instead of 5,000 daily ones. :mod:`data_nexus.storage.period_sql` writes the statement
(how each backend buckets dates, how prices are adjusted before they are aggregated); this
module sizes the statements within SQLite's limits, runs them on a reader's raw connection
and reads their rows into one Arrow table.
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from data_nexus.storage.capabilities import Capabilities
from data_nexus.storage.period_sql import COMPOUND, PERIODS, FactorSteps, period_sql
from data_nexus.storage.statement import Connection

__all__ = [  # the runner, and the parts callers outside storage import from here
    "COMPOUND",
    "PERIODS",
    "SEGMENTS",
    "SYMBOL_GROUP",
    "FactorSteps",
    "period_bars",
    "period_sql",
]

#: Symbols per aggregate statement (each has its own factor tree in the ``CASE``).
SYMBOL_GROUP = 16
#: Constant-factor ranges per statement (each binds about five parameters; SQLite's limit is
#: 32,766). With :data:`COMPOUND` (branches per compound SELECT) the limits that size a
#: statement; read when :func:`period_bars` runs.
SEGMENTS = 2000

_PRICES = ("open", "high", "low", "close")


def _schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field("symbol", pa.dictionary(pa.int32(), pa.string())),
            pa.field("date", pa.date32()),
            *[pa.field(n, pa.float64()) for n in (*_PRICES, "adjusted_close")],
            pa.field("volume", pa.int64()),
        ]
    )


def _pg_table(conn: psycopg.Connection[Any], text: str, params: list[Any]) -> pa.Table:
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({text}) TO STDOUT (FORMAT csv)", params) as copy:
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        return _schema().empty_table()
    buffer.seek(0)
    names = ["symbol", "date", *_PRICES, "adjusted_close", "volume"]
    types = {"symbol": pa.string(), "date": pa.date32(), "volume": pa.int64()}
    types.update(dict.fromkeys((*_PRICES, "adjusted_close"), pa.float64()))
    table = pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
        convert_options=pacsv.ConvertOptions(column_types=types),
    )
    return table.set_column(0, "symbol", table.column("symbol").dictionary_encode()).cast(_schema())


def _sqlite_table(conn: sqlite3.Connection, text: str, params: list[Any]) -> pa.Table:
    rows = conn.execute(text, params).fetchall()
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 8
    symbol = pa.array(columns[0], pa.string()).dictionary_encode()
    date = pa.array(columns[1], pa.string()).cast(pa.date32())
    prices = [pa.array(columns[i], pa.float64()) for i in range(2, 7)]
    volume = pa.array(columns[7], pa.int64())
    return pa.Table.from_arrays([symbol, date, *prices, volume], schema=_schema())


def period_bars(
    conn: Connection,
    caps: Capabilities,
    symbols: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    *,
    interval: str,
    steps: Mapping[str, FactorSteps] | None = None,
    provider: bool = False,
) -> pa.Table:
    """Bars of ``interval`` aggregated by the database, as an Arrow table in the bar schema of
    :mod:`data_nexus.storage.frames` (float64 prices), sorted by (symbol, date).

    ``steps`` (per symbol) or ``provider`` choose the adjustment applied to each daily
    price before it is aggregated; neither: prices as stored.
    """
    names = sorted(set(symbols))
    groups: list[list[str]] = []
    size = 0
    for name in names:  # at most SYMBOL_GROUP symbols and about SEGMENTS ranges a statement
        count = len(steps[name].factors) if steps and name in steps else 1
        if not groups or len(groups[-1]) >= SYMBOL_GROUP or size + count > SEGMENTS:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += count
    parts = []
    for group in groups:
        text, params = period_sql(
            caps,
            group,
            start,
            end,
            interval,
            steps=steps,
            provider=provider,
            compound=COMPOUND,
        )
        if isinstance(conn, sqlite3.Connection):
            parts.append(_sqlite_table(conn, text, params))
        else:
            parts.append(_pg_table(conn, text, params))
    if not parts:
        return _schema().empty_table()
    return pa.concat_tables(parts).unify_dictionaries()
