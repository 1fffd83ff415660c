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

from data_nexus.errors import StorageError
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


# --- 0002: exact prices of any size, several actions per ex-date, findings -------------------


def _execute(url: str, *statements: tuple[str, dict[str, object]]) -> None:
    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            for sql, params in statements:
                conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _scalar_texts(url: str, sql: str) -> list[str]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return [str(row[0]) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


_BAR = (
    "INSERT INTO market_data (time, symbol, open, high, low, close, adjusted_close, volume) "
    "VALUES (:t, 'AAPL.US', :p, :p, :p, :p, :p, 1)"
)
_DIVIDEND = (
    "INSERT INTO corporate_actions (symbol, date, action_type, value, seq) "
    "VALUES ('AAPL.US', :d, 'dividend', :v, :s)"
)


def test_0002_round_trip_keeps_values_that_fit(empty_backend_url: str) -> None:
    """0001 rows survive 0002 and back; 0002 holds what 0001 could not."""
    settings = make_settings(empty_backend_url)
    upgrade_db(settings, "0001")
    _insert_rows(empty_backend_url)
    assert upgrade_db(settings, "0002").after == "0002"
    _execute(
        empty_backend_url,
        (_BAR, {"t": "2020-04-20", "p": "-37.63"}),
        (_DIVIDEND, {"d": "2024-05-10", "v": "0.25", "s": 0}),
        (_DIVIDEND, {"d": "2024-05-10", "v": "1.00", "s": 1}),  # a special one too
        (
            "INSERT INTO findings (symbol, date, kind, detail, fingerprint, first_seen, "
            "last_seen) VALUES ('AAPL.US', NULL, 'no_prices', 'x', 'f', :now, :now)",
            {"now": dt.datetime(2026, 11, 29, tzinfo=dt.UTC)},
        ),
    )
    assert sorted(_scalar_texts(empty_backend_url, "SELECT close FROM market_data")) == sorted(
        ["185.64", "-37.63"] if "sqlite" in empty_backend_url else ["185.64000000", "-37.63"]
    )
    _execute(empty_backend_url, ("DELETE FROM corporate_actions WHERE seq > 0", {}))
    assert downgrade_db(settings, "0001").after == "0001"
    assert "findings" not in _tables(empty_backend_url)
    closes = _scalar_texts(empty_backend_url, "SELECT close FROM market_data ORDER BY time")
    assert [Decimal(c) for c in closes] == [Decimal("-37.63"), Decimal("185.64")]
    assert upgrade_db(settings, "0002").after == "0002"


@pytest.mark.parametrize(
    ("price", "what"),
    [
        (Decimal("8.4401E-06"), r"1 bar\(s\) have a price beyond"),
        (Decimal("1E+12"), "price beyond"),
    ],
)
def test_0002_downgrade_refuses_to_round_prices(pg_url: str, price: Decimal, what: str) -> None:
    """A price 0001 would round (or cannot hold) stops the downgrade; nothing changes."""
    _insert_rows(pg_url)
    _execute(pg_url, (_BAR, {"t": "2021-05-10", "p": str(price)}))
    with pytest.raises(StorageError, match=what):
        downgrade_db(make_settings(pg_url), "0001")
    closes = _scalar_texts(pg_url, "SELECT close FROM market_data WHERE time = '2021-05-10'")
    assert [Decimal(c) for c in closes] == [price]
    assert "findings" in _tables(pg_url)


def test_0002_downgrade_refuses_to_drop_a_second_dividend(backend_url: str) -> None:
    _insert_rows(backend_url)
    _execute(
        backend_url,
        (_DIVIDEND, {"d": "2024-05-10", "v": "0.25", "s": 0}),
        (_DIVIDEND, {"d": "2024-05-10", "v": "1", "s": 1}),
    )
    with pytest.raises(StorageError, match="1 corporate action"):
        downgrade_db(make_settings(backend_url), "0001")
    assert len(_scalar_texts(backend_url, "SELECT value FROM corporate_actions")) == 2


# --- 0003: assets.history_from ----------------------------------------------------------------


def _columns(url: str, table: str) -> set[str]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return {c["name"] for c in sa.inspect(conn).get_columns(table)}
    finally:
        engine.dispose()


def test_0003_round_trip_adds_and_drops_history_from_keeping_rows(empty_backend_url: str) -> None:
    """0002 rows get a NULL history_from; the downgrade drops only the column, never a bar.

    (On SQLite a batch-mode copy of ``assets`` would cascade-delete every bar.)
    """
    settings = make_settings(empty_backend_url)
    upgrade_db(settings, "0002")
    _insert_rows(empty_backend_url)
    assert "history_from" not in _columns(empty_backend_url, "assets")
    assert upgrade_db(settings).after == head_revision() == "0003"
    assert _scalar_texts(empty_backend_url, "SELECT history_from FROM assets") == ["None"]
    _execute(empty_backend_url, ("UPDATE assets SET history_from = :d", {"d": dt.date.min}))
    assert _scalar_texts(empty_backend_url, "SELECT history_from FROM assets") == ["0001-01-01"]
    assert downgrade_db(settings, "0002").after == "0002"
    assert "history_from" not in _columns(empty_backend_url, "assets")
    assert _scalar_texts(empty_backend_url, "SELECT symbol FROM market_data") == ["AAPL.US"]
    assert _scalar_texts(empty_backend_url, "SELECT symbol FROM assets") == ["AAPL.US"]
    assert upgrade_db(settings).after == "0003"
    assert _scalar_texts(empty_backend_url, "SELECT history_from FROM assets") == ["None"]
