"""A symbol the provider does not know, named on the command line, does not stay registered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from data_nexus.assets import add_assets, list_assets
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.storage.migrate import upgrade_db
from data_nexus.sync.events import Notice
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import clock_at, settings_for, symbols_of


def test_a_mistyped_symbol_is_reported_and_not_left_registered(tmp_path: Path) -> None:
    """`sync REAL.US NOPEX.US`: REAL syncs, NOPEX fails (exit 1 in the CLI) and is not kept;
    a symbol registered earlier by `assets add` stays, whatever the provider says."""
    config = EmulatorConfig(
        seed=5, symbols=3, start=dt.date(2024, 1, 1), today=dt.date(2024, 6, 28)
    )
    with EmulatorServer(config).start() as emu:
        url = f"sqlite:///{tmp_path / 'w.db'}"
        settings = settings_for(url, emu)
        upgrade_db(settings)
        clock = clock_at(emu.market.today)
        add_assets(settings, ["KEPT.US"], clock=clock)  # the user's own registration
        real = symbols_of(emu)[0]
        events: list[object] = []
        summary = run_sync(
            settings,
            SyncOptions(symbols=(real, "NOPEX.US", "KEPT.US")),
            clock=clock,
            on_event=events.append,
        )
        assert summary.synced == 1
        assert set(summary.failed) == {"NOPEX.US", "KEPT.US"}
        assert sorted(a.symbol for a in list_assets(settings)) == sorted([real, "KEPT.US"])
        notices = [e for e in events if isinstance(e, Notice) and e.symbol == "NOPEX.US"]
        assert [n.text for n in notices] == [
            "NOPEX.US is not known to the provider: it was not registered"
        ]
