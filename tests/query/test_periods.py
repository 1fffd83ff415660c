"""Bars resampled by the database (storage/aggregates.py) equal the NumPy reference.

Every adjust mode × interval, on SQLite, PostgreSQL and TimescaleDB (skipped with its reason
where the extension is absent), over the whole history and over a window that cuts through
split and dividend dates. Volumes, dates and symbols are compared exactly, prices to 1e-12
relative (the SQL path converts the same stored decimals to floats and multiplies them by the
same factors in the same order, so in practice they are equal bit for bit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.query import adjust as adj
from data_nexus.query import periods
from data_nexus.query.adjust import ADJUST_MODES
from data_nexus.query.bars import get_bars
from data_nexus.query.resample import INTERVALS
from data_nexus.records import Dividend, Split
from data_nexus.storage import frames
from data_nexus.storage.aggregates import FactorSteps, period_sql
from data_nexus.storage.capabilities import Capabilities
from tests.query.conftest import TODAY, sync_into
from tests.sync.helpers import symbols_of

PERIODS = [i for i in INTERVALS if i != "1d"]
WINDOWS: list[dict[str, Any]] = [{}, {"start": "2012-03-07", "end": "2019-11-13"}]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """8 symbols × 20 years with a forced reverse split, a split inside the last weeks and a
    split sharing its ex-date with a dividend."""
    config = EmulatorConfig(seed=5, symbols=8, start=dt.date(2005, 7, 1), today=TODAY)
    emu = EmulatorServer(config).start()
    names = symbols_of(emu)
    emu.advance(2, splits={names[1]: "1/8", names[3]: "3/2"}, dividends={names[3]: "0.4"})
    emu.advance(3, splits={names[5]: "4/1"})
    emu.advance(2)
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture(scope="module")
def sqlite_db(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('periods') / 'ref.db'}"
    sync_into(url, emulator)
    return url


@pytest.fixture(scope="module")
def references(sqlite_db: str, emulator: EmulatorServer) -> dict[tuple[str, str, int], Any]:
    """The NumPy reference (daily read, adjusted, resampled in NumPy) of every case."""
    symbols = symbols_of(emulator)
    out = {}
    periods.USE_SQL = False
    try:
        for adjust in ADJUST_MODES:
            for interval in PERIODS:
                for w, window in enumerate(WINDOWS):
                    out[(adjust, interval, w)] = get_bars(
                        symbols, adjust=adjust, interval=interval, url=sqlite_db, **window
                    )
    finally:
        periods.USE_SQL = None
    return out


def assert_same(ours: pd.DataFrame, reference: pd.DataFrame, what: str) -> None:
    assert len(ours) > 0, what
    assert ours.attrs["interval"] == reference.attrs["interval"], what
    exact = ["date", "symbol", "volume"]
    pd.testing.assert_frame_equal(ours[exact], reference[exact], check_exact=True, obj=what)
    prices = [c for c in ours.columns if c not in exact]
    pd.testing.assert_frame_equal(
        ours[prices], reference[prices], check_exact=False, rtol=1e-12, atol=0, obj=what
    )


def _no_daily_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resample in SQL on every backend (SQLite too), and fail if a resampled read falls back
    to reading dailies."""
    monkeypatch.setattr(periods, "USE_SQL", True)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("resampled in NumPy, not in SQL")

    monkeypatch.setattr(frames.FrameReader, "bars", refuse)


