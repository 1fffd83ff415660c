"""Data Nexus benchmarks: every figure is ours divided by a baseline from the same run.

    python benchmarks/run.py [--quick] [--postgres-url URL] [--timescale-url URL] [--json FILE]
                             [--only SECTION[,SECTION…]]

Without URLs a throwaway PostgreSQL cluster is started (``ThrowawayCluster(durable=True)``,
with TimescaleDB preloaded where installed) and removed at the end. A URL must be an admin
URL of a server where the benchmark may create and drop databases. ``--quick`` is a smoke
run of a few seconds' work (CI runs it; it asserts nothing about timings).

Sections: ``postgres`` (writes and reads), ``rss``, ``sqlite``, ``timescale`` (all run by
default) and ``chunk-interval`` (the TimescaleDB chunk-interval comparison, only on
request). See ``docs/benchmarks.md`` for what each figure means.
The query API's read figures (``get_bars`` against the raw paths) are ``read_frames.py``;
``import-export`` (default) runs ``import_export.py``'s CSV import and export against raw
``COPY`` on the PostgreSQL server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the checkout
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import chunk_interval, import_export
from benchmarks.backends import PostgresTarget, sqlite_target
from benchmarks.data import Dataset
from benchmarks.queries import read_suite
from benchmarks.ratios import compute_ratios, render_ratios, render_raw
from benchmarks.read import measure_reads
from benchmarks.report import machine_info, write_json
from benchmarks.rss import measure_rss
from benchmarks.servers import Servers, exit_on_sigterm, open_servers, server_version
from benchmarks.tsdb_writes import store_on_hypertable
from benchmarks.write import measure_writes
from data_nexus.config import Settings
from data_nexus.redact import redact

SECTIONS = ("postgres", "rss", "sqlite", "timescale", "chunk-interval", "import-export")
DEFAULT_SECTIONS = ("postgres", "rss", "sqlite", "timescale", "import-export")


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much work each section does."""

    symbols: int  # main data set (PostgreSQL, TimescaleDB)
    years: int
    sqlite_symbols: int  # SQLite uses the first of the same symbols
    orm_symbols: int  # the ORM baseline is slow: it and our side run on this subset
    rss_symbols: int  # symbols written by each peak-RSS child (1 and 20 years)
    repetitions: int  # reads per kind (history and cross-section: a quarter)
    batch: int  # symbols per write_assets call and per baseline transaction
    tsdb_store_symbols: int  # our re-sync into the hypertable, per phase
    tsdb_rewrite_symbols: int  # whole-history rewrites into the hypertable, per phase
    rounds: int  # write passes per scenario; the fastest counts (noise only slows down)

    @classmethod
    def default(cls) -> Sizes:
        """A few minutes on two cores; batches as large as ``AsyncWriter``'s (32)."""
        return cls(
            symbols=500,
            years=20,
            sqlite_symbols=150,
            orm_symbols=30,
            rss_symbols=100,
            repetitions=200,
            batch=32,
            tsdb_store_symbols=100,
            tsdb_rewrite_symbols=10,
            rounds=2,
        )

    @classmethod
    def quick(cls) -> Sizes:
        """A smoke run: seconds."""
        return cls(
            symbols=20,
            years=3,
            sqlite_symbols=20,
            orm_symbols=4,
            rss_symbols=3,
            repetitions=15,
            batch=8,
            tsdb_store_symbols=4,
            tsdb_rewrite_symbols=2,
            rounds=1,
        )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (CI)")
    parser.add_argument("--postgres-url", help="admin URL of a PostgreSQL server to use")
    parser.add_argument("--timescale-url", help="admin URL of a TimescaleDB server to use")
    parser.add_argument("--json", type=Path, help="write all figures to this JSON file")
    parser.add_argument("--only", help=f"comma-separated sections among {', '.join(SECTIONS)}")
    parser.add_argument("--symbols", type=int, help="symbols in the main data set")
    parser.add_argument("--years", type=int, help="years of daily bars per symbol")
    args = parser.parse_args(argv)
    chosen = DEFAULT_SECTIONS
    if args.only:
        chosen = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = sorted(set(chosen) - set(SECTIONS))
        if unknown:
            parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {SECTIONS}")
    args.sections = chosen
    return args


