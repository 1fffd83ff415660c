"""What the database under us can do, detected once when a store opens.

Backend differences are decided here and nowhere else: code asks ``caps.copy`` or
``caps.is_timescale``, never ``dialect.name == …``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from data_nexus.storage.timescale import timescale_version

Backend = Literal["sqlite", "postgresql", "timescaledb"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The backend and the features the storage layer chooses its code paths by."""

    backend: Backend
    server_version: str
    timescale_version: str | None = None

    @property
    def is_postgres(self) -> bool:
        """PostgreSQL, with or without TimescaleDB."""
        return self.backend in ("postgresql", "timescaledb")

    @property
    def is_timescale(self) -> bool:
        """The TimescaleDB extension is installed in this database."""
        return self.backend == "timescaledb"

    @property
    def copy(self) -> bool:
        """Bulk loading through ``COPY`` (psycopg 3)."""
        return self.is_postgres

    @property
    def skip_locked(self) -> bool:
        """Row leases with ``FOR UPDATE SKIP LOCKED``: several workers may share the database."""
        return self.is_postgres

    @property
    def resample_in_sql(self) -> bool:
        """Weekly/monthly/… bars are aggregated by the database by default
        (:mod:`data_nexus.storage.aggregates`).

        On a server, aggregating there spares the transfer and parsing of every daily row.
        SQLite runs in our process, so there is nothing to spare: its SQL aggregation (text
        to ``REAL`` per row, a temporary B-tree per ``GROUP BY``) measured 2.2-3.1x the daily
        read of one symbol × 20 years, the NumPy resample of the daily read 1.0-1.1x
        (``benchmarks/resample.py``), so SQLite resamples in NumPy unless asked otherwise.
        """
        return self.is_postgres

    @property
    def multi_writer(self) -> bool:
        """Several sync workers may write at once (SQLite allows one writer)."""
        return self.is_postgres


def detect_capabilities(conn: sa.Connection) -> Capabilities:
    """Inspect the connected database."""
    if conn.dialect.name == "sqlite":
        version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
        return Capabilities(backend="sqlite", server_version=str(version))
    version = conn.exec_driver_sql("SHOW server_version").scalar_one()
    tsdb = timescale_version(conn)
    return Capabilities(
        backend="timescaledb" if tsdb else "postgresql",
        server_version=str(version).split()[0],
        timescale_version=tsdb,
    )


def capabilities_of(backend: str, scalar: Callable[[str], Any]) -> Capabilities:
    """Inspect a database through ``scalar`` (runs a query, returns its first value or None).

    The form for connections outside SQLAlchemy (the read side's sqlite3 and psycopg ones);
    ``backend`` is ``"sqlite"`` or ``"postgresql"``.
    """
    if backend == "sqlite":
        return Capabilities(backend="sqlite", server_version=str(scalar("SELECT sqlite_version()")))
    version = str(scalar("SHOW server_version")).split()[0]
    tsdb = scalar("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    return Capabilities(
        backend="timescaledb" if tsdb else "postgresql",
        server_version=version,
        timescale_version=None if tsdb is None else str(tsdb),
    )
