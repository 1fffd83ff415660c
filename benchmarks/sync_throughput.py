"""Is a sync bounded by the API, not by us? Achieved request rate vs the plan's ceiling.

    python benchmarks/sync_throughput.py [--rate R] [--latency-ms 50] [--symbols N] [--json FILE]

Starts the EODHD emulator with ``--latency-ms`` added to every response and a ceiling of
``R`` requests per minute (429 above it), then runs a first sync of ``N`` symbols (three
requests each: bars, splits, dividends) into a fresh SQLite database with the sync
configured for ``R``. The figure is the achieved request rate — requests sent divided by
the time from the first to the last request — divided by ``R`` (higher is better; target
≥ 0.95), and the number of 429 answers (target 0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `data_nexus` from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from data_nexus.assets import add_assets
from data_nexus.config import Settings
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.sync.events import RunPlanned, SyncEvent
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions


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
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="requests per minute (R)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--symbols", type=int, default=600, help="3 requests per symbol")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = measure(args.rate, args.latency_ms, args.symbols, args.concurrency)
    print(
        f"sync throughput: {result['requests']} requests in {result['seconds']} s = "
        f"{result['achieved_per_min']}/min against a ceiling of {result['rate_limit_per_min']}/min "
        f"with {result['latency_ms']:.0f} ms latency → {result['ratio']:.3f} R "
        f"(target ≥ 0.95), {result['status_429']} × 429, "
        f"{result['synced']} synced, {result['failed']} failed"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