def check_backend(
    url: str,
    symbols: list[str],
    references: dict[tuple[str, str, int], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_daily_read(monkeypatch)
    for adjust in ADJUST_MODES:
        for interval in PERIODS:
            for w, window in enumerate(WINDOWS):
                ours = get_bars(symbols, adjust=adjust, interval=interval, url=url, **window)
                assert_same(ours, references[(adjust, interval, w)], f"{adjust} {interval} {w}")


def test_sqlite_sql_resampling_equals_the_numpy_reference(
    sqlite_db: str,
    emulator: EmulatorServer,
    references: dict[tuple[str, str, int], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_backend(sqlite_db, symbols_of(emulator), references, monkeypatch)


@pytest.fixture(params=["postgresql", "timescaledb"])
def server_db(request: pytest.FixtureRequest, emulator: EmulatorServer) -> str:
    fixture = "empty_pg_url" if request.param == "postgresql" else "empty_timescale_url"
    url = str(request.getfixturevalue(fixture))
    sync_into(url, emulator)
    return url


def test_server_sql_resampling_equals_the_numpy_reference(
    server_db: str,
    emulator: EmulatorServer,
    references: dict[tuple[str, str, int], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL (date_trunc) and TimescaleDB (time_bucket) against the SQLite NumPy reference."""
    check_backend(server_db, symbols_of(emulator), references, monkeypatch)


def test_the_chosen_bucket_follows_the_backend() -> None:
    steps = {"A.US": FactorSteps((dt.date(2020, 1, 6),), (0.25, 1.0))}
    cases = {
        "sqlite": "CAST(julianday(time) + 0.5 AS INTEGER) / 7",
        "postgresql": "date_trunc('week', time::timestamp)",
        "timescaledb": "time_bucket(INTERVAL '1 week', time)",
    }
    for backend, bucket in cases.items():
        caps = Capabilities(backend=backend, server_version="x")  # type: ignore[arg-type]
        text, params = period_sql(caps, ["A.US"], None, None, "1w", steps=steps)
        assert bucket in text
        flat = [v for p in params for v in (p if isinstance(p, list) else [p])]
        assert 0.25 in flat and 1.0 in flat  # the factors travel as bound parameters


def test_factor_steps_are_the_reference_factors() -> None:
    """Steps evaluated on a block's dates give price_factors' floats exactly."""
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-03-01")).astype(
        "datetime64[D]"
    )
    close = np.linspace(10.0, 20.0, len(days))
    block = adj.Block(["A.US"], np.array([0], np.int64), days, close)
    actions: list[Split | Dividend] = [
        Split("A.US", dt.date(2020, 1, 10), Decimal(2), Decimal(1)),
        Dividend("A.US", dt.date(2020, 1, 20), Decimal("0.3")),
        Split("A.US", dt.date(2020, 2, 3), Decimal(1), Decimal(4)),
        Dividend("A.US", dt.date(2020, 2, 3), Decimal("0.5")),
        Dividend("A.US", dt.date(2020, 2, 20), Decimal("0.1")),
    ]
    splits = [a for a in actions if isinstance(a, Split)]
    dividends = [a for a in actions if isinstance(a, Dividend)]
    cutoff = {"A.US": dt.date(2020, 2, 29)}
    row = {d.astype(object): i for i, d in enumerate(days)}
    closes = {(d.symbol, d.date): Decimal(repr(float(close[row[d.date] - 1]))) for d in dividends}
    for mode in ("splits", "all"):
        expected = adj.price_factors(mode, block, splits, dividends, cutoff=cutoff)
        every = periods.factor_steps(mode, ["A.US"], actions, cutoff=cutoff, previous_close=closes)
        steps = every["A.US"]
        where = np.searchsorted(np.array(steps.bounds, "datetime64[D]"), days, side="right")
        got = np.array(steps.factors)[where]
        assert expected is not None
        np.testing.assert_array_equal(got, expected)


def test_many_ranges_split_into_statements_and_nested_unions(
    sqlite_db: str,
    emulator: EmulatorServer,
    references: dict[tuple[str, str, int], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite's 500-term compound SELECT limit and its parameter limit: groups of branches
    nest, and symbols spread over statements; the bars are the same."""
    from data_nexus.storage import aggregates

    monkeypatch.setattr(aggregates, "COMPOUND", 3)
    monkeypatch.setattr(aggregates, "SEGMENTS", 20)
    monkeypatch.setattr(aggregates, "SYMBOL_GROUP", 3)
    _no_daily_read(monkeypatch)
    symbols = symbols_of(emulator)
    for adjust in ("none", "all"):
        ours = get_bars(symbols, adjust=adjust, interval="1w", url=sqlite_db)
        assert_same(ours, references[(adjust, "1w", 0)], adjust)


def test_sqlite_resamples_in_numpy_by_default_servers_in_sql() -> None:
    """The default path follows the capabilities (the reason is in their docstring)."""
    assert not Capabilities(backend="sqlite", server_version="x").resample_in_sql
    assert Capabilities(backend="postgresql", server_version="x").resample_in_sql
    assert Capabilities(backend="timescaledb", server_version="x").resample_in_sql
