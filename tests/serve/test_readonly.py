"""The served database is read-only by construction, and never upgraded."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from data_nexus.assets import add_assets, list_assets
from data_nexus.errors import ConfigError, DatabaseUnavailable, SchemaOutOfDate
from data_nexus.serve.readonly import PG_READ_ONLY_OPTION, open_read_only, read_only_url
from data_nexus.storage.engine import open_engine, parse_database_url
from data_nexus.storage.migrate import downgrade_db
from tests.conftest import make_settings


def test_sqlite_url_becomes_a_read_only_uri(tmp_path: Path, sqlite_url: str) -> None:
    url = parse_database_url(read_only_url(sqlite_url))
    assert url.query == {"mode": "ro", "uri": "true"}
    assert url.database == f"file:{tmp_path / 'test.db'}"


def test_sqlite_path_with_a_space_opens(tmp_path: Path) -> None:
    """The path is quoted inside the SQLite URI, so a space (or '%') survives."""
    url = f"sqlite:///{tmp_path / 'my data 100%.db'}"
    add_assets(make_settings(url), ["AAPL.US"])
    assert "%20" in (parse_database_url(read_only_url(url)).database or "")
    store = open_read_only(url).store
    try:
        assert [a.symbol for a in list_assets(store)] == ["AAPL.US"]
    finally:
        store.close()


def test_missing_sqlite_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="no such SQLite file"):
        open_read_only(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


def test_memory_database_is_refused() -> None:
    with pytest.raises(ConfigError, match="in-memory"):
        read_only_url("sqlite:///:memory:")


def test_postgres_url_gets_read_only_sessions() -> None:
    url = parse_database_url(read_only_url("postgresql://u:p@h/db?options=-c%20search_path%3Dx"))
    assert url.query["options"] == f"-c search_path=x {PG_READ_ONLY_OPTION}"
    assert url.password == "p"
    plain = parse_database_url(read_only_url("postgresql://u@h/db"))
    assert plain.query["options"] == PG_READ_ONLY_OPTION


def test_sqlite_writes_fail_and_reads_work(sqlite_url: str) -> None:
    add_assets(make_settings(sqlite_url), ["AAPL.US"])
    store = open_read_only(sqlite_url).store
    try:
        assert [a.symbol for a in list_assets(store)] == ["AAPL.US"]
        with pytest.raises(exc.OperationalError, match="readonly"):
            add_assets(store, ["MSFT.US"])
    finally:
        store.close()
    assert [a.symbol for a in list_assets(make_settings(sqlite_url))] == ["AAPL.US"]


@pytest.mark.postgres
def test_postgres_writes_fail_and_reads_work(pg_url: str) -> None:
    add_assets(make_settings(pg_url), ["AAPL.US"])
    store = open_read_only(pg_url).store
    try:
        assert [a.symbol for a in list_assets(store)] == ["AAPL.US"]
        with pytest.raises(exc.InternalError, match="read-only transaction"):
            add_assets(store, ["MSFT.US"])
        assert store.read_bars(["AAPL.US"]) == []  # the autocommit reader path works too
    finally:
        store.close()


def test_schema_not_at_head_is_refused_not_upgraded(sqlite_url: str) -> None:
    downgrade_db(make_settings(sqlite_url), "base")
    with pytest.raises(SchemaOutOfDate, match="datanexus db upgrade"):
        open_read_only(sqlite_url)
    engine = open_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert "assets" not in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


def readme_reader_role_sql() -> list[str]:
    """The read-only role statements of README's "Serve it" section."""
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = text.split("```sql\n", 1)[1].split("```", 1)[0]
    return [s.strip() for s in block.split(";\n") if s.strip()]


@pytest.mark.postgres
def test_readme_reader_role_serves_and_cannot_write(pg_url: str) -> None:
    """The documented role works for serve, and the server refuses its writes."""
    import uuid

    import psycopg

    add_assets(make_settings(pg_url), ["AAPL.US"])
    url = parse_database_url(pg_url)
    role = f"reader_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in readme_reader_role_sql():
            conn.execute(
                statement.replace("datanexus_reader", role).replace(
                    "DATABASE datanexus", f'DATABASE "{url.database}"'
                )
            )
    reader_url = url.set(username=role, password="change-me")
    warehouse = open_read_only(reader_url.render_as_string(hide_password=False))
    try:
        assert [a.symbol for a in list_assets(warehouse.store)] == ["AAPL.US"]
        with pytest.raises(exc.DBAPIError):
            add_assets(warehouse.store, ["MSFT.US"])
    finally:
        warehouse.close()
    engine = open_engine(reader_url.render_as_string(hide_password=False))
    try:
        # Even a client that turns read-only sessions off cannot write with this role.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("SET default_transaction_read_only = off")
            with pytest.raises(exc.ProgrammingError, match="permission denied"):
                conn.exec_driver_sql("DELETE FROM assets")
    finally:
        engine.dispose()
