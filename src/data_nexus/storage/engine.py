"""Opening a database from a URL, with clear errors and per-backend connection settings.

``postgresql://`` and ``postgres://`` URLs are taken to mean psycopg 3 (the driver Data
Nexus installs); a bare path means an SQLite file. SQLite connections run in WAL mode with
foreign keys on.
"""

from __future__ import annotations

import re
import sqlite3
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url

from data_nexus.errors import ConfigError, DatabaseUnavailable
from data_nexus.redact import redact

SUPPORTED = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_S = 30
#: SQLite's page cache per connection, KiB. Writes append rows and touch the index pages
#: of the dates written; a bigger cache only keeps pages that are not read again, and it
#: fills with the volume written: at 64 MiB a writer's peak RSS grew 1.9x from 1 to 20
#: years of history, at 8 MiB 1.1x, with writes and reads no slower (docs/benchmarks.md).
SQLITE_CACHE_KIB = 8192


#: How to write a password with reserved characters (RFC 3986 percent-encoding).
ENCODE_HINT = (
    "percent-encode reserved characters in the user name and password "
    "(@ as %40, : as %3A, / as %2F, # as %23, ? as %3F)"
)


#: The drivers a URL may name after ``+``; none named means SQLAlchemy's default (pysqlite;
#: psycopg 3, to which ``postgresql://`` is mapped where the default is still psycopg2).
DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}
#: ``scheme:`` without ``//`` (``sqlite:/x.db``, ``postgresql:host/db``): a broken URL, not a
#: file name. One letter is a Windows drive (``C:\\data\\x.db``).
_SCHEME_ONLY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
#: What every refused URL is compared with.
URL_EXAMPLES = "e.g. 'sqlite:///data_nexus.db' or 'postgresql://user@host:5432/dbname'"


