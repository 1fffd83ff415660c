"""`datanexus db …` as a user runs it: output, exit codes, one-line errors, no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_nexus.storage.engine import open_engine
from data_nexus.storage.info import timescale_note
from data_nexus.storage.migrate import head_revision


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "data_nexus", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_upgrade_downgrade_upgrade_default_sqlite(tmp_path: Path) -> None:
    """With no configuration, db commands use ./data_nexus.db."""
    up = run_cli("db", "upgrade", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert f"-> {head_revision()}" in up.stdout
    assert (tmp_path / "data_nexus.db").exists()
    assert run_cli("db", "downgrade", "base", "--yes", cwd=tmp_path).returncode == 0
    current = run_cli("db", "current", cwd=tmp_path)
    assert current.stdout.startswith("empty")
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    current = run_cli("db", "current", cwd=tmp_path)
    assert current.stdout.strip() == f"{head_revision()} (head)"


def test_info_json(tmp_path: Path) -> None:
    """`db info --json` describes backend, revision and tables."""
    db = tmp_path / "x.db"
    assert run_cli("db", "upgrade", "--database-url", str(db), cwd=tmp_path).returncode == 0
    out = run_cli("db", "info", "--json", "-d", str(db), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["backend"] == "sqlite"
    assert info["revision"] == head_revision()
    assert info["up_to_date"] is True
    assert {t["name"] for t in info["tables"]} >= {"assets", "market_data", "corporate_actions"}


def test_info_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """`db info` works on PostgreSQL and shows the revision."""
    out = run_cli("db", "info", "-d", pg_url, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "backend    postgresql" in out.stdout
    assert f"schema     {head_revision()} (up to date)" in out.stdout
    engine = open_engine(pg_url)
    try:
        with engine.connect() as conn:
            offered = conn.execute(
                sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
            ).first()
            enabled = conn.execute(
                sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
            ).first()
    finally:
        engine.dispose()
    if enabled is None:  # the throwaway test cluster: plain PostgreSQL
        expected = "not available on this server" if offered is None else "available on this server"
        (line,) = [x for x in out.stdout.splitlines() if x.startswith("timescale  ")]
        assert expected in line
        info = json.loads(run_cli("db", "info", "--json", "-d", pg_url, cwd=tmp_path).stdout)
        assert expected in info["timescaledb_note"]


@pytest.mark.parametrize(
    ("postgres", "enabled", "available", "schema", "expected"),
    [
        (False, None, None, True, None),  # SQLite: nothing to say
        (True, "2.17.2", "2.17.2", True, None),  # enabled: the backend line says it
        (True, None, None, True, "TimescaleDB is not available on this server"),
        (
            True, None, "2.17.2", False,
            "TimescaleDB 2.17.2 is available on this server but not enabled in this database: "
            "run CREATE EXTENSION IF NOT EXISTS timescaledb; as the database owner, then run "
            "datanexus db upgrade",
        ),
        (True, None, "2.17.2", True, "then convert market_data as docs/operations.md shows"),
    ],
)  # fmt: skip
def test_timescale_note(
    *, postgres: bool, enabled: str | None, available: str | None, schema: bool,
    expected: str | None,
) -> None:  # fmt: skip
    """Available on the server but not enabled: the CREATE EXTENSION hint; else why not."""
    note = timescale_note(
        postgres=postgres, enabled=enabled, available=available, schema_exists=schema
    )
    if expected is None:
        assert note is None
    else:
        assert note is not None and expected in note and "\n" not in note


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://bob:hunter2secret@127.0.0.1:1/db",
            "error: cannot open database postgresql://bob:***@127.0.0.1:1/db",
        ),
        (
            "mysql://bob:hunter2secret@h/db",
            "error: unsupported database 'mysql' in 'mysql://bob:***@h/db'",
        ),
        (
            "postgresql://bob:hunter2secret@h:port/db",
            "error: invalid database URL 'postgresql://bob:***@h:port/db'",
        ),
        (
            "sqlite:////nonexistent-dir/x.db",
            "error: cannot create SQLite database '/nonexistent-dir/x.db'",
        ),
    ],
)
def test_bad_database_urls_give_one_line_and_exit_2(
    url: str, expected: str, tmp_path: Path
) -> None:
    """Broken URLs: one line on stderr saying what, exit 2, no traceback, no password."""
    out = run_cli("db", "upgrade", "--database-url", url, cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(expected), lines[0]
    assert "hunter2secret" not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_password_from_environment_never_printed(tmp_path: Path) -> None:
    """The URL may come from the environment; the password still never shows."""
    out = run_cli(
        "db", "info", cwd=tmp_path,
        env={"DATANEXUS_DATABASE_URL": "postgresql://bob:hunter2secret@127.0.0.1:1/db"},
    )  # fmt: skip
    assert out.returncode == 2
    assert "hunter2secret" not in out.stderr + out.stdout


def test_wrong_revision(tmp_path: Path) -> None:
    """An unknown revision is a one-line usage error pointing at `db history`."""
    out = run_cli("db", "upgrade", "nope", "-d", str(tmp_path / "x.db"), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "error: cannot upgrade to 'nope': Can't locate revision identified by 'nope'; "
        "see 'datanexus db history'"
    )


def test_schema_not_at_head_on_postgres(empty_pg_url: str, tmp_path: Path) -> None:
    """A non-SQLite database without the schema: one line telling to run db upgrade."""
    from data_nexus.errors import SchemaOutOfDate
    from data_nexus.storage.engine import open_engine
    from data_nexus.storage.migrate import ensure_schema
    from tests.conftest import make_settings

    engine = open_engine(empty_pg_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="run 'datanexus db upgrade'"):
            ensure_schema(engine, make_settings(empty_pg_url))
    finally:
        engine.dispose()


def test_sqlite_is_created_and_upgraded_on_first_use(tmp_path: Path) -> None:
    """The embedded SQLite database needs no `db upgrade`."""
    from data_nexus.storage.engine import open_engine
    from data_nexus.storage.migrate import current_revision, ensure_schema
    from tests.conftest import make_settings

    url = f"sqlite:///{tmp_path / 'auto.db'}"
    engine = open_engine(url)
    try:
        ensure_schema(engine, make_settings(url))
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
    finally:
        engine.dispose()


def test_every_read_command_says_the_same_line_about_an_old_schema(tmp_path: Path) -> None:
    """bars, status, check and runs meet a database one revision behind with one and the
    same line (they used to word it two ways)."""
    db = tmp_path / "old.db"
    assert run_cli("db", "upgrade", "-d", str(db), cwd=tmp_path).returncode == 0
    previous = f"{int(head_revision()) - 1:04d}"
    down = run_cli("db", "downgrade", previous, "--yes", "-d", str(db), cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    line = (
        f"error: database sqlite:///{db} is at schema revision {previous}, this version needs "
        f"{head_revision()}: run 'datanexus db upgrade'\n"
    )
    for argv in (["bars", "AAPL.US"], ["status"], ["check"], ["runs"]):
        out = run_cli(*argv, "-d", str(db), cwd=tmp_path)
        assert (out.returncode, out.stderr) == (2, line), argv
