"""``datanexus db info``: what database this is and what it holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from data_nexus.config import Settings
from data_nexus.models import Base
from data_nexus.storage.capabilities import Capabilities, detect_capabilities
from data_nexus.storage.engine import describe_connect_error, open_engine, safe_display
from data_nexus.storage.migrate import current_revision, head_revision
from data_nexus.storage.timescale import HypertableInfo, hypertable_info, timescale_available

#: Above this estimated size PostgreSQL row counts are the planner's estimate, not count(*).
EXACT_COUNT_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class TableInfo:
    """Rows and bytes of one table (bytes ``None`` where the backend cannot tell)."""

    name: str
    rows: int
    rows_exact: bool
    bytes: int | None


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """The answer of :func:`database_info`."""

    database: str
    capabilities: Capabilities
    revision: str | None
    head: str
    tables: list[TableInfo] = field(default_factory=list)
    file_bytes: int | None = None
    hypertable: HypertableInfo | None = None
    #: The TimescaleDB version the server offers (``pg_available_extensions``), or ``None``.
    timescale_available: str | None = None

    @property
    def timescale_note(self) -> str | None:
        """See :func:`timescale_note`."""
        return timescale_note(
            postgres=self.capabilities.is_postgres,
            enabled=self.capabilities.timescale_version,
            available=self.timescale_available,
            schema_exists=self.revision is not None,
        )

    @property
    def up_to_date(self) -> bool:
        """The schema is at the revision this version needs."""
        return self.revision == self.head

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "database": self.database,
            "backend": self.capabilities.backend,
            "server_version": self.capabilities.server_version,
            "timescaledb_version": self.capabilities.timescale_version,
            "revision": self.revision,
            "head": self.head,
            "up_to_date": self.up_to_date,
            "file_bytes": self.file_bytes,
            "tables": [
                {"name": t.name, "rows": t.rows, "rows_exact": t.rows_exact, "bytes": t.bytes}
                for t in self.tables
            ],
            "hypertable": None if self.hypertable is None else self.hypertable.as_dict(),
            "timescaledb_available": self.timescale_available,
            "timescaledb_note": self.timescale_note,
        }


def timescale_note(
    *, postgres: bool, enabled: str | None, available: str | None, schema_exists: bool
) -> str | None:
    """What ``db info`` says about TimescaleDB on PostgreSQL (pure); ``None``: nothing to say.

    ``enabled`` is the extension's version in this database (``pg_extension``), ``available``
    the version the server could enable (``pg_available_extensions``). Nothing is said on
    SQLite or when the extension is enabled (the backend line shows it).
    """
    if not postgres or enabled is not None:
        return None
    if available is None:
        return (
            "TimescaleDB is not available on this server: market_data is a plain table "
            "(docs/operations.md says how to install it)"
        )
    then = (
        "then convert market_data as docs/operations.md shows (the schema already exists)"
        if schema_exists
        else "then run datanexus db upgrade"
    )
    return (
        f"TimescaleDB {available} is available on this server but not enabled in this "
        f"database: run CREATE EXTENSION IF NOT EXISTS timescaledb; as the database owner, {then}"
    )


def _sqlite_table(conn: sa.Connection, name: str) -> TableInfo:
    rows = conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
    try:
        size = conn.execute(
            sa.text("SELECT sum(pgsize) FROM dbstat WHERE name = :n OR tbl_name = :n"),
            {"n": name},
        ).scalar()
    except exc.DBAPIError:  # dbstat is an optional SQLite module
        size = None
    return TableInfo(name, int(rows), True, None if size is None else int(size))


def _postgres_table(conn: sa.Connection, name: str, caps: Capabilities) -> TableInfo:
    hyper = caps.is_timescale and name == "market_data"
    if hyper:
        estimate = conn.execute(
            sa.text("SELECT approximate_row_count(CAST(:n AS regclass))"), {"n": name}
        ).scalar()
        size = conn.execute(
            sa.text("SELECT hypertable_size(CAST(:n AS regclass))"), {"n": name}
        ).scalar()
    else:
        estimate = conn.execute(
            sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = CAST(:n AS regclass)"),
            {"n": name},
        ).scalar()
        size = conn.execute(
            sa.text("SELECT pg_total_relation_size(CAST(:n AS regclass))"), {"n": name}
        ).scalar()
    if estimate is not None and int(estimate) > EXACT_COUNT_LIMIT:
        return TableInfo(name, int(estimate), False, None if size is None else int(size))
    rows = conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
    return TableInfo(name, int(rows), True, None if size is None else int(size))


def database_info(settings: Settings) -> DatabaseInfo:
    """Backend, versions, schema revision, table sizes and row counts; hypertable details."""
    engine = open_engine(settings.database_url, read_only=True)
    try:
        with engine.connect() as conn:
            caps = detect_capabilities(conn)
            revision = current_revision(conn)
            present = set(sa.inspect(conn).get_table_names())
            tables: list[TableInfo] = []
            for table in Base.metadata.sorted_tables:
                if table.name not in present:
                    continue
                if caps.is_postgres:
                    tables.append(_postgres_table(conn, table.name, caps))
                else:
                    tables.append(_sqlite_table(conn, table.name))
            hyper = (
                hypertable_info(conn) if caps.is_timescale and "market_data" in present else None
            )
            available = timescale_available(conn)
            file_bytes = None
            database = engine.url.database
            if not caps.is_postgres and database and Path(database).exists():
                file_bytes = Path(database).stat().st_size
    except exc.DBAPIError as error:
        raise describe_connect_error(engine.url, error) from None
    finally:
        engine.dispose()
    return DatabaseInfo(
        database=safe_display(engine.url),
        capabilities=caps,
        revision=revision,
        head=head_revision(),
        tables=tables,
        file_bytes=file_bytes,
        hypertable=hyper,
        timescale_available=available,
    )
