"""Fixtures for ``datanexus serve``: synced demo databases and a real server on a free port.

The databases are filled by :func:`data_nexus.run_demo` (the built-in emulator, a fixed
clock), once per module; the servers listen on 127.0.0.1 over a real socket.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi, uvicorn) is not installed")

from data_nexus.demo import run_demo
from data_nexus.serve import ServerThread, create_app, open_read_only
from data_nexus.storage.migrate import upgrade_db
from tests.conftest import make_settings
from tests.pgcluster import DatabaseFactory

#: The demo's "today": a Friday, so the last bar is that day.
TODAY = dt.date(2026, 11, 27)
SYMBOLS = 5
YEARS = 2


def fixed_clock() -> dt.datetime:
    """After the US close on :data:`TODAY`."""
    return dt.datetime(TODAY.year, TODAY.month, TODAY.day, 23, tzinfo=dt.UTC)


def fill(url: str) -> None:
    """Sync the demo's synthetic market into ``url``."""
    result = run_demo(database_url=url, symbols=SYMBOLS, years=YEARS, clock=fixed_clock)
    assert result.summary.status == "ok", result.summary.failed


@pytest.fixture(scope="session")
def demo_sqlite_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synced SQLite file, filled once per session; modules get copies of it."""
    path = tmp_path_factory.mktemp("serve-master") / "demo.db"
    fill(f"sqlite:///{path}")
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert leftovers == [], f"the demo file is not self-contained: {leftovers}"
    return path


@pytest.fixture(scope="module")
def demo_sqlite(demo_sqlite_master: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A synced SQLite file of this module's own (a copy: a module may change it)."""
    path = tmp_path_factory.mktemp("serve") / "demo.db"
    shutil.copyfile(demo_sqlite_master, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def demo_pg_master(pg_factory: DatabaseFactory) -> Iterator[str]:
    """Name of a synced PostgreSQL database, filled once per session; the template of
    each module's own copy."""
    url = pg_factory.create("dn_demo")
    try:
        upgrade_db(make_settings(url))
        fill(url)
        yield url.rsplit("/", 1)[1]
    finally:
        pg_factory.drop(url)


@pytest.fixture(scope="module")
def demo_pg(pg_factory: DatabaseFactory, demo_pg_master: str) -> Iterator[str]:
    """A synced PostgreSQL database of this module's own (a server-side copy)."""
    url = pg_factory.create(template=demo_pg_master)
    try:
        yield url
    finally:
        pg_factory.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def demo_url(request: pytest.FixtureRequest) -> str:
    """A synced database of each backend in turn."""
    name = "demo_sqlite" if request.param == "sqlite" else "demo_pg"
    return str(request.getfixturevalue(name))


Serve = Callable[..., ServerThread]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start servers over read-only warehouses on free loopback ports; all stopped after."""
    started: list[ServerThread] = []

    def start(url: str, **options: object) -> ServerThread:
        app = create_app(open_read_only(url), clock=fixed_clock, close=True, **options)  # type: ignore[arg-type]
        server = ServerThread(app).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def module_server(demo_url: str) -> Iterator[ServerThread]:
    """One server per backend, shared by a module's read-only tests."""
    app = create_app(open_read_only(demo_url), clock=fixed_clock, close=True)
    server = ServerThread(app).start()
    try:
        yield server
    finally:
        server.stop()


def tmp_file(tmp_path: Path, name: str) -> str:
    """A URL of an SQLite file under ``tmp_path``."""
    return f"sqlite:///{tmp_path / name}"
