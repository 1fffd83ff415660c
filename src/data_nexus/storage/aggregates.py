"""Weekly, monthly, quarterly and yearly bars aggregated in SQL: the storage side of resampling.

The same bars as the pure NumPy reference (:mod:`data_nexus.query.resample`), computed by the
database so only the aggregated rows travel: for one symbol × 20 years about 1,000 weekly
rows instead of 5,000 daily ones. Each backend buckets dates its own way, chosen by its
:class:`~data_nexus.storage.capabilities.Capabilities`:

- **TimescaleDB**: ``time_bucket('1 week' | '1 month' | '3 months' | '1 year', time)``. Its
  default origins (2000-01-03, a Monday, for weeks; 2000-01-01 for months and years) give ISO
  weeks and calendar months, quarters and years, as the reference does; first open and last
  close come from ``first(open, time)`` and ``last(close, time)``.
- **PostgreSQL**: ``date_trunc('week' | 'month' | 'quarter' | 'year', time::timestamp)`` (ISO
  weeks start on Monday); first and last through ``(array_agg(x ORDER BY time))[1]``.
- **SQLite** (dates are ``YYYY-MM-DD`` text): the ISO week's Monday is
  ``date(time, 'weekday 0', '-6 days')``; months, quarters and years are prefixes of the
  text. SQLite before 3.44 has no ordered aggregates, so the first open and last close are
  joined back by the period's first and last trading date.

Aggregation as the reference: first open, highest high, lowest low (NULLs skipped), last
close and adjusted close (NULL if that bar has none), summed volume (NULL if all are), the
period's last trading date as its date.

**Adjust first, then aggregate.** Each daily price is multiplied by its adjustment factor
before it is aggregated, so a weekly high of adjusted prices is the highest adjusted daily
high even across a split inside the week. The factor is either
:class:`FactorSteps` (the piecewise constant cumulative factor of splits and dividends,
computed by :mod:`data_nexus.query.adjust` from the stored actions and passed in as bound
parameters: a balanced ``CASE`` tree on the date, about log₂(events) comparisons a row), or
``provider`` (``adjusted_close / close`` of the row itself). Prices are converted to binary
floats first (``float8`` / ``REAL``) and multiplied in the same order as the reference, so
the results are the reference's floats.
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from data_nexus.storage.capabilities import Capabilities

#: Intervals aggregated here (``1d`` is the daily read itself).
PERIODS = ("1w", "1mo", "1q", "1y")
#: Symbols per aggregate statement (each has its own factor tree in the ``CASE``).
SYMBOL_GROUP = 32
#: (symbol, date) pairs per previous-close statement.
CLOSE_GROUP = 400

_PRICES = ("open", "high", "low", "close")
_TIMESCALE_BUCKET = {"1w": "1 week", "1mo": "1 month", "1q": "3 months", "1y": "1 year"}
_TRUNC_UNIT = {"1w": "week", "1mo": "month", "1q": "quarter", "1y": "year"}
_SQLITE_BUCKET = {
    "1w": "date(time, 'weekday 0', '-6 days')",
    "1mo": "substr(time, 1, 7)",
    "1q": "substr(time, 1, 4) || ((CAST(substr(time, 6, 2) AS INTEGER) + 2) / 3)",
    "1y": "substr(time, 1, 4)",
}

Connection = sqlite3.Connection | psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class FactorSteps:
    """A piecewise constant price factor over dates.

    ``factors[0]`` applies before ``bounds[0]``, ``factors[i]`` from ``bounds[i - 1]``
    (inclusive) to ``bounds[i]`` (exclusive), ``factors[-1]`` from the last bound on:
    ``len(factors) == len(bounds) + 1``, bounds strictly increasing.
    """

    bounds: tuple[dt.date, ...]
    factors: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.factors) != len(self.bounds) + 1:
            raise ValueError("FactorSteps needs one more factor than bounds")


@dataclass(slots=True)
class _Sql:
    """A statement under construction: its text parts and positional parameters."""

    postgres: bool
    params: list[Any]

    @property
    def mark(self) -> str:
        return "%s" if self.postgres else "?"

    def bind(self, value: Any) -> str:
        """A placeholder for ``value`` (dates as ISO text on SQLite, as stored)."""
        if isinstance(value, dt.date) and not self.postgres:
            value = value.isoformat()
        self.params.append(value)
        return self.mark

    def number(self, column: str) -> str:
        """``column`` as a binary float."""
        return f"{column}::float8" if self.postgres else f"CAST({column} AS REAL)"


def _tree(sql: _Sql, steps: FactorSteps, lo: int, hi: int) -> str:
    """The factor of ``time`` among ``steps.factors[lo..hi]``: a balanced CASE on the bounds."""
    if lo == hi:
        return sql.bind(float(steps.factors[lo]))
    mid = (lo + hi) // 2
    cut = sql.bind(steps.bounds[mid])
    below, above = _tree(sql, steps, lo, mid), _tree(sql, steps, mid + 1, hi)
    return f"CASE WHEN time < {cut} THEN {below} ELSE {above} END"


def _factor(
    sql: _Sql, symbols: Sequence[str], steps: Mapping[str, FactorSteps] | None, provider: bool
) -> str | None:
    """The SQL expression of each row's price factor, or None for none."""
    if provider:
        close = sql.number("close")
        adjusted = sql.number("adjusted_close")
        return f"CASE WHEN {close} <> 0 THEN {adjusted} / {close} END"
    if steps is None:
        return None
    arms = []
    for symbol in symbols:
        step = steps.get(symbol)
        if step is None or all(f == 1.0 for f in step.factors):
            continue
        when = sql.bind(symbol)
        arms.append(f"WHEN {when} THEN {_tree(sql, step, 0, len(step.factors) - 1)}")
    if not arms:
        return None
    return f"CASE symbol {' '.join(arms)} ELSE 1.0 END"


