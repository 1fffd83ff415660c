"""Crash: SIGKILL a sync at seeded random points; every asset stays entirely old or new.

Each round moves the emulator's market on (a new session, sometimes a split or a dividend,
which rewrites a symbol's whole adjusted history), starts ``datanexus sync --max-age 0``,
waits until a random number of assets has committed, waits a random fraction of a second
more (so the kill lands anywhere, also inside a write) and SIGKILLs it. After every kill
each asset is either exactly what it was before the round or exactly the emulator's new
data — bars, corporate actions, ``last_synced`` and coverage together — with no duplicate
row and no lease in the way; a final unkilled run completes and the database equals the
emulator's. 20 kill points per backend, 100 in release mode (``--long``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.models import ASSETS, CORPORATE_ACTIONS, MARKET_DATA
from data_nexus.storage.engine import open_engine
from data_nexus.storage.store import Store
from tests.guarantees.helpers import Capture, Child, Forker
from tests.sync.helpers import mismatches, settings_for, symbols_of

pytestmark = [pytest.mark.guarantees, pytest.mark.slow]

SYMBOLS = 10
ROUNDS, LONG_ROUNDS = 20, 100


@dataclass(frozen=True)
class AssetImage:
    """Everything stored about one asset that a sync writes."""

    bars: tuple[Any, ...]
    actions: tuple[Any, ...]
    last_synced: dt.datetime | None
    first_date: dt.date | None
    last_date: dt.date | None


def _key(action: Any) -> tuple[dt.date, str]:
    return (action.date, action.action_type)


def images(url: str, symbols: list[str]) -> dict[str, AssetImage]:
    """The stored image of each asset."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            rows = {
                r.symbol: r
                for r in conn.execute(
                    sa.select(
                        ASSETS.c.symbol,
                        ASSETS.c.last_synced,
                        ASSETS.c.first_date,
                        ASSETS.c.last_date,
                    )
                )
            }
    finally:
        engine.dispose()
    store = Store.open(url)
    try:
        return {
            s: AssetImage(
                tuple(store.read_bars([s])),
                tuple(sorted(store.read_actions([s]), key=_key)),
                rows[s].last_synced,
                rows[s].first_date,
                rows[s].last_date,
            )
            for s in symbols
        }
    finally:
        store.close()


def emulator_image(emu: EmulatorServer, symbol: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The emulator's bars and actions of ``symbol`` today."""
    actions = [*emu.market.splits(symbol), *emu.market.dividends(symbol)]
    return tuple(emu.market.bars(symbol)), tuple(sorted(actions, key=_key))


def check_whole(
    url: str, emu: EmulatorServer, before: dict[str, AssetImage]
) -> tuple[dict[str, AssetImage], int]:
    """Each asset is its image ``before`` or the emulator's data; returns images and #new."""
    after = images(url, list(before))
    new = 0
    for symbol, now in after.items():
        old = before[symbol]
        if now == old:
            continue
        bars, actions = emulator_image(emu, symbol)
        assert (now.bars, now.actions) == (bars, actions), f"{symbol}: half-written"
        assert now.last_synced is not None and now.last_synced != old.last_synced, symbol
        new += 1
    for symbol, now in after.items():  # coverage agrees with the bars
        first = now.bars[0].date if now.bars else None
        last = now.bars[-1].date if now.bars else None
        assert (now.first_date, now.last_date) == (first, last), f"{symbol}: coverage"
    assert duplicates(url) == 0
    return after, new


def duplicates(url: str) -> int:
    """Rows sharing a key in market_data and corporate_actions (0 when the keys hold)."""
    engine = open_engine(url)
    total = 0
    try:
        with engine.connect() as conn:
            for table, key in (
                (MARKET_DATA, ("symbol", "time")),
                (CORPORATE_ACTIONS, ("symbol", "date", "action_type")),
            ):
                grouped = (
                    sa.select(sa.func.count().label("n"))
                    .select_from(table)
                    .group_by(*(table.c[k] for k in key))
                    .subquery()
                )
                total += int(
                    conn.execute(
                        sa.select(sa.func.coalesce(sa.func.sum(grouped.c.n - 1), 0))
                    ).scalar_one()
                )
    finally:
        engine.dispose()
    return total


def committed_since(url: str, before: dict[str, AssetImage]) -> int:
    """Assets whose ``last_synced`` moved since ``before``."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(ASSETS.c.symbol, ASSETS.c.last_synced)).all()
    finally:
        engine.dispose()
    return sum(1 for s, synced in rows if s in before and synced != before[s].last_synced)


def advance_market(emu: EmulatorServer, rng: random.Random, symbols: list[str]) -> None:
    """One more calendar day; sometimes a split or a dividend on a random symbol."""
    while True:
        splits, dividends = {}, {}
        if rng.random() < 0.4:
            splits[rng.choice(symbols)] = rng.choice(["2/1", "3/2", "1/4"])
        if rng.random() < 0.4:
            dividends[rng.choice(symbols)] = "0.37"
        try:
            emu.market.advance(1, splits=splits, dividends=dividends)
            return
        except ValueError:  # no trading day today (a weekend): move on without an action
            emu.market.advance(1)
            return


def kill_at_random_point(
    forker: Forker,
    child: Child,
    url: str,
    before: dict[str, AssetImage],
    rng: random.Random,
) -> bool:
    """Wait for a random number of commits plus a random delay, SIGKILL; whether it ran."""
    target = rng.randint(0, SYMBOLS // 2)
    deadline = time.monotonic() + 120
    while committed_since(url, before) < target and forker.poll(child) is None:
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.1))
    code = forker.kill(child)
    assert code in (0, -9), f"the sync ended with {code} before it was killed"
    return code < 0


def test_sigkill_at_seeded_random_points(
    *,
    guard_url: str,
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    long_mode: bool,
    tmp_path: Path,
) -> None:
    """After every kill each asset is whole (old or new); a final run makes the db equal."""
    url = guard_url
    rounds = LONG_ROUNDS if long_mode else ROUNDS
    # The emulator's today trails the real clock, so each round can move it on by a day.
    today = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=rounds + 5)
    emu = emulator(seed=31, symbols=SYMBOLS, today=today, latency_ms=50)
    symbols = symbols_of(emu)
    add_assets(settings_for(url, emu), symbols)
    rng = random.Random(20261129 + url.startswith("postgresql"))
    before = images(url, symbols)
    killed = 0
    for _ in range(rounds):
        child = capture.fork(
            forker, "sync", "--max-age", "0", "--concurrency", "2", url=url, emu=emu, cwd=tmp_path
        )
        killed += kill_at_random_point(forker, child, url, before, rng)
        _, err = capture.outputs(child)
        assert "Traceback" not in err
        before, _ = check_whole(url, emu, before)
        advance_market(emu, rng, symbols)
    # most kills land mid-run; a run that finished first still had to leave everything whole
    assert killed >= rounds // 3, f"only {killed} of {rounds} kills landed mid-run"
    final = capture.fork(forker, "sync", "--max-age", "0", "--json", url=url, emu=emu, cwd=tmp_path)
    code = forker.wait(final)
    out, err = capture.outputs(final)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "ok" and summary["synced"] == len(symbols)  # no lease in the way
    _, new = check_whole(url, emu, before)
    assert new == len(symbols)
    assert mismatches(url, emu, symbols) == []
