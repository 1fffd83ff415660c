"""export → import reproduces a database exactly; Parquet, zipline and qlib layouts read back."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pytest

from data_nexus.errors import UsageError
from data_nexus.query import exports
from data_nexus.query.bars import get_bars
from data_nexus.query.exports import export_data
from data_nexus.query.imports import import_csv, parse_columns, parse_file
from data_nexus.storage.frames import reading
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import Store
from data_nexus.storage.validate import BarValidator
from tests.conftest import make_settings
from tests.query.conftest import Synced

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def contents(url: str, symbols: list[str]) -> tuple[list, list]:
    with Store.open(url) as store:
        return store.read_bars(symbols), store.read_actions(symbols)


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_csv_export_then_import_reproduces_the_database(
    small: Synced, target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = tmp_path / "out"
    result = export_data(folder, fmt="csv", url=small.url, now=NOW)
    assert result.symbols == len(small.symbols) and result.files == len(small.symbols)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["adjust"] == "none" and manifest["cutoff"] == "2025-07-03"
    if target == "sqlite":
        url = f"sqlite:///{tmp_path / 'copy.db'}"
        upgrade_db(make_settings(url))
    else:
        url = str(request.getfixturevalue("pg_url"))
    first = import_csv(folder, settings=make_settings(url), now=NOW)
    assert first.problems == [] and first.inserted == result.rows
    assert contents(url, small.symbols) == contents(small.url, small.symbols)
    again = import_csv(folder, settings=make_settings(url), now=NOW)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, result.rows)
    # and, imported, the data adjusts as the original does
    pd.testing.assert_frame_equal(
        get_bars(small.symbols, adjust="all", interval="1w", url=url).drop(columns="symbol"),
        get_bars(small.symbols, adjust="all", interval="1w", url=small.url).drop(columns="symbol"),
        check_exact=True,
    )


def test_parquet_dataset_reads_back_with_the_same_values(small: Synced, tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    export_data(folder, fmt="parquet", adjust="all", url=small.url, now=NOW, batch=5)
    expected = get_bars(small.symbols, adjust="all", url=small.url)
    table = pads.dataset(folder / "bars", format="parquet", partitioning="hive").to_table()
    back = table.to_pandas().sort_values(["symbol", "date"]).reset_index(drop=True)
    assert len(back) == len(expected)
    np.testing.assert_array_equal(back["close"].to_numpy(), expected["close"].to_numpy())
    assert back["symbol"].astype(str).tolist() == expected["symbol"].astype(str).tolist()
    frame = pd.read_parquet(folder / "bars")
    assert len(frame) == len(expected)
    one = next((folder / "bars").rglob("*.parquet"))
    import pyarrow.parquet as pq

    assert pq.read_schema(one).metadata[b"adjust"] == b"all"
    actions = pd.read_parquet(folder / "actions.parquet")
    assert set(actions["action"]) == {"split", "dividend"}


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_parquet_reads_in_duckdb_or_polars(engine: str, small: Synced, tmp_path: Path) -> None:
    if importlib.util.find_spec(engine) is None:
        pytest.skip(f"{engine} is not installed in this environment")
    folder = tmp_path / "pq"
    export_data(folder, fmt="parquet", url=small.url, now=NOW)
    expected = get_bars(small.symbols, url=small.url)
    if engine == "duckdb":
        import duckdb

        rows = duckdb.sql(
            f"SELECT sum(close), count(*) FROM read_parquet('{folder}/bars/**/*.parquet', "
            "hive_partitioning = 1)"
        ).fetchall()[0]
    else:
        import polars as pl

        frame = pl.scan_parquet(f"{folder}/bars/**/*.parquet", hive_partitioning=True).collect()
        rows = (frame["close"].sum(), frame.height)
    assert rows is not None
    assert rows[1] == len(expected)
    assert rows[0] == pytest.approx(expected["close"].sum(), rel=1e-12)


def test_zipline_and_qlib_layouts(small: Synced, tmp_path: Path) -> None:
    names = small.symbols[:4]
    export_data(tmp_path / "zl", fmt="csv", layout="zipline", symbols=names, url=small.url, now=NOW)
    files = sorted(p.name for p in (tmp_path / "zl" / "daily").iterdir())
    assert files == sorted(f"{n.split('.')[0]}.csv" for n in names)
    reverse = names[1]  # a 1/5 reverse split near the end
    with (tmp_path / "zl" / "daily" / f"{reverse.split('.')[0]}.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["date", "open", "high", "low", "close", "volume", "dividend", "split"]
    assert [r["split"] for r in rows if r["split"] != "1.0"][-1] == "0.2"
    raw = get_bars(reverse, url=small.url)
    assert float(rows[0]["close"]) == raw["close"].iloc[0]  # unadjusted prices
    export_data(tmp_path / "ql", fmt="csv", layout="qlib", symbols=names, url=small.url, now=NOW)
    qlib = pd.read_csv(tmp_path / "ql" / f"{reverse}.csv")
    adjusted = get_bars(reverse, adjust="all", url=small.url)
    np.testing.assert_allclose(qlib["close"], adjusted["close"], rtol=1e-15)
    np.testing.assert_allclose(qlib["factor"], adjusted["close"] / raw["close"], rtol=1e-12)
    with pytest.raises(UsageError, match="zipline layout needs unadjusted"):
        export_data(
            tmp_path / "x", fmt="csv", layout="zipline", adjust="all", url=small.url, now=NOW
        )
    with pytest.raises(UsageError, match="not empty"):
        export_data(tmp_path / "ql", fmt="csv", url=small.url, now=NOW)


def test_import_reads_loose_files_and_reports_bad_rows(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "abc.csv").write_text(
        "Date,Open,HIGH,low,Close,Adj Close,Volume,Split,Dividend\n"
        "2024-01-02,10,11,9,10.5,10.4,1000,,\n"
        "2024-01-03,10,11,9,abc,10.4,1000,,\n"
        "2024-01-04,10,11,9,10.5,10.4,1000,2:1,0.25\n"
        "2024-01-05,10,11,9,10.123456789,,,,\n"
        "2024-01-05,10,11,9,10,,,,\n"
    )
    with pytest.raises(UsageError, match="no exchange in the file name"):
        import_csv(folder, settings=make_settings(f"sqlite:///{tmp_path / 'x.db'}"), now=NOW)
    url = f"sqlite:///{tmp_path / 'db.db'}"
    upgrade_db(make_settings(url))
    result = import_csv(folder, exchange="us", settings=make_settings(url), now=NOW)
    assert result.symbols == ["ABC.US"] and result.bars == 3
    assert result.problems[0] == "abc.csv:3: close: 'abc' is not a number"
    # nine decimals are stored exactly (unconstrained NUMERIC); a second bar for a date is not
    assert result.problems[1].startswith("abc.csv:6: ") and "second bar" in result.problems[1]
    assert len(result.problems) == 2
    bars, actions = contents(url, ["ABC.US"])
    assert [b.date.day for b in bars] == [2, 4, 5]
    assert str(bars[-1].close) == "10.123456789"
    assert [a.action_type for a in actions] == ["dividend", "split"]
    parsed = parse_file(folder / "abc.csv", "ABC.US")
    dividend = next(a for a in parsed.actions if a.action_type == "dividend")
    assert str(dividend.value) == "0.25"  # same-day split: the declared amount is post-split


def test_column_wise_csv_writer_matches_the_row_writer(small: Synced, tmp_path: Path) -> None:
    """The Arrow path writes byte for byte what the csv-module path writes, actions included;
    an action on a date without a bar falls back to the row writer."""
    from data_nexus.query import export_csv, exports
    from data_nexus.query.bars import _read
    from data_nexus.storage.frames import reading

    with reading(small.url) as reader:
        frame, _ = _read(reader, small.symbols, None, None, "none", "1d", True)
        actions = exports._actions_by_symbol(reader.actions(small.symbols))
    assert sum(len(a) for a in actions.values()) > 0
    for name, lo, hi in exports.symbol_runs(frame):
        fast, rows = tmp_path / f"{name}.fast.csv", tmp_path / f"{name}.rows.csv"
        assert export_csv.write_exact_csv(fast, frame, lo, hi, actions.get(name, []))
        export_csv._write_rows_csv(rows, frame, lo, hi, actions.get(name, []))
        assert fast.read_bytes() == rows.read_bytes(), name
    name, lo, hi = next(r for r in exports.symbol_runs(frame) if actions.get(r[0]))
    moved = dataclasses.replace(actions[name][0], date=dt.date(1990, 1, 1))
    assert not export_csv.write_exact_csv(tmp_path / "x.csv", frame, lo, hi, [moved])


def test_price_text_is_the_canonical_decimal() -> None:
    """Trailing zeros and a bare point go; integer zeros stay; missing is empty."""
    from decimal import Decimal

    import pyarrow as pa

    from data_nexus.decimals import canonical
    from data_nexus.query.export_csv import _price_text

    texts = ["0", "100", "0.5", "1.23456789", "0.00000001", "1234567890.1", "10.10"]
    column = pa.array([Decimal(t) for t in texts] + [None], pa.decimal128(18, 8))
    assert _price_text(column) == [canonical(Decimal(t)) for t in texts] + [""]


def test_exported_files_are_read_column_wise_as_the_row_by_row_parser_reads_them(
    small: Synced, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    export_data(folder, fmt="csv", url=small.url, now=NOW)
    for path in sorted(folder.glob("*.csv")):
        symbol = path.name.removesuffix(".csv")
        fast = parse_columns(path, symbol, NOW.date())
        slow = parse_file(path, symbol)
        assert fast is not None and fast.rows is not None, path.name  # clean: column-wise
        assert fast.problems == slow.problems == [] and fast.actions == slow.actions
        assert fast.rows.rows == BarValidator(symbol, today=NOW.date()).rows(slow.bars)


def test_a_file_needing_judgement_is_read_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "ABC.US.csv"
    path.write_text("date,close,split\n2024-01-02,-1.5,\n2024-01-03,2,2/1\n")
    assert parse_columns(path, "ABC.US", NOW.date()) is None  # a price <= 0 is a finding
    path.write_text("date,close,split\n2024-01-02,1.5,\n2024-01-03,,2/1\n2024-01-04,1,x\n")
    assert parse_columns(path, "ABC.US", NOW.date()) is None  # a split that does not parse
    path.write_text("date,close,split\n2024-01-02,1.5,\n2024-01-03,,2/1\n")
    parsed = parse_columns(path, "ABC.US", NOW.date())
    assert parsed is not None and parsed.rows is not None
    assert [r[0] for r in parsed.rows] == ["2024-01-02"]  # the action-only row is no bar
    assert [(a.date.day, a.action_type) for a in parsed.actions] == [(3, "split")]


def test_postgresql_exports_its_stored_text_as_sqlite_exports_its_decimals(
    small: Synced, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = export_data(tmp_path / "a", fmt="csv", url=small.url, now=NOW)
    assert import_csv(tmp_path / "a", settings=make_settings(pg_url), now=NOW).problems == []
    with reading(pg_url) as reader:  # the text path is the one taken on PostgreSQL
        assert reader.bar_texts(small.symbols[:2]) is not None and reader.chunked_text
    texts = []
    write_text_csv = exports.write_text_csv
    monkeypatch.setattr(
        exports, "write_text_csv", lambda *a: texts.append(a[0]) or write_text_csv(*a)
    )
    second = export_data(tmp_path / "b", fmt="csv", url=pg_url, now=NOW)
    assert (second.rows, second.files) == (first.rows, first.files)
    assert len(texts) == second.files  # every file from the stored text
    names = sorted(p.name for p in (tmp_path / "a").glob("*.csv"))
    assert names == sorted(p.name for p in (tmp_path / "b").glob("*.csv"))
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
