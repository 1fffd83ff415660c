"""Is a sync bounded by the API, not by us? Achieved request rate vs the plan's ceiling.

    python benchmarks/sync_throughput.py [--rate R] [--latency-ms 50] [--symbols N]
                                         [--full-depth [--warm]] [--json FILE]

Starts the EODHD emulator with ``--latency-ms`` added to every response and a ceiling of
``R`` requests per minute (429 above it), then runs a first sync of ``N`` symbols (three
requests each: bars, splits, dividends) into a fresh SQLite database with the sync
configured for ``R``. The figure is the achieved request rate — requests sent divided by
the time from the first to the last request — divided by ``R`` (higher is better; target
≥ 0.95), and the number of 429 answers (target 0).

Two modes:

- default: the emulator in this process, 18 months of history, its market generated
  before the clock starts (times the sync alone, with short histories);
- ``--full-depth``: histories from 2000-01-03 (about 6,500 bars a symbol), the emulator in
  another process started as a user runs it (``datanexus fake-eodhd``), its market
  generated on demand: a first sync of real-depth histories, where parsing, validating
  and writing a symbol's bars compete with the next requests for this process's CPU.
  With ``--warm`` the emulator renders every history before it listens (``fake-eodhd
  --warm``), as a real API serves stored data: on a shared machine its per-request CPU then
  no longer competes with the sync's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the checkout
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks.emulator_process import emulator_process
from benchmarks.sync_cpu import symbol_names
from data_nexus.assets import add_assets
from data_nexus.config import Settings
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.sync.events import RunPlanned, SyncEvent
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions, SyncSummary


def measure(rate: int, latency_ms: float, symbols: int, concurrency: int) -> dict[str, Any]:
    """Run one sync against a rate-limited, slow emulator and return the figures."""
    today = dt.date(2025, 6, 30)
    config = EmulatorConfig(
        seed=99,
        symbols=symbols,
        start=dt.date(2024, 1, 2),
        today=today,
        latency_ms=latency_ms,
        rate_limit=rate,
        rate_window=60.0,
    )
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(config) as emu:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'throughput.db'}",
            eodhd_api_token=emu.token,
            eodhd_base_url=emu.base_url,
            eodhd_rate_limit=rate,
            _env_file=None,
        )
        names = [s.symbol for s in emu.market.symbols("US")]
        add_assets(settings, names)
        for name in names:  # generate the market up front: time the sync, not the emulator
            emu.market.bars(name)
        emu.reset_stats()
        started: list[float] = []

        def on_event(event: SyncEvent) -> None:
            if isinstance(event, RunPlanned) and event.run_id is not None:
                started.append(time.perf_counter())

        now = dt.datetime(2025, 6, 30, 23, tzinfo=dt.UTC)
        summary = run_sync(
            settings,
            SyncOptions(concurrency=concurrency),
            on_event=on_event,
            clock=lambda: now,
        )
        elapsed = time.perf_counter() - started[0]
        stats = emu.stats()
    return _figures(
        summary,
        stats,
        elapsed,
        rate=rate,
        latency_ms=latency_ms,
        symbols=symbols,
        concurrency=concurrency,
    ) | {"mode": "18 months, market pre-generated"}


FULL_DEPTH_START = dt.date(2000, 1, 3)


def measure_full_depth(
    rate: int, latency_ms: float, symbols: int, concurrency: int, *, warm: bool = False
) -> dict[str, Any]:
    """:func:`measure` with full-depth histories and the emulator in a child process."""
    today = dt.date(2025, 6, 30)
    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator_process(
            symbols=symbols,
            start=FULL_DEPTH_START,
            today=today,
            latency_ms=latency_ms,
            rate_limit=rate,
            rate_window=60.0,
            warm=warm,
        ) as emu,
    ):
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'throughput.db'}",
            eodhd_api_token=emu.token,
            eodhd_base_url=emu.base_url,
            eodhd_rate_limit=rate,
            _env_file=None,
        )
        names = symbol_names(symbols, seed=99)
        add_assets(settings, names)
        emu.reset_stats()
        started: list[float] = []

        def on_event(event: SyncEvent) -> None:
            if isinstance(event, RunPlanned) and event.run_id is not None:
                started.append(time.perf_counter())

        now = dt.datetime(2025, 6, 30, 23, tzinfo=dt.UTC)
        emulator_cpu = emu.cpu_seconds()
        cpu = time.process_time()
        summary = run_sync(
            settings,
            SyncOptions(concurrency=concurrency, since=FULL_DEPTH_START, bulk="never"),
            on_event=on_event,
            clock=lambda: now,
        )
        elapsed = time.perf_counter() - started[0]
        cpu = time.process_time() - cpu
        emulator_after = emu.cpu_seconds()
        stats = emu.stats()
    return _figures(
        summary,
        stats,
        elapsed,
        rate=rate,
        latency_ms=latency_ms,
        symbols=symbols,
        concurrency=concurrency,
    ) | {
        "mode": "full depth" + (", emulator warm" if warm else ""),
        "since": FULL_DEPTH_START.isoformat(),
        "bars": summary.rows_inserted,
        "sync_cpu_s": round(cpu, 2),
        "sync_cpu_share": round(cpu / elapsed, 3),
        "emulator_cpu_s": (
            None
            if emulator_cpu is None or emulator_after is None
            else round(emulator_after - emulator_cpu, 2)
        ),
    }


def _figures(
    summary: SyncSummary,
    stats: dict[str, Any],
    elapsed: float,
    *,
    rate: int,
    latency_ms: float,
    symbols: int,
    concurrency: int,
) -> dict[str, Any]:
    requests = summary.requests_sent - 1  # the quota check before the clock starts
    achieved = requests / elapsed * 60
    return {
        "rate_limit_per_min": rate,
        "latency_ms": latency_ms,
        "symbols": symbols,
        "concurrency": concurrency,
        "requests": requests,
        "seconds": round(elapsed, 2),
        "achieved_per_min": round(achieved, 1),
        "ratio": round(achieved / rate, 4),
        "better": "higher",
        "target": ">= 0.95",
        "status_429": stats["by_status"].get("429", 0),
        "synced": summary.synced,
        "failed": len(summary.failed),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="requests per minute (R)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--symbols", type=int, help="3 requests per symbol (default 600; 200 with --full-depth)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--full-depth",
        action="store_true",
        help="histories from 2000, the emulator in another process, nothing pre-generated",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="with --full-depth: the emulator renders every history before it listens",
    )
    args = parser.parse_args(argv)
    load = [round(x, 2) for x in os.getloadavg()]
    if args.full_depth:
        symbols = args.symbols or 200
        result = measure_full_depth(
            args.rate, args.latency_ms, symbols, args.concurrency, warm=args.warm
        )
    else:
        result = measure(args.rate, args.latency_ms, args.symbols or 600, args.concurrency)
    result["load_average_before"] = load
    print(
        f"sync throughput: {result['requests']} requests in {result['seconds']} s = "
        f"{result['achieved_per_min']}/min against a ceiling of {result['rate_limit_per_min']}/min "
        f"with {result['latency_ms']:.0f} ms latency → {result['ratio']:.3f} R "
        f"(target ≥ 0.95), {result['status_429']} × 429, "
        f"{result['synced']} synced, {result['failed']} failed; {result['mode']}"
        + (
            f", {result['bars']:,} bars, sync CPU {result['sync_cpu_s']} s "
            f"({result['sync_cpu_share']:.0%} of the elapsed time), emulator CPU "
            f"{result['emulator_cpu_s']} s"
            if "bars" in result
            else ""
        )
        + f"; load average before {load}, after {result['load_average_after']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
