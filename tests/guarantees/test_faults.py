"""Faults: every failure the emulator can inject ends in its documented outcome.

Documented outcomes (README, "Exit codes"; ``EODHD_MAX_RETRIES``): a transient failure
(5xx, 429 with or without ``Retry-After``, a timeout, a dropped connection, the server
gone for a moment) is retried to success (exit 0); a bad answer for one asset (a
truncated, garbled or HTML body, 404 for a symbol) is one clear per-asset error while the
others commit (exit 1); authentication failure and the daily quota stop the run cleanly
(exit 3); a plan without bulk falls back to per-symbol requests. In every case nothing is
half-written, no lease is left behind, the ``sync --json`` summary says what happened, and
a rerun without the fault makes the database equal the emulator's.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.models import ASSETS
from data_nexus.storage.engine import open_engine
from data_nexus.storage.store import Store
from tests.guarantees.helpers import Capture, Forker
from tests.sync.helpers import mismatches, settings_for, symbols_of

pytestmark = pytest.mark.guarantees

SYMBOLS = 6


@dataclass(frozen=True)
class Case:
    """One fault and its documented outcome."""

    emulator: dict[str, Any] = field(default_factory=dict)
    #: (target, kind, count): ``target`` "*" or the index of a symbol; count None = always
    faults: tuple[tuple[str | int, str, int | None], ...] = ()
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    code: int = 0
    #: indexes of the symbols that fail (exit 1); None: any of them may (exit 3 cases)
    failed: tuple[int, ...] | None = ()


CASES = {
    "5xx-at-20-percent": Case(emulator={"fail_rate": 0.2}),
    "429-burst-with-retry-after": Case(faults=(("*", "429", 4),)),
    "429-burst-without-retry-after": Case(
        emulator={"retry_after": False}, faults=(("*", "429", 4),)
    ),
    "dropped-connection": Case(faults=((1, "disconnect", 1),)),
    "truncated-body": Case(faults=((1, "truncated", None),), code=1, failed=(1,)),
    "garbled-body": Case(faults=((2, "garbled", None),), code=1, failed=(2,)),
    "html-error-page": Case(faults=((3, "html", None),), code=1, failed=(3,)),
    "404-for-some-symbols": Case(
        faults=((0, "404", None), (4, "404", None)), code=1, failed=(0, 4)
    ),
    "401-bad-token": Case(env={"EODHD_API_TOKEN": "gtok-5ecret-wrong-0000"}, code=3, failed=None),
    "quota-too-small-to-start": Case(emulator={"daily_limit": 5}, code=3, failed=None),
    "402-mid-run": Case(
        emulator={"daily_limit": 8}, args=("--allow-partial",), code=3, failed=None
    ),
}


def stored(url: str) -> dict[str, Any]:
    """Per asset: last_synced and lease owner."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(ASSETS.c.symbol, ASSETS.c.last_synced, ASSETS.c.lease_owner)
            ).all()
    finally:
        engine.dispose()
    return {r.symbol: r for r in rows}


def assert_whole_or_untouched(url: str, emu: EmulatorServer, symbols: list[str]) -> set[str]:
    """Each asset is exactly the emulator's (and synced) or has nothing stored; the synced."""
    rows = stored(url)
    synced = {s for s in symbols if rows[s].last_synced is not None}
    store = Store.open(url)
    try:
        for symbol in set(symbols) - synced:
            assert store.read_bars([symbol]) == [], f"{symbol}: bars without a committed sync"
            assert store.read_actions([symbol]) == [], symbol
    finally:
        store.close()
    assert mismatches(url, emu, sorted(synced)) == []
    assert [s for s, r in rows.items() if r.lease_owner] == [], "leases left behind"
    return synced


def add_fault(emu: EmulatorServer, symbols: list[str], target: str | int, kind: str,
              count: int | None) -> None:  # fmt: skip
    name = target if isinstance(target, str) else symbols[target]
    emu.service.faults.add(name, kind, count, "eod" if name != "*" else None)


def run_json(
    forker: Forker, capture: Capture, *args: str, url: str, emu: EmulatorServer, cwd: Path,
    **env: str,
) -> tuple[int, dict[str, Any], str]:  # fmt: skip
    """``datanexus sync --json ARGS``: exit code, parsed summary ({} if none), stderr."""
    child = capture.fork(forker, "sync", "--json", *args, url=url, emu=emu, cwd=cwd, **env)
    code = forker.wait(child)
    out, err = capture.outputs(child)
    assert "Traceback" not in out + err
    return code, json.loads(out) if out.strip() else {}, err


