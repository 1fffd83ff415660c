"""TimescaleDB chunk interval: compression ratio, chunk count and read latency per interval.

For each interval, a fresh TimescaleDB database is migrated with
``Settings(chunk_interval=…)`` (so the hypertable is exactly what ``datanexus db upgrade``
creates), the same synthetic bars are loaded with ``COPY``, read latencies are measured,
every chunk is compressed, and the same reads are measured again. The compression policy
the migration installs is paused first, so no background job compresses chunks behind
the uncompressed measurement's back.

Run alone::

    python benchmarks/chunk_interval.py [--quick] [--symbols N] [--years Y]
        [--intervals "1 month,3 months,6 months,12 months"] [--timescale-url URL] [--json FILE]

or as part of ``python benchmarks/run.py --only chunk-interval``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the checkout
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from tests.pgcluster import DatabaseFactory

from benchmarks.baselines import pg_copy
from benchmarks.data import Dataset
from benchmarks.queries import ReadSuite, pg_raw_reader, read_suite
from benchmarks.report import machine_info, table, write_json
from benchmarks.servers import (
    connect,
    exit_on_sigterm,
    fresh_database,
    insert_assets,
    open_servers,
)
from benchmarks.timing import latency, time_calls

INTERVALS = ("1 month", "3 months", "6 months", "12 months")
#: TimescaleDB compresses in batches of up to 1,000 rows per segment; its guidance is to
#: have well over 100 rows per segment (here: per symbol per chunk) for good ratios.
MIN_ROWS_PER_SEGMENT = 100
READ_KINDS = ("year", "history", "cross_section")


def copy_bars(url: str, dataset: Dataset, *, batch: int = 50) -> float:
    """Load the assets, then every bar with ``COPY`` per ``batch`` symbols; seconds (bars)."""
    insert_assets(url, dataset.asset_rows())
    return pg_copy(url, dataset.batches(batch))


def pause_compression_policy(conn: Any) -> None:
    """Stop the background compression job so only we decide what is compressed."""
    conn.execute(
        "SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs "
        "WHERE hypertable_name = 'market_data' AND proc_name = 'policy_compression'"
    )


def compress_all(conn: Any) -> tuple[int, float]:
    """Compress every chunk of ``market_data``; (chunks compressed, seconds)."""
    start = time.perf_counter()
    rows = conn.execute(
        "SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('market_data') c"
    ).fetchall()
    return len(rows), time.perf_counter() - start


def decompress_all(conn: Any) -> int:
    """Decompress every chunk of ``market_data``; how many were."""
    rows = conn.execute(
        "SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks('market_data') c"
    ).fetchall()
    return len(rows)


def sizes(conn: Any) -> dict[str, Any]:
    """Chunk count, compression stats and total size of the hypertable (bytes)."""
    chunks = conn.execute("SELECT count(*) FROM show_chunks('market_data')").fetchone()[0]
    stats = conn.execute(
        "SELECT number_compressed_chunks, before_compression_total_bytes, "
        "after_compression_total_bytes FROM hypertable_compression_stats('market_data')"
    ).fetchone()
    total = conn.execute("SELECT hypertable_size('market_data')").fetchone()[0]
    return {
        "chunks": int(chunks),
        "compressed_chunks": int(stats[0] or 0) if stats else 0,
        "bytes_before_compression": None if not stats or stats[1] is None else int(stats[1]),
        "bytes_after_compression": None if not stats or stats[2] is None else int(stats[2]),
        "hypertable_bytes": int(total),
    }


def measure_reads(url: str, suite: ReadSuite) -> dict[str, dict[str, float]]:
    """p50/p95 of the raw-SQL reads of ``suite`` on ``url``."""
    with connect(url, autocommit=True) as conn:
        read = pg_raw_reader(conn)
        return {
            kind: latency(time_calls({"sql": read}, cases)["sql"])
            for kind, cases in suite.kinds().items()
        }


#: Extra measurements on the loaded hypertable: called with (url, phase) where phase is
#: "uncompressed" or "compressed"; returns JSON-ready figures.
Extra = Callable[[str, str], dict[str, Any]]


def measure_interval(
    factory: DatabaseFactory,
    dataset: Dataset,
    interval: str,
    suite: ReadSuite,
    extra: Extra | None = None,
) -> dict[str, Any]:
    """All figures of one chunk interval, on a fresh database dropped afterwards.

    ``extra`` (``run.py`` uses it to time our store's writes into compressed and
    uncompressed chunks) runs only after the compression figures are taken, since rewritten
    rows would leave dead tuples that inflate the bytes before compression: first on the
    compressed chunks, then again once every chunk is decompressed.
    """
    extras: dict[str, Any] = {}
    with fresh_database(factory, "dn_bench_chunks", timescale=True, chunk_interval=interval) as url:
        with connect(url, autocommit=True) as conn:
            pause_compression_policy(conn)
        load_s = copy_bars(url, dataset)
        with connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE market_data")
            before = sizes(conn)
        reads_plain = measure_reads(url, suite)
        with connect(url, autocommit=True) as conn:
            compressed, compress_s = compress_all(conn)
            conn.execute("ANALYZE market_data")
            after = sizes(conn)
        reads_compressed = measure_reads(url, suite)
        if extra is not None:
            extras["compressed"] = extra(url, "compressed")
            with connect(url, autocommit=True) as conn:
                decompress_all(conn)
                conn.execute("VACUUM ANALYZE market_data")
            extras["uncompressed"] = extra(url, "uncompressed")
    ratio = None
    if after["bytes_before_compression"] and after["bytes_after_compression"]:
        ratio = after["bytes_before_compression"] / after["bytes_after_compression"]
    return {
        "interval": interval,
        "chunks": after["chunks"],
        "rows_per_symbol_per_chunk": round(dataset.rows_per_symbol / max(1, after["chunks"]), 1),
        "load_seconds": round(load_s, 2),
        "load_rows_per_s": round(dataset.total_rows / load_s) if load_s else None,
        "compress_seconds": round(compress_s, 2),
        "chunks_compressed": compressed,
        "compression_ratio": None if ratio is None else round(ratio, 2),
        "size_uncompressed_bytes": before["hypertable_bytes"],
        "size_compressed_bytes": after["hypertable_bytes"],
        "stats": after,
        "reads_uncompressed": reads_plain,
        "reads_compressed": reads_compressed,
        **({"store_writes": extras} if extras else {}),
    }


def recommend(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pick the best-compressing interval among those with enough rows per segment.

    Compression is per (chunk, symbol) segment, so an interval below
    :data:`MIN_ROWS_PER_SEGMENT` rows per symbol per chunk is not eligible (unless none
    is). The text states the read-latency trade-off (compressed p50) against the
    shortest interval measured, for the lead to weigh.
    """
    eligible = [r for r in results if r["rows_per_symbol_per_chunk"] >= MIN_ROWS_PER_SEGMENT]
    chosen = max(eligible or results, key=lambda r: r["compression_ratio"] or 0)
    shortest = results[0]

    def p50(r: dict[str, Any], kind: str) -> float:
        return float(r["reads_compressed"][kind]["p50_ms"])

    figures = "; ".join(
        f"{r['interval']}: {r['compression_ratio']}x, {r['rows_per_symbol_per_chunk']} rows "
        f"per symbol per chunk, {r['chunks']} chunks"
        for r in results
    )
    trade = ", ".join(
        f"{label} {p50(chosen, kind):.1f} ms vs {p50(shortest, kind):.1f} ms"
        for kind, label in (
            ("year", "one symbol x 1 year"),
            ("history", "one symbol x all years"),
            ("cross_section", "one date x all symbols"),
        )
    )
    return {
        "interval": chosen["interval"],
        "compression_ratio": chosen["compression_ratio"],
        "why": (
            f"the best compression among intervals with >= {MIN_ROWS_PER_SEGMENT} rows per "
            f"symbol per chunk ({figures}). Compressed reads (p50), {chosen['interval']} vs "
            f"{shortest['interval']}: {trade}."
        ),
    }


