"""Crash: SIGKILL a sync at seeded random points; every asset stays entirely old or new.

The emulator serves dirt (issue 9: null prices, impossible actions, tiny and negative
prices, future bars, a retracted split, a plan-limited history, a reused ticker), so the
sync skips rows and records findings in each asset's transaction. Each round moves the
market on (a new session, sometimes a split or a dividend, which rewrites a symbol's whole
adjusted history; the first advance also flips the phase kinds), starts ``datanexus sync
--max-age 0``, waits until a random number of assets has committed, waits a random
fraction of a second more (so the kill lands anywhere, also inside a write) and SIGKILLs
it. After every kill each asset is either exactly what it was before the round or exactly
what a clean, unkilled sync stores from the same state — bars, corporate actions,
findings (date, kind, detail, open or closed), ``last_synced`` and coverage together —
with no duplicate row and no lease in the way; a final unkilled run completes and the
database equals the reference. The reference is an SQLite database kept in step: after
each kill the assets the killed run committed are synced there (unkilled, same emulator
state), so it holds what a clean complete sync stores, dirty rows skipped. 20 kill points
per backend, 100 in release mode (``--long``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.models import ASSETS, CORPORATE_ACTIONS, FINDINGS, MARKET_DATA
from data_nexus.storage.engine import open_engine
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import Store
from data_nexus.sync import SyncOptions, run_sync
from tests.guarantees.helpers import Capture, Child, Forker
from tests.sync.helpers import mismatches, settings_for, symbols_of

pytestmark = [pytest.mark.guarantees, pytest.mark.slow]

SYMBOLS = 10
# Every kind that changes what is stored; symbol_spelling only touches the symbol list.
DIRT = (
    "null_prices",
    "bad_actions",
    "tiny_prices",
    "negative_prices",
    "future_bars",
    "retracted_split",
    "plan_limited",
    "reused_ticker",
)
ROUNDS, LONG_ROUNDS = 20, 100


@dataclass(frozen=True)
class AssetImage:
    """Everything stored about one asset that a sync writes."""

    bars: tuple[Any, ...]
    actions: tuple[Any, ...]
    findings: tuple[tuple[dt.date | None, str, str, bool], ...]  # date, kind, detail, open
    last_synced: dt.datetime | None
    first_date: dt.date | None
    last_date: dt.date | None

    def stored(self) -> tuple[Any, ...]:
        """What a sync stores, without ``last_synced`` (a clock reading, different per run)."""
        return (self.bars, self.actions, self.findings, self.first_date, self.last_date)


def _key(action: Any) -> tuple[dt.date, str]:
    return (action.date, action.action_type)


def _finding_key(f: tuple[dt.date | None, str, str, bool]) -> tuple[Any, ...]:
    return (f[0] or dt.date.min, f[1], f[2], f[3])


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
            found: dict[str, list[tuple[dt.date | None, str, str, bool]]] = {}
            for f in conn.execute(
                sa.select(
                    FINDINGS.c.symbol,
                    FINDINGS.c.date,
                    FINDINGS.c.kind,
                    FINDINGS.c.detail,
                    FINDINGS.c.closed_at,
                )
            ):
                found.setdefault(f.symbol, []).append(
                    (f.date, f.kind, f.detail, f.closed_at is None)
                )
    finally:
        engine.dispose()
    store = Store.open(url)
    try:
        return {
            s: AssetImage(
                tuple(store.read_bars([s])),
                tuple(sorted(store.read_actions([s]), key=_key)),
                tuple(sorted(found.get(s, []), key=_finding_key)),
                rows[s].last_synced,
                rows[s].first_date,
                rows[s].last_date,
            )
            for s in symbols
        }
    finally:
        store.close()


@dataclass(frozen=True)
class Reference:
    """An SQLite database synced without kills from the same emulator (the expected state)."""

    url: str
    emu: EmulatorServer

    @classmethod
    def create(cls, path: Path, emu: EmulatorServer, symbols: list[str]) -> Reference:
        """A migrated database at ``path`` with ``symbols`` registered, never synced."""
        url = f"sqlite:///{path}"
        upgrade_db(settings_for(url, emu))
        add_assets(settings_for(url, emu), symbols)
        return cls(url, emu)

    def sync(self, symbols: list[str]) -> None:
        """Sync ``symbols`` to completion (nothing when empty)."""
        if not symbols:
            return
        options = SyncOptions(symbols=tuple(symbols), max_age=dt.timedelta(0), concurrency=2)
        service = self.emu.service
        slow = service.config  # the killed child is gone: answer the reference at once
        service.config = replace(slow, latency_ms=0.0)
        try:
            summary = run_sync(settings_for(self.url, self.emu), options)
        finally:
            service.config = slow
        assert summary.synced == len(symbols), summary


def check_whole(
    url: str, reference: Reference, before: dict[str, AssetImage]
) -> tuple[dict[str, AssetImage], int]:
    """Each asset is its image ``before`` or the reference's; returns images and #new.

    Before the call, ``reference`` holds ``before`` (what was stored when the round began);
    the assets that moved are synced there, unkilled, from the same emulator state, so
    afterwards it holds what the killed run should have stored: both databases then agree.
    """
    after = images(url, list(before))
    moved = [s for s, now in after.items() if now.last_synced != before[s].last_synced]
    reference.sync(moved)
    expected = images(reference.url, moved)
    for symbol, now in after.items():
        old = before[symbol]
        if symbol not in moved:
            assert now == old, f"{symbol}: changed without a new last_synced"
            continue
        assert now.stored() == expected[symbol].stored(), f"{symbol}: half-written"
        assert now.last_synced is not None, symbol
    for symbol, now in after.items():  # coverage agrees with the bars
        first = now.bars[0].date if now.bars else None
        last = now.bars[-1].date if now.bars else None
        assert (now.first_date, now.last_date) == (first, last), f"{symbol}: coverage"
    assert duplicates(url) == 0
    return after, len(moved)


def duplicates(url: str) -> int:
    """Rows sharing a key in market_data and corporate_actions (0 when the keys hold).

    A special dividend on a regular one's ex-date is legitimate (``bad_actions`` serves
    one): such rows differ in ``seq``, which is part of the key.
    """
    engine = open_engine(url)
    total = 0
    try:
        with engine.connect() as conn:
            for table, key in (
                (MARKET_DATA, ("symbol", "time")),
                (CORPORATE_ACTIONS, ("symbol", "date", "action_type", "seq")),
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


def committed_since(engine: sa.Engine, before: dict[str, AssetImage]) -> int:
    """Assets whose ``last_synced`` moved since ``before`` (one pooled connection, polled)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ASSETS.c.symbol, ASSETS.c.last_synced)).all()
    return sum(1 for s, synced in rows if s in before and synced != before[s].last_synced)