def _where(sql: _Sql, symbols: Sequence[str], start: dt.date | None, end: dt.date | None) -> str:
    marks = ", ".join(sql.bind(s) for s in symbols)
    parts = [f"symbol IN ({marks})"]
    if start is not None:
        parts.append(f"time >= {sql.bind(start)}")
    if end is not None:
        parts.append(f"time <= {sql.bind(end)}")
    return " AND ".join(parts)


def _adjusted_rows(sql: _Sql, bucket: str, factor: str | None, where: str) -> str:
    """The daily rows of the range with their bucket and adjusted float prices."""
    prices = ", ".join(
        f"{sql.number(name)}{'' if factor is None else ' * f'} AS {name}" for name in _PRICES
    )
    inner = f"SELECT *, {factor or 'NULL'} AS f FROM market_data WHERE {where}"
    return (
        f"SELECT symbol, time, {bucket} AS b, {prices}, "
        f"{sql.number('adjusted_close')} AS adjusted_close, volume FROM ({inner}) r"
    )


def period_sql(
    caps: Capabilities,
    symbols: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    interval: str,
    *,
    steps: Mapping[str, FactorSteps] | None = None,
    provider: bool = False,
) -> tuple[str, list[Any]]:
    """The aggregate SELECT (and its parameters) of ``symbols`` in [start, end] by ``interval``.

    Columns ``symbol, date, open, high, low, close, adjusted_close, volume``, ordered by
    (symbol, date). The pure twin of :func:`period_bars`.
    """
    if interval not in PERIODS:
        raise ValueError(f"interval {interval!r} is not aggregated in SQL")
    sql = _Sql(caps.is_postgres, [])
    factor = _factor(sql, symbols, steps, provider)
    where = _where(sql, symbols, start, end)
    if caps.is_timescale:
        bucket = f"time_bucket(INTERVAL '{_TIMESCALE_BUCKET[interval]}', time)"
    elif caps.is_postgres:
        bucket = f"date_trunc('{_TRUNC_UNIT[interval]}', time::timestamp)"
    else:
        bucket = _SQLITE_BUCKET[interval]
    rows = _adjusted_rows(sql, bucket, factor, where)
    if caps.is_postgres:
        if caps.is_timescale:
            first_open = "first(open, time)"
            last_close, last_adjusted = "last(close, time)", "last(adjusted_close, time)"
        else:
            first_open = "(array_agg(open ORDER BY time))[1]"
            last_close = "(array_agg(close ORDER BY time DESC))[1]"
            last_adjusted = "(array_agg(adjusted_close ORDER BY time DESC))[1]"
        text = (
            f"SELECT symbol, max(time) AS day, {first_open} AS open, max(high) AS high, "
            f"min(low) AS low, {last_close} AS close, {last_adjusted} AS adjusted_close, "
            f"sum(volume) AS volume FROM ({rows}) a GROUP BY symbol, b ORDER BY symbol, day"
        )
        return text, sql.params
    text = (
        f"WITH a AS ({rows}), "
        "g AS (SELECT symbol, min(time) AS t0, max(time) AS t1, max(high) AS high, "
        "min(low) AS low, sum(volume) AS volume FROM a GROUP BY symbol, b) "
        "SELECT g.symbol, g.t1, o.open, g.high, g.low, c.close, c.adjusted_close, g.volume "
        "FROM g JOIN a AS o ON o.symbol = g.symbol AND o.time = g.t0 "
        "JOIN a AS c ON c.symbol = g.symbol AND c.time = g.t1 ORDER BY g.symbol, g.t1"
    )
    return text, sql.params


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
    parts = []
    for i in range(0, len(names), SYMBOL_GROUP):
        text, params = period_sql(
            caps,
            names[i : i + SYMBOL_GROUP],
            start,
            end,
            interval,
            steps=steps,
            provider=provider,
        )
        if isinstance(conn, sqlite3.Connection):
            parts.append(_sqlite_table(conn, text, params))
        else:
            parts.append(_pg_table(conn, text, params))
    if not parts:
        return _schema().empty_table()
    return pa.concat_tables(parts).unify_dictionaries()


def previous_closes(
    conn: Connection, keys: Sequence[tuple[str, dt.date]]
) -> dict[tuple[str, dt.date], Decimal]:
    """The close of each symbol's last bar before each date, in a few statements.

    The batch form of :meth:`FrameReader.closes_before
    <data_nexus.storage.frames.FrameReader.closes_before>` (absent: no earlier bar, or that
    bar has no close).
    """
    out: dict[tuple[str, dt.date], Decimal] = {}
    postgres = not isinstance(conn, sqlite3.Connection)
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), CLOSE_GROUP):
        group = unique[i : i + CLOSE_GROUP]
        sql = _Sql(postgres, [])
        day_type = "::date" if postgres else ""
        values = ", ".join(f"({sql.bind(s)}, {sql.bind(d)}{day_type})" for s, d in group)
        text = (
            f"WITH d(symbol, day) AS (VALUES {values}) SELECT d.symbol, d.day, "
            "(SELECT m.close FROM market_data m WHERE m.symbol = d.symbol AND m.time < d.day "
            "ORDER BY m.time DESC LIMIT 1) FROM d"
        )
        if isinstance(conn, sqlite3.Connection):
            rows = conn.execute(text, sql.params).fetchall()
        else:
            with conn.cursor() as cur:
                cur.execute(text, sql.params)
                rows = cur.fetchall()
        for symbol, day, close in rows:
            if close is not None:
                when = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
                out[(symbol, when)] = Decimal(str(close))
    return out