def parse_database_url(url: str) -> URL:
    """Parse and normalise a database URL, or raise :class:`ConfigError` saying why.

    Refused, each with one line (exit 2 in the CLI) and before anything is created:
    text SQLAlchemy cannot parse, ``scheme:`` without ``//``, a backend other than SQLite
    or PostgreSQL, a driver other than psycopg 3 (``postgresql://`` and ``psycopg2`` are
    taken to mean it) or pysqlite, an SQLite URL without a file name (``sqlite:///``), and
    an SQLite path that is a directory.

    A URL with more than one ``@`` is refused: a password holding an unencoded ``@`` would
    otherwise be cut there and its tail read as the host name (and shown in errors). Every
    message shows the URL with the whole password masked (:func:`data_nexus.redact.redact`).
    """
    text = url.strip()
    if "://" not in text and _SCHEME_ONLY.match(text):
        raise ConfigError(
            f"invalid database URL {redact(text)!r}: no '//' after the scheme; {URL_EXAMPLES}"
        )
    if "://" not in text:
        text = f"sqlite:///{text}"
    if text.count("@") > 1:
        raise ConfigError(
            f"invalid database URL {redact(text)!r}: more than one '@'; {ENCODE_HINT}"
        )
    try:
        parsed = make_url(text)
    except (exc.ArgumentError, ValueError):
        raise ConfigError(
            f"invalid database URL {redact(text)!r}: expected {URL_EXAMPLES} ({ENCODE_HINT})"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
        backend = "postgresql"
    if backend not in SUPPORTED:
        raise ConfigError(
            f"unsupported database {backend!r} in {redact(text)!r}: "
            "Data Nexus works with sqlite and postgresql (TimescaleDB is postgresql)"
        )
    if backend == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    driver = parsed.drivername.partition("+")[2]  # "": SQLAlchemy's default, in DRIVERS
    if driver and driver not in DRIVERS[backend]:
        usual = "postgresql+psycopg://" if backend == "postgresql" else "sqlite:///"
        raise ConfigError(
            f"unsupported database driver {driver!r} in {redact(text)!r}: "
            f"Data Nexus connects through {usual}…"
        )
    if backend == "sqlite":
        _check_sqlite_path(parsed.database or "", text)
    return parsed


def _check_sqlite_path(database: str, text: str) -> None:
    """Refuse an SQLite URL without a file name, or whose path is a directory."""
    if not database:
        raise ConfigError(
            f"invalid database URL {text!r}: no file name after 'sqlite:///' "
            "(e.g. sqlite:///data_nexus.db)"
        )
    if database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    if path.is_dir():
        raise ConfigError(
            f"invalid database URL {text!r}: {str(path)!r} is a directory, not an SQLite file "
            f"(e.g. {str(path / 'data_nexus.db')!r})"
        )


def safe_display(url: URL | str) -> str:
    """A URL for messages, with the password masked."""
    if isinstance(url, URL):
        # hide_password masks user:password@ only; a ?password= parameter is redacted too
        return redact(url.render_as_string(hide_password=True))
    return redact(url)


#: Execution option for a write transaction on SQLite: ``BEGIN IMMEDIATE`` takes the write
#: lock up front, so a transaction that reads and then writes waits for the busy timeout
#: instead of failing with "database is locked" halfway. Ignored on PostgreSQL.
SQLITE_IMMEDIATE = "datanexus_sqlite_immediate"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented recipe: stop pysqlite from managing transactions itself, so
    # that BEGIN is emitted by us (see _sqlite_begin) and DDL is transactional.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


#: SQLite engines opened with ``read_only``: :func:`dispose_engine` leaves their file alone.
_READ_ONLY_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def dispose_engine(engine: Engine) -> None:
    """Close every pooled connection of ``engine``; on an SQLite file opened for writing,
    leave the file in rollback-journal mode when nobody else has it open.

    Writers run in WAL mode (readers never block them). But a read-only reader of a WAL
    file must create ``-wal`` and ``-shm`` beside it and, being read-only, cannot remove
    them: every ``status`` or ``bars`` left two files behind. So the last writer to close
    switches the file back to ``journal_mode=DELETE`` (a checkpoint; the ``-wal``/``-shm``
    go): then read-only commands (``mode=ro``) create nothing. When another connection is
    open (a second writer, ``datanexus serve``), SQLite refuses the switch at once (no busy
    wait here) and the file stays in WAL mode for the next writer; the next writer to open
    it switches to WAL again (``_sqlite_connect``).
    """
    engine.dispose()
    url = engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or engine in _READ_ONLY_ENGINES:
        return  # a reader never writes the file, not even its journal mode
    path = Path(database).expanduser()
    if not path.is_file():
        return
    try:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.Error:
        pass  # another connection has the file open: it stays in WAL mode
    finally:
        conn.close()


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    # No journal_mode change (that writes the header and creates -wal/-shm files).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def sqlite_read_only_connect(path: Path) -> sqlite3.Connection:
    """Open the SQLite file ``path`` read-only through a ``mode=ro`` URI.

    ``immutable=1`` is added when plain ``mode=ro`` cannot open it (a WAL database in a
    directory that is not writable: SQLite cannot create the ``-shm`` file), so a read-only
    copy of a database can be read. Raises :class:`sqlite3.Error` when neither works.
    """
    base = path.resolve().as_uri().replace("file://", "file:", 1)
    last: sqlite3.Error | None = None
    for extra in ("", "&immutable=1"):
        conn = sqlite3.connect(
            f"{base}?mode=ro{extra}",
            uri=True,
            timeout=SQLITE_BUSY_TIMEOUT_S,
            check_same_thread=False,
        )
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as error:
            conn.close()
            last = error
            continue
        return conn
    assert last is not None
    raise last


def _sqlite_begin(conn: sa.Connection) -> None:
    immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def require_sqlite_file(url: str | URL) -> Path:
    """The SQLite file of ``url``; :class:`DatabaseUnavailable` ``no such database file:
    PATH`` (exit 2) when it does not exist, so that a command that must not create a
    database says so instead. Any other URL (PostgreSQL, an SQLite ``file:`` URI) passes."""
    parsed = url if isinstance(url, URL) else parse_database_url(url)
    database = parsed.database or ""
    path = Path(database).expanduser()
    if parsed.get_backend_name() != "sqlite" or database.startswith("file:"):
        return path
    if database in ("", ":memory:") or not path.is_file():
        raise DatabaseUnavailable(
            f"no such database file: {database or '(none)'} (sync or run 'datanexus demo' "
            "first, or pass --database-url)"
        )
    return path


def open_engine(url: str | URL, *, echo: bool = False, read_only: bool = False) -> Engine:
    """Create an :class:`Engine` for ``url`` without connecting yet.

    Raises :class:`ConfigError` for a malformed URL, an unsupported backend, a missing
    driver, or an SQLite file in a directory that does not exist.

    With ``read_only`` an SQLite file is opened through a ``mode=ro`` URI
    (:func:`sqlite_read_only_connect`) with ``PRAGMA query_only``: nothing is created or
    written, not even a ``-wal`` file. A file that does not exist raises
    :class:`DatabaseUnavailable` ``no such database file: PATH`` (exit 2). PostgreSQL is
    opened as usual (read-only callers set ``default_transaction_read_only`` themselves).
    """
    parsed = url if isinstance(url, URL) else parse_database_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    # a ``file:…?mode=ro`` URI (``datanexus serve``) is a reader too: no journal-mode switch,
    # which would be a write (the file is in rollback-journal mode between writers)
    ro_uri = (parsed.database or "").startswith("file:") and parsed.query.get("mode") == "ro"
    if backend == "sqlite" and read_only and not (parsed.database or "").startswith("file:"):
        path = require_sqlite_file(parsed)
        kwargs["creator"] = lambda: sqlite_read_only_connect(path)
    elif backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise ConfigError(
                    f"cannot create SQLite database {database!r}: directory {str(parent)!r} "
                    "does not exist"
                )
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10, "application_name": "datanexus"}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (exc.NoSuchModuleError, ImportError) as error:
        raise ConfigError(
            f"no database driver for {safe_display(parsed)!r} ({error}); "
            "use 'postgresql+psycopg://…' or 'sqlite:///…'"
        ) from None
    except exc.ArgumentError as error:
        raise ConfigError(f"invalid database URL {safe_display(parsed)!r}: {error}") from None
    if backend == "sqlite" and (read_only or ro_uri):
        _READ_ONLY_ENGINES.add(engine)
        event.listen(engine, "connect", _sqlite_read_only)
        event.listen(engine, "begin", _sqlite_begin)
    elif backend == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def describe_connect_error(url: URL, error: BaseException) -> DatabaseUnavailable:
    """Turn a driver's connection failure into one redacted line with a next step."""
    original = getattr(error, "orig", None) or error
    detail = redact(str(original), [url.password]).strip().splitlines()
    reason = detail[0] if detail else type(original).__name__
    if url.get_backend_name() == "sqlite":
        hint = "check the file path and its permissions"
    else:
        hint = "check the host, port, user, password and database name, and that the server runs"
    return DatabaseUnavailable(f"cannot open database {safe_display(url)}: {reason} ({hint})")


def check_connection(engine: Engine) -> None:
    """Connect once, raising :class:`DatabaseUnavailable` with a clear line on failure."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except exc.DBAPIError as error:
        raise describe_connect_error(engine.url, error) from None
