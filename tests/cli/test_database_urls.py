"""`-d` / DATANEXUS_DATABASE_URL edge cases: the same one line and exit 2 from every command.

Each broken URL is refused before anything is opened, so the write commands (`db upgrade`,
`sync`) and the read commands (`status`, `assets list`, `bars`) say the same thing, and
nothing appears on disk (no database file, no ``-wal``/``-shm``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from data_nexus.cli.errors import ExitCode
from tests.cli.test_db_cli import run_cli

COMMANDS = [
    ("db", "upgrade"),
    ("sync", "--dry-run"),
    ("status",),
    ("bars", "AAPL.US"),
]

EXAMPLES = "e.g. 'sqlite:///data_nexus.db' or 'postgresql://user@host:5432/dbname'"


def _cases(tmp: Path) -> dict[str, tuple[str, str]]:
    """name -> (URL, the exact error line)."""
    return {
        "empty-sqlite-name": (
            "sqlite:///",
            "error: invalid database URL 'sqlite:///': no file name after 'sqlite:///' "
            "(e.g. sqlite:///data_nexus.db)",
        ),
        "directory": (
            str(tmp),
            f"error: invalid database URL 'sqlite:///{tmp}': '{tmp}' is a directory, not an "
            f"SQLite file (e.g. '{tmp / 'data_nexus.db'}')",
        ),
        "missing-slashes": (
            "sqlite:/x.db",
            f"error: invalid database URL 'sqlite:/x.db': no '//' after the scheme; {EXAMPLES}",
        ),
        "unknown-driver": (
            "postgresql+asyncpg://bob:hunter2secret@h/db",
            "error: unsupported database driver 'asyncpg' in "
            "'postgresql+asyncpg://bob:***@h/db': Data Nexus connects through "
            "postgresql+psycopg://…",
        ),
        "unknown-sqlite-driver": (
            "sqlite+foo:///x.db",
            "error: unsupported database driver 'foo' in 'sqlite+foo:///x.db': "
            "Data Nexus connects through sqlite:///…",
        ),
        "unknown-backend": (
            "mysql://bob:hunter2secret@h/db",
            "error: unsupported database 'mysql' in 'mysql://bob:***@h/db': Data Nexus works "
            "with sqlite and postgresql (TimescaleDB is postgresql)",
        ),
    }


@pytest.mark.parametrize("case", list(_cases(Path("/x"))))
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_broken_url_is_one_line_exit_2_and_creates_nothing(
    tmp_path: Path, case: str, command: tuple[str, ...]
) -> None:
    """The same line from every command, write side and read side."""
    work = tmp_path / "work"
    work.mkdir()
    url, line = _cases(work)[case]
    out = run_cli(*command, "-d", url, cwd=work)
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip().splitlines() == [line]
    assert out.returncode == ExitCode.USAGE == 2
    assert "hunter2secret" not in out.stdout + out.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["work"]


def test_the_environment_variable_gets_the_same_line(tmp_path: Path) -> None:
    """DATANEXUS_DATABASE_URL=sqlite:/// is refused exactly as -d sqlite:/// is."""
    url, line = _cases(tmp_path)["empty-sqlite-name"]
    out = run_cli("assets", "list", cwd=tmp_path, env={"DATANEXUS_DATABASE_URL": url})
    assert (out.returncode, out.stderr.strip().splitlines()) == (2, [line])
    assert list(tmp_path.iterdir()) == []
