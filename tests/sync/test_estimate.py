"""A dry run's call estimate is what the run then spends, by the emulator's own count:
the fetches plus the one usage check (``/user``) a run makes before them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.sync.runner import USAGE_CHECK_CALLS, run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import clock_at, settings_for, symbols_of

TODAY = dt.date(2024, 6, 3)


@pytest.mark.parametrize("bulk", ["never", "always"])
def test_dry_run_estimate_equals_the_calls_charged(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer], bulk: str
) -> None:
    emu = start_emulator(seed=3, symbols=4, start=dt.date(2022, 1, 3), today=TODAY)
    settings = settings_for(sqlite_url, emu)
    add_assets(settings, symbols_of(emu))
    for day in (TODAY - dt.timedelta(days=7), TODAY):  # a first sync, then an incremental one
        clock = clock_at(day)
        options = SyncOptions(max_age=dt.timedelta(0), bulk=bulk)  # type: ignore[arg-type]
        dry = run_sync(settings, replace(options, dry_run=True), clock=clock)
        before = emu.stats()["calls_charged"]
        real = run_sync(settings, options, clock=clock)
        charged = emu.stats()["calls_charged"] - before
        assert dry.calls_estimate == charged == real.calls_spent, (day, bulk)
        assert sum(p.calls for p in dry.plan) + USAGE_CHECK_CALLS <= dry.calls_estimate


def test_nothing_due_estimates_nothing(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """No due asset: no usage check either, so the estimate is 0."""
    emu = start_emulator(seed=3, symbols=2, start=dt.date(2022, 1, 3), today=TODAY)
    settings = settings_for(sqlite_url, emu)
    add_assets(settings, symbols_of(emu))
    run_sync(settings, SyncOptions(), clock=clock_at(TODAY))
    dry = run_sync(settings, SyncOptions(dry_run=True), clock=clock_at(TODAY))
    assert (dry.planned, dry.calls_estimate) == (0, 0)