def run(
    factory: DatabaseFactory, dataset: Dataset, intervals: Sequence[str], repetitions: int
) -> dict[str, Any]:
    """Measure every interval on the same data; results plus a recommendation."""
    suite = read_suite(dataset, repetitions)
    results = []
    for interval in intervals:
        print(f"  chunk interval {interval}: loading {dataset.total_rows:,} rows …", flush=True)
        results.append(measure_interval(factory, dataset, interval, suite))
    return {
        "dataset": dataset.describe(),
        "results": results,
        "recommendation": recommend(results),
    }


def _pair(figures: dict[str, float]) -> str:
    return f"{figures['p50_ms']:.2f} / {figures['p95_ms']:.2f}"


def render(document: dict[str, Any]) -> str:
    """The chunk-interval table (read latencies p50 / p95 in ms, raw SQL)."""
    rows = []
    for r in document["results"]:
        plain, packed = r["reads_uncompressed"], r["reads_compressed"]
        rows.append(
            [
                r["interval"],
                r["chunks"],
                r["rows_per_symbol_per_chunk"],
                r["compression_ratio"],
                r["size_uncompressed_bytes"] / 2**20,
                r["size_compressed_bytes"] / 2**20,
                r["compress_seconds"],
                *(_pair(figures[kind]) for kind in READ_KINDS for figures in (plain, packed)),
            ]
        )
    years = document["dataset"]["years"]
    headers = [
        "interval",
        "chunks",
        "rows/symbol/chunk",
        "compression",
        "MiB before",
        "MiB after",
        "compress s",
        "1y plain",
        "1y compressed",
        f"{years}y plain",
        f"{years}y compressed",
        "date plain",
        "date compressed",
    ]
    rec = document["recommendation"]
    return (
        table(headers, rows)
        + f"\n\nRecommendation: {rec['interval']} ({rec['compression_ratio']}x): {rec['why']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure the intervals, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--symbols", type=int, help="symbols (default 1000; quick 20)")
    parser.add_argument("--years", type=int, help="years per symbol (default 20; quick 3)")
    parser.add_argument("--intervals", default=",".join(INTERVALS), help="comma-separated")
    parser.add_argument("--repetitions", type=int, help="reads per kind (default 200)")
    parser.add_argument("--timescale-url", help="admin URL of a TimescaleDB server")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    dataset = Dataset(
        args.symbols or (20 if args.quick else 1000), args.years or (3 if args.quick else 20)
    )
    repetitions = args.repetitions or (20 if args.quick else 200)
    intervals = [i.strip() for i in args.intervals.split(",") if i.strip()]
    with open_servers(None, args.timescale_url, need_postgres=False) as servers:
        if servers.timescale is None:
            print("TimescaleDB is not available: nothing to measure")
            return 1
        document = run(servers.timescale, dataset, intervals, repetitions)
    document["machine"] = machine_info()
    print(render(document))
    if args.json:
        write_json(args.json, document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
