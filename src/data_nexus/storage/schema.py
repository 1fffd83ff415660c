"""The schema check on every open, without loading Alembic when the schema is at head.

Alembic costs about a tenth of a second of start-up; most commands meet a database that is
already at :data:`~data_nexus.migrations.HEAD_REVISION` and only need to read its
``alembic_version`` row to know it. Anything else (an empty, older or unknown database)
goes through :func:`data_nexus.storage.migrate.ensure_schema`, which upgrades SQLite and
refuses other backends with :class:`~data_nexus.errors.SchemaOutOfDate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import exc

from data_nexus.errors import SchemaOutOfDate
from data_nexus.migrations import HEAD_REVISION
from data_nexus.storage.engine import describe_connect_error

if TYPE_CHECKING:
    from data_nexus.config import Settings


def stored_revision(conn: sa.Connection) -> str | None:
    """The revision in ``alembic_version`` (``None`` without the table or a row)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


def ensure_schema(engine: sa.Engine, settings: Settings) -> None:
    """Return at once when the database is at head; otherwise the full Alembic check."""
    try:
        with engine.connect() as conn:
            current = stored_revision(conn)
    except exc.DBAPIError as error:
        raise describe_connect_error(engine.url, error) from None
    if current == HEAD_REVISION:
        return
    from data_nexus.storage import migrate  # noqa: PLC0415 - Alembic only when needed

    migrate.ensure_schema(engine, settings)


def schema_out_of_date(where: str, current: str | None, head: str) -> SchemaOutOfDate:
    """The one message for a database whose schema is not this version's ``head``
    (``where`` already safe to show: no password)."""
    if current is None:
        return SchemaOutOfDate(
            f"database {where} has no Data Nexus schema: run 'datanexus db upgrade'"
        )
    return SchemaOutOfDate(
        f"database {where} is at schema revision {current}, this version needs {head}: "
        "run 'datanexus db upgrade'"
    )
