"""Read commands leave nothing beside an SQLite database a writer has used.

Writers run in WAL mode; a read-only reader of a WAL file must create ``-wal``/``-shm`` and
cannot remove them. The last writer to close therefore leaves the file in rollback-journal
mode, and read commands (opened ``mode=ro``) create nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from data_nexus.storage.store import Store
from tests.cli.test_db_cli import run_cli


def _journal_mode(db: Path) -> str:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


def test_read_commands_after_a_write_create_no_files(tmp_path: Path) -> None:
    assert run_cli("assets", "add", "AAPL.US", cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data_nexus.db"]
    for args in (["status"], ["assets", "list"], ["runs"], ["bars", "AAPL.US"], ["check"]):
        out = run_cli(*args, cwd=tmp_path)
        assert out.returncode == 0, (args, out.stderr)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data_nexus.db"], args


def test_a_writer_runs_in_wal_and_the_last_one_leaves_rollback_mode(tmp_path: Path) -> None:
    """While two stores are open the file stays in WAL (the first close cannot switch it);
    the last close switches it back and the -wal/-shm files go."""
    db = tmp_path / "w.db"
    first = Store.open(f"sqlite:///{db}")
    second = Store.open(f"sqlite:///{db}")
    with first.connection() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert _journal_mode(db) == "wal"
    first.close()
    assert _journal_mode(db) == "wal"
    second.close()
    assert _journal_mode(db) == "delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.db"]
