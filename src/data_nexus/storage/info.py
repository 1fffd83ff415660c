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
from data_nexus.storage.timescale import HypertableInfo, hypertable_info

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
        }


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
    engine = open_engine(settings.database_url)
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
    )
