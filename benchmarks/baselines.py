"""The baselines our write path is measured against, one per backend.

- PostgreSQL raw: ``COPY … FROM STDIN`` of the same rows straight into ``market_data``
  (primary key, ``(symbol, time)`` index and foreign key in place), one transaction per
  batch of symbols: the fastest way in, with no conflict handling at all.
- SQLite raw: ``executemany`` of a plain ``INSERT`` in one transaction per batch, the
  prices as the same canonical decimal text our store keeps.
- ORM (both): the naive loader, one ``MarketData`` object per bar, ``session.add_all``
  and a commit per batch.

Each takes a database URL and an iterable of batches (a batch is a list of per-symbol
bar lists) and returns the seconds spent writing (generating the rows is not timed).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from sqlalchemy.orm import Session

from benchmarks.data import BAR_COLUMNS, bar_tuple
from benchmarks.servers import connect
from data_nexus.decimals import canonical
from data_nexus.models import MarketData
from data_nexus.records import Bar
from data_nexus.storage import engine
from data_nexus.storage.engine import open_engine

Batches = Iterable[list[list[Bar]]]
#: The page cache our engine gives each SQLite connection, KiB (64 MiB before it was a
#: named setting: benchmarks also run against older checkouts for before/after figures).
SQLITE_CACHE_KIB: int = getattr(engine, "SQLITE_CACHE_KIB", 65536)
COPY_SQL = f"COPY market_data ({', '.join(BAR_COLUMNS)}) FROM STDIN"
SQLITE_INSERT = f"INSERT INTO market_data ({', '.join(BAR_COLUMNS)}) VALUES ({', '.join('?' * 8)})"


def pg_copy(url: str, batches: Batches) -> float:
    """``COPY`` every batch into ``market_data``, committing per batch."""
    spent = 0.0
    with connect(url) as conn:
        for batch in batches:
            start = time.perf_counter()
            with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
                for bars in batch:
                    for bar in bars:
                        copy.write_row(bar_tuple(bar))
            conn.commit()
            spent += time.perf_counter() - start
    return spent


def sqlite_connect(url: str) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection with the pragmas our engine sets (WAL, FKs, …)."""
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "synchronous=NORMAL",
        "temp_store=MEMORY",
        f"cache_size=-{SQLITE_CACHE_KIB}",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _sqlite_row(bar: Bar) -> tuple[object, ...]:
    def text(value: object) -> str | None:
        return None if value is None else canonical(value)  # type: ignore[arg-type]

    return (
        bar.date.isoformat(),
        bar.symbol,
        text(bar.open),
        text(bar.high),
        text(bar.low),
        text(bar.close),
        text(bar.adjusted_close),
        bar.volume,
    )


def sqlite_executemany(url: str, batches: Batches) -> float:
    """``executemany`` a plain INSERT per batch, in one transaction per batch."""
    spent = 0.0
    conn = sqlite_connect(url)
    try:
        for batch in batches:
            start = time.perf_counter()
            conn.execute("BEGIN")
            for bars in batch:
                conn.executemany(SQLITE_INSERT, [_sqlite_row(bar) for bar in bars])
            conn.execute("COMMIT")
            spent += time.perf_counter() - start
    finally:
        conn.close()
    return spent


def orm_add_all(url: str, batches: Batches) -> float:
    """One ORM object per bar, ``session.add_all``, one commit per batch."""
    engine = open_engine(url)
    spent = 0.0
    try:
        with Session(engine) as session:
            for batch in batches:
                start = time.perf_counter()
                session.add_all(
                    MarketData(
                        time=bar.date,
                        symbol=bar.symbol,
                        open=bar.open,
                        high=bar.high,
                        low=bar.low,
                        close=bar.close,
                        adjusted_close=bar.adjusted_close,
                        volume=bar.volume,
                    )
                    for bars in batch
                    for bar in bars
                )
                session.commit()
                session.expunge_all()
                spent += time.perf_counter() - start
    finally:
        engine.dispose()
    return spent
