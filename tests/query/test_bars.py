"""get_bars and friends on a warehouse synced from the emulator (SQLite)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from data_nexus.emulator.adjustment import adjusted_closes
from data_nexus.errors import SchemaOutOfDate, UnknownSymbols, UsageError
from data_nexus.query.bars import get_bars, get_bars_arrow, get_prices, get_returns
from data_nexus.query.findings import get_findings
from data_nexus.query.nexus import Nexus
from data_nexus.query.status import get_actions
from data_nexus.storage.store import Store
from tests.query.conftest import Synced

EXACT_DIGITS = 10  # the emulator's rational adjusted close, rounded far below 1e-6


def test_all_equals_the_emulators_adjusted_close_for_every_symbol(universe: Synced) -> None:
    emu, symbols = universe.emu, universe.symbols
    splits = [s for name in symbols for s in emu.market.splits(name)]
    assert len(symbols) == 200
    assert any(s.numerator > s.denominator for s in splits)  # forward splits
    assert any(s.numerator < s.denominator for s in splits)  # reverse splits
    assert sum(len(emu.market.dividends(name)) for name in symbols) > 1000

    frame = get_bars(symbols, adjust="all", url=universe.url)
    assert frame["symbol"].nunique() == 200
    for name, group in frame.groupby("symbol", observed=True, sort=False):
        raw = emu.market.raw_series(str(name))
        exact = adjusted_closes(raw, EXACT_DIGITS) / 10.0**EXACT_DIGITS
        ours = group["close"].to_numpy()
        assert len(ours) == len(exact)
        np.testing.assert_allclose(ours, exact, rtol=1e-6, atol=0, err_msg=str(name))
        # and the provider's stored adjusted_close, rounded to 4 decimals
        stored = group["adjusted_close"].to_numpy()
        assert np.all(np.abs(ours - stored) <= np.maximum(1e-6 * stored, 0.5e-4 + 1e-9))


def test_a_window_is_adjusted_as_the_whole_history_is(universe: Synced) -> None:
    symbols = universe.symbols[:40]
    start, end = dt.date(2019, 3, 1), dt.date(2021, 9, 30)
    for mode in ("splits", "all"):
        whole = get_bars(symbols, adjust=mode, url=universe.url)
        window = get_bars(symbols, start, end, adjust=mode, url=universe.url)
        inside = whole[(whole["date"] >= "2019-03-01") & (whole["date"] <= "2021-09-30")]
        pd.testing.assert_frame_equal(
            window.reset_index(drop=True), inside.reset_index(drop=True), check_exact=True
        )


def test_provider_mode_scales_ohlc_by_adjusted_over_close(universe: Synced) -> None:
    frame = get_bars(universe.symbols[:20], adjust="provider", url=universe.url)
    raw = get_bars(universe.symbols[:20], url=universe.url)
    np.testing.assert_allclose(frame["close"], frame["adjusted_close"], rtol=1e-12)
    ratio = raw["adjusted_close"] / raw["close"]
    np.testing.assert_allclose(frame["open"], raw["open"] * ratio, rtol=1e-12)
    assert frame["volume"].equals(raw["volume"])


def test_splits_mode_leaves_no_jump_on_a_split_day(universe: Synced) -> None:
    emu = universe.emu
    with_split = [s for s in universe.symbols if emu.market.splits(s)][:10]
    assert with_split
    raw = get_bars(with_split, url=universe.url)
    adjusted = get_bars(with_split, adjust="splits", url=universe.url)
    for name in with_split:
        for split in emu.market.splits(name):
            ratio = float(split.numerator / split.denominator)
            day = pd.Timestamp(split.date)
            rows = raw.index[(raw["symbol"] == name) & (raw["date"] == day)]
            if len(rows) == 0 or rows[0] == 0 or raw["symbol"][rows[0] - 1] != name:
                continue
            i = rows[0]
            raw_move = raw["close"][i] / raw["close"][i - 1]
            adj_move = adjusted["close"][i] / adjusted["close"][i - 1]
            assert adj_move == pytest.approx(raw_move * ratio, rel=1e-9)


def test_dtypes_attrs_and_exact_values(universe: Synced) -> None:
    names = universe.symbols[:3]
    frame = get_bars([n.lower() for n in names], adjust="splits", url=universe.url)
    assert [str(t) for t in frame.dtypes] == [
        "datetime64[ns]",
        "category",
        "float64",
        "float64",
        "float64",
        "float64",
        "float64",
        "Int64",
    ]
    assert list(frame.columns) == [
        "date",
        "symbol",
        "open",
        "high",
        "low",
        "close",
        "adjusted_close",
        "volume",
    ]
    assert frame.attrs["adjust"] == "splits" and frame.attrs["interval"] == "1d"
    assert frame.attrs["cutoff"] == universe.emu.market.today.isoformat() == "2025-07-08"
    exact = get_bars(names, exact=True, url=universe.url)
    with Store.open(universe.url) as store:
        stored = store.read_bars(names)
    assert len(exact) == len(stored)
    assert [Decimal(str(v)) for v in exact["close"].head(50)] == [b.close for b in stored[:50]]
    assert exact["close"].dtype == pd.ArrowDtype(pa.decimal256(76, 30))
    monthly_exact = get_bars(names, exact=True, interval="1mo", url=universe.url)
    monthly = get_bars(names, interval="1mo", url=universe.url)
    np.testing.assert_array_equal(
        monthly_exact["high"].astype("float64").to_numpy(), monthly["high"].to_numpy()
    )


def test_weekly_bars_are_built_from_adjusted_dailies(universe: Synced) -> None:
    name = next(s for s in universe.symbols if universe.emu.market.splits(s))
    daily = get_bars(name, adjust="all", url=universe.url)
    weekly = get_bars(name, adjust="all", interval="1w", url=universe.url)
    week = daily["date"].dt.to_period("W-SUN")
    expected = daily.groupby(week).agg(
        date=("date", "last"),
        high=("high", "max"),
        close=("close", "last"),
        volume=("volume", "sum"),
    )
    np.testing.assert_array_equal(weekly["date"].to_numpy(), expected["date"].to_numpy())
    np.testing.assert_array_equal(weekly["high"].to_numpy(), expected["high"].to_numpy())
    np.testing.assert_array_equal(weekly["close"].to_numpy(), expected["close"].to_numpy())
    assert weekly["volume"].tolist() == expected["volume"].tolist()


def test_wide_prices_arrow_and_returns(universe: Synced) -> None:
    names = universe.symbols[:3]
    wide = get_prices(names, start="2020-01-01", end="2020-12-31", url=universe.url)
    assert list(wide.columns) == names and isinstance(wide.index, pd.DatetimeIndex)
    assert wide.attrs["adjust"] == "all" and wide.attrs["field"] == "close"
    table = get_bars_arrow(names, interval="1mo", url=universe.url)
    assert table.schema.metadata[b"interval"] == b"1mo"
    assert table.schema.field("date").type == pa.date32()
    total = get_returns(names, kind="total", url=universe.url)
    price = get_returns(names, kind="price", url=universe.url)
    assert total["return"].isna().sum() == 3  # the first bar of each symbol
    # dividends make total growth at least price growth, strictly for payers
    last_total = total.groupby("symbol", observed=True)["growth"].last()
    last_price = price.groupby("symbol", observed=True)["growth"].last()
    assert (last_total >= last_price * (1 - 1e-12)).all()
    yearly = get_returns(names, kind="total", interval="1y", url=universe.url)
    by_year = yearly.set_index(["symbol", yearly["date"].dt.year])["growth"]
    daily_last = total.groupby(["symbol", total["date"].dt.year], observed=True)["growth"].last()
    np.testing.assert_allclose(by_year.to_numpy(), daily_last.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"adjust": "al"}, "unknown adjust mode 'al'"),
        ({"interval": "1h"}, "unknown interval '1h'"),
        ({"start": "2020-13-01"}, "invalid start date '2020-13-01'"),
        ({"start": "2021-01-01", "end": "2020-01-01"}, "start date 2021-01-01 is after"),
        ({"exact": True, "adjust": "all"}, "exact prices cannot be adjusted"),
    ],
)
def test_bad_arguments_are_usage_errors(universe: Synced, kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        get_bars(universe.symbols[0], url=universe.url, **kwargs)


def test_unknown_and_malformed_symbols(universe: Synced) -> None:
    with pytest.raises(UsageError, match=r"unknown symbol\(s\) NOPE.US"):
        get_bars(["NOPE.US", universe.symbols[0]], url=universe.url)
    with pytest.raises(UsageError, match=r"expected CODE\.EXCHANGE"):
        get_bars("AAPL", url=universe.url)


MISSING = [f"NOPE{i}.US" for i in range(7)]


@pytest.mark.parametrize(
    ("read", "missing"),
    [
        (lambda url, known: get_bars([known, *MISSING], url=url), MISSING),  # the general read
        (lambda url, known: get_bars(MISSING[0], url=url), MISSING[:1]),  # the one-query read
        (lambda url, known: get_bars_arrow(MISSING[0], url=url), MISSING[:1]),
        (lambda url, known: get_actions([known, *MISSING], url=url), MISSING),
        (lambda url, known: get_findings([known, *MISSING], url=url), MISSING),
    ],
)
def test_unknown_symbols_are_one_error_carrying_them_all(
    universe: Synced, read: Any, missing: list[str]
) -> None:
    """Every read's known-symbol check raises UnknownSymbols (a UsageError): every missing
    symbol in the order asked, at most five named in the message."""
    with pytest.raises(UnknownSymbols) as caught:
        read(universe.url, universe.symbols[0])
    assert caught.value.symbols == tuple(missing)
    assert isinstance(caught.value, UsageError)
    shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    assert str(caught.value) == f"unknown symbol(s) {shown}: not in this warehouse"


def test_reads_a_read_only_copy_without_writing_it(universe: Synced, tmp_path: Path) -> None:
    """(Run as root, the permission bits do not stop writes: the file's hash proves none.)"""
    source = Path(universe.url.removeprefix("sqlite:///"))
    folder = tmp_path / "ro"
    folder.mkdir()
    copy = folder / "copy.db"
    shutil.copy(source, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    copy.chmod(stat.S_IRUSR)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with Nexus(str(copy)) as nx:
            frame = nx.bars(universe.symbols[:2], adjust="all")
            assert len(frame) > 1000
            assert len(nx.status(dt.datetime(2025, 7, 1, tzinfo=dt.UTC))) == 200
    finally:
        folder.chmod(stat.S_IRWXU)
        copy.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before
    # a WAL reader may leave an index and an empty log beside the file, never data
    for name in os.listdir(folder):
        assert name == "copy.db" or (folder / name).stat().st_size == 0 or name.endswith("-shm")


def test_a_database_without_the_schema_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "plain.db"
    sqlite3.connect(path).close()
    with pytest.raises(SchemaOutOfDate, match="run 'datanexus db upgrade'"):
        get_bars("A.US", url=str(path))


def test_an_empty_range_keeps_the_shape(universe: Synced) -> None:
    names = universe.symbols[:2]
    empty = get_bars(
        names, "1990-01-01", "1990-12-31", adjust="all", interval="1w", url=universe.url
    )
    full = get_bars(names, adjust="all", interval="1w", url=universe.url)
    assert len(empty) == 0 and list(empty.dtypes) == list(full.dtypes)
    assert list(empty["symbol"].cat.categories) == sorted(names)
    assert get_returns(names, "1990-01-01", "1990-12-31", url=universe.url).empty
