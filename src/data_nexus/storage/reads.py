"""Thin, exact reads: one SELECT through the raw driver cursor, rows straight into records.

PostgreSQL: psycopg returns ``date`` and ``Decimal`` values already (its text protocol: the
binary one decodes ``numeric`` slower), and a row factory builds each
:class:`~data_nexus.records.Bar` as the rows arrive, so a read costs little more than the
bare ``fetchall`` of the same SELECT. SQLite stores prices as canonical decimal text,
turned into ``Decimal`` here (never through ``float``).

SQLite: ``sqlite3`` pays per row and per column (a GIL hand-off around every step, a mutex
around every column call: about half of a raw ``fetchall``). A read of one symbol, or of one
date, therefore asks SQLite for a single row: the count, then each column's values joined
into one text by an ASCII unit separator (:func:`_packed_sql`), split once in Python.
The rows are packed in the order of the index SQLite reads them through (by date for one
symbol, by symbol for one date), which SQLite before 3.44 does not promise for
``group_concat``: :func:`_sqlite_packed` checks the order and the field count and otherwise
reads the rows one by one (:func:`_sqlite`), so a surprise costs time, never a misplaced row.
Reads of many symbols stay row by row (their size is unbounded).

Building a frozen dataclass through its ``__init__`` costs more than psycopg's whole
decoding of the row; :func:`make_bar` fills the slots directly (same result, checked by
``tests/storage/test_reads.py``).

Query plans (see ``tests/storage/test_reads.py``): a symbol range uses
``ix_market_data_symbol_time``; a one-date cross section uses the primary key
``(time, symbol)``, which also returns it ordered by symbol.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import functools
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence, Sized
from decimal import Decimal
from itertools import repeat
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import RowMaker

from data_nexus.collector import paused
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage.capabilities import Capabilities
from data_nexus.storage.writer import ACTIONS

#: Symbols per SQLite statement (it allows 32,766 parameters since 3.32, 999 before).
SQLITE_SYMBOLS = 500
_BAR_COLUMNS = "symbol, time, open, high, low, close, adjusted_close, volume"


_FIELDS = tuple(f.name for f in dataclasses.fields(Bar))
if _FIELDS != ("symbol", "date", "open", "high", "low", "close", "adjusted_close", "volume"):
    raise ImportError(f"make_bar needs updating for Bar's fields {_FIELDS}")
_SETTERS: tuple[Callable[[Bar, Any], None], ...] = tuple(
    getattr(Bar, name).__set__ for name in _FIELDS
)
_S0, _S1, _S2, _S3, _S4, _S5, _S6, _S7 = _SETTERS
_new = object.__new__


def make_bar(v: Sequence[Any]) -> Bar:
    """``Bar(*v)`` without the frozen dataclass's ``__init__`` (it only sets the slots)."""
    bar: Bar = _new(Bar)
    _S0(bar, v[0])
    _S1(bar, v[1])
    _S2(bar, v[2])
    _S3(bar, v[3])
    _S4(bar, v[4])
    _S5(bar, v[5])
    _S6(bar, v[6])
    _S7(bar, v[7])
    return bar


def _bar_row(_cursor: Any) -> RowMaker[Bar]:
    return make_bar


def bars_sql(
    symbols: Sequence[str], start: dt.date | None, end: dt.date | None, *, paramstyle: str
) -> tuple[str, list[Any]]:
    """The SELECT of :func:`read_bars` and its parameters (``%s`` or ``?`` placeholders)."""
    mark = "%s" if paramstyle == "format" else "?"
    where: list[str] = []
    params: list[Any] = []
    if len(symbols) == 1 or paramstyle != "format":
        where.append(f"symbol IN ({', '.join([mark] * len(symbols))})")
        params.extend(symbols)
    else:
        where.append(f"symbol = ANY({mark})")
        params.append(list(symbols))
    if start is not None:
        where.append(f"time >= {mark}")
        params.append(start if paramstyle == "format" else start.isoformat())
    if end is not None:
        where.append(f"time <= {mark}")
        params.append(end if paramstyle == "format" else end.isoformat())
    # One symbol: ORDER BY time alone lets TimescaleDB append its chunks in order, unsorted.
    order = "time" if len(symbols) == 1 else "symbol, time"
    sql = f"SELECT {_BAR_COLUMNS} FROM market_data WHERE {' AND '.join(where)} ORDER BY {order}"
    return sql, params


