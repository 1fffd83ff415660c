"""Alembic environment for Data Nexus.

Works two ways:

- from :func:`data_nexus.storage.migrate.upgrade_db` (and the ``datanexus db`` commands),
  which pass an open connection and the :class:`~data_nexus.config.Settings` in
  ``config.attributes``;
- from ``alembic upgrade head`` in a checkout (the root ``alembic.ini``), where the URL
  comes from ``-x url=…`` or the settings (``DATANEXUS_DATABASE_URL`` / ``.env``).
"""

from __future__ import annotations

from alembic import context

from data_nexus.config import Settings, load_settings
from data_nexus.models import Base
from data_nexus.storage.engine import open_engine

config = context.config
target_metadata = Base.metadata


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    if isinstance(settings, Settings):
        return settings
    url = context.get_x_argument(as_dictionary=True).get("url")
    return load_settings(database_url=url)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    config.attributes.setdefault("settings", _settings())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``)."""
    context.configure(
        url=_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live database, reusing the caller's connection when given one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = open_engine(_settings().database_url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
