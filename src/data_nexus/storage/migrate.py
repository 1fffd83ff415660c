"""Schema migrations: the library side of ``datanexus db upgrade|downgrade|current|history``.

The Alembic scripts ship inside the package (``data_nexus/migrations``), so an installed
Data Nexus can upgrade any database without a checkout. The root ``alembic.ini`` of a
checkout points at the same scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import exc
from sqlalchemy.engine import Engine

from data_nexus.config import Settings
from data_nexus.errors import ConfigError
from data_nexus.storage.engine import (
    describe_connect_error,
    dispose_engine,
    open_engine,
    safe_display,
)
from data_nexus.storage.schema import schema_out_of_date

SCRIPT_LOCATION = "data_nexus:migrations"


def alembic_config(settings: Settings | None = None) -> Config:
    """An Alembic :class:`Config` for the packaged scripts (and the caller's settings).

    The settings (database URL, TimescaleDB options) are always the caller's; this module
    never reads the environment. Without them the config can only list the scripts.
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if settings is not None:
        config.attributes["settings"] = settings
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this version of Data Nexus knows."""
    head = _script().get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """One migration script."""

    revision: str
    down_revision: str | None
    doc: str
    is_head: bool


def history() -> list[RevisionInfo]:
    """All revisions, oldest first."""
    script = _script()
    heads = set(script.get_heads())
    revisions = list(script.walk_revisions())
    revisions.reverse()
    return [
        RevisionInfo(
            revision=r.revision,
            down_revision=r.down_revision if isinstance(r.down_revision, str) else None,
            doc=(r.doc or "").strip().splitlines()[0] if r.doc else "",
            is_head=r.revision in heads,
        )
        for r in revisions
    ]


def current_revision(conn: sa.Connection) -> str | None:
    """The revision the connected database is at (``None`` for an empty database)."""
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _connected(settings: Settings) -> Iterator[tuple[Engine, sa.Connection]]:
    engine = open_engine(settings.database_url)
    try:
        try:
            conn = engine.connect()
        except exc.DBAPIError as error:
            raise describe_connect_error(engine.url, error) from None
        with conn:
            yield engine, conn
    finally:
        dispose_engine(engine)


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """Where a database was and where it is now."""

    database: str
    before: str | None
    after: str | None


def _run(settings: Settings, action: str, revision: str) -> MigrationResult:
    with _connected(settings) as (engine, conn):
        before = current_revision(conn)
        if conn.in_transaction():
            conn.commit()
        config = alembic_config(settings)
        config.attributes["connection"] = conn
        try:
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
        except CommandError as error:
            raise ConfigError(
                f"cannot {action} to {revision!r}: {error}; see 'datanexus db history'"
            ) from None
        except exc.DBAPIError as error:
            raise describe_connect_error(engine.url, error) from None
        if conn.in_transaction():
            conn.commit()
        after = current_revision(conn)
        if conn.in_transaction():
            conn.commit()
        return MigrationResult(safe_display(engine.url), before, after)


def upgrade_db(settings: Settings, revision: str = "head") -> MigrationResult:
    """Upgrade the database to ``revision`` (default: the newest), creating it if empty."""
    return _run(settings, "upgrade", revision)


def downgrade_db(settings: Settings, revision: str) -> MigrationResult:
    """Downgrade the database to ``revision`` (``base`` removes every Data Nexus table)."""
    return _run(settings, "downgrade", revision)


def ensure_schema(engine: Engine, settings: Settings) -> None:
    """Make sure the schema is at head before a command uses the database.

    An SQLite database (the embedded default) is created and upgraded automatically; any
    other database must be upgraded on purpose, so a schema not at head raises
    :class:`SchemaOutOfDate` telling the user to run ``datanexus db upgrade``.
    """
    head = head_revision()
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    except exc.DBAPIError as error:
        raise describe_connect_error(engine.url, error) from None
    if current == head:
        return
    if engine.url.get_backend_name() == "sqlite":
        upgrade_db(settings.model_copy(update={"database_url": str(engine.url)}))
        return
    raise schema_out_of_date(safe_display(engine.url), current, head)
