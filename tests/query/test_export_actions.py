"""Exports on the demo's data and a crafted database: every corporate action survives export
→ import (several dividends on one ex-date, a split and dividends on one date), zipline gets
the day's dividend total, and the qlib and zipline volumes follow those tools' conventions
from the split-adjusted volume we store."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_nexus.demo import run_demo
from data_nexus.query.bars import get_bars
from data_nexus.query.exports import export_data
from data_nexus.query.imports import import_csv
from data_nexus.records import Dividend, Split
from data_nexus.storage.frames import reading
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import Store
from tests.conftest import make_settings

NOW = dt.datetime(2026, 11, 27, 23, tzinfo=dt.UTC)  # the demo's today: a Friday evening


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo database (12 symbols, 10 years: AAPL.US's 4/1 split of 2020-08-31 and a
    special dividend on a regular one's ex-date among the dirt)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    result = run_demo(database_url=url, clock=lambda: NOW)
    assert result.summary.status == "ok"
    return url


def contents(url: str, symbols: list[str] | None = None) -> tuple[list, list]:
    if symbols is None:
        with reading(url) as reader:
            symbols = reader.all_symbols()
    with Store.open(url) as store:
        return store.read_bars(symbols), store.read_actions(symbols)


def fresh(tmp_path: Path, name: str) -> str:
    url = f"sqlite:///{tmp_path / name}"
    upgrade_db(make_settings(url))
    return url


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_demo_export_then_import_keeps_every_action(
    demo: str, target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    bars, actions = contents(demo)
    per_day = Counter((a.symbol, a.date) for a in actions if isinstance(a, Dividend))
    assert max(per_day.values()) >= 2  # the demo's special dividend shares an ex-date
    result = export_data(tmp_path / "out", fmt="csv", url=demo, now=NOW)
    url = fresh(tmp_path, "copy.db") if target == "sqlite" else request.getfixturevalue("pg_url")
    back = import_csv(tmp_path / "out", settings=make_settings(url), now=NOW)
    assert back.problems == [] and back.actions == len(actions)
    assert back.inserted == result.rows == len(bars)
    assert contents(url) == (bars, actions)  # every action, its seq and details included
    symbols = sorted({b.symbol for b in bars})
    pd.testing.assert_frame_equal(
        get_bars(symbols, adjust="all", url=url), get_bars(symbols, adjust="all", url=demo)
    )
    # exported again from the copy (PostgreSQL: its stored-text path), byte for byte the same
    export_data(tmp_path / "again", fmt="csv", url=url, now=NOW)
    for path in sorted((tmp_path / "out").glob("*.csv")):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name
    # the Parquet export's actions table: one row per action too
    export_data(tmp_path / "pq", fmt="parquet", url=demo, now=NOW)
    table = pd.read_parquet(tmp_path / "pq" / "actions.parquet")
    assert len(table) == len(actions)


def test_same_day_actions_of_a_crafted_database_round_trip(tmp_path: Path) -> None:
    """Two dividends on a bar's date, a split with a dividend, two dividends and a split on
    a date without a bar: the file carries each on a row of its own, import stores them all."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ABC.US.csv").write_text(
        "date,close,volume,dividend,dividend_adjusted,split,period\n"
        "2024-01-02,10,100,,,,\n"
        "2024-01-03,10,100,0.17,0.085,,Quarterly\n"
        "2024-01-03,,,0.34,0.17,,\n"
        "2024-01-04,10,100,0.1,0.05,,\n"
        "2024-01-05,5,200,0.05,,2/1,\n"
        "2024-01-06,,,0.2,,,\n"
        "2024-01-06,,,0.3,,3/1,\n"
        "2024-01-08,5,200,,,,\n"
    )
    url = fresh(tmp_path, "a.db")
    first = import_csv(folder, settings=make_settings(url), now=NOW)
    assert first.problems == [] and first.actions == 8
    bars, actions = contents(url, ["ABC.US"])
    kinds = Counter((a.date.day, a.action_type) for a in actions)
    assert kinds == {(3, "dividend"): 2, (4, "dividend"): 1, (5, "dividend"): 1,
                     (5, "split"): 1, (6, "dividend"): 2, (6, "split"): 1}  # fmt: skip
    export_data(tmp_path / "out", fmt="csv", url=url, now=NOW)
    written = rows_of(tmp_path / "out" / "ABC.US.csv")
    assert [(r["date"][-2:], r["close"], r["dividend"], r["split"]) for r in written] == [
        ("02", "10", "", ""),
        ("03", "10", "0.17", ""),
        ("03", "", "0.34", ""),
        ("04", "10", "0.1", ""),
        ("05", "5", "0.05", "2/1"),
        ("06", "", "0.2", "3/1"),
        ("06", "", "0.3", ""),
        ("08", "5", "", ""),
    ]
    copy = fresh(tmp_path, "b.db")
    again = import_csv(tmp_path / "out", settings=make_settings(copy), now=NOW)
    assert again.problems == [] and again.actions == 8
    assert contents(copy, ["ABC.US"]) == (bars, actions)
    # zipline: the day's total dividend, the splits' product, volumes as traded
    export_data(tmp_path / "zl", fmt="csv", layout="zipline", url=url, now=NOW)
    zipline = {r["date"][-2:]: r for r in rows_of(tmp_path / "zl" / "daily" / "ABC.csv")}
    assert zipline["03"]["dividend"] == "0.51" and zipline["05"]["split"] == "2.0"
    # the 2/1 split on the 5th and the 3/1 on the 6th: earlier stored volumes are 6x traded
    assert [zipline[d]["volume"] for d in ("02", "04", "05", "08")] == ["17", "17", "67", "200"]


