"""Every adjust mode × interval gives the same frame on SQLite, PostgreSQL and TimescaleDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.query.adjust import ADJUST_MODES
from data_nexus.query.bars import get_bars, get_returns
from data_nexus.query.resample import INTERVALS
from data_nexus.query.status import get_actions
from tests.query.conftest import TODAY, sync_into
from tests.sync.helpers import symbols_of


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """25 symbols × 20 years, with a forced reverse split and a same-day split and dividend."""
    config = EmulatorConfig(seed=3, symbols=25, start=dt.date(2005, 7, 1), today=TODAY)
    emu = EmulatorServer(config).start()
    names = symbols_of(emu)
    emu.advance(1, splits={names[2]: "1/8", names[4]: "2/1"}, dividends={names[4]: "0.4"})
    emu.advance(3)
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture(scope="module")
def reference(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ref.db'}"
    sync_into(url, emulator)
    return url


@pytest.fixture(params=["postgresql", "timescaledb"])
def server_url(request: pytest.FixtureRequest, emulator: EmulatorServer) -> str:
    fixture = "empty_pg_url" if request.param == "postgresql" else "empty_timescale_url"
    url = str(request.getfixturevalue(fixture))
    sync_into(url, emulator)
    return url


def test_every_mode_and_interval_is_equal_across_backends(
    reference: str, server_url: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    symbols = symbols_of(emulator)
    for adjust in ADJUST_MODES:
        for interval in INTERVALS:
            ours = get_bars(symbols, adjust=adjust, interval=interval, url=server_url)
            theirs = get_bars(symbols, adjust=adjust, interval=interval, url=reference)
            assert len(ours) > 0, (adjust, interval)
            pd.testing.assert_frame_equal(ours, theirs, check_exact=True, obj=adjust + interval)
    exact = get_bars(symbols, exact=True, url=server_url)
    pd.testing.assert_frame_equal(exact, get_bars(symbols, exact=True, url=reference))
    window = {"start": "2010-01-01", "end": "2012-06-30"}
    pd.testing.assert_frame_equal(
        get_bars(symbols, adjust="all", url=server_url, **window),
        get_bars(symbols, adjust="all", url=reference, **window),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        get_returns(symbols, kind="total", interval="1mo", url=server_url),
        get_returns(symbols, kind="total", interval="1mo", url=reference),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        get_actions(symbols, url=server_url), get_actions(symbols, url=reference)
    )


def test_reads_in_symbol_groups_equal_one_read(
    reference: str, server_url: str, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bars read a few symbols per statement (as for large requests) are the same frame."""
    from data_nexus.storage import frames

    symbols = symbols_of(emulator)
    whole = {url: get_bars(symbols, url=url) for url in (reference, server_url)}
    exact = get_bars(symbols, exact=True, url=server_url)
    monkeypatch.setattr(frames, "BAR_GROUP", 4)
    for url, frame in whole.items():
        pd.testing.assert_frame_equal(get_bars(symbols, url=url), frame, check_exact=True)
    pd.testing.assert_frame_equal(get_bars(symbols, exact=True, url=server_url), exact)
    # each group's COPY turns sorts off for itself only (SET LOCAL), not for the
    # reader's later statements
    with frames.reading(server_url) as reader:
        assert reader.bars(symbols).num_rows == len(whole[server_url])
        assert reader._rows("SHOW enable_sort", []) == [("on",)]
