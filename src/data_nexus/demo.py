"""``datanexus demo``: the offline tour.

Starts the EODHD emulator in-process, registers its US universe, syncs it into an SQLite
database of its own (``data_nexus_demo.db``) and returns what it did. Synthetic prices
never mix into a real warehouse: the demo marks its database, and refuses a database that
holds data it did not write.

Real provider data is dirty, so the demo's is too: the emulator serves a few kinds of
real-world dirt (:data:`DEMO_DIRT`: a row without prices, impossible splits and broken
dividends, prices below 1e-8) on a few symbols. The sync stores what it can and records
a finding for each row it skips; ``datanexus check`` lists them. :attr:`DemoResult.injected`
is the emulator's ground truth of what it served.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from data_nexus.assets import add_assets
from data_nexus.clock import Clock, utcnow
from data_nexus.config import Settings
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.emulator.dirt import Injected
from data_nexus.errors import InvalidOption, NotADemoDatabase
from data_nexus.exchanges import exchange_today
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage import provider_state, registry
from data_nexus.storage.findings import open_findings
from data_nexus.storage.store import Store
from data_nexus.sync.events import EventHandler, ignore
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions, SyncSummary

DEMO_DATABASE_URL = "sqlite:///data_nexus_demo.db"
DEMO_MARK = "synthetic data from datanexus demo"
DEMO_SHOWCASE = "AAPL.US"
#: The kinds of real-world dirt the demo's emulator serves (see ``docs/emulator.md``).
DEMO_DIRT = ("null_prices", "bad_actions", "tiny_prices", "off_session_bar")


@dataclass(slots=True)
class DemoResult:
    """What the demo did, and a few rows to show: ``injected`` is the dirt the emulator
    served (its ground truth), ``findings`` the open findings in the database afterwards,
    ``config`` the emulator's configuration (``config.build_market()`` rebuilds its market).
    """

    database: str
    emulator_url: str
    symbols: list[str]
    summary: SyncSummary
    seconds: float
    bars: list[Bar] = field(default_factory=list)
    actions: list[Split | Dividend] = field(default_factory=list)
    total_bars: int = 0
    total_actions: int = 0
    injected: list[Injected] = field(default_factory=list)
    findings: int = 0
    config: EmulatorConfig | None = None


def _claim_database(store: Store, now: dt.datetime) -> None:
    """Mark the database as the demo's, or refuse one that holds other data."""
    with store.atomic() as conn:
        if provider_state.demo_mark(conn) is not None:
            return
        if registry.count_assets(conn):
            raise NotADemoDatabase(
                "this database already holds assets the demo did not write; the demo only "
                "writes synthetic prices into a database of its own"
            )
        provider_state.set_demo_mark(conn, DEMO_MARK, now)


def check_demo_options(symbols: int, years: int) -> None:
    """Raise :class:`InvalidOption` for a symbol or year count the demo does not take."""
    if not 1 <= symbols <= 500:
        raise InvalidOption("symbols", symbols, "must be between 1 and 500")
    if not 1 <= years <= 30:
        raise InvalidOption("years", years, "must be between 1 and 30")


def run_demo(
    *,
    database_url: str | None = None,
    symbols: int = 12,
    years: int = 10,
    seed: int = 7,
    dirty: tuple[str, ...] = DEMO_DIRT,
    on_event: EventHandler = ignore,
    clock: Clock = utcnow,
    handle_signals: bool = False,
) -> DemoResult:
    """Run the offline tour and return what it did (see the module docstring).

    ``dirty``: the kinds of real-world dirt served (:data:`DEMO_DIRT`; ``()`` for a clean
    market). ``handle_signals``: SIGINT/SIGTERM during the sync stop it as they stop
    :func:`~data_nexus.sync.runner.run_sync` (the summary's status is then ``interrupted``,
    and so is its ``sync_runs`` row). Raises :class:`UsageError` for out-of-range options
    or a database that holds data the demo did not write.
    """
    check_demo_options(symbols, years)
    now = clock()
    # New York's date, not UTC's: between midnight UTC and midnight in New York the next
    # day's session has not happened, and a bar for it would be a future bar
    today = exchange_today("US", now)
    config = EmulatorConfig(
        seed=seed,
        symbols=symbols,
        exchanges=("US",),
        start=dt.date(today.year - years, 1, 2),
        today=today,
        dirty=dirty,
    )
    with EmulatorServer(config) as emu:
        settings = Settings(
            database_url=database_url or DEMO_DATABASE_URL,
            eodhd_api_token=emu.token,
            eodhd_base_url=emu.base_url,
            eodhd_rate_limit=100_000,
            _env_file=None,
        )
        names = [s.symbol for s in emu.market.symbols("US")]
        store = Store.open(settings)
        try:
            _claim_database(store, now)
            add_assets(store, names, clock=clock)
        finally:
            store.close()
        started = time.monotonic()
        summary = run_sync(
            settings,
            SyncOptions(concurrency=8),
            on_event=on_event,
            clock=clock,
            handle_signals=handle_signals,
        )
        seconds = time.monotonic() - started
        store = Store.open(settings)
        try:
            showcase = DEMO_SHOWCASE if DEMO_SHOWCASE in names else names[0]
            bars = store.read_bars([showcase], start=today - dt.timedelta(days=14))
            actions = store.read_actions([showcase])
            with store.connection() as conn:
                total_bars, total_actions = registry.count_rows(conn)
                findings = len(open_findings(conn))
        finally:
            store.close()
        return DemoResult(
            database=settings.database_url,
            emulator_url=emu.base_url,
            symbols=names,
            summary=summary,
            seconds=seconds,
            bars=bars[-5:],
            actions=actions[-3:],
            total_bars=int(total_bars),
            total_actions=int(total_actions),
            injected=emu.truth(),
            findings=findings,
            config=config,
        )
