"""`import csv` stores only what it can store exactly: exports of other layouts (zipline,
qlib, adjusted or resampled files) and columns it does not read are refused, one line, exit
2, before anything is written; the `files` layout still round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_nexus.query.imports import import_csv
from data_nexus.storage.migrate import upgrade_db
from tests.cli.test_db_cli import run_cli
from tests.cli.test_read_cli import NOW, write_files
from tests.conftest import make_settings

ONLY = "import csv reads only what `datanexus export --format csv --layout files` writes"
KNOWN = (
    "date, open, high, low, close, adjusted_close, volume, dividend, dividend_adjusted, "
    "split, currency, declaration_date, record_date, payment_date, period"
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    write_files(tmp_path / "in")
    path = tmp_path / "w.db"
    upgrade_db(make_settings(f"sqlite:///{path}"))
    assert import_csv(tmp_path / "in", settings=make_settings(f"sqlite:///{path}"), now=NOW)
    return path


@pytest.mark.parametrize(
    ("args", "folder", "what"),
    [
        (["--layout", "qlib"], "x", "layout qlib, adjust all, interval 1d"),
        (["--layout", "zipline"], "x/daily", "layout zipline, adjust none, interval 1d"),
        (["--adjust", "all"], "x", "layout files, adjust all, interval 1d"),
        (["--adjust", "splits"], "x", "layout files, adjust splits, interval 1d"),
    ],
)
def test_an_export_of_another_layout_is_refused(
    warehouse: Path, tmp_path: Path, args: list[str], folder: str, what: str
) -> None:
    done = run_cli("export", "x", "--format", "csv", *args, "-d", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    db = tmp_path / "new.db"
    back = run_cli(
        "import", "csv", str(tmp_path / folder), "--exchange", "US", "-d", str(db), cwd=tmp_path
    )
    manifest = (tmp_path / "x").resolve() / "manifest.json"
    line = f"error: {manifest}: an export with {what}; {ONLY} (adjust none, interval 1d); "
    assert (back.returncode, back.stderr) == (2, line + "nothing imported\n")
    assert not db.exists()


def test_the_files_layout_still_imports(warehouse: Path, tmp_path: Path) -> None:
    done = run_cli("export", "x", "--format", "csv", "-d", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    back = run_cli("import", "csv", "x", "-d", str(tmp_path / "new.db"), cwd=tmp_path)
    assert (back.returncode, back.stderr) == (0, "")
    assert "130 bars new" in back.stdout and "2 actions" in back.stdout


def test_qlib_files_without_their_manifest_are_refused_by_factor(
    warehouse: Path, tmp_path: Path
) -> None:
    done = run_cli(
        "export", "q", "--format", "csv", "--layout", "qlib", "-d", str(warehouse), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "q" / "manifest.json").unlink()
    back = run_cli("import", "csv", "q", "-d", str(tmp_path / "new.db"), cwd=tmp_path)
    line = f"error: AAA.US.csv: unknown column 'factor'; {ONLY} ({KNOWN}); nothing imported\n"
    assert (back.returncode, back.stderr) == (2, line)
    assert not (tmp_path / "new.db").exists()


@pytest.mark.parametrize(
    ("header", "line"),
    [
        ("date,close,Factor", f"BBB.US.csv: unknown column 'Factor'; {ONLY} ({KNOWN})"),
        ("date,close,", f"BBB.US.csv: unknown column ''; {ONLY} ({KNOWN})"),
        ("date,close,adj_close,Adjusted_Close", "BBB.US.csv: column 'adjusted_close' given twice"),
        (
            "date,close,Symbol",
            "BBB.US.csv: symbol column holds '1', not BBB.US (the file name's)",
        ),
    ],
)
def test_a_column_it_would_drop_refuses_the_whole_import(
    tmp_path: Path, header: str, line: str
) -> None:
    """The good file before the bad one is not imported either: nothing is written."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "AAA.US.csv").write_text("date,close\n2024-01-02,10\n")
    cells = ",".join(["2024-01-02", "10", *(["1"] * (header.count(",") - 1))])
    (folder / "BBB.US.csv").write_text(f"{header}\n{cells}\n")
    db = tmp_path / "db.db"
    done = run_cli("import", "csv", str(folder), "-d", str(db), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, f"error: {line}; nothing imported\n")
    assert not db.exists()


def test_a_symbol_column_naming_the_file_is_no_loss(warehouse: Path, tmp_path: Path) -> None:
    """`bars --format csv` output (date,symbol,…) imports back: its symbol column says
    nothing the file name does not."""
    (tmp_path / "b").mkdir()
    done = run_cli("bars", "AAA.US", "-o", "b/aaa.us.csv", "-d", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    back = run_cli("import", "csv", "b", "-d", str(tmp_path / "new.db"), cwd=tmp_path)
    assert (back.returncode, back.stderr) == (0, "")
    assert "65 bars new" in back.stdout