@pytest.mark.parametrize("name", list(CASES))
def test_fault_has_its_documented_outcome(
    *,
    name: str,
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """The exit code, the failed assets, nothing half-written; then a clean rerun."""
    case = CASES[name]
    emu = emulator(seed=41, symbols=SYMBOLS, **case.emulator)
    symbols = symbols_of(emu)
    add_assets(settings_for(sqlite_url, emu), symbols)
    for target, kind, count in case.faults:
        add_fault(emu, symbols, target, kind, count)
    code, summary, err = run_json(
        forker, capture, *case.args, url=sqlite_url, emu=emu, cwd=tmp_path, **case.env
    )
    assert code == case.code, err
    assert [f for f in emu.service.faults.snapshot() if f["remaining"] is not None] == []
    synced = assert_whole_or_untouched(sqlite_url, emu, symbols)
    assert summary, f"no summary printed (stderr: {err!r})"
    assert summary["exit_code"] == code
    assert summary["synced"] == len(synced)
    if case.failed is not None:
        failed = {symbols[i] for i in case.failed}
        assert set(summary["failed"]) == failed
        assert synced == set(symbols) - failed
        for message in summary["failed"].values():
            assert message.strip() and "\n" not in message
    else:
        assert summary["status"] == "stopped" and summary["stop_reason"]
        assert synced < set(symbols)
    # the fault cleared, the same command finishes the job
    emu.service.faults.clear()
    rerun_emu = emu
    if case.code == 3 and "daily_limit" in case.emulator:
        rerun_emu = emulator(seed=41, symbols=SYMBOLS)  # tomorrow's quota: a fresh server
    code, summary, err = run_json(
        forker, capture, *case.args, *symbols, url=sqlite_url, emu=rerun_emu, cwd=tmp_path
    )
    assert code == 0, err
    assert assert_whole_or_untouched(sqlite_url, rerun_emu, symbols) == set(symbols)


def _pretend_synced_days_ago(url: str, days: int) -> None:
    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
            conn.execute(sa.update(ASSETS).values(last_synced=ago))
    finally:
        engine.dispose()


def test_403_and_404_on_bulk_fall_back_to_per_symbol_requests(
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """A plan without bulk (403 or 404): per-symbol requests, exit 0, summary says so."""
    # a few sessions behind the real clock, so the next sync can take the bulk path
    today = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=4)
    for status in (403, 404):
        emu = emulator(seed=42, symbols=SYMBOLS, today=today, bulk_enabled=False,
                       bulk_status=status)  # fmt: skip
        symbols = symbols_of(emu)
        add_assets(settings_for(sqlite_url, emu), symbols)
        code, _, err = run_json(forker, capture, "--max-age", "0", url=sqlite_url, emu=emu,
                                cwd=tmp_path)  # fmt: skip
        assert code == 0, err
        _pretend_synced_days_ago(sqlite_url, 4)  # so the sessions since are bulk days
        code, summary, err = run_json(forker, capture, "--max-age", "0", "--bulk", "always",
                                      url=sqlite_url, emu=emu, cwd=tmp_path)  # fmt: skip
        assert code == 0, err
        assert summary["bulk_unavailable"] == ["US"] and summary["bulk_used"] == []
        assert summary["synced"] == len(symbols)
        assert emu.stats()["by_status"].get(str(status), 0) >= 1
        assert assert_whole_or_untouched(sqlite_url, emu, symbols) == set(symbols)


def test_emulator_killed_and_restarted_mid_run(
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """The server vanishes for a moment: retried, or clean per-asset errors; rerun finishes."""
    emu = emulator(seed=43, symbols=12, latency_ms=80)
    symbols = symbols_of(emu)
    add_assets(settings_for(sqlite_url, emu), symbols)
    child = capture.fork(forker, "sync", "--json", "--concurrency", "2", url=sqlite_url,
                         emu=emu, cwd=tmp_path)  # fmt: skip
    deadline = time.monotonic() + 120
    while sum(r.last_synced is not None for r in stored(sqlite_url).values()) < 2:
        assert time.monotonic() < deadline and forker.poll(child) is None, "no progress"
        time.sleep(0.02)
    port = emu.port
    emu.close()
    time.sleep(1.0)
    config: EmulatorConfig = emu.config
    revived = EmulatorServer(config, port=port).start()
    try:
        code = forker.wait(child)
        out, err = capture.outputs(child)
        assert "Traceback" not in out + err
        assert code in (0, 1, 3), err
        summary = json.loads(out)
        assert summary["exit_code"] == code
        synced = assert_whole_or_untouched(sqlite_url, revived, symbols)
        assert summary["synced"] + len(summary["failed"]) <= len(symbols)
        assert len(synced) >= summary["synced"]
        code, summary, err = run_json(forker, capture, *symbols, url=sqlite_url, emu=revived,
                                      cwd=tmp_path)  # fmt: skip
        assert code == 0, err
        assert assert_whole_or_untouched(sqlite_url, revived, symbols) == set(symbols)
    finally:
        revived.close()


def test_summary_reports_retries(
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """5xx at 20 %: retried to success, and the summary says requests were retried."""
    emu = emulator(seed=44, symbols=SYMBOLS, fail_rate=0.2)
    symbols = symbols_of(emu)
    add_assets(settings_for(sqlite_url, emu), symbols)
    code, summary, err = run_json(forker, capture, url=sqlite_url, emu=emu, cwd=tmp_path)
    assert code == 0, err
    assert sum(n for status, n in emu.stats()["by_status"].items() if status[0] == "5") > 0
    assert any("retry" in notice for notice in summary["notices"]), summary["notices"]


def test_a_stalled_answer_times_out_and_is_retried(
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """A request the server holds back longer than the configured timeout is retried."""
    emu = emulator(seed=45, symbols=2, timeout_seconds=6)
    symbols = symbols_of(emu)
    add_assets(settings_for(sqlite_url, emu), symbols)
    add_fault(emu, symbols, 0, "timeout", 1)
    code, _, err = run_json(
        forker, capture, url=sqlite_url, emu=emu, cwd=tmp_path, EODHD_TIMEOUT="1"
    )
    assert code == 0, err
    # timed out once, then retried; the stalled answer is counted when the server finally
    # sends it (after timeout_seconds), which may be after the run ended
    deadline = time.monotonic() + 30
    while emu.stats()["by_symbol"]["eod"][symbols[0]] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert emu.stats()["by_symbol"]["eod"][symbols[0]] == 2
    assert assert_whole_or_untouched(sqlite_url, emu, symbols) == set(symbols)
