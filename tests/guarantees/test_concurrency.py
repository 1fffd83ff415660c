"""Concurrency: three workers on one PostgreSQL, one SIGKILLed mid-run.

Guarantees: every due asset is fetched once, or twice only where the killed worker's lease
expired and was taken over (counted); the killed worker's assets are finished by the
others once its leases expire, before they exit; the shared per-minute
limit is never exceeded (the emulator answers 429 past it, and counts); with ``--full`` on
every worker each asset is still fetched once.

The workers share a limit of 240 requests per minute; the emulator refuses (429) more than
46 requests in any 10 s. A bucket shared correctly lets at most ``burst + rate × 10 s`` =
4 + 3.84 × 10 ≈ 42 requests into any 10 s (``bucket_shape``: 4 % headroom), leaving room
for a loaded machine's jitter; three unshared buckets would send the run's ~60 requests in
about 5 s and be refused.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.models import ASSETS
from data_nexus.storage.engine import open_engine
from data_nexus.storage.migrate import upgrade_db
from tests.conftest import make_settings
from tests.guarantees.helpers import (
    SECRET_PASSWORD,
    SECRET_TOKEN,
    START,
    Capture,
    Child,
    Forker,
    with_password,
)
from tests.pgcluster import DatabaseFactory
from tests.sync.helpers import mismatches, settings_for, symbols_of

pytestmark = [pytest.mark.guarantees, pytest.mark.postgres]

SYMBOLS = 20
SHARED = {"EODHD_RATE_LIMIT": "240"}
EMULATOR_LIMIT = {"rate_limit": 46, "rate_window": 10.0}


def leases(url: str) -> dict[str, tuple[str | None, bool]]:
    """Per asset: (lease owner, synced)."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(ASSETS.c.symbol, ASSETS.c.lease_owner, ASSETS.c.last_synced)
            ).all()
    finally:
        engine.dispose()
    return {r.symbol: (r.lease_owner, r.last_synced is not None) for r in rows}


def worker(forker: Forker, capture: Capture, name: str, *args: str, url: str,
           emu: EmulatorServer, cwd: Path, limited: bool = True) -> Child:  # fmt: skip
    """``datanexus sync --worker-id NAME --json ARGS`` (under the shared limit if ``limited``)."""
    return capture.fork(
        forker, "sync", "--worker-id", name, "--concurrency", "1", "--json", *args,
        url=url, emu=emu, cwd=cwd, **(SHARED if limited else {}),
    )  # fmt: skip


@dataclass
class KilledRun:
    """What the three-worker run with one kill left behind."""

    url: str
    emu: EmulatorServer
    symbols: list[str]
    held_at_kill: set[str]
    survivor_codes: list[int]
    survivor_summaries: list[dict[str, object]]
    unsynced_after_survivors: set[str]
    next_code: int
    eod_counts: dict[str, int]
    statuses: dict[str, int]


