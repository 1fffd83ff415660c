"""Opening the warehouse read-only for ``datanexus serve``.

Read-only by construction, not by discipline:

- SQLite: the file is opened through an SQLite URI with ``mode=ro`` (SQLAlchemy's documented
  ``sqlite:///file:…?mode=ro&uri=true`` form). Any write fails in SQLite itself with "attempt
  to write a readonly database"; a missing file is an error, never a new empty database.
- PostgreSQL/TimescaleDB: every connection starts with ``default_transaction_read_only=on``
  (libpq ``options``), so every transaction, autocommit reads included, is read-only and the
  server refuses writes. Pair it with a role that can only ``SELECT`` (README, "Serve it").

The schema is never upgraded here: a database not at head raises
:class:`~data_nexus.errors.SchemaOutOfDate` telling the user to run ``datanexus db upgrade``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from data_nexus.config import Settings
from data_nexus.errors import ConfigError, DatabaseUnavailable, SchemaOutOfDate
from data_nexus.storage.engine import describe_connect_error, parse_database_url, safe_display
from data_nexus.storage.migrate import current_revision, head_revision
from data_nexus.storage.schema import schema_out_of_date
from data_nexus.storage.store import Store
from data_nexus.storage.writer import DRIVER_ERRORS

#: The libpq option that makes every transaction of a session read-only.
PG_READ_ONLY_OPTION = "-c default_transaction_read_only=on"


def read_only_url(url: str) -> str:
    """The read-only twin of a database URL (see the module docstring), password included.

    Raises :class:`~data_nexus.errors.ConfigError` for an in-memory SQLite database (nothing
    to serve) and :class:`~data_nexus.errors.DatabaseUnavailable` for an SQLite file that
    does not exist.
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise ConfigError("cannot serve an in-memory SQLite database: give a file")
        if database.startswith("file:"):
            query = dict(parsed.query)
            query.update(mode="ro", uri="true")
            return _text(parsed.set(query=query))
        path = Path(database).expanduser().resolve()
        if not path.is_file():
            raise DatabaseUnavailable(
                f"cannot serve {safe_display(parsed)}: no such SQLite file "
                "(sync something first, e.g. 'datanexus demo')"
            )
        ro = parsed.set(database=f"file:{quote(str(path))}", query={"mode": "ro", "uri": "true"})
        return _text(ro)
    query = dict(parsed.query)
    existing = query.get("options")
    if isinstance(existing, tuple):
        existing = " ".join(existing)
    query["options"] = f"{existing} {PG_READ_ONLY_OPTION}" if existing else PG_READ_ONLY_OPTION
    return _text(parsed.set(query=query))


def _text(url: Any) -> str:
    text: str = url.render_as_string(hide_password=False)
    return text


class Warehouse:
    """What ``datanexus serve`` reads through: a read-only :class:`Store` and query readers.

    ``store`` serves the registry functions (:func:`~data_nexus.assets.list_assets`);
    ``readers`` lends read-only :class:`~data_nexus.storage.frames.FrameReader` connections
    to the query API, one per concurrent request. ``backend`` is ``sqlite``, ``postgresql``
    or ``timescaledb``.
    """

    def __init__(self, url: str, store: Store) -> None:
        from data_nexus.serve.readers import ReaderPool  # noqa: PLC0415

        self.url = url
        self.store = store
        self.backend = store.caps.backend
        self.readers = ReaderPool(url)

    def close(self) -> None:
        """Close every connection."""
        self.readers.close()
        self.store.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_read_only(settings: Settings | str) -> Warehouse:
    """Open the database of ``settings`` (or a URL) read-only, with the schema at head.

    Raises :class:`~data_nexus.errors.SchemaOutOfDate` when the schema is not at the revision
    this version needs, :class:`~data_nexus.errors.DatabaseUnavailable` when the database
    cannot be reached.
    """
    url = settings if isinstance(settings, str) else settings.database_url
    ro_url = read_only_url(url)
    try:
        store = Store.open(ro_url, check_schema=False)
    except DatabaseUnavailable as error:  # name the URL the user gave, not the read-only one
        cause = error.__cause__ if error.__cause__ is not None else error
        raise describe_connect_error(parse_database_url(url), cause) from None
    try:
        revision = schema_revision(store, url)
        head = head_revision()
        if revision != head:
            stale = schema_out_of_date(safe_display(parse_database_url(url)), revision, head)
            raise SchemaOutOfDate(f"{stale} first (serve never writes)")
        return Warehouse(url, store)
    except BaseException:
        store.close()
        raise


def schema_revision(store: Store, url: str | None = None) -> str | None:
    """The schema revision of ``store``'s database (``None`` when it has no schema).

    Raises :class:`~data_nexus.errors.DatabaseUnavailable` when it cannot be reached, naming
    ``url`` (the URL the user gave; default: the store's own, read-only one).
    """
    try:
        with store.engine.connect() as conn:
            return current_revision(conn)
    except DRIVER_ERRORS as error:
        shown = store.engine.url if url is None else parse_database_url(url)
        raise describe_connect_error(shown, error) from None
