"""The SQLite bar sink: compare in Python, then ``executemany`` only what changed.

SQLite runs in-process, so reading the stored bars of the incoming date range is cheap; it
gives exact inserted/updated/unchanged counts and lets identical rows go untouched. Prices
are stored as canonical decimal text (:class:`data_nexus.types.DecimalText`), the same text
:class:`~data_nexus.storage.validate.BarValidator` produces, so a row compares equal exactly
when its values are equal. The transaction is the caller's (``BEGIN IMMEDIATE``: SQLite has
one writer, so nothing can change between the read and the write).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import repeat

from data_nexus.collector import paused
from data_nexus.storage.bar_rows import MISSING, BarRow, ColumnRows
from data_nexus.storage.writer import Chunk, Known, write_validated

# A row goes in as the validator made it: its five prices as separate texts from one
# ``split("\t")`` of the row's price text, with :data:`MISSING` where a price is absent,
# turned into NULL by SQLite itself (``NULLIF``) instead of a Python pass per value.
_PRICE = f"NULLIF(?, '{MISSING}')"
_INSERT = (
    "INSERT INTO market_data (time, open, high, low, close, adjusted_close, volume, symbol) "
    f"VALUES (?, {_PRICE}, {_PRICE}, {_PRICE}, {_PRICE}, {_PRICE}, ?, ?)"
)
_UPDATE = (
    f"UPDATE market_data SET open = {_PRICE}, high = {_PRICE}, low = {_PRICE}, "
    f"close = {_PRICE}, adjusted_close = {_PRICE}, volume = ? WHERE time = ? AND symbol = ?"
)
# The stored rows of a range as (ISO date, price text, volume): the price text built by
# SQLite in the validator's own format, so an unchanged row compares equal without being
# split or joined in Python.
_TEXT = " || char(9) || ".join(
    f"coalesce({name}, '{MISSING}')" for name in ("open", "high", "low", "close", "adjusted_close")
)
_SELECT = f"SELECT time, {_TEXT}, volume FROM market_data WHERE symbol = ? AND time BETWEEN ? AND ?"


class SqliteBarSink:
    """Writes bars through the raw ``sqlite3`` connection of the current transaction."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def write(
        self, symbol: str, rows: Sequence[BarRow], first: str, last: str, stored: set[str] | None
    ) -> tuple[int, int]:
        """Insert new rows, update changed ones; return (inserted, updated)."""
        if stored is None:
            stored = self.stored_dates(
                symbol, dt.date.fromisoformat(first), dt.date.fromisoformat(last)
            )
        new: list[tuple[str | int | None, ...]]
        if stored:
            new = [(d, *p.split("\t"), v, symbol) for d, p, v in rows if d not in stored]
        elif isinstance(rows, ColumnRows):  # the texts as they are: nothing joined or split
            new = list(zip(rows.isos, *rows.prices, rows.volumes, repeat(symbol)))
        else:
            new = [(d, *p.split("\t"), v, symbol) for d, p, v in rows]
        cur = self.raw.cursor()
        try:
            if new:
                cur.executemany(_INSERT, new)
            if len(new) == len(rows):
                return len(new), 0
            old = {d: (p, v) for d, p, v in cur.execute(_SELECT, (symbol, first, last))}
            changed = [
                (*p.split("\t"), v, d, symbol)
                for d, p, v in rows
                if d in stored and old.get(d) != (p, v)
            ]
            if changed:
                cur.executemany(_UPDATE, changed)
        finally:
            cur.close()
        return len(new), len(changed)

    def write_chunks(
        self, symbol: str, chunks: Iterable[Chunk], known: Known | None
    ) -> tuple[int, int, int]:
        """Each chunk validated whole, then written (in-process SQLite gains nothing from
        pieces); (inserted, updated, rows)."""
        inserted = updated = total = 0
        for chunk in chunks:
            with paused():  # rows and their tuples hold no cycles (see data_nexus.collector)
                new, changed, count = write_validated(self, symbol, chunk, known)
            inserted, updated, total = inserted + new, updated + changed, total + count
            del chunk  # before the next chunk is read: memory stays flat
        return inserted, updated, total

    def stored_dates(self, symbol: str, start: dt.date, end: dt.date) -> set[str]:
        """ISO dates of the stored bars of ``symbol`` in [start, end]."""
        cur = self.raw.cursor()
        try:
            cur.execute(
                "SELECT time FROM market_data WHERE symbol = ? AND time BETWEEN ? AND ?",
                (symbol, start.isoformat(), end.isoformat()),
            )
            return {r[0] for r in cur}
        finally:
            cur.close()

    def delete_dates(self, symbol: str, dates: list[str]) -> int:
        """Delete these bars of ``symbol``."""
        cur = self.raw.cursor()
        try:
            cur.executemany(
                "DELETE FROM market_data WHERE symbol = ? AND time = ?",
                [(symbol, day) for day in dates],
            )
            return cur.rowcount
        finally:
            cur.close()