def day_sql(
    day: dt.date, symbols: Sequence[str] | None, *, paramstyle: str
) -> tuple[str, list[Any]]:
    """The SELECT of :func:`read_day` and its parameters."""
    mark = "%s" if paramstyle == "format" else "?"
    params: list[Any] = [day if paramstyle == "format" else day.isoformat()]
    sql = f"SELECT {_BAR_COLUMNS} FROM market_data WHERE time = {mark}"
    if symbols is not None:
        if paramstyle == "format":
            sql += f" AND symbol = ANY({mark})"
            params.append(list(symbols))
        else:
            sql += f" AND symbol IN ({', '.join([mark] * len(symbols))})"
            params.extend(symbols)
    return sql + " ORDER BY symbol", params


def _postgres(raw: psycopg.Connection[Any], sql: str, params: list[Any]) -> list[Bar]:
    with raw.cursor(row_factory=_bar_row) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _sqlite(raw: sqlite3.Connection, sql: str, params: list[Any]) -> list[Bar]:
    with paused():  # rows and bars hold no cycles (see data_nexus.collector)
        cur = raw.execute(sql, params)
        try:
            rows = cur.fetchall()
        finally:
            cur.close()
        if not rows:
            return []
        symbols, times, *prices, volumes = zip(*rows, strict=True)
        del rows
        if len(_DAYS) > _DAYS_MAX:
            _DAYS.clear()
        days = list(map(_DAYS.__getitem__, times))
        return bars_from_columns(symbols, days, *map(_decimals, prices), volumes)


#: Turns stored text into ``Decimal`` exactly as ``Decimal(text)`` does for every text the
#: writers store (canonical, no blanks), a little cheaper (no keyword parsing): with the
#: largest precision and exponent range nothing is ever rounded, and invalid text raises.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation],
)
_to_decimal: Callable[[Any], Decimal] = _EXACT.create_decimal


def _decimals(texts: Sequence[str | None], null: str | None = None) -> list[Decimal | None]:
    """Stored price texts as exact decimals; ``null`` (a NULL's value) becomes ``None``."""
    try:
        return list(map(_to_decimal, texts))
    except (TypeError, decimal.InvalidOperation):  # a NULL among them, or bad text
        return [None if text == null else _to_decimal(text) for text in texts]


#: ASCII unit separator: in no date, price or volume text, and in no valid symbol (a symbol
#: holding one only makes its column's count wrong, and the read falls back to rows).
_SEP = "\x1f"
#: The packed columns after the key: a NULL packs as empty text (no price is empty text).
_PACKED_COLUMNS = ("open", "high", "low", "close", "adjusted_close", "volume")


@functools.lru_cache(maxsize=256)
def _packed_sql(sql: str, key: str) -> str:
    """``sql`` (a SELECT of :data:`_BAR_COLUMNS` … ORDER BY …) as one row: the count of its
    rows, then each column's values joined into one text, ``key`` (the column that varies)
    first, the constant one omitted.

    Every aggregate steps through the same rows, so the columns stay aligned. Without the
    ORDER BY: SQLite aggregates the rows in the order its index returns them, which is that
    order (checked by :func:`_sqlite_packed`); an ordered subquery would cost SQLite more
    than the whole raw read saves, as would one ``printf`` of each row.
    """
    source = sql.partition(" FROM ")[2].partition(" ORDER BY ")[0]
    packed = ", ".join(
        f"group_concat(ifnull({column}, ''), '{_SEP}')" for column in (key, *_PACKED_COLUMNS)
    )
    return f"SELECT count(*), {packed} FROM {source}"


def _sqlite_packed(
    raw: sqlite3.Connection, sql: str, params: list[Any], key: str, fixed: Any
) -> list[Bar]:
    """The bars of ``sql`` whose ``symbol`` (``key="time"``) or ``date`` (``key="symbol"``)
    is ``fixed``, fetched as one packed row (see the module's docstring)."""
    with paused():  # rows and bars hold no cycles (see data_nexus.collector)
        count, *texts = raw.execute(_packed_sql(sql, key), params).fetchone()
        if not count:
            return []
        keys, *prices, volumes = columns = [text.split(_SEP) for text in texts]
        del texts
        if any(len(column) != count for column in columns) or not _increasing(keys):
            return _sqlite(raw, sql, params)
        del columns
        try:
            volumes = _integers(volumes)
            prices = [_decimals(column, "") for column in prices]
        except (ValueError, decimal.InvalidOperation):  # not as the writers store it
            return _sqlite(raw, sql, params)
        fixeds = [fixed] * count
        if key == "time":
            if len(_DAYS) > _DAYS_MAX:
                _DAYS.clear()
            return bars_from_columns(fixeds, list(map(_DAYS.__getitem__, keys)), *prices, volumes)
        return bars_from_columns(keys, fixeds, *prices, volumes)


def _integers(texts: list[str]) -> list[int | None]:
    """Volume texts as integers (empty text, a NULL, as ``None``)."""
    try:
        return list(map(int, texts))
    except ValueError:
        return [None if text == "" else int(text) for text in texts]


