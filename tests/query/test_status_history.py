"""``get_status`` says how far back the provider has been asked for each asset's history
(``assets.history_from``): a ``--since`` fetch reaches its date, a fetch without ``from``
the whole history, and an asset never fetched nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.query.status import get_status
from data_nexus.sync.plan import WHOLE_HISTORY
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import clock_at, settings_for, symbols_of

TODAY = dt.date(2024, 6, 3)


def test_status_reports_history_from(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    emu = start_emulator(seed=5, symbols=3, start=dt.date(2020, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu)
    since_one, whole_one, never = symbols_of(emu)[:3]
    add_assets(settings, [since_one, whole_one, never])
    clock = clock_at(TODAY)
    since = dt.date(2023, 1, 3)
    run_sync(settings, SyncOptions(symbols=(since_one,), since=since), clock=clock)
    run_sync(settings, SyncOptions(symbols=(whole_one,)), clock=clock)
    frame = get_status(clock(), url=sqlite_url).set_index("symbol")
    assert frame.loc[since_one, "history_from"] == since
    assert frame.loc[whole_one, "history_from"] == WHOLE_HISTORY
    assert frame.loc[never, "history_from"] is None
