"""Shared fixtures: migrated SQLite in tmp_path, throwaway PostgreSQL, TimescaleDB.

PostgreSQL tests use ``DATANEXUS_TEST_POSTGRES_URL`` (an admin URL of a server where we
may create databases) when set; otherwise one throwaway cluster is started for the session
(each pytest-xdist worker has its own) with ``initdb``/``pg_ctl`` on a free port. Without server binaries they skip, unless
``DATANEXUS_TEST_REQUIRE_POSTGRES=1`` (as in CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from data_nexus.config import Settings
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.storage.migrate import upgrade_db
from tests.pgcluster import ClusterUnavailable, DatabaseFactory, ThrowawayCluster

REQUIRE_POSTGRES = os.environ.get("DATANEXUS_TEST_REQUIRE_POSTGRES") == "1"
TIMESCALE_MISSING = (
    "TimescaleDB extension not available on the test PostgreSQL server "
    "(install Timescale's packages for this PostgreSQL version to run these tests)"
)


#: Release mode of the guarantees suite (``--long`` or ``DATANEXUS_GUARANTEES_LONG=1``).
LONG_ENV = "DATANEXUS_GUARANTEES_LONG"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--long``: the guarantees suite in release mode (more kill points and rounds)."""
    parser.addoption(
        "--long",
        action="store_true",
        default=os.environ.get(LONG_ENV) == "1",  # read before tests isolate the environment
        help=f"run tests/guarantees in release mode (also: {LONG_ENV}=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, hand out the files holding ``slow`` tests first.

    ``--dist loadfile`` gives each worker whole files in collection order; a file of
    minutes that comes last would leave the other workers idle while it runs.
    """
    if not hasattr(config, "workerinput"):
        return
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: same order otherwise


@pytest.fixture(scope="session")
def long_mode(request: pytest.FixtureRequest) -> bool:
    """Whether the guarantees suite runs in release mode."""
    return bool(request.config.getoption("--long"))


def make_settings(url: str, **extra: object) -> Settings:
    """Settings for a test database, ignoring the developer's environment and .env."""
    return Settings(database_url=url, _env_file=None, **extra)  # type: ignore[call-arg]


def _isolate(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("DATANEXUS_", "EODHD_")) and not key.startswith("DATANEXUS_TEST_"):
            monkeypatch.delenv(key)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's DATANEXUS_*/EODHD_* settings."""
    _isolate(monkeypatch)


def _migrate_isolated(url: str) -> None:
    """``upgrade_db`` for a session fixture (built before any test's isolated environment)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolate(monkeypatch)
        upgrade_db(make_settings(url))


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per session; tests get copies of it.

    Running the migrations costs ~0.3 s a database and hundreds of tests want a migrated
    one; a copy of a file the migrations made is the same file. (The migrations themselves
    are tested from empty databases in tests/storage/test_migrations.py.)
    """
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    _migrate_isolated(f"sqlite:///{path}")
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert leftovers == [], f"the migrated file is not self-contained: {leftovers}"
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite_template: Path) -> str:
    """URL of a fresh SQLite file migrated to head (a copy of the session's template)."""
    path = tmp_path / "test.db"
    shutil.copyfile(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """URL of an SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture(scope="session")
def pg_factory() -> Iterator[DatabaseFactory]:
    """Creates databases on the test PostgreSQL server (started here when not configured)."""
    configured = os.environ.get("DATANEXUS_TEST_POSTGRES_URL")
    if configured:
        yield DatabaseFactory(configured)
        return
    try:
        cluster = ThrowawayCluster().start()
    except ClusterUnavailable as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (DATANEXUS_TEST_REQUIRE_POSTGRES=1): {error}")
        pytest.skip(f"no PostgreSQL for tests: {error}")
    try:
        yield DatabaseFactory(cluster.admin_url)
    finally:
        cluster.stop()


@pytest.fixture
def empty_pg_url(pg_factory: DatabaseFactory) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = pg_factory.create()
    try:
        yield url
    finally:
        pg_factory.drop(url)


@pytest.fixture(scope="session")
def migrated_pg_template(pg_factory: DatabaseFactory) -> Iterator[str]:
    """Name of a PostgreSQL database migrated to head once per session, used as the
    ``TEMPLATE`` of each test's migrated database (a file-level copy on the server)."""
    url = pg_factory.create("dn_template")
    try:
        _migrate_isolated(url)
        yield url.rsplit("/", 1)[1]
    finally:
        pg_factory.drop(url)


@pytest.fixture
def pg_url(pg_factory: DatabaseFactory, migrated_pg_template: str) -> Iterator[str]:
    """URL of a fresh PostgreSQL database migrated to head, dropped after the test."""
    url = pg_factory.create(template=migrated_pg_template)
    try:
        yield url
    finally:
        pg_factory.drop(url)


@pytest.fixture(scope="session")
def timescale_available(pg_factory: DatabaseFactory) -> bool:
    """Whether the test server can create the TimescaleDB extension."""
    return pg_factory.extension_available("timescaledb")


@pytest.fixture
def empty_timescale_url(pg_factory: DatabaseFactory, timescale_available: bool) -> Iterator[str]:
    """A fresh database with the TimescaleDB extension, not migrated; skipped without it."""
    if not timescale_available:
        pytest.skip(TIMESCALE_MISSING)
    url = pg_factory.create("dn_tsdb", extensions=("timescaledb",))
    try:
        yield url
    finally:
        pg_factory.drop(url)


@pytest.fixture
def timescale_url(empty_timescale_url: str) -> str:
    """A fresh TimescaleDB database migrated to head (hypertable and compression set up)."""
    upgrade_db(make_settings(empty_timescale_url))
    return empty_timescale_url


BACKENDS = ["sqlite", "postgresql", "timescaledb"]


@pytest.fixture(params=BACKENDS)
def empty_backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend in turn (TimescaleDB skipped where missing)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'backend.db'}"
    if request.param == "postgresql":
        return str(request.getfixturevalue("empty_pg_url"))
    return str(request.getfixturevalue("empty_timescale_url"))


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend in turn (TimescaleDB skipped where missing)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("timescale_url"))


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Start EODHD emulators on free loopback ports; all are closed after the test."""
    started: list[EmulatorServer] = []

    def start(**config: Any) -> EmulatorServer:
        server = EmulatorServer(EmulatorConfig(**config)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
