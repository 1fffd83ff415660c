"""Helpers for end-to-end sync tests against the emulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from data_nexus.config import Settings
from data_nexus.emulator import EmulatorServer
from data_nexus.models import SYNC_RUNS
from data_nexus.storage.engine import open_engine
from data_nexus.storage.store import Store
from tests.conftest import make_settings


def settings_for(url: str, emu: EmulatorServer, **extra: object) -> Settings:
    """Settings that point the sync at ``emu`` and the database at ``url``."""
    extra.setdefault("eodhd_rate_limit", 1_000_000)  # the emulator has no limit unless told
    return make_settings(url, eodhd_api_token=emu.token, eodhd_base_url=emu.base_url, **extra)


def clock_at(day: dt.date, hour: int = 23) -> Callable[[], dt.datetime]:
    """A fixed clock: ``day`` at ``hour``:00 UTC (after the US close, same New York date)."""
    instant = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
    return lambda: instant


def symbols_of(emu: EmulatorServer, exchange: str = "US", delisted: bool = False) -> list[str]:
    """The emulator's symbols on ``exchange``."""
    return [s.symbol for s in emu.market.symbols(exchange, include_delisted=delisted)]


def mismatches(url: str, emu: EmulatorServer, symbols: Sequence[str]) -> list[str]:
    """Symbols whose stored bars or corporate actions differ from the emulator's."""
    store = Store.open(url)
    bad = []
    try:
        for symbol in symbols:
            bars = store.read_bars([symbol])
            actions = store.read_actions([symbol])
            expected = [*emu.market.splits(symbol), *emu.market.dividends(symbol)]

            def key(a: object) -> tuple[dt.date, str]:
                return (a.date, a.action_type)  # type: ignore[attr-defined]

            if bars != emu.market.bars(symbol) or sorted(actions, key=key) != sorted(
                expected, key=key
            ):
                bad.append(symbol)
    finally:
        store.close()
    return bad


def price_calls(emu: EmulatorServer) -> int:
    """Per-symbol and bulk price/action requests the emulator received since the last reset."""
    requests = emu.stats()["requests"]
    return sum(requests[k] for k in ("eod", "splits", "div", "eod-bulk-last-day"))


def sync_runs(url: str) -> list[sa.RowMapping]:
    """Every ``sync_runs`` row, oldest first."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(SYNC_RUNS).order_by(SYNC_RUNS.c.id)).mappings())
    finally:
        engine.dispose()
