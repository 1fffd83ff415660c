"""What differs between the backends a benchmark runs on, in one place.

A :class:`Target` creates fresh migrated databases with the benchmark's assets in them,
runs the backend's raw write baseline, opens the raw-SQL reader, and tells how many
``market_data`` rows a write physically rewrote.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psycopg
from tests.pgcluster import DatabaseFactory

from benchmarks import baselines
from benchmarks.data import Dataset
from benchmarks.queries import pg_raw_reader, sqlite_raw_reader
from benchmarks.servers import connect, fresh_database, insert_assets, settings_for
from data_nexus.storage.migrate import upgrade_db


class Target(Protocol):
    """A backend under benchmark."""

    name: str
    raw_baseline: str  # what the raw write baseline is, for the report

    def database(self, label: str, dataset: Dataset) -> contextlib.AbstractContextManager[str]:
        """A fresh migrated database holding ``dataset``'s assets; removed afterwards."""
        ...

    def raw_write(self, url: str, batches: baselines.Batches) -> float:
        """The raw write baseline; seconds spent writing."""
        ...

    def raw_reader(self, url: str) -> contextlib.AbstractContextManager[Callable[[object], object]]:
        """A callable answering a :class:`~benchmarks.queries.ReadCase` with raw SQL."""
        ...

    def vacuum(self, url: str) -> None:
        """Tidy up after a bulk load (``VACUUM ANALYZE`` / ``ANALYZE``), untimed."""
        ...

    def settle(self, url: str) -> None:
        """Flush what earlier work left dirty before a timed pass, untimed."""
        ...

    def rewrite_probe(self, url: str) -> Callable[[], dict[str, int] | None]:
        """Start counting physical rewrites of ``market_data``; call the result to read them."""
        ...


@dataclass
class PostgresTarget:
    """Plain PostgreSQL (or TimescaleDB) on a server reached through ``factory``."""

    factory: DatabaseFactory
    timescale: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    name: str = "postgresql"
    raw_baseline: str = "COPY into the indexed table"

    @contextlib.contextmanager
    def database(self, label: str, dataset: Dataset) -> Iterator[str]:
        """A fresh migrated database holding ``dataset``'s assets; dropped afterwards."""
        prefix = f"dn_bench_{label}"
        with fresh_database(self.factory, prefix, timescale=self.timescale, **self.settings) as url:
            insert_assets(url, dataset.asset_rows())
            yield url

    def raw_write(self, url: str, batches: baselines.Batches) -> float:
        """``COPY`` every batch."""
        return baselines.pg_copy(url, batches)

    @contextlib.contextmanager
    def raw_reader(self, url: str) -> Iterator[Callable[[object], object]]:
        """psycopg, autocommit, the same SELECT as our store, ``fetchall()``."""
        with connect(url, autocommit=True) as conn:
            yield pg_raw_reader(conn)

    def vacuum(self, url: str) -> None:
        """``VACUUM ANALYZE`` the tables a write touches, then settle (see :meth:`settle`)."""
        with connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE market_data")
            conn.execute("VACUUM ANALYZE assets")
        self.settle(url)

    def settle(self, url: str) -> None:
        """``CHECKPOINT``, so a timed pass does not pay for the previous pass's dirty pages.

        Needs a superuser (or ``pg_checkpoint``); skipped where not allowed.
        """
        with (
            connect(url, autocommit=True) as conn,
            contextlib.suppress(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("CHECKPOINT")

    def rewrite_probe(self, url: str) -> Callable[[], dict[str, int] | None]:
        """Rows whose tuple was (re)written after now, and the table's statistics deltas.

        ``rows_rewritten`` counts ``market_data`` rows whose ``xmin`` (the transaction that
        wrote the current version) is newer than the probe: an exact physical count, not
        an estimate. The ``pg_stat_user_tables`` deltas are read once the statistics of the
        writing sessions have been flushed.
        """
        with connect(url, autocommit=True) as conn:
            xid = int(conn.execute("SELECT txid_current()").fetchone()[0])
            before = _table_stats(conn)

        def read() -> dict[str, int]:
            with connect(url, autocommit=True) as conn:
                count = conn.execute(
                    "SELECT count(*) FROM market_data WHERE xmin::text::bigint > %s", (xid,)
                ).fetchone()[0]
                after = _table_stats(conn)
                deadline = time.monotonic() + 5
                # Closed sessions flush their statistics asynchronously: wait until the
                # writes to `assets` (always updated by our writer) are visible.
                while after == before and time.monotonic() < deadline:
                    time.sleep(0.2)
                    conn.execute("SELECT pg_stat_clear_snapshot()")
                    after = _table_stats(conn)
            delta = {k: after[k] - before[k] for k in before}
            return {"rows_rewritten": int(count), **delta}

        return read


_STATS = (
    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del "
    "FROM pg_stat_user_tables WHERE relname IN ('market_data', 'assets')"
)


def _table_stats(conn: Any) -> dict[str, int]:
    stats: dict[str, int] = {}
    for relname, ins, upd, hot, dele in conn.execute(_STATS).fetchall():
        prefix = "" if relname == "market_data" else "assets_"
        stats |= {
            f"{prefix}n_tup_ins": ins,
            f"{prefix}n_tup_upd": upd,
            f"{prefix}n_tup_hot_upd": hot,
            f"{prefix}n_tup_del": dele,
        }
    return stats


@dataclass
class SqliteTarget:
    """SQLite files in a temporary directory (removed with the target)."""

    root: Path
    name: str = "sqlite"
    raw_baseline: str = "executemany INSERT"

    @contextlib.contextmanager
    def database(self, label: str, dataset: Dataset) -> Iterator[str]:
        """A fresh migrated SQLite file holding ``dataset``'s assets; deleted afterwards."""
        path = self.root / f"{label}.db"
        url = f"sqlite:///{path}"
        upgrade_db(settings_for(url))
        conn = baselines.sqlite_connect(url)
        try:
            rows = dataset.asset_rows()
            columns = list(rows[0])
            conn.execute("BEGIN")
            marks = ", ".join("?" * len(columns))
            conn.executemany(
                f"INSERT INTO assets ({', '.join(columns)}) VALUES ({marks})",
                [[r[c] for c in columns] for r in rows],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def raw_write(self, url: str, batches: baselines.Batches) -> float:
        """``executemany`` every batch."""
        return baselines.sqlite_executemany(url, batches)

    @contextlib.contextmanager
    def raw_reader(self, url: str) -> Iterator[Callable[[object], object]]:
        """Plain ``sqlite3``, the same SELECT, ``fetchall()`` (values stay text)."""
        conn = baselines.sqlite_connect(url)
        try:
            yield sqlite_raw_reader(conn)
        finally:
            conn.close()

    def vacuum(self, url: str) -> None:
        """``ANALYZE`` and a WAL checkpoint."""
        conn = baselines.sqlite_connect(url)
        try:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def settle(self, url: str) -> None:
        """A WAL checkpoint."""
        conn = baselines.sqlite_connect(url)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def rewrite_probe(self, url: str) -> Callable[[], dict[str, int] | None]:
        """SQLite keeps no per-table write statistics: the writer's own counts are used."""
        return lambda: None


@contextlib.contextmanager
def sqlite_target() -> Iterator[SqliteTarget]:
    """An :class:`SqliteTarget` in a temporary directory removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="datanexus-bench-"))
    try:
        yield SqliteTarget(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def sqlite_version() -> str:
    """The SQLite library version Python links."""
    return sqlite3.sqlite_version
