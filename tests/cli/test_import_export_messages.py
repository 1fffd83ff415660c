"""What ``import csv`` and ``export`` tell the user: every skip names its file, the summary's
counts agree with the lines listed, an export onto a file says it is a file."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert "imported 2 files: 3 bars new" in summary, summary
    assert "skipped 3 files and 7 rows, listed on stderr" in summary
    assert len(lines) == 3 + 7
    # the refused rows are findings, the unreadable ones are not: the summary says which
    assert summary.strip() == (
        "imported 2 files: 3 bars new, 0 changed, 0 unchanged, 0 actions; skipped 3 files "
        "and 7 rows, listed on stderr (3 refused by validation and recorded as findings, 4 "
        "unreadable and not stored); 3 open findings on the imported symbols (datanexus "
        "check lists them)"
    )


def test_import_of_only_unreadable_rows_claims_no_findings(tmp_path: Path) -> None:
    """Rows that do not parse are never stored: the summary does not call them findings."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ABC.US.csv").write_text("date,close\n2024-01-02,10\n2024-01-03,abc\n")
    done = run_cli("import", "csv", str(folder), "-d", str(tmp_path / "db.db"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip() == (
        "imported 1 file: 1 bar new, 0 changed, 0 unchanged, 0 actions; skipped 0 files "
        "and 1 row, listed on stderr (0 refused by validation and recorded as findings, 1 "
        "unreadable and not stored); 0 open findings on the imported symbols (datanexus "
        "check lists them)"
    )
    assert done.stderr == "skipped ABC.US.csv:3: close: 'abc' is not a number\n"


@pytest.mark.parametrize(
    ("exchange", "line"),
    [
        ("", "error: invalid exchange '': expected a code such as US, LSE or XETRA"),
        (" ", "error: invalid exchange ' ': expected a code such as US, LSE or XETRA"),
        ("U.S", "error: invalid exchange 'U.S': expected a code such as US, LSE or XETRA"),
    ],
)
def test_import_refuses_an_invalid_exchange_even_when_files_name_theirs(
    tmp_path: Path, exchange: str, line: str
) -> None:
    """`import csv --exchange ''` is refused before the database is touched."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ABC.US.csv").write_text("date,close\n2024-01-02,10\n")
    db = tmp_path / "db.db"
    done = run_cli(
        "import", "csv", str(folder), "--exchange", exchange, "-d", str(db), cwd=tmp_path
    )
    assert (done.returncode, done.stderr) == (2, line + "\n")
    assert not db.exists()


def test_import_takes_a_lower_case_exchange(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "abc.csv").write_text("date,close\n2024-01-02,10\n")
    db = tmp_path / "db.db"
    done = run_cli("import", "csv", str(folder), "--exchange", " us ", "-d", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = run_cli("bars", "ABC.US", "--format", "csv", "-d", str(db), cwd=tmp_path)
    assert listed.stdout.splitlines()[1].startswith("2024-01-02,ABC.US,")


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