def _increasing(keys: list[str]) -> bool:
    """Whether ``keys`` are strictly increasing (ISO dates sort as text; symbols are unique)."""
    return all(map(str.__lt__, keys, keys[1:]))


class _Days(dict[str, dt.date]):
    """ISO text → ``date``, filled on demand: a read of many symbols repeats few dates."""

    def __missing__(self, text: str) -> dt.date:
        day = self[text] = dt.date.fromisoformat(text)
        return day


_DAYS = _Days()
_DAYS_MAX = 50_000


#: Runs an iterator to its end, keeping nothing (a deque of length 0 stores no item; one
#: shared instance spares building a deque, keyword arguments and all, per column).
_drain: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend


def bars_from_columns(*columns: Iterable[Any]) -> list[Bar]:
    """Bars from eight parallel columns in field order (symbol, date, open … volume).

    The same objects as ``Bar(*row)`` per row, built a column at a time: each slot is set
    through its descriptor by ``map`` (a C loop), where ``Bar.__init__`` and
    :func:`make_bar` pay a Python call per attribute of every bar.
    """
    first = columns[0]
    count = len(first) if isinstance(first, Sized) else None
    if count is None:
        raise TypeError("the first column must be a sized sequence")
    bars: list[Bar] = list(map(_new, repeat(Bar, count)))
    for setter, column in zip(_SETTERS, columns, strict=True):
        _drain(map(setter, bars, column))
    return bars


def _sqlite_grouped(
    raw: sqlite3.Connection,
    symbols: Sequence[str],
    sql_for: Callable[[Sequence[str]], tuple[str, list[Any]]],
) -> list[Bar]:
    """SQLite caps a statement's parameters: many symbols are read in sorted groups, whose
    results concatenate in symbol order (SQLite's BINARY collation is code-point order)."""
    if len(symbols) <= SQLITE_SYMBOLS:
        return _sqlite(raw, *sql_for(symbols))
    ordered = sorted(set(symbols))
    out: list[Bar] = []
    for i in range(0, len(ordered), SQLITE_SYMBOLS):
        out.extend(_sqlite(raw, *sql_for(ordered[i : i + SQLITE_SYMBOLS])))
    return out


def read_bars(
    raw: Any,
    caps: Capabilities,
    symbols: Sequence[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Bar]:
    """Bars of ``symbols`` in [start, end], ordered by (symbol, date).

    ``raw`` is the driver connection (psycopg or sqlite3), in autocommit mode: one SELECT
    needs no transaction around it.
    """
    if not symbols:
        return []
    if caps.is_postgres:
        return _postgres(raw, *bars_sql(symbols, start, end, paramstyle="format"))
    if len(symbols) == 1:
        sql, params = bars_sql(symbols, start, end, paramstyle="qmark")
        return _sqlite_packed(raw, sql, params, "time", symbols[0])
    return _sqlite_grouped(
        raw, symbols, lambda group: bars_sql(group, start, end, paramstyle="qmark")
    )


def read_day(
    raw: Any, caps: Capabilities, day: dt.date, symbols: Sequence[str] | None = None
) -> list[Bar]:
    """The cross section of one date, ordered by symbol (``raw`` as in :func:`read_bars`)."""
    if symbols is not None and not symbols:
        return []
    if caps.is_postgres:
        return _postgres(raw, *day_sql(day, symbols, paramstyle="format"))
    if symbols is None or len(symbols) <= SQLITE_SYMBOLS:
        return _sqlite_packed(raw, *day_sql(day, symbols, paramstyle="qmark"), "symbol", day)
    return _sqlite_grouped(raw, symbols, lambda group: day_sql(day, group, paramstyle="qmark"))


def read_actions(
    conn: sa.Connection,
    symbols: Sequence[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Split | Dividend]:
    """Corporate actions of ``symbols`` in [start, end], ordered by (symbol, date, type, seq)."""
    if not symbols:
        return []
    query = sa.select(ACTIONS).where(ACTIONS.c.symbol.in_(list(symbols)))
    if start is not None:
        query = query.where(ACTIONS.c.date >= start)
    if end is not None:
        query = query.where(ACTIONS.c.date <= end)
    query = query.order_by(ACTIONS.c.symbol, ACTIONS.c.date, ACTIONS.c.action_type, ACTIONS.c.seq)
    out: list[Split | Dividend] = []
    for r in conn.execute(query):
        if r.action_type == "split":
            out.append(Split(r.symbol, r.date, r.numerator, r.denominator))
        else:
            out.append(
                Dividend(
                    r.symbol,
                    r.date,
                    r.value,
                    unadjusted_value=r.unadjusted_value,
                    currency=r.currency,
                    declaration_date=r.declaration_date,
                    record_date=r.record_date,
                    payment_date=r.payment_date,
                    period=r.period,
                )
            )
    return out
