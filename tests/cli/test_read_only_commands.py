"""Read commands open SQLite read-only: nothing written, nothing created, no upgrade."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_db_cli import run_cli
from tests.cli.test_read_cli import warehouse  # noqa: F401 - the fixture

READ_ONLY = (
    ["check"],
    ["db", "info"],
    ["db", "current"],
    ["assets", "list"],
    ["status"],
    ["bars", "AAA.US"],
)


def test_read_commands_never_write_the_file(warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    """A copy in rollback-journal mode stays byte for byte the same: the old code switched
    it to WAL (a header write) on connect, which fails on a read-only copy."""
    copy = tmp_path / "ro" / "copy.db"
    copy.parent.mkdir()
    shutil.copy(warehouse, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    before = copy.read_bytes()
    for args in READ_ONLY:
        result = run_cli(*args, "-d", str(copy), cwd=tmp_path)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert copy.read_bytes() == before, args
        assert sorted(p.name for p in copy.parent.iterdir()) == ["copy.db"], args


@pytest.mark.parametrize(
    "args",
    [
        *READ_ONLY,
        ["runs"],
        ["actions", "AAA.US"],
        ["assets", "pause", "AAA.US"],
        ["assets", "resume", "AAA.US"],
        ["assets", "remove", "AAA.US", "--yes"],
        ["db", "downgrade", "base", "--yes"],
    ],
)
def test_a_missing_file_is_one_line_and_nothing_is_created(args: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = run_cli(*args, "-d", str(missing), cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no such database file: "), lines
    assert "nope.db" in lines[0]
    assert not missing.exists()
