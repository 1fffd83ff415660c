"""The sync as a user runs it: real processes killed, interrupted and run side by side.

The emulator runs in the test process; each ``datanexus sync`` is a subprocess with the
real clock, so the emulator's *today* is the real date too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.models import ASSETS
from data_nexus.storage.engine import open_engine
from data_nexus.storage.store import Store
from tests.sync.helpers import mismatches, settings_for, symbols_of, sync_runs

START = dt.date(2012, 1, 3)


def sync_process(url: str, emu: EmulatorServer, *args: str, cwd: Path) -> subprocess.Popen[str]:
    """Start ``datanexus sync ARGS`` in a subprocess against ``emu`` and ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    env.update(
        DATANEXUS_DATABASE_URL=url,
        EODHD_BASE_URL=emu.base_url,
        EODHD_API_TOKEN=emu.token,
        EODHD_RATE_LIMIT="100000",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "data_nexus", "sync", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_every_asset_whole_or_untouched(url: str, emu: EmulatorServer, symbols: list[str]) -> int:
    """No partial asset: each is either untouched (nothing stored) or exactly the emulator's."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            synced = {
                r.symbol
                for r in conn.execute(
                    sa.select(ASSETS.c.symbol).where(ASSETS.c.last_synced.is_not(None))
                )
            }
    finally:
        engine.dispose()
    store = Store.open(url)
    try:
        for symbol in symbols:
            if symbol not in synced:
                assert store.read_bars([symbol]) == [], f"{symbol}: bars without a committed sync"
                assert store.read_actions([symbol]) == []
    finally:
        store.close()
    assert mismatches(url, emu, sorted(synced)) == []
    return len(synced)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


def _synced_count(url: str) -> int:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(ASSETS.c.last_synced.is_not(None))
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun(
    url: str, start_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """kill -9 mid-sync, several times: every asset stays whole or untouched; a rerun finishes.

    Each round waits until a random number of further assets has committed, then a random
    fraction of a second more (so the kill lands anywhere, also inside a write), and kills.
    """
    emu = start_emulator(seed=21, symbols=80, start=START, latency_ms=15)
    symbols = symbols_of(emu)
    add_assets(settings_for(url, emu), symbols)
    rng = random.Random(1234)
    done = 0
    committed = []  # assets each killed run committed
    for _ in range(4):
        target = done + rng.randint(2, 12)
        proc = sync_process(url, emu, "--concurrency", "4", cwd=tmp_path)
        deadline = time.monotonic() + 120
        while _synced_count(url) < target and proc.poll() is None:
            assert time.monotonic() < deadline, "the sync made no progress"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        now_done = assert_every_asset_whole_or_untouched(url, emu, symbols)
        committed.append(now_done - done)
        done = now_done
    assert done < len(symbols), "the kills came too late to interrupt anything"
    final = sync_process(url, emu, "--json", cwd=tmp_path)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    summary = json.loads(out)
    assert summary["status"] == "ok" and summary["synced"] == len(symbols) - done
    assert assert_every_asset_whole_or_untouched(url, emu, symbols) == len(symbols)
    # the killed runs' rows were closed by the next run that started
    runs = sync_runs(url)
    assert [r["status"] for r in runs] == ["abandoned"] * 4 + ["ok"]
    # with what each had committed (from the assets' sync times), not a wrong 0
    assert [r["assets_synced"] for r in runs[:4]] == committed
    assert [r["message"] for r in runs[:4]] == [
        "the process ended without finishing this run (killed?); "
        f"{n} asset(s) had committed (from their last sync times), rows written unknown"
        for n in committed
    ]


def test_sigint_finishes_in_flight_assets_and_exits_130(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """Ctrl-C: in-flight assets commit or roll back, the summary prints, exit code 130."""
    emu = start_emulator(seed=22, symbols=40, start=START, latency_ms=40)
    symbols = symbols_of(emu)
    add_assets(settings_for(sqlite_url, emu), symbols)
    proc = sync_process(sqlite_url, emu, "--concurrency", "2", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while _synced_count(sqlite_url) < 3:
        assert time.monotonic() < deadline and proc.poll() is None, "no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: in-flight assets finished, the rest stays due" in err  # progress
    assert "sync interrupted" in out and "run the same command again to resume" in out
    done = assert_every_asset_whole_or_untouched(sqlite_url, emu, symbols)
    assert 0 < done < len(symbols)


def test_three_workers_on_postgres_fetch_every_asset_once(
    pg_url: str, start_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """Three workers share one PostgreSQL: each due asset is fetched exactly once."""
    emu = start_emulator(seed=23, symbols=90, start=START, latency_ms=10)
    symbols = symbols_of(emu)
    add_assets(settings_for(pg_url, emu), symbols)
    workers = [
        sync_process(pg_url, emu, "--worker-id", f"w{i}", "--concurrency", "3", "--json",
                     cwd=tmp_path)
        for i in range(3)
    ]  # fmt: skip
    results = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], [err for _, err in results]
    synced = [json.loads(out)["synced"] for out, _ in results]
    assert sum(synced) == len(symbols) and all(n > 0 for n in synced)
    by_symbol = emu.stats()["by_symbol"]
    for endpoint in ("eod", "splits", "div"):
        assert by_symbol[endpoint] == dict.fromkeys(symbols, 1), endpoint
    assert mismatches(pg_url, emu, symbols) == []


def test_second_sync_on_sqlite_is_refused_clearly(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """SQLite has one writer: a second sync says so in one line and exits 2."""
    emu = start_emulator(seed=24, symbols=30, start=START, latency_ms=60)
    add_assets(settings_for(sqlite_url, emu), symbols_of(emu))
    first = sync_process(sqlite_url, emu, "--concurrency", "1", cwd=tmp_path)
    time.sleep(1.5)
    second = sync_process(sqlite_url, emu, cwd=tmp_path)
    _, err = second.communicate(timeout=60)
    first.kill()
    first.communicate(timeout=30)
    assert second.returncode == 2
    assert err.strip().startswith("error: another datanexus sync (sync@")
    assert "allows one writer" in err and len(err.strip().splitlines()) == 1