def advance_market(emu: EmulatorServer, rng: random.Random, symbols: list[str]) -> None:
    """One more calendar day; sometimes a split or a dividend on a random symbol.

    Through the server, so the dirt's phase kinds move on too (the retracted split goes,
    the plan-limited symbol splits 4:1, the reused ticker's own history appears).
    """
    while True:
        splits: dict[str, str] = {}
        dividends: dict[str, Decimal | str] = {}
        if rng.random() < 0.4:
            splits[rng.choice(symbols)] = rng.choice(["2/1", "3/2", "1/4"])
        if rng.random() < 0.4:
            dividends[rng.choice(symbols)] = "0.37"
        try:
            emu.advance(1, splits=splits, dividends=dividends)
            return
        except ValueError:  # no trading day today (a weekend): move on without an action
            emu.advance(1)
            return


def kill_at_random_point(
    forker: Forker,
    child: Child,
    engine: sa.Engine,
    before: dict[str, AssetImage],
    rng: random.Random,
) -> bool:
    """Wait for a random number of commits plus a random delay, SIGKILL; whether it ran."""
    target = rng.randint(0, SYMBOLS // 2)
    deadline = time.monotonic() + 120
    while committed_since(engine, before) < target and forker.poll(child) is None:
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
    request: pytest.FixtureRequest,
) -> None:
    """After every kill each asset is whole (old or new); a final run makes the db equal."""
    url = guard_url
    rounds = LONG_ROUNDS if long_mode else ROUNDS
    # The emulator's today trails the real clock, so each round can move it on by a day.
    today = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=rounds + 5)
    emu = emulator(seed=31, symbols=SYMBOLS, today=today, latency_ms=50, dirty=DIRT)
    assert {i.kind for i in emu.truth()} >= {"null_prices", "bad_actions", "future_bars"}
    symbols = symbols_of(emu)
    add_assets(settings_for(url, emu), symbols)
    reference = Reference.create(tmp_path / "reference.db", emu, symbols)
    rng = random.Random(20261129 + url.startswith("postgresql"))
    before = images(url, symbols)
    killed = 0
    poller = open_engine(url)
    request.addfinalizer(poller.dispose)
    for _ in range(rounds):
        child = capture.fork(
            forker, "sync", "--max-age", "0", "--concurrency", "2", url=url, emu=emu, cwd=tmp_path
        )
        killed += kill_at_random_point(forker, child, poller, before, rng)
        _, err = capture.outputs(child)
        assert "Traceback" not in err
        before, _ = check_whole(url, reference, before)
        advance_market(emu, rng, symbols)
    # most kills land mid-run; a run that finished first still had to leave everything whole
    assert killed >= rounds // 3, f"only {killed} of {rounds} kills landed mid-run"
    final = capture.fork(forker, "sync", "--max-age", "0", "--json", url=url, emu=emu, cwd=tmp_path)
    code = forker.wait(final)
    out, err = capture.outputs(final)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "ok" and summary["synced"] == len(symbols)  # no lease in the way
    _, new = check_whole(url, reference, before)
    assert new == len(symbols)
    # the dirt was met: rows were skipped and findings recorded, identically in both; the
    # symbols the emulator serves clean hold exactly its data (the reference is no echo)
    final_images = images(url, symbols)
    assert sum(len(i.findings) for i in final_images.values()) > 0
    dirty = {i.symbol for i in emu.truth()}
    clean = [s for s in symbols if s not in dirty]
    assert clean and mismatches(url, emu, clean) == []