def _move_leases(url: str, symbols: set[str], **values: object) -> None:
    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(ASSETS).where(ASSETS.c.symbol.in_(symbols)).values(**values))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def killed_run(
    pg_factory: DatabaseFactory,
    forker: Forker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KilledRun]:
    """w0 SIGKILLed mid-run as if on another host; w1 and w2 run on; its leases expire.

    w0 runs alone until it has committed an asset and holds leases on others, and is
    killed. Its leases are then given an owner on another host (where this host cannot
    see that the process is gone, so only expiry frees them). w1 and w2 start, walk past
    those assets (leased), and once both have claimed assets of their own the leases
    expire, while both are still running.
    """
    cwd = tmp_path_factory.mktemp("killed_run")
    capture = Capture()
    raw = pg_factory.create()
    url = with_password(raw)
    upgrade_db(make_settings(url))
    emu = EmulatorServer(
        seed=61, symbols=SYMBOLS, start=START, token=SECRET_TOKEN, latency_ms=60,
        **EMULATOR_LIMIT,
    ).start()  # fmt: skip
    try:
        symbols = symbols_of(emu)
        add_assets(settings_for(url, emu), symbols)
        victim = worker(forker, capture, "w0", url=url, emu=emu, cwd=cwd)
        deadline = time.monotonic() + 120
        held: set[str] = set()
        while True:
            assert time.monotonic() < deadline and forker.poll(victim) is None, "w0: no kill"
            state = leases(url)
            held = {s for s, (o, done) in state.items() if (o or "").startswith("w0@")}
            if held and any(done for _, done in state.values()):
                break
            time.sleep(0.005)
        forker.kill(victim)
        capture.outputs(victim)
        held = {s for s, (o, done) in leases(url).items() if o and not done}
        assert held, "w0 committed its whole batch before the kill landed"
        far = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        _move_leases(url, held, lease_owner="w0@another-host:4242", lease_expires_at=far)
        survivors = [worker(forker, capture, f"w{i}", url=url, emu=emu, cwd=cwd) for i in (1, 2)]
        claimed = {"w1": False, "w2": False}
        while not all(claimed.values()):
            assert time.monotonic() < deadline, "the survivors claimed nothing"
            assert all(forker.poll(s) is None for s in survivors), "a survivor ended early"
            for owner, _ in leases(url).values():
                name = (owner or "").split("@", 1)[0]
                if name in claimed:
                    claimed[name] = True
            time.sleep(0.005)
        _move_leases(url, held, lease_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        codes = [forker.wait(s) for s in survivors]
        summaries = [json.loads(capture.outputs(s)[0] or "{}") for s in survivors]
        unsynced = {s for s, (_, done) in leases(url).items() if not done}
        following = worker(forker, capture, "w3", url=url, emu=emu, cwd=cwd)
        next_code = forker.wait(following)
        capture.outputs(following)
        stats = emu.stats()
        yield KilledRun(
            url, emu, symbols, held, codes, summaries, unsynced, next_code,
            stats["by_symbol"]["eod"], stats["by_status"],
        )  # fmt: skip
        capture.urls.add(url)
        assert capture.leaks([SECRET_TOKEN, SECRET_PASSWORD], cwd) == []
    finally:
        emu.close()
        pg_factory.drop(raw)


def test_survivors_exit_cleanly_and_next_run_completes(killed_run: KilledRun) -> None:
    """Survivors exit 0; the next run takes over the dead leases; the db equals the emulator."""
    run = killed_run
    assert run.survivor_codes == [0, 0]
    assert run.next_code == 0
    assert mismatches(run.url, run.emu, run.symbols) == []
    assert all(owner is None for owner, _ in leases(run.url).values())


def test_each_asset_fetched_once_or_twice_only_where_a_lease_was_taken_over(
    killed_run: KilledRun,
) -> None:
    """Twice only for assets the killed worker held (its fetch may have completed)."""
    run = killed_run
    assert set(run.eod_counts) == set(run.symbols)
    twice = {s for s, n in run.eod_counts.items() if n == 2}
    assert all(n in (1, 2) for n in run.eod_counts.values()), run.eod_counts
    assert twice <= run.held_at_kill, (twice, run.held_at_kill)


def test_shared_rate_limit_never_exceeded(killed_run: KilledRun) -> None:
    """The emulator never had to refuse a request for the rate (no 429 at all)."""
    assert killed_run.statuses.get("429", 0) == 0, killed_run.statuses


def test_survivors_finish_the_killed_workers_assets(killed_run: KilledRun) -> None:
    """Before they exit, the survivors have synced what the killed worker held."""
    assert killed_run.held_at_kill
    assert killed_run.unsynced_after_survivors == set()


def test_full_on_every_worker_fetches_each_asset_once(
    guard_pg_url: str,
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    tmp_path: Path,
) -> None:
    """Three `--full` workers, started a moment apart as a new user would: one fetch each."""
    emu = emulator(seed=62, symbols=12, latency_ms=40)
    symbols = symbols_of(emu)
    add_assets(settings_for(guard_pg_url, emu), symbols)
    workers = [worker(forker, capture, "f0", "--full", url=guard_pg_url, emu=emu, cwd=tmp_path,
                      limited=False)]  # fmt: skip
    deadline = time.monotonic() + 120
    while sum(done for _, done in leases(guard_pg_url).values()) < 4:
        assert time.monotonic() < deadline and forker.poll(workers[0]) is None, "no progress"
        time.sleep(0.01)
    workers += [worker(forker, capture, f"f{i}", "--full", url=guard_pg_url, emu=emu, cwd=tmp_path,
                       limited=False) for i in (1, 2)]  # fmt: skip
    assert [forker.wait(w) for w in workers] == [0, 0, 0]
    for w in workers:
        capture.outputs(w)
    assert emu.stats()["by_symbol"]["eod"] == dict.fromkeys(symbols, 1)