def test_qlib_volume_is_the_traded_volume_over_the_factor(demo: str, tmp_path: Path) -> None:
    """qlib: adjusted price = traded price × factor, volume = traded volume / factor (so
    price × volume is the turnover as traded). We store EODHD's split-adjusted volume."""
    _, actions = contents(demo, ["AAPL.US"])
    split = next(a for a in actions if isinstance(a, Split))
    assert (split.date, split.numerator, split.denominator) == (dt.date(2020, 8, 31), 4, 1)
    stored = get_bars("AAPL.US", url=demo).set_index("date")
    export_data(tmp_path / "ql", fmt="csv", layout="qlib", symbols=["AAPL.US"], url=demo, now=NOW)
    qlib = pd.read_csv(tmp_path / "ql" / "AAPL.US.csv", dtype={"volume": "Int64"})
    qlib = qlib.set_index(pd.to_datetime(qlib["date"]))
    day = pd.Timestamp("2020-08-27")  # the user's report: 234,867,208 (4x the turnover) before
    traded = Fraction(int(stored.loc[day, "volume"]), 4)  # stored is in post-split shares
    factor = Fraction(float(qlib.loc[day, "factor"]))
    assert qlib.loc[day, "volume"] == round(traded / factor) != 234_867_208
    turnover = qlib["close"] * qlib["volume"].astype(float)
    raw = stored.loc[qlib.index]
    before = raw.index < pd.Timestamp(split.date)
    as_traded = raw["close"] * raw["volume"].where(~before, raw["volume"] / 4)
    np.testing.assert_allclose(turnover.to_numpy(float), as_traded.to_numpy(float), rtol=1e-6)
    # adjust=splits: the factor is the split factor and the volume is exactly the stored one
    export_data(
        tmp_path / "qs", fmt="csv", layout="qlib", adjust="splits", symbols=["AAPL.US"],
        url=demo, now=NOW,
    )  # fmt: skip
    splits_only = pd.read_csv(tmp_path / "qs" / "AAPL.US.csv", dtype={"volume": "Int64"})
    assert splits_only["volume"].tolist() == stored["volume"].tolist()
    # adjust=none: factor 1, the volume as traded, as zipline's file has it
    export_data(
        tmp_path / "qn", fmt="csv", layout="qlib", adjust="none", symbols=["AAPL.US"],
        url=demo, now=NOW,
    )  # fmt: skip
    export_data(
        tmp_path / "zl", fmt="csv", layout="zipline", symbols=["AAPL.US"], url=demo, now=NOW
    )
    unadjusted = pd.read_csv(tmp_path / "qn" / "AAPL.US.csv", dtype={"volume": "Int64"})
    zipline = pd.read_csv(tmp_path / "zl" / "daily" / "AAPL.csv", dtype={"volume": "Int64"})
    assert unadjusted["volume"].tolist() == zipline["volume"].tolist()
    at = zipline.index[zipline["date"] == "2020-08-27"][0]
    assert zipline.loc[at, "volume"] == traded and zipline.loc[at + 2, "split"] == 4.0


def test_zipline_dividend_is_the_days_total_on_the_demo(demo: str, tmp_path: Path) -> None:
    _, actions = contents(demo)
    totals: dict[tuple[str, dt.date], Fraction] = {}
    for a in actions:
        if isinstance(a, Dividend):
            key = (a.symbol, a.date)
            totals[key] = totals.get(key, Fraction(0)) + Fraction(a.unadjusted_value or 0)
    (symbol, day), _ = Counter((a.symbol, a.date) for a in actions if isinstance(a, Dividend)
                               ).most_common(1)[0]  # fmt: skip
    export_data(tmp_path / "zl", fmt="csv", layout="zipline", symbols=[symbol], url=demo, now=NOW)
    rows = rows_of(tmp_path / "zl" / "daily" / f"{symbol.split('.')[0]}.csv")
    row = next(r for r in rows if r["date"] == day.isoformat())
    assert Fraction(row["dividend"]) == totals[symbol, day]
    paid = {r["date"]: Fraction(r["dividend"]) for r in rows if r["dividend"] != "0.0"}
    assert paid == {d.isoformat(): v for (s, d), v in totals.items() if s == symbol}
