"""`datanexus bars | actions | status | runs | export | import csv` as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from data_nexus.query.imports import import_csv
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import Store
from tests.cli.test_db_cli import run_cli
from tests.conftest import make_settings

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def write_files(folder: Path) -> None:
    folder.mkdir()
    days = pd.bdate_range("2024-01-01", "2024-03-29")
    for code, base in (("AAA.US", 10.0), ("BBB.US", 50.0)):
        lines = ["date,open,high,low,close,adjusted_close,volume,split,dividend"]
        for i, day in enumerate(days):
            close = base + i * 0.01
            split = "2/1" if code == "AAA.US" and i == 40 else ""
            dividend = "0.5" if code == "BBB.US" and i == 30 else ""
            lines.append(
                f"{day:%Y-%m-%d},{close:.2f},{close + 1:.2f},{close - 1:.2f},{close:.2f},"
                f"{close:.2f},{1000 + i},{split},{dividend}"
            )
        (folder / f"{code}.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    write_files(tmp_path / "in")
    path = tmp_path / "w.db"
    upgrade_db(make_settings(f"sqlite:///{path}"))
    result = import_csv(tmp_path / "in", settings=make_settings(f"sqlite:///{path}"), now=NOW)
    assert result.problems == []
    return path


def test_bars_in_every_format(warehouse: Path, tmp_path: Path) -> None:
    db = ["-d", str(warehouse)]
    table = run_cli("bars", "AAA.US", "bbb.us", "--from", "2024-03-01", *db, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.split()[:3] == ["date", "symbol", "open"]
    as_csv = run_cli("bars", "AAA.US", "--format", "csv", "--adjust", "splits", *db, cwd=tmp_path)
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "date,symbol,open,high,low,close,adjusted_close,volume"
    assert lines[1].startswith("2024-01-01,AAA.US,5.0,")  # halved by the 2/1 split
    weekly = run_cli("bars", "AAA.US", "--interval", "1w", "--format", "json", *db, cwd=tmp_path)
    records = json.loads(weekly.stdout)["bars"]
    assert len(records) == 13 and records[0]["date"] == "2024-01-05"
    out = tmp_path / "b.parquet"
    parquet = run_cli("bars", "BBB.US", "--format", "parquet", "-o", str(out), *db, cwd=tmp_path)
    assert parquet.returncode == 0, parquet.stderr
    assert len(pd.read_parquet(out)) == 65


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["bars", "NOPE.US"], "error: unknown symbol(s) NOPE.US: not in this warehouse"),
        (["bars", "AAA.US", "--adjust", "dividends"], "error: unknown adjust mode 'dividends'"),
        (["bars", "AAA.US", "--interval", "5m"], "error: unknown interval '5m'"),
        (["bars", "AAA.US", "--from", "2024-02-30"], "error: invalid start date '2024-02-30'"),
        (["bars", "AAA.US", "--format", "parquet"], "error: --format parquet needs -o FILE"),
        (["bars", "AAA"], "error: invalid symbol 'AAA': expected CODE.EXCHANGE"),
        (["export", "x", "--layout", "zipline"], "error: the zipline layout is CSV"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    warehouse: Path, tmp_path: Path, args: list[str], line: str
) -> None:
    result = run_cli(*args, "-d", str(warehouse), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(line), result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_symbols_say_where_to_look(warehouse: Path, tmp_path: Path) -> None:
    """The library's UnknownSymbols, with the CLI's hint added in cli/errors.py, exit 2."""
    for args in (["bars", "NOPE.US"], ["actions", "AAA.US", "NOPE.US"]):
        result = run_cli(*args, "-d", str(warehouse), cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr == (
            "error: unknown symbol(s) NOPE.US: not in this warehouse; see 'datanexus assets "
            "list' (add one with 'datanexus assets add')\n"
        )


def test_actions_status_runs(warehouse: Path, tmp_path: Path) -> None:
    db = ["-d", str(warehouse)]
    actions = run_cli("actions", "AAA.US", "BBB.US", "--format", "csv", *db, cwd=tmp_path)
    rows = actions.stdout.splitlines()
    assert (
        rows[1].startswith("AAA.US,2024-02-26,split,2.0")
        and "BBB.US,2024-02-12,dividend" in rows[2]
    )
    status = run_cli("status", "--json", *db, cwd=tmp_path)
    assets = json.loads(status.stdout)
    assert [(a["symbol"], a["rows"], a["first_date"]) for a in assets] == [
        ("AAA.US", 65, "2024-01-01"),
        ("BBB.US", 65, "2024-01-01"),
    ]
    assert {a["state"] for a in assets} == {"stale"}  # last bar in March 2024
    assert run_cli("status", "--failing", *db, cwd=tmp_path).stdout.strip() == "(no rows)"
    runs = run_cli("runs", "--json", *db, cwd=tmp_path)
    assert runs.returncode == 0 and json.loads(runs.stdout) == []


def test_read_commands_work_on_a_read_only_copy(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ro" / "copy.db"
    copy.parent.mkdir()
    shutil.copy(warehouse, copy)
    copy.chmod(stat.S_IRUSR)
    before = copy.read_bytes()
    for args in (["bars", "AAA.US"], ["status"], ["runs"], ["actions", "AAA.US"]):
        result = run_cli(*args, "-d", str(copy), cwd=tmp_path)
        assert result.returncode == 0, (args, result.stderr)
    assert copy.read_bytes() == before


def test_export_then_import_through_the_cli(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    exported = run_cli("export", str(out), "--format", "csv", "-d", str(warehouse), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "exported 2 symbols, 130 bars" in exported.stdout
    target = tmp_path / "new.db"
    imported = run_cli("import", "csv", str(out), "-d", str(target), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    with Store.open(f"sqlite:///{warehouse}") as a, Store.open(f"sqlite:///{target}") as b:
        names = ["AAA.US", "BBB.US"]
        assert a.read_bars(names) == b.read_bars(names)
        assert a.read_actions(names) == b.read_actions(names)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ccc.us.csv").write_text("date,close\n2024-01-02,1\n2024-01-03,abc\n")
    partial = run_cli("import", "csv", str(bad), "-d", str(target), cwd=tmp_path)
    assert partial.returncode == 1
    assert partial.stderr.startswith("skipped ccc.us.csv:3: ")


def test_every_new_command_has_help(tmp_path: Path) -> None:
    for args in (["bars"], ["actions"], ["status"], ["runs"], ["export"], ["import", "csv"]):
        result = run_cli(*args, "--help", cwd=tmp_path)
        assert result.returncode == 0 and len(result.stdout) > 100, args


def test_import_skips_bad_files_with_exit_1_and_refuses_an_unusable_folder(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "GOOD.csv").write_text("date,close\n2024-01-02,10\n2024-01-03,\n")
    (folder / "A;DROP.US.csv").write_text("date,close\n2024-01-02,10\n")
    (folder / "LATIN.csv").write_bytes("date,close\n2024-01-02,caf\xe9\n".encode("latin-1"))
    db = tmp_path / "db.db"
    done = run_cli("import", "csv", str(folder), "--exchange", "US", "-d", str(db), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert any(line.startswith("skipped A;DROP.US.csv: ") for line in lines)
    assert any(line.startswith("skipped LATIN.csv: not UTF-8") for line in lines)
    assert any(line.startswith("skipped GOOD.csv:3: no_prices") for line in lines)
    assert "imported 1 file: 1 bar new" in done.stdout
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "LATIN.US.csv").write_bytes("date,close\n2024-01-02,caf\xe9\n".encode("latin-1"))
    fresh = tmp_path / "fresh.db"
    refused = run_cli("import", "csv", str(bad), "-d", str(fresh), cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "LATIN.US.csv: not UTF-8" in refused.stderr and not fresh.exists()


def test_readme_reading_example_uses_what_the_demo_holds() -> None:
    """The "Reading data" example names the demo's database and only symbols it syncs."""
    import inspect
    import re

    from data_nexus.demo import DEMO_DATABASE_URL, run_demo
    from data_nexus.emulator import EmulatorConfig, EmulatorServer

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Reading data", 1)[1].split("\n## ", 1)[0]
    example = section.split("```python", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\b[A-Z][A-Z0-9-]*\.US\b", example))
    defaults = inspect.signature(run_demo).parameters
    config = EmulatorConfig(
        seed=defaults["seed"].default,
        symbols=defaults["symbols"].default,
        exchanges=("US",),
        start=dt.date(2016, 1, 2),
        today=dt.date(2026, 1, 2),
    )
    with EmulatorServer(config) as emu:
        held = {s.symbol for s in emu.market.symbols("US")}
    assert named and named <= held, named - held
    assert DEMO_DATABASE_URL.removeprefix("sqlite:///") in example


def test_bars_takes_commas_and_any_case(warehouse: Path, tmp_path: Path) -> None:
    """`bars AAA.US,bbb.us --adjust ALL --interval 1W --format CSV` works like the spaced,
    lower-case spelling; an empty name between commas is one line, exit 2."""
    db = ["-d", str(warehouse)]
    spaced = run_cli(
        "bars", "AAA.US", "BBB.US", "--adjust", "all", "--interval", "1w", *db, cwd=tmp_path
    )
    comma = run_cli(
        "bars", "AAA.US,bbb.us", "--adjust", "ALL", "--interval", "1W", *db, cwd=tmp_path
    )
    assert comma.returncode == 0, comma.stderr
    assert comma.stdout == spaced.stdout and "BBB.US" in comma.stdout
    as_csv = run_cli("bars", "AAA.US", "--format", "CSV", *db, cwd=tmp_path)
    assert as_csv.stdout.startswith("date,symbol,open")
    for args, line in (
        (
            ["bars", "AAA.US,,BBB.US"],
            "error: invalid symbol list 'AAA.US,,BBB.US': an empty name between commas\n",
        ),
        (["bars", " "], "error: invalid symbol ' ': expected CODE.EXCHANGE, e.g. 'AAPL.US'\n"),
        (
            ["actions", "AAA.US,"],
            "error: invalid symbol list 'AAA.US,': an empty name between commas\n",
        ),
    ):
        bad = run_cli(*args, *db, cwd=tmp_path)
        assert (bad.returncode, bad.stderr) == (2, line)


def test_no_list_option_shows_a_python_type_and_choices_are_shown() -> None:
    """No option's help shows `<list[str]>`; --adjust, --interval, --format, --layout show
    their choices."""
    from typer.testing import CliRunner

    from data_nexus.cli.app import app

    runner = CliRunner()
    seen = set()
    for args in (["bars"], ["actions"], ["export"], ["assets", "remove"], ["sync"], ["check"]):
        text = runner.invoke(app, [*args, "--help"], terminal_width=200).output
        options = [line for line in text.splitlines() if line.lstrip().startswith("-")]
        assert options and not [line for line in options if "<list[" in line], (args, text)
        seen.update(word for line in options for word in line.split())
    for choices in (
        "[none|splits|all|provider]",
        "[1d|1w|1mo|1q|1y]",
        "[table|csv|json|parquet]",
        "[hive|files|zipline|qlib]",
        "SYMBOL[,SYMBOL…]",
    ):
        assert choices in seen, choices


def test_bars_after_the_last_stored_bar_says_so_and_exits_0(
    warehouse: Path, tmp_path: Path
) -> None:
    """A pipeline asking for bars newer than the data gets an empty result and exit 0, with
    one note on stderr; --from after --to is a usage error."""
    db = ["-d", str(warehouse)]
    note = "note: no bars: --from 2030-01-01 is after the last stored bar (2024-03-29)\n"
    table = run_cli("bars", "AAA.US", "--from", "2030-01-01", *db, cwd=tmp_path)
    assert (table.returncode, table.stdout, table.stderr) == (0, "", note)
    as_csv = run_cli("bars", "AAA.US", "--from", "2030-01-01", "--format", "csv", *db, cwd=tmp_path)
    assert (as_csv.returncode, as_csv.stderr) == (0, note)
    assert as_csv.stdout == "date,symbol,open,high,low,close,adjusted_close,volume\n"
    gap = run_cli("bars", "AAA.US", "--from", "2024-01-06", "--to", "2024-01-07", *db, cwd=tmp_path)
    assert (gap.returncode, gap.stderr) == (
        0,
        "note: no bars in this range (the last stored bar is 2024-03-29)\n",
    )
    backwards = run_cli(
        "bars", "AAA.US", "--from", "2024-03-01", "--to", "2024-02-01", *db, cwd=tmp_path
    )
    assert (backwards.returncode, backwards.stderr) == (
        2,
        "error: start date 2024-03-01 is after end date 2024-02-01\n",
    )


def test_bars_json_and_parquet_carry_the_metadata(warehouse: Path, tmp_path: Path) -> None:
    """JSON is an object: adjust, interval, cut-off, source, the range asked, then the bars;
    Parquet holds the same keys as file metadata."""
    import pyarrow.parquet as pq

    db = ["-d", str(warehouse)]
    args = ["bars", "AAA.US", "--adjust", "splits", "--interval", "1mo", "--from", "2024-02-01"]
    out = run_cli(*args, "--format", "json", *db, cwd=tmp_path)
    data = json.loads(out.stdout)
    assert list(data) == ["adjust", "interval", "cutoff", "source", "from", "to", "bars"]
    assert (data["adjust"], data["interval"], data["cutoff"]) == ("splits", "1mo", "2024-03-29")
    assert (data["from"], data["to"], data["source"]) == (
        "2024-02-01",
        None,
        f"sqlite:///{warehouse}",
    )
    assert [bar["date"] for bar in data["bars"]] == ["2024-02-29", "2024-03-29"]
    path = tmp_path / "b.parquet"
    parquet = run_cli(*args, "--format", "parquet", "-o", str(path), *db, cwd=tmp_path)
    assert parquet.returncode == 0, parquet.stderr
    meta = pq.read_schema(path).metadata
    assert (meta[b"adjust"], meta[b"interval"], meta[b"cutoff"], meta[b"from"]) == (
        b"splits",
        b"1mo",
        b"2024-03-29",
        b"2024-02-01",
    )
    assert pd.read_parquet(path).attrs["adjust"] == "splits"  # pandas' own copy too


def test_adjusted_text_output_has_no_float_noise(warehouse: Path, tmp_path: Path) -> None:
    """Adjusted prices print rounded to 12 significant digits in CSV, table and JSON; the
    library's frame keeps the float64 noise-and-all."""
    from data_nexus.cli.read import SIGNIFICANT_DIGITS
    from data_nexus.query.bars import get_bars

    frame = get_bars(["BBB.US"], adjust="all", url=f"sqlite:///{warehouse}")
    raw = [repr(float(v)) for v in frame["close"]]
    noisy = [text for text in raw if len(text.replace(".", "").lstrip("0")) > SIGNIFICANT_DIGITS]
    assert noisy, "the fixture should produce float noise"
    expected = [repr(float(f"{float(v):.12g}")) for v in frame["close"]]
    db = ["-d", str(warehouse)]
    as_csv = run_cli("bars", "BBB.US", "--adjust", "all", "--format", "csv", *db, cwd=tmp_path)
    closes = [line.split(",")[5] for line in as_csv.stdout.splitlines()[1:]]
    assert closes == expected
    as_json = json.loads(
        run_cli("bars", "BBB.US", "--adjust", "all", "--format", "json", *db, cwd=tmp_path).stdout
    )
    assert [repr(bar["close"]) for bar in as_json["bars"]] == expected
    table = run_cli("bars", "BBB.US", "--adjust", "all", *db, cwd=tmp_path).stdout
    assert not any(text in table for text in noisy)
    plain = run_cli("bars", "BBB.US", "--format", "csv", *db, cwd=tmp_path).stdout
    assert plain.splitlines()[1].split(",")[5] == "50.0"  # unadjusted: as stored
