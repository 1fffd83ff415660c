"""The read queries every benchmark asks, and the raw-SQL baselines that answer them.

The cases are drawn from a seeded generator, so our API and the raw SQL see the very same
symbols, years and dates, in the same order.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.data import Dataset

_SELECT = "SELECT time, symbol, open, high, low, close, adjusted_close, volume FROM market_data "
#: One symbol over a date range (PostgreSQL, psycopg placeholders).
PG_SYMBOL_RANGE = _SELECT + "WHERE symbol = %s AND time >= %s AND time <= %s ORDER BY time"
#: All symbols on one date (PostgreSQL).
PG_CROSS_SECTION = _SELECT + "WHERE time = %s ORDER BY symbol"
#: The same on SQLite (``sqlite3`` placeholders; dates are ISO text there).
SQLITE_SYMBOL_RANGE = _SELECT + "WHERE symbol = ? AND time >= ? AND time <= ? ORDER BY time"
SQLITE_CROSS_SECTION = _SELECT + "WHERE time = ? ORDER BY symbol"


@dataclass(frozen=True, slots=True)
class ReadCase:
    """One read: a symbol over [start, end], or every symbol on ``start`` (cross section)."""

    symbol: str | None
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class ReadSuite:
    """The three kinds of read, each a list of cases."""

    year: list[ReadCase]  # one symbol, one calendar year
    history: list[ReadCase]  # one symbol, its whole history (``dataset.years`` years)
    cross_section: list[ReadCase]  # one trading date, all symbols

    def kinds(self) -> dict[str, list[ReadCase]]:
        """Name → cases, in report order."""
        return {"year": self.year, "history": self.history, "cross_section": self.cross_section}


def read_suite(dataset: Dataset, repetitions: int, seed: int = 7) -> ReadSuite:
    """``repetitions`` cases of each kind (the history and cross-section ones fewer: slower)."""
    rng = random.Random(seed)
    days = dataset.days()
    symbols = dataset.symbol_names()
    years = sorted({d.year for d in days if d.year > days[0].year}) or [days[-1].year]
    heavy = max(10, repetitions // 4)
    year = [
        ReadCase(rng.choice(symbols), dt.date(y, 1, 1), dt.date(y, 12, 31))
        for y in (rng.choice(years) for _ in range(repetitions))
    ]
    history = [ReadCase(rng.choice(symbols), days[0], days[-1]) for _ in range(heavy)]
    cross = [ReadCase(None, d, d) for d in (rng.choice(days) for _ in range(heavy))]
    return ReadSuite(year, history, cross)


def pg_raw_reader(conn: Any) -> Callable[[object], object]:
    """A raw psycopg read of a :class:`ReadCase`: the same SELECT, ``fetchall()``."""

    def read(case: object) -> object:
        assert isinstance(case, ReadCase)
        if case.symbol is None:
            return conn.execute(PG_CROSS_SECTION, (case.start,)).fetchall()
        return conn.execute(PG_SYMBOL_RANGE, (case.symbol, case.start, case.end)).fetchall()

    return read


def sqlite_raw_reader(conn: Any) -> Callable[[object], object]:
    """A raw ``sqlite3`` read of a :class:`ReadCase` (values come back as stored text)."""

    def read(case: object) -> object:
        assert isinstance(case, ReadCase)
        if case.symbol is None:
            return conn.execute(SQLITE_CROSS_SECTION, (case.start.isoformat(),)).fetchall()
        args = (case.symbol, case.start.isoformat(), case.end.isoformat())
        return conn.execute(SQLITE_SYMBOL_RANGE, args).fetchall()

    return read
