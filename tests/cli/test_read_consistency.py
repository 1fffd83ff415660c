"""Read commands follow one rule set: unknown symbols, date ranges, unset values, -d."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_db_cli import run_cli
from tests.cli.test_read_cli import warehouse  # noqa: F401 - the fixture


def test_actions_refuses_unknown_symbols_and_takes_a_range(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    db = ["-d", str(warehouse)]
    for command in ("bars", "actions"):
        result = run_cli(command, "NOPE.US", *db, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "NOPE.US" in result.stderr and result.stdout == ""
    both = ["actions", "AAA.US", "BBB.US", "--format", "csv", *db]
    assert len(run_cli(*both, cwd=tmp_path).stdout.splitlines()) == 3  # header, split, dividend
    after = run_cli(*both, "--from", "2024-02-20", "--to", "2024-03-29", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert [r.split(",")[:3] for r in after.stdout.splitlines()[1:]] == [
        ["AAA.US", "2024-02-26", "split"]
    ]


def test_status_table_shows_dash_for_unset_values(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    table = run_cli("status", "-d", str(warehouse), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "NaT" not in table.stdout and "NaN" not in table.stdout and "None" not in table.stdout
    assert " - " in table.stdout or table.stdout.rstrip().endswith("-")
    as_json = run_cli("status", "--json", "-d", str(warehouse), cwd=tmp_path)
    assert '": null' in as_json.stdout  # JSON keeps null


def test_db_history_accepts_database_url_and_downgrade_help_says_it_refuses(
    tmp_path: Path,
) -> None:
    plain = run_cli("db", "history", cwd=tmp_path)
    with_db = run_cli("db", "history", "-d", str(tmp_path / "x.db"), cwd=tmp_path)
    assert with_db.returncode == 0, with_db.stderr
    assert with_db.stdout == plain.stdout and with_db.stdout
    assert not (tmp_path / "x.db").exists()
    help_text = " ".join(run_cli("db", "downgrade", "--help", cwd=tmp_path).stdout.split())
    assert "refused" in help_text and "cannot hold the stored data" in help_text