class Clock:
    """Seconds spent per section, for the JSON."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, section: str) -> None:
        """Charge the time since the previous lap to ``section``."""
        now = time.perf_counter()
        self.seconds[section] = round(now - self._start, 1)
        self._start = now


def run_postgres(
    servers: Servers, dataset: Dataset, sizes: Sizes, sections: set[str], clock: Clock
) -> dict[str, Any]:
    """Writes and reads (``postgres``) and writer memory (``rss``) on plain PostgreSQL."""
    results: dict[str, Any] = {}
    if servers.postgres is None:
        return results
    target = PostgresTarget(servers.postgres)
    if "postgres" in sections:
        with target.database("ours", dataset) as url:
            writes = measure_writes(
                target,
                url,
                dataset,
                batch=sizes.batch,
                orm_symbols=sizes.orm_symbols,
                rounds=sizes.rounds,
            )
            print("  [postgresql] reads …", flush=True)
            reads = measure_reads(target, url, read_suite(dataset, sizes.repetitions))
        results["postgres"] = {"dataset": dataset.describe(), "write": writes, "read": reads}
        clock.lap("postgres")
    if "rss" in sections:
        results["rss"] = measure_rss(target, sizes.rss_symbols)
        clock.lap("rss")
    return results


def run_timescale(
    servers: Servers, dataset: Dataset, sizes: Sizes, sections: set[str], clock: Clock
) -> dict[str, Any]:
    """The default chunk interval with our writes (``timescale``), all intervals on request."""
    results: dict[str, Any] = {}
    if servers.timescale is None:
        return results
    if "timescale" in sections:
        interval = Settings.model_fields["chunk_interval"].default
        print(f"  [timescaledb] chunk interval {interval} …", flush=True)
        extra = store_on_hypertable(
            dataset,
            symbols=sizes.tsdb_store_symbols,
            rewrite=sizes.tsdb_rewrite_symbols,
            batch=sizes.batch,
        )
        suite = read_suite(dataset, sizes.repetitions)
        results["timescale"] = chunk_interval.measure_interval(
            servers.timescale, dataset, interval, suite, extra
        )
        clock.lap("timescale")
    if "chunk-interval" in sections:
        results["chunk_interval"] = chunk_interval.run(
            servers.timescale, dataset, chunk_interval.INTERVALS, sizes.repetitions
        )
        clock.lap("chunk-interval")
    return results


def run_sqlite(dataset: Dataset, sizes: Sizes, clock: Clock) -> dict[str, Any]:
    """Writes, reads and writer memory on SQLite (the first ``sqlite_symbols`` symbols)."""
    small = Dataset(min(dataset.symbols, sizes.sqlite_symbols), dataset.years)
    with sqlite_target() as target, target.database("ours", small) as url:
        writes = measure_writes(
            target,
            url,
            small,
            batch=sizes.batch,
            orm_symbols=sizes.orm_symbols,
            rounds=sizes.rounds,
        )
        print("  [sqlite] reads …", flush=True)
        reads = measure_reads(target, url, read_suite(small, sizes.repetitions))
        rss = measure_rss(target, sizes.rss_symbols)
    clock.lap("sqlite")
    return {"dataset": small.describe(), "write": writes, "read": reads, "rss": rss}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections, print the tables, write the JSON."""
    args = _parse(argv)
    exit_on_sigterm()
    sizes = Sizes.quick() if args.quick else Sizes.default()
    dataset = Dataset(args.symbols or sizes.symbols, args.years or sizes.years)
    sections = set(args.sections)
    clock = Clock()
    load_before = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    results: dict[str, Any] = {}
    versions: dict[str, Any] = {}
    print(
        f"Data set: {dataset.symbols:,} symbols x {dataset.years} years = "
        f"{dataset.total_rows:,} daily bars; sections: {', '.join(args.sections)}"
    )
    need_pg = bool(sections & {"postgres", "rss", "import-export"})
    need_ts = bool(sections & {"timescale", "chunk-interval"})
    with open_servers(
        args.postgres_url, args.timescale_url, need_postgres=need_pg, need_timescale=need_ts
    ) as servers:
        for factory in (servers.postgres, servers.timescale):
            if factory is not None and versions.get("timescaledb") is None:
                versions |= server_version(factory.admin_url)
        results |= run_postgres(servers, dataset, sizes, sections, clock)
        results |= run_timescale(servers, dataset, sizes, sections, clock)
        if "import-export" in sections and servers.postgres is not None:
            # CSV import and export against raw COPY (benchmarks/import_export.py)
            io_set = Dataset(sizes.rss_symbols, dataset.years)
            results["import_export"] = import_export.measure(servers.postgres, io_set, sizes.rounds)
            print(import_export.render(results["import_export"]))
            clock.lap("import-export")
    if "sqlite" in sections:
        results["sqlite"] = run_sqlite(dataset, sizes, clock)

    document = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": redact(" ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])])),
        "mode": "quick" if args.quick else "default",
        "machine": machine_info()
        | {"load_average_before": load_before, "versions": versions, "servers": servers.origin},
        "dataset": dataset.describe(),
        "sizes": asdict(sizes),
        "ratios": compute_ratios(results),
        "results": results,
        "section_seconds": clock.seconds,
        "seconds": round(sum(clock.seconds.values()), 1),
    }
    print()
    print(render_ratios(document["ratios"]))
    print()
    print(render_raw(results))
    if "chunk_interval" in results:
        print()
        print(chunk_interval.render(results["chunk_interval"]))
    machine = document["machine"]
    print(
        f"\nTotal {document['seconds']} s {clock.seconds}; {machine['cpu_count']} CPUs "
        f"({machine['cpu_model']}), load average before {load_before}, after "
        f"{machine['load_average']}"
    )
    if args.json:
        write_json(args.json, document)
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
