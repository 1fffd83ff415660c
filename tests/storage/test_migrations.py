"""Migrations: round trips with rows present, models and scripts agree, alembic CLI works."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from data_nexus.models import Asset, Base, MarketData
from data_nexus.storage.engine import open_engine
from data_nexus.storage.migrate import (
    current_revision,
    downgrade_db,
    head_revision,
    history,
    upgrade_db,
)
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


def _insert_rows(url: str) -> None:
    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Asset), [{"symbol": "AAPL.US", "code": "AAPL", "exchange": "US"}]
            )
            conn.execute(
                sa.insert(MarketData),
                [
                    {
                        "time": dt.date(2024, 1, 2),
                        "symbol": "AAPL.US",
                        "open": Decimal("187.15"),
                        "high": Decimal("188.44"),
                        "low": Decimal("183.885"),
                        "close": Decimal("185.64"),
                        "adjusted_close": Decimal("184.2903"),
                        "volume": 82488700,
                    }
                ],
            )
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_round_trip_with_rows_present(empty_backend_url: str) -> None:
    """upgrade → rows → downgrade base → upgrade leaves a working, empty schema at head."""
    settings = make_settings(empty_backend_url)
    assert upgrade_db(settings).after == head_revision()
    _insert_rows(empty_backend_url)
    result = downgrade_db(settings, "base")
    assert result.after is None
    assert _tables(empty_backend_url) <= {"alembic_version"}
    assert upgrade_db(settings).after == head_revision()
    _insert_rows(empty_backend_url)  # the schema works again


def test_upgrade_is_idempotent(backend_url: str) -> None:
    """Upgrading a database already at head changes nothing."""
    result = upgrade_db(make_settings(backend_url))
    assert result.before == result.after == head_revision()


def _diff(url: str) -> list[object]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_models_and_migrations_agree(backend: str, request: pytest.FixtureRequest) -> None:
    """Autogenerate finds no difference between the models and the migrated schema."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    assert _diff(url) == []


def _alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATANEXUS_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_alembic_cli_from_checkout(empty_backend_url: str) -> None:
    """`alembic upgrade head` / `downgrade base` from the checkout use the configured URL."""
    up = _alembic(empty_backend_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    engine = open_engine(empty_backend_url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
    finally:
        engine.dispose()
    down = _alembic(empty_backend_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert _tables(empty_backend_url) <= {"alembic_version"}


def test_migrate_never_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Listing scripts and upgrading use only the caller's settings, not the environment.

    With settings in the environment that would not validate, the library still works:
    it is given its settings, it does not load them behind the caller's back.
    """
    settings = make_settings(f"sqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.setenv("EODHD_RATE_LIMIT", "abc")
    monkeypatch.setenv("DATANEXUS_DATABASE_URL", "mysql://nowhere/none")
    monkeypatch.chdir(tmp_path)  # no .env of the checkout either
    assert head_revision() == history()[-1].revision
    assert upgrade_db(settings).after == head_revision()
