"""A synced warehouse for the query tests: the real sync from the emulator over a socket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.storage.migrate import upgrade_db
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import clock_at, settings_for, symbols_of

TODAY = dt.date(2025, 6, 30)


@dataclass(frozen=True)
class Synced:
    """An emulator and a database synced from it."""

    emu: EmulatorServer
    url: str
    symbols: list[str]


def sync_into(url: str, emu: EmulatorServer, symbols: list[str] | None = None) -> list[str]:
    """Register and sync ``symbols`` (default: all of the emulator's US symbols) into ``url``."""
    settings = settings_for(url, emu)
    upgrade_db(settings)
    names = symbols or symbols_of(emu)
    today = emu.market.today
    add_assets(settings, names, clock=clock_at(today))
    summary = run_sync(settings, SyncOptions(), clock=clock_at(today))
    assert summary.synced == len(names) and not summary.failed
    return names


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """200 symbols × 8 years synced into SQLite: the emulator's own splits and dividends plus
    forced reverse splits and a split sharing its ex-date with a dividend, a week before the
    end of the data.

    8 years rather than 20 keeps the sync near 20 s on a loaded 2-core machine; the
    20-year, 200-symbol run took 56 s there.
    """
    config = EmulatorConfig(seed=11, symbols=200, start=dt.date(2017, 7, 1), today=TODAY)
    emu = EmulatorServer(config).start()
    names = symbols_of(emu)
    emu.advance(
        1,
        splits={names[5]: "1/10", names[17]: "1/4", names[30]: "3/1"},
        dividends={names[30]: "0.75", names[5]: "0.2"},
    )
    emu.advance(7)
    try:
        path: Path = tmp_path_factory.mktemp("universe") / "warehouse.db"
        url = f"sqlite:///{path}"
        yield Synced(emu, url, sync_into(url, emu))
    finally:
        emu.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """12 symbols × 15 years in SQLite, with a forced reverse split and a same-day split and
    dividend, for export/import and CLI tests."""
    config = EmulatorConfig(seed=7, symbols=12, start=dt.date(2010, 7, 1), today=TODAY)
    emu = EmulatorServer(config).start()
    names = symbols_of(emu)
    emu.advance(1, splits={names[1]: "1/5", names[3]: "3/2"}, dividends={names[3]: "0.35"})
    emu.advance(2)
    try:
        url = f"sqlite:///{tmp_path_factory.mktemp('small') / 'small.db'}"
        yield Synced(emu, url, sync_into(url, emu))
    finally:
        emu.close()
