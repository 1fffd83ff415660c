"""Weekly and monthly bars of one symbol × 20 years against the daily read of the same range.

    python benchmarks/resample.py [--quick] [--symbols N] [--years Y] [--repeats R]
                                  [--no-postgres] [--json FILE]

Issue 10's goal: ``get_bars(one, interval="1w" | "1mo")`` ≤ 2× ``get_bars(one)`` (daily) on
the same database. The synthetic data set of ``benchmarks/read_frames.py`` (a dividend every
quarter, a 2/1 split every seven years) is written to SQLite and, unless ``--no-postgres``, to
a throwaway PostgreSQL cluster (plain, and TimescaleDB where the extension is installed).

For each backend and for ``adjust="none"`` and ``"all"``, the cases run interleaved (one of
each per round, so load on a shared machine hits them alike) on one open reader (connection
set-up excluded), and each figure is the best round (then the same with ``adjust="all"``
for every symbol of the database at once, where the transfer of daily rows weighs more): the
daily read; weekly and monthly aggregated in SQL (``storage/aggregates.py``); the same
through the NumPy reference (``query.periods.USE_SQL = False``: daily read, adjust,
resample). Ratios are over the daily read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the checkout
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from tests.pgcluster import DatabaseFactory, ThrowawayCluster

from benchmarks.data import Dataset
from benchmarks.read_frames import fill
from data_nexus.query import periods
from data_nexus.query.bars import get_bars
from data_nexus.storage.frames import FrameReader, open_reader

CASES = ("1d", "1w sql", "1mo sql", "1w numpy", "1mo numpy")


def run_case(reader: FrameReader, symbol: str | list[str], adjust: str, case: str) -> int:
    interval, _, path = case.partition(" ")
    periods.USE_SQL = path != "numpy"  # forced either way, whatever the backend's default
    try:
        return len(get_bars(symbol, adjust=adjust, interval=interval, store=reader))
    finally:
        periods.USE_SQL = None


def measure(url: str, symbol: str | list[str], repeats: int) -> dict[str, Any]:
    """Best time of each case (interleaved rounds) and the ratios over the daily read."""
    out: dict[str, Any] = {}
    with open_reader(url) as reader:
        for adjust in ("none", "all") if isinstance(symbol, str) else ("all",):
            best = dict.fromkeys(CASES, float("inf"))
            rows = {}
            for case in CASES:  # warm-up: imports, caches, first plans
                rows[case] = run_case(reader, symbol, adjust, case)
            for _ in range(repeats):
                for case in CASES:
                    start = time.perf_counter()
                    run_case(reader, symbol, adjust, case)
                    best[case] = min(best[case], time.perf_counter() - start)
            ratios = {case: best[case] / best["1d"] for case in CASES[1:]}
            out[adjust] = {"seconds": best, "rows": rows, "ratios_over_daily": ratios}
    return out


def render(name: str, figures: dict[str, Any]) -> str:
    lines = [f"{name}:"]
    for key, part in figures.items():
        label = key if key == "every symbol" else f"one symbol, adjust={key}"
        times = ", ".join(f"{c} {s * 1000:.1f} ms" for c, s in part["seconds"].items())
        ratios = ", ".join(f"{c} {r:.2f}" for c, r in part["ratios_over_daily"].items())
        lines.append(f"  {label}: {times}")
        lines.append(f"    / daily (≤ 2): {ratios}")
    return "\n".join(lines)


def on_server(
    factory: DatabaseFactory,
    dataset: Dataset,
    extensions: tuple[str, ...],
    measure_it: Callable[[str], Any],
) -> Any:
    url = factory.create("dn_resample_bench", extensions=extensions)
    try:
        fill(url, dataset)
        return measure_it(url)
    finally:
        factory.drop(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    parser.add_argument("--symbols", type=int, default=5, help="symbols in the database")
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.symbols, args.years, args.repeats = 2, 2, 1
    dataset = Dataset(args.symbols, args.years)
    symbol = dataset.symbol_names()[0]
    results: dict[str, Any] = {"dataset": dataset.describe(), "when": dt.datetime.now(dt.UTC)}

    def measure_it(url: str) -> dict[str, Any]:
        one = measure(url, symbol, args.repeats)
        # every symbol of the database at once: where the transfer of dailies dominates
        one["every symbol"] = measure(url, dataset.symbol_names(), max(3, args.repeats // 4))["all"]
        return one

    with tempfile.TemporaryDirectory(prefix="datanexus-resample-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        fill(url, dataset)
        results["sqlite"] = measure_it(url)
        print(render("SQLite", results["sqlite"]), flush=True)
    if not args.no_postgres:
        with ThrowawayCluster() as cluster:
            factory = DatabaseFactory(cluster.admin_url)
            results["postgresql"] = on_server(factory, dataset, (), measure_it)
            print(render("PostgreSQL", results["postgresql"]), flush=True)
            if factory.extension_available("timescaledb"):
                results["timescaledb"] = on_server(factory, dataset, ("timescaledb",), measure_it)
                print(render("TimescaleDB", results["timescaledb"]), flush=True)
            else:
                print("TimescaleDB: skipped (the extension is not installed on this server)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
