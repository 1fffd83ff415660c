"""The database servers a benchmark runs against, and fresh databases on them.

Given no URL, a throwaway PostgreSQL cluster is started in a temporary directory
(``ThrowawayCluster(durable=True)``: fsync, synchronous commit and full-page writes on, as
on a default server; TimescaleDB preloaded where installed) and removed afterwards. Given
a URL, it must be an *admin* URL of a server where the benchmark may create and drop
databases, like the tests' ``DATANEXUS_TEST_POSTGRES_URL``.

Every measurement uses a fresh database, migrated with the packaged Alembic scripts
(``upgrade_db``), and drops it when done.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
from tests.pgcluster import ClusterUnavailable, DatabaseFactory, ThrowawayCluster

from data_nexus.config import Settings
from data_nexus.storage.migrate import upgrade_db


def exit_on_sigterm() -> None:
    """Turn SIGTERM (a CI timeout, ``kill``) into ``SystemExit``, so clusters get removed.

    Python's default SIGTERM action ends the process without running ``finally`` blocks,
    which would leave a throwaway cluster running and its directory behind.
    """
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def settings_for(url: str, **extra: object) -> Settings:
    """Settings for a benchmark database, ignoring the environment's ``.env``."""
    return Settings(database_url=url, _env_file=None, **extra)  # type: ignore[call-arg]


def conninfo(url: str) -> str:
    """A libpq connection string for psycopg from a SQLAlchemy ``postgresql+psycopg`` URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A plain psycopg connection to ``url`` (the raw baselines' side)."""
    return psycopg.connect(conninfo(url), autocommit=autocommit)


@dataclass
class Servers:
    """Database factories for plain PostgreSQL and for TimescaleDB (``None`` if absent)."""

    postgres: DatabaseFactory | None
    timescale: DatabaseFactory | None
    #: How each server was obtained, for the report (never a password).
    origin: dict[str, str] = field(default_factory=dict)


def _timescale_factory(factory: DatabaseFactory) -> DatabaseFactory | None:
    try:
        return factory if factory.extension_available("timescaledb") else None
    except psycopg.Error:
        return None


@contextlib.contextmanager
def open_servers(
    postgres_url: str | None = None,
    timescale_url: str | None = None,
    *,
    need_postgres: bool = True,
    need_timescale: bool = True,
) -> Iterator[Servers]:
    """Yield the servers to benchmark, starting (and finally removing) a cluster if needed.

    Without URLs, one throwaway cluster serves both: plain-PostgreSQL databases are simply
    created without the extension. A ``postgres_url`` server that has TimescaleDB also
    serves TimescaleDB when ``timescale_url`` is not given.
    """
    cluster: ThrowawayCluster | None = None
    origin: dict[str, str] = {}
    try:
        if (need_postgres and not postgres_url) or (
            need_timescale and not timescale_url and not postgres_url
        ):
            try:
                cluster = ThrowawayCluster(durable=True).start()
            except ClusterUnavailable as error:
                print(f"note: no throwaway PostgreSQL cluster ({error}); skipping PostgreSQL")
        local = DatabaseFactory(cluster.admin_url) if cluster else None
        postgres: DatabaseFactory | None = None
        if need_postgres:
            if postgres_url:
                postgres, origin["postgres"] = DatabaseFactory(postgres_url), "--postgres-url"
            elif local:
                postgres, origin["postgres"] = local, "throwaway cluster (durable=True)"
        timescale: DatabaseFactory | None = None
        if need_timescale:
            if timescale_url:
                timescale = _timescale_factory(DatabaseFactory(timescale_url))
                if timescale is None:
                    print("note: --timescale-url server has no TimescaleDB; skipping it")
                origin["timescale"] = "--timescale-url"
            else:
                base = DatabaseFactory(postgres_url) if postgres_url else local
                timescale = _timescale_factory(base) if base else None
                if timescale is not None:
                    origin["timescale"] = (
                        "--postgres-url" if postgres_url else "throwaway cluster (durable=True)"
                    )
        yield Servers(postgres, timescale, origin)
    finally:
        if cluster is not None:
            cluster.stop()


@contextlib.contextmanager
def fresh_database(
    factory: DatabaseFactory,
    prefix: str,
    *,
    timescale: bool = False,
    migrate: bool = True,
    **settings: object,
) -> Iterator[str]:
    """A new database (TimescaleDB extension optional), migrated to head, dropped after."""
    url = factory.create(prefix, extensions=("timescaledb",) if timescale else ())
    try:
        if migrate:
            upgrade_db(settings_for(url, **settings))
        yield url
    finally:
        factory.drop(url)


def insert_assets(url: str, rows: list[dict[str, object]]) -> None:
    """Create the ``assets`` rows bars refer to (not part of any timed figure)."""
    with connect(url) as conn, conn.cursor() as cur:
        columns = list(rows[0])
        with cur.copy(f"COPY assets ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def server_version(url: str) -> dict[str, str | None]:
    """PostgreSQL and TimescaleDB versions of the server/database at ``url``."""
    with connect(url, autocommit=True) as conn:
        pg = conn.execute("SHOW server_version").fetchone()
        ts = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
        available = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
    return {
        "postgresql": str(pg[0]).split()[0] if pg else None,
        "timescaledb": str(ts[0]) if ts else (str(available[0]) if available else None),
    }
