"""A symbol the provider does not know, named on the command line, does not stay registered."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from pydantic import SecretStr

from data_nexus.assets import add_assets, list_assets
from data_nexus.config import Settings
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.storage.migrate import upgrade_db
from data_nexus.sync.events import AssetSynced, Notice
from data_nexus.sync.runner import StopSignal, arun_sync, run_sync
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import SyncOptions, SyncSummary
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


def _registry(settings: Settings) -> list[str]:
    return sorted(a.symbol for a in list_assets(settings))


def test_symbols_a_stopped_run_never_reached_are_not_left_registered(tmp_path: Path) -> None:
    """`sync A B C` stopped after A (Ctrl-C): A stays (synced), B and C were never fetched,
    so they are not kept as if real; a notice says so, and the same command resumes."""
    config = EmulatorConfig(
        seed=5, symbols=4, start=dt.date(2024, 1, 1), today=dt.date(2024, 6, 28)
    )
    with EmulatorServer(config).start() as emu:
        settings = settings_for(f"sqlite:///{tmp_path / 'w.db'}", emu)
        upgrade_db(settings)
        clock = clock_at(emu.market.today)
        add_assets(settings, ["KEPT.US"], clock=clock)  # registered by the user: never removed
        first, *rest = symbols_of(emu)[:3]
        stop = StopSignal()
        events: list[object] = []

        def on_event(event: object) -> None:
            events.append(event)
            if isinstance(event, AssetSynced):
                stop.set("interrupted")

        async def main() -> SyncSummary:
            return await arun_sync(
                settings,
                SyncOptions(symbols=(first, *rest, "KEPT.US"), concurrency=1),
                clock=clock,
                on_event=on_event,
                stop=stop,
            )

        summary = asyncio.run(main())
        # the stop comes at A's commit; with the writer's batching the next asset may already
        # be fetched by then (in-flight assets finish), so one or two are synced, never three
        synced = {e.symbol for e in events if isinstance(e, AssetSynced)}
        assert 1 <= summary.synced == len(synced) < 3
        assert summary.status is RunStatus.INTERRUPTED
        never = sorted({first, *rest} - synced)
        assert _registry(settings) == sorted([*synced, "KEPT.US"])
        notices = [(e.symbol, e.text) for e in events if isinstance(e, Notice)]
        assert notices == [
            (s, f"{s} was not registered: the run stopped before fetching it "
                "(run the same command again)")
            for s in never
        ]  # fmt: skip
        again = run_sync(settings, SyncOptions(symbols=(first, *rest)), clock=clock)
        assert again.synced == len(never)
        assert _registry(settings) == sorted([first, *rest, "KEPT.US"])


def test_a_refused_token_leaves_no_new_symbol_registered(tmp_path: Path) -> None:
    """`sync NEW.US` with a wrong token: stopped before any asset (exit 3 in the CLI); NEW.US
    is not left behind as a registered asset that was never confirmed."""
    config = EmulatorConfig(
        seed=5, symbols=2, start=dt.date(2024, 1, 1), today=dt.date(2024, 6, 28)
    )
    with EmulatorServer(config).start() as emu:
        settings = settings_for(f"sqlite:///{tmp_path / 'w.db'}", emu).model_copy(
            update={"eodhd_api_token": SecretStr("wrong")}
        )
        upgrade_db(settings)
        add_assets(settings, ["KEPT.US"])
        summary = run_sync(
            settings,
            SyncOptions(symbols=(symbols_of(emu)[0], "KEPT.US")),
            clock=clock_at(emu.market.today),
        )
        assert summary.status is RunStatus.STOPPED
        assert _registry(settings) == ["KEPT.US"]
