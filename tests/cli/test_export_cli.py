"""`datanexus export` as a user runs it: symbol lists, a date range, layouts that are what
their names promise, and Ctrl-C (a real SIGINT to a real subprocess)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from data_nexus.query.imports import import_csv
from data_nexus.storage.migrate import upgrade_db
from tests.cli.test_db_cli import run_cli
from tests.cli.test_read_cli import NOW, write_files
from tests.conftest import make_settings


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    write_files(tmp_path / "in")
    path = tmp_path / "w.db"
    upgrade_db(make_settings(f"sqlite:///{path}"))
    assert import_csv(tmp_path / "in", settings=make_settings(f"sqlite:///{path}"), now=NOW)
    return path


def test_symbols_take_commas_or_repeats(warehouse: Path, tmp_path: Path) -> None:
    db = ["-d", str(warehouse)]
    comma = run_cli(
        "export", "a", "--symbols", "AAA.US,bbb.us", "--format", "csv", *db, cwd=tmp_path
    )
    assert comma.returncode == 0, comma.stderr
    repeated = run_cli(
        "export",
        "b",
        "--symbols",
        "AAA.US",
        "--symbols",
        "BBB.US",
        "--format",
        "csv",
        *db,
        cwd=tmp_path,
    )
    assert repeated.returncode == 0, repeated.stderr
    names = sorted(p.name for p in (tmp_path / "a").glob("*.csv"))
    assert (
        names
        == ["AAA.US.csv", "BBB.US.csv"]
        == sorted(p.name for p in (tmp_path / "b").glob("*.csv"))
    )
    for symbols, line in (
        ("AAA.US,", "error: invalid symbol list 'AAA.US,': an empty name between commas\n"),
        ("", "error: invalid symbol '': expected CODE.EXCHANGE, e.g. 'AAPL.US'\n"),
        ("NOPE.US", None),
    ):
        bad = run_cli("export", "c", "--symbols", symbols, *db, cwd=tmp_path)
        assert bad.returncode == 2, bad.stderr
        if line is not None:
            assert bad.stderr == line
        assert not (tmp_path / "c").exists()


def test_from_and_to_limit_the_bars_and_actions(warehouse: Path, tmp_path: Path) -> None:
    """--from/--to as for bars: only that range's bars and actions, in the manifest too."""
    db = ["-d", str(warehouse)]
    span = ["--from", "2024-02-01", "--to", "2024-02-29"]
    done = run_cli("export", "out", "--format", "csv", *span, *db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    aaa = pd.read_csv(tmp_path / "out" / "AAA.US.csv")
    assert (aaa["date"].min(), aaa["date"].max(), len(aaa)) == ("2024-02-01", "2024-02-29", 21)
    assert aaa["split"].dropna().tolist() == ["2/1"]  # 2024-02-26, in the range
    bbb = pd.read_csv(tmp_path / "out" / "BBB.US.csv")
    assert bbb["dividend"].dropna().tolist() == [0.5]  # 2024-02-12
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (manifest["start"], manifest["end"], manifest["rows"]) == (
        "2024-02-01",
        "2024-02-29",
        42,
    )
    early = run_cli("export", "early", "--format", "csv", "--to", "2024-01-31", *db, cwd=tmp_path)
    assert early.returncode == 0, early.stderr
    assert pd.read_csv(tmp_path / "early" / "AAA.US.csv")["split"].isna().all()
    parquet = run_cli("export", "pq", *span, *db, cwd=tmp_path)
    assert parquet.returncode == 0, parquet.stderr
    actions = pd.read_parquet(tmp_path / "pq" / "actions.parquet")
    assert sorted(actions["date"].astype(str)) == ["2024-02-12", "2024-02-26"]
    for args, line in (
        (
            ["--from", "2024-02-30"],
            "error: invalid start date '2024-02-30': not a real date "
            "(the month has no such day, or there is no such month)\n",
        ),
        (
            ["--from", "2024-03-01", "--to", "2024-02-01"],
            "error: start date 2024-03-01 is after end date 2024-02-01\n",
        ),
    ):
        bad = run_cli("export", "bad", *args, *db, cwd=tmp_path)
        assert (bad.returncode, bad.stderr) == (2, line)
        assert not (tmp_path / "bad").exists()


def test_layouts_are_what_their_names_say(warehouse: Path, tmp_path: Path) -> None:
    """hive is a partitioned Parquet dataset (DuckDB and pandas read it by partition);
    files is one CSV per symbol; a CSV hive layout is not offered; any case works."""
    db = ["-d", str(warehouse)]
    hive = run_cli("export", "h", "--layout", "HIVE", "--format", "Parquet", *db, cwd=tmp_path)
    assert hive.returncode == 0, hive.stderr
    assert sorted(p.name for p in (tmp_path / "h" / "bars").iterdir()) == [
        "symbol=AAA.US",
        "symbol=BBB.US",
    ]
    glob = str(tmp_path / "h" / "bars" / "**" / "*.parquet")
    rows = duckdb.sql(
        f"SELECT symbol, count(*) FROM read_parquet('{glob}', hive_partitioning=1) "
        "GROUP BY symbol ORDER BY symbol"
    ).fetchall()
    assert rows == [("AAA.US", 65), ("BBB.US", 65)]
    frame = pd.read_parquet(tmp_path / "h" / "bars")
    assert sorted(frame["symbol"].astype(str).unique()) == ["AAA.US", "BBB.US"]
    files = run_cli("export", "f", "--format", "csv", *db, cwd=tmp_path)
    assert files.returncode == 0 and "(csv, files, adjust=none" in files.stdout
    assert json.loads((tmp_path / "f" / "manifest.json").read_text())["layout"] == "files"
    for args, line in (
        (
            ["--format", "csv", "--layout", "hive"],
            "error: the hive layout is Parquet "
            "(DIR/bars/symbol=…): use --format parquet, or --layout files for one CSV file per "
            "symbol\n",
        ),
        (["--layout", "files"], "error: the files layout is CSV: use --format csv\n"),
        (
            ["--layout", "flat"],
            "error: unknown layout 'flat': use one of hive, files, zipline, qlib\n",
        ),
        (
            ["--adjust", "ALLX"],
            "error: unknown adjust mode 'ALLX': use one of none, splits, all, provider\n",
        ),
    ):
        bad = run_cli("export", "bad", *args, *db, cwd=tmp_path)
        assert (bad.returncode, bad.stderr) == (2, line)


def _big_warehouse(tmp_path: Path, symbols: int = 300) -> Path:
    folder = tmp_path / "big"
    folder.mkdir()
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2022-01-01"))
    head = "date,open,high,low,close,adjusted_close,volume\n"
    for k in range(symbols):
        body = "".join(
            f"{d},10.5,11.25,9.75,10.{i % 100:02d},10.1,{1000 + i}\n" for i, d in enumerate(days)
        )
        (folder / f"S{k:03d}.US.csv").write_text(head + body)
    path = tmp_path / "big.db"
    settings = make_settings(f"sqlite:///{path}")
    upgrade_db(settings)
    assert import_csv(folder, settings=settings, now=NOW).problems == []
    return path


def test_sigint_interrupts_the_export_and_removes_its_output(tmp_path: Path) -> None:
    """Ctrl-C mid-export: one line saying what is left, exit 130, no partial directory."""
    db = _big_warehouse(tmp_path)
    target = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "data_nexus",
            "export",
            str(target),
            "--format",
            "csv",
            "-d",
            str(db),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (target.is_dir() and any(target.glob("*.csv"))):  # the first batch is written
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the export did not start writing"
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert err == f"interrupted; the partial export was removed ({target} is as before)\n"
    assert out == ""
    assert not target.exists()


def test_a_lost_interrupt_still_stops_the_export(warehouse: Path, tmp_path: Path) -> None:
    """The library polls ``cancelled`` after each batch and before returning: an interrupt
    whose KeyboardInterrupt was swallowed still ends the export, with its files removed."""
    from data_nexus.query.exports import export_data

    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) >= 2  # after the first batch of one symbol

    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(KeyboardInterrupt):
        export_data(
            existing,
            fmt="csv",
            batch=1,
            url=f"sqlite:///{warehouse}",
            now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            cancelled=cancelled,
        )
    assert existing.is_dir() and not any(existing.iterdir())  # emptied, not removed
    with pytest.raises(KeyboardInterrupt):
        export_data(
            tmp_path / "late",
            url=f"sqlite:///{warehouse}",
            now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            cancelled=(tmp_path / "late" / "manifest.json").exists,
        )
    assert not (tmp_path / "late").exists()


