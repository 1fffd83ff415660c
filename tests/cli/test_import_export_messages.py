"""What ``import csv`` and ``export`` tell the user: every skip names its file, the summary's
counts agree with the lines listed, an export onto a file says it is a file."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_db_cli import run_cli


def test_import_names_every_skipped_file_and_counts_what_it_lists(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "abc.csv").write_text("date,close,volume\n2024-01-02,10,100\n")  # no exchange
    (bad / "EMPTY.US.csv").write_text("")
    (bad / "NONE.US.csv").write_text("date,close\n2024-01-02,x\n")  # no row readable
    (bad / "QQ.US.csv").write_text("date,close\n2024-01-02,5\n2024-01-02,6\n")
    (bad / "XYZ.US.csv").write_text(
        "date,open,close,volume\n"
        "2024-01-02,1,2,100\n"
        "2024-01-03,1,x,100\n"  # does not parse
        "2024-01-04,1,,100\n"  # no_prices (a finding)
        "2099-01-01,1,2,3\n"  # future_bar (a finding)
        "2024-01-05,1,1e20,100\n"  # out_of_range (a finding)
        "2024-01-08,1,2,1.5\n"  # not a whole volume
        "2024-01-09,1,2,3,\n"
    )
    db = tmp_path / "db.db"
    done = run_cli("import", "csv", str(bad), "-d", str(db), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert all(line.startswith("skipped ") for line in lines), lines
    named = [line.removeprefix("skipped ").split(":")[0] for line in lines]
    assert sorted(named) == sorted(
        ["abc.csv", "EMPTY.US.csv", "NONE.US.csv", "NONE.US.csv", "QQ.US.csv", *["XYZ.US.csv"] * 5]
    )
    assert "abc.csv: no exchange in the file name" in done.stderr
    assert "NONE.US.csv: no bar or action to import; file skipped" in done.stderr
    # 3 files (abc, EMPTY, NONE) and 7 rows (NONE's one, QQ's one, XYZ's five): 10 lines
    summary = done.stdout
    assert "imported 2 file(s): 3 bars new" in summary, summary
    assert "skipped 3 file(s) and 7 row(s), listed on stderr" in summary
    assert len(lines) == 3 + 7
    assert "; 3 finding(s) recorded" in summary


def test_export_onto_a_file_says_it_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "none.csv"
    target.write_text("x\n")
    db = tmp_path / "db.db"
    done = run_cli("export", str(target), "-d", str(db), cwd=tmp_path)
    assert done.returncode == 2
    assert "is a file, not a directory" in done.stderr and "not empty" not in done.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x\n")
    full = run_cli("export", str(tmp_path / "full"), "-d", str(db), cwd=tmp_path)
    assert full.returncode == 2 and "exists and is not empty" in full.stderr
