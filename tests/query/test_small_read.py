"""The one-symbol daily read (``query.bars._one_symbol``: one query, the table built
directly) answers exactly what the general path answers, on SQLite, PostgreSQL and
TimescaleDB (skipped where the extension is missing).

Same Arrow table (schema, values, metadata), same DataFrame (dtypes, values, attrs), for
every adjust mode, exact prices, ranges inside, around and outside the data, a registered
symbol without bars, and the same error for an unknown symbol.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import psycopg
import pyarrow as pa
import pytest
from sqlalchemy.engine import make_url

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.errors import UsageError
from data_nexus.query.adjust import ADJUST_MODES
from data_nexus.query.bars import (
    _read,
    frame_to_arrow,
    frame_to_pandas,
    get_bars,
    get_bars_arrow,
    get_returns,
)
from data_nexus.storage import sqlite_frames
from data_nexus.storage.frames import open_reader
from data_nexus.storage.migrate import upgrade_db
from tests.conftest import make_settings
from tests.query.conftest import TODAY, sync_into
from tests.sync.helpers import clock_at, settings_for, symbols_of

#: Registered after the sync: known, without bars (``last_date`` NULL).
BARE = "NOBARS.US"
RANGES = [
    (None, None),
    ("2023-01-01", "2023-12-31"),
    ("2025-06-01", None),  # the last weeks: the forced split and dividend
    (None, "2020-03-15"),
    ("2030-01-01", None),  # after the data
    ("2024-07-06", "2024-07-07"),  # a weekend: no bars
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """4 symbols × 6 years, with a forced reverse split and a same-day split and dividend."""
    config = EmulatorConfig(seed=5, symbols=4, start=dt.date(2019, 7, 1), today=TODAY)
    emu = EmulatorServer(config).start()
    names = symbols_of(emu)
    emu.advance(1, splits={names[0]: "1/8", names[1]: "2/1"}, dividends={names[1]: "0.4"})
    emu.advance(3)
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture(params=["sqlite", "postgresql", "timescaledb"])
def url(
    request: pytest.FixtureRequest,
    emulator: EmulatorServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    if request.param == "sqlite":
        target = f"sqlite:///{tmp_path_factory.mktemp('small_read') / 'w.db'}"
    else:
        fixture = "empty_pg_url" if request.param == "postgresql" else "empty_timescale_url"
        target = str(request.getfixturevalue(fixture))
    sync_into(target, emulator)
    add_assets(settings_for(target, emulator), [BARE], clock=clock_at(emulator.market.today))
    return target


def general_arrow(url: str, symbol: str, *args: object) -> pa.Table:
    with open_reader(url) as reader:
        return frame_to_arrow(*_read(reader, symbol, *args, small=False))  # type: ignore[arg-type]


def general_pandas(url: str, symbol: str, *args: object) -> pd.DataFrame:
    with open_reader(url) as reader:
        return frame_to_pandas(*_read(reader, symbol, *args, small=False))  # type: ignore[arg-type]


def assert_same(url: str, symbol: str, start: str | None, end: str | None, adjust: str) -> None:
    exacts = [False, True] if adjust == "none" else [False]
    for exact in exacts:
        label = f"{symbol} {start}..{end} {adjust} exact={exact}"
        small = get_bars_arrow(symbol, start, end, adjust, "1d", exact, url=url)
        general = general_arrow(url, symbol, start, end, adjust, "1d", exact)
        assert small.schema.equals(general.schema, check_metadata=True), label
        assert small.equals(general), label
        assert small.schema.metadata == general.schema.metadata, label
        frame = get_bars(symbol, start, end, adjust, "1d", exact, url=url)
        expected = general_pandas(url, symbol, start, end, adjust, "1d", exact)
        pd.testing.assert_frame_equal(frame, expected, check_exact=True, obj=label)
        assert frame.attrs == expected.attrs, label


def test_one_symbol_reads_equal_the_general_path(url: str, emulator: EmulatorServer) -> None:
    symbols = symbols_of(emulator)
    for symbol in symbols:
        for adjust in ADJUST_MODES:
            for start, end in RANGES:
                assert_same(url, symbol, start, end, adjust)
    raw = get_bars_arrow(symbols[1], "2025-06-01", None, url=url)
    newest = raw.column("date")[-1].as_py().isoformat().encode()
    assert raw.num_rows > 0 and raw.schema.metadata[b"cutoff"] == newest
    adjusted = get_bars_arrow(symbols[1], "2025-06-01", None, "all", url=url)
    assert not adjusted.column("close").equals(raw.column("close"))  # the split moved prices


def test_a_symbol_without_bars_and_an_unknown_one(url: str) -> None:
    for adjust in ADJUST_MODES:
        assert_same(url, BARE, None, None, adjust)
    empty = get_bars_arrow(BARE, url=url)
    assert empty.num_rows == 0
    assert empty.column("symbol").type == pa.dictionary(pa.int32(), pa.string())
    assert empty.schema.metadata[b"cutoff"] == b""
    for read in (get_bars, get_bars_arrow):
        with pytest.raises(
            UsageError, match=r"unknown symbol\(s\) NOPE\.US: not in this warehouse"
        ):
            read("NOPE.US", url=url)
    with open_reader(url) as reader, pytest.raises(UsageError, match=r"NOPE\.US"):
        _read(reader, "NOPE.US", None, None, "none", "1d", False, small=False)


def test_returns_of_one_symbol_use_the_same_bars(url: str, emulator: EmulatorServer) -> None:
    symbol = symbols_of(emulator)[1]
    one = get_returns(symbol, kind="total", url=url)
    both = get_returns(symbols_of(emulator)[:2], kind="total", url=url)
    part = both[both["symbol"] == symbol].reset_index(drop=True)
    pd.testing.assert_series_equal(one["return"], part["return"], check_exact=True)
    pd.testing.assert_series_equal(one["growth"], part["growth"], check_exact=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_missing_values_and_the_sqlite3_fallback(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Null prices and volumes (on SQLite in the first rows, so ADBC infers from nothing)
    read alike on both paths; on SQLite also through ``sqlite3`` (no driver)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'gaps.db'}"
    else:
        url = str(request.getfixturevalue("empty_pg_url"))
    settings = make_settings(url)
    upgrade_db(settings)
    add_assets(settings, ["GAPS.US"], clock=clock_at(TODAY))
    rows = [(f"2024-01-{d:02d}", None, None, None, "10.5", None, None) for d in range(1, 6)] + [
        (f"2024-02-{d:02d}", "1.25", "2", "0.000000000000000001", "1.5", "1.4", d * 10**15)
        for d in range(1, 20)
    ]
    insert = (
        "INSERT INTO market_data (symbol, time, open, high, low, close, adjusted_close, "
        "volume) VALUES ('GAPS.US', ?, ?, ?, ?, ?, ?, ?)"
    )
    update = "UPDATE assets SET last_date = '2024-02-19' WHERE symbol = 'GAPS.US'"
    if backend == "sqlite":
        with sqlite3.connect(tmp_path / "gaps.db") as conn:
            conn.executemany(insert, rows)
            conn.execute(update)
    else:
        with psycopg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(False)
        ) as pg:
            pg.cursor().executemany(insert.replace("?", "%s"), rows)
            pg.execute(update)
    for driver in (True, False) if backend == "sqlite" else (True,):
        if not driver:
            monkeypatch.setattr(sqlite_frames, "adbc_sqlite", None)
        for adjust in ADJUST_MODES:
            for start, end in [(None, None), ("2024-01-01", "2024-01-31"), ("2024-03-01", None)]:
                assert_same(url, "GAPS.US", start, end, adjust)
        table = get_bars_arrow("GAPS.US", exact=True, url=url)
        assert table.column("open").null_count == 5 and table.column("volume").null_count == 5
        assert table.column("low")[-1].as_py() == Decimal("1E-18")