def test_an_empty_symbol_list_is_refused_not_taken_for_all(warehouse: Path, tmp_path: Path) -> None:
    """``symbols=[]`` (e.g. an empty list from a pipeline) is not "every asset"."""
    from data_nexus.errors import UsageError
    from data_nexus.query.exports import export_data

    with pytest.raises(UsageError, match="no symbols given"):
        export_data(
            tmp_path / "none",
            symbols=[],
            url=f"sqlite:///{warehouse}",
            now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        )
    assert not (tmp_path / "none").exists()


@pytest.mark.xfail(
    reason="open: in full parallel suite runs (pytest-xdist, loaded machine) the SIGINT sent to "
    "the import subprocess was ignored (it ran to the end, exit 0) in three runs; run alone, in "
    "the foreground or as a background job, with or without -n 2, it passes; cause not found",
    strict=False,
)
def test_sigint_during_an_import_keeps_whole_files_and_says_so(tmp_path: Path) -> None:
    """Ctrl-C mid-import: one line, exit 130; every symbol is whole or absent, and the same
    command again imports the rest."""
    import sqlite3

    _big_warehouse(tmp_path)  # writes tmp_path / "big" (and a database we do not use)
    # Five times the files, so that the import cannot finish between the first commit the
    # loop below sees and the signal, however late a loaded machine lets it look.
    big = tmp_path / "big"
    for k in range(300, 1500):
        shutil.copyfile(big / f"S{k % 300:03d}.US.csv", big / f"T{k:04d}.US.csv")
    db = tmp_path / "fresh.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    argv = [sys.executable, "-m", "data_nexus", "import", "csv", str(tmp_path / "big")]
    proc = subprocess.Popen(
        [*argv, "-d", str(db)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def bars_per_symbol() -> dict[str, int]:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05) as conn:
                rows = conn.execute("SELECT symbol, count(*) FROM market_data GROUP BY symbol")
                return dict(rows.fetchall())
        except sqlite3.Error:  # not created or locked yet
            return {}

    deadline = time.monotonic() + 120
    while not bars_per_symbol():  # the first batch is committed
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the import did not start writing"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert err == (
        "interrupted; the files imported so far stay imported, each whole or not at all: "
        "run the same command again to finish\n"
    )
    kept = bars_per_symbol()
    assert 0 < len(kept) < 1500 and set(kept.values()) == {731}
    again = run_cli("import", "csv", str(tmp_path / "big"), "-d", str(db), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(bars_per_symbol()) == 1500
