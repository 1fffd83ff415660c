"""The read-only connection under :class:`~data_nexus.storage.frames.FrameReader`.

:class:`ReaderConnection` opens the database without ever upgrading its schema: SQLite
through a ``mode=ro`` URI (``immutable=1`` when the directory is not writable either, so a
read-only copy of a database works), PostgreSQL with ``default_transaction_read_only``. A
schema not at head raises :class:`~data_nexus.errors.SchemaOutOfDate`; a database that
cannot be opened, :class:`~data_nexus.errors.DatabaseUnavailable`. The reads themselves
live in the classes built on it (:mod:`~data_nexus.storage.sqlite_frames`,
:mod:`~data_nexus.storage.pg_frames`, :mod:`~data_nexus.storage.reader_rows`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from data_nexus.errors import DatabaseUnavailable
from data_nexus.storage.capabilities import Capabilities
from data_nexus.storage.engine import require_sqlite_file, safe_display
from data_nexus.storage.migrate import head_revision
from data_nexus.storage.schema import schema_out_of_date


class ReaderConnection:
    """One read-only connection: SQLite (plus ADBC's, opened on first use) or PostgreSQL.

    ``backend`` is ``"sqlite"`` or ``"postgresql"``; ``url`` is the display form (no
    password).
    """

    def __init__(self, url: URL) -> None:
        self.url = safe_display(url)
        self.backend = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
        self._url = url
        self._sqlite: sqlite3.Connection | None = None
        self._adbc: Any = None
        self._pg: psycopg.Connection[Any] | None = None
        self._caps: Capabilities | None = None
        if self.backend == "sqlite":
            self._open_sqlite()
        else:
            self._open_postgres(url)
        self._check_schema()

    # -- connections ---------------------------------------------------------------------

    def _open_sqlite(self) -> None:
        # the same one line as every other command for a missing file
        path = require_sqlite_file(self._url)
        last: Exception | None = None
        for extra in ("", "&immutable=1"):
            uri = f"{path.resolve().as_uri().replace('file://', 'file:', 1)}?mode=ro{extra}"
            try:
                conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as error:
                last = error
                continue
            self._sqlite = conn
            self._sqlite_uri = uri
            return
        raise DatabaseUnavailable(f"cannot open database {self.url} read-only: {last}")

    def _open_postgres(self, url: URL) -> None:
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
        except psycopg.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "error"
            raise DatabaseUnavailable(
                f"cannot open database {self.url}: {first} (check the URL and that the server runs)"
            ) from None
        conn.execute("SET default_transaction_read_only = on")
        self._pg = conn

    def _check_schema(self) -> None:
        head = head_revision()
        try:
            rows = self._rows("SELECT version_num FROM alembic_version", [])
        except (sqlite3.Error, psycopg.Error):
            rows = []
        current = rows[0][0] if rows else None
        if current == head:
            return
        raise schema_out_of_date(self.url, current, head)

    def close(self) -> None:
        """Close the connections."""
        for conn in (self._adbc, self._sqlite, self._pg):
            if conn is not None:
                with suppress(Exception):
                    conn.close()
        self._adbc = self._sqlite = self._pg = None

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """A small SELECT with ``?`` placeholders, as tuples."""
        if self._pg is not None:
            with self._pg.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), list(params))
                return list(cur.fetchall())
        assert self._sqlite is not None
        return list(self._sqlite.execute(sql, list(params)).fetchall())

    @property
    def chunked_text(self) -> bool:
        """Whether :meth:`bars` builds its tables from many small text chunks (PostgreSQL's
        CSV), whose freed pages are worth handing back (:func:`release_freed`). SQLite's
        ADBC columns are not: measured there, trimming saved nothing and cost time."""
        return self._pg is not None
