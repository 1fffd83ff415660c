"""The query API's reads: ``get_bars`` against the fastest raw path on the same database.

    python benchmarks/read_frames.py [--quick] [--symbols N] [--years Y] [--postgres-url URL]
                                     [--json FILE]

One synthetic data set (``benchmarks.data.Dataset``: every symbol a 20-year random walk)
plus corporate actions (a dividend every quarter, a split every seven years) is written to
a fresh SQLite file and, with ``--postgres-url`` (an admin URL where the benchmark may create
and drop a database), to PostgreSQL. Each figure is the best of a few runs, and every figure
is a ratio of two timings from the same run:

- ``get_bars`` (500 symbols × 20 years, float frame) over the fastest raw path on the same
  database: on SQLite ``adbc_driver_sqlite``'s ``fetch_arrow_table`` of the same SELECT
  (strings, no conversion); on PostgreSQL ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` parsed
  by ``pyarrow.csv`` (target ≤ 1.5);
- today's ``Store.read_bars`` + ``DataFrame`` + ``astype(float)`` over ``get_bars`` (≥ 5);
- ``adjust="all"`` over ``adjust="none"`` (≤ 1.3);
- weekly and monthly over daily bars of one symbol × 20 years (≤ 2).

``--quick`` is a smoke run of a few seconds (tiny data, one repetition).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the checkout
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from tests.pgcluster import DatabaseFactory, ThrowawayCluster

from benchmarks.data import Dataset
from data_nexus.config import Settings
from data_nexus.models import ASSETS
from data_nexus.query.bars import get_bars
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import AssetUpdate, Store

SELECT = (
    "SELECT symbol, time, open, high, low, close, adjusted_close, volume FROM market_data "
    "WHERE symbol IN ({marks}) ORDER BY symbol, time"
)


def actions_for(bars: list[Bar]) -> list[Split | Dividend]:
    """A dividend of 0.4 % of the previous close every 63 bars and a 2/1 split every 7 years."""
    out: list[Split | Dividend] = []
    for i in range(63, len(bars), 63):
        amount = (bars[i - 1].close * Decimal("0.004")).quantize(Decimal("0.0001"))
        out.append(Dividend(bars[i].symbol, bars[i].date, amount, unadjusted_value=amount))
    for i in range(1764, len(bars), 1764):
        out.append(Split(bars[i].symbol, bars[i].date, Decimal(2), Decimal(1)))
    return out


def fill(url: str, dataset: Dataset) -> None:
    """Write the data set and its actions through the store (not timed)."""
    upgrade_db(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    with Store.open(url) as store:
        with store.engine.begin() as conn:
            conn.execute(sa.insert(ASSETS), dataset.asset_rows())
        days = dataset.days()
        for first in range(0, dataset.symbols, 25):
            updates = []
            for k in range(first, min(first + 25, dataset.symbols)):
                bars = dataset.bars(k, days)
                updates.append(AssetUpdate(dataset.symbol(k), bars, actions=actions_for(bars)))
            for result in store.write_assets(updates):
                if isinstance(result, Exception):
                    raise result


def best(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs (noise only slows a run down) and its last result."""
    fastest, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, result


def raw_sqlite(path: str, symbols: list[str]) -> Callable[[], pa.Table]:
    """ADBC's ``fetch_arrow_table`` of the same SELECT (string columns, no conversion)."""
    import adbc_driver_sqlite.dbapi as adbc

    sql = SELECT.format(marks=", ".join("?" * len(symbols)))

    def read() -> pa.Table:
        with adbc.connect(f"file:{path}?mode=ro") as conn:
            cur = conn.cursor()
            cur.execute(sql, symbols)
            table = cur.fetch_arrow_table()
            cur.close()
        return table

    return read


def raw_postgres(url: str, symbols: list[str]) -> Callable[[], pa.Table]:
    """``COPY … TO STDOUT (FORMAT csv)`` of the same SELECT into ``pyarrow.csv``."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    sql = SELECT.replace("IN ({marks})", "= ANY(%s)")

    def read() -> pa.Table:
        buffer = io.BytesIO()
        query = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
        with (
            psycopg.connect(conninfo) as conn,
            conn.cursor() as cur,
            cur.copy(query, [symbols]) as copy,
        ):
            for block in copy:
                buffer.write(block)
        buffer.seek(0)
        return pacsv.read_csv(
            buffer, read_options=pacsv.ReadOptions(autogenerate_column_names=True)
        )

    return read


def today_path(url: str, symbols: list[str]) -> Callable[[], pd.DataFrame]:
    """What a user wrote before this API: ``read_bars`` → DataFrame → floats."""

    def read() -> pd.DataFrame:
        with Store.open(url) as store:
            bars = store.read_bars(symbols)
        frame = pd.DataFrame(
            [
                (b.symbol, b.date, b.open, b.high, b.low, b.close, b.adjusted_close, b.volume)
                for b in bars
            ],
            columns=["symbol", "date", "open", "high", "low", "close", "adjusted_close", "volume"],
        )
        prices = ["open", "high", "low", "close", "adjusted_close"]
        return frame.astype(dict.fromkeys(prices, "float64"))

    return read


def measure(url: str, raw: Callable[[], Any], symbols: list[str], repeats: int) -> dict[str, Any]:
    """Every timing of one backend."""
    out: dict[str, Any] = {}
    out["raw_s"], table = best(raw, repeats)
    out["get_bars_none_s"], frame = best(lambda: get_bars(symbols, url=url), repeats)
    out["get_bars_all_s"], _ = best(lambda: get_bars(symbols, adjust="all", url=url), repeats)
    out["today_s"], _ = best(today_path(url, symbols), 1)
    out["rows"] = len(frame)
    assert table.num_rows == len(frame)
    out["frame_mib"] = round(frame.memory_usage(deep=True).sum() / 2**20, 1)
    one = symbols[:1]
    for interval in ("1d", "1w", "1mo"):
        out[f"one_{interval}_s"], _ = best(
            lambda i=interval: get_bars(one, adjust="all", interval=i, url=url), repeats * 3
        )
    out["memory"] = peak_memory(url, symbols)
    out["ratios"] = {
        "peak memory / frame (≤ 2)": out["memory"]["ratio"],
        "get_bars / raw (≤ 1.5)": out["get_bars_none_s"] / out["raw_s"],
        "today / get_bars (≥ 5)": out["today_s"] / out["get_bars_none_s"],
        "all / none (≤ 1.3)": out["get_bars_all_s"] / out["get_bars_none_s"],
        "weekly / daily (≤ 2)": out["one_1w_s"] / out["one_1d_s"],
        "monthly / daily (≤ 2)": out["one_1mo_s"] / out["one_1d_s"],
    }
    return out


PEAK_CHILD = """
import json, sys
from data_nexus.query.bars import get_bars
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))
url, symbols = sys.argv[1], sys.argv[2].split(",")
get_bars(symbols[:2], url=url)  # imports and first-use allocations (of the many-symbol path)
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:  # the high-water mark restarts from here
    f.write("5")
frame = get_bars(symbols, url=url)
after = status("VmHWM")
size = frame.memory_usage(deep=True).sum() / 1024
print(json.dumps({"peak_kib": after - before, "frame_kib": size}))
"""


def peak_memory(url: str, symbols: list[str]) -> dict[str, float]:
    """Peak RSS growth of one ``get_bars`` in a fresh process, over the frame's own size.

    Read from ``/proc/self/status`` (``VmHWM`` reset through ``clear_refs``), not
    ``ru_maxrss``: Linux carries a parent's resident size into its child's ``ru_maxrss``
    across fork and exec, so after this benchmark's big reads that figure was the parent's.
    """
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", PEAK_CHILD, url, ",".join(symbols)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout)
    figures["ratio"] = figures["peak_kib"] / figures["frame_kib"]
    return figures


def render(name: str, figures: dict[str, Any], raw_name: str) -> str:
    """One backend's figures as text."""
    lines = [
        f"{name}: {figures['rows']:,} rows, frame {figures['frame_mib']} MiB; raw path: {raw_name}",
        f"  raw {figures['raw_s']:.3f} s, get_bars {figures['get_bars_none_s']:.3f} s, "
        f"adjust=all {figures['get_bars_all_s']:.3f} s, read_bars+DataFrame "
        f"{figures['today_s']:.3f} s",
        f"  one symbol: daily {figures['one_1d_s'] * 1000:.1f} ms, weekly "
        f"{figures['one_1w_s'] * 1000:.1f} ms, monthly {figures['one_1mo_s'] * 1000:.1f} ms",
    ]
    lines += [f"  {label}: {value:.2f}" for label, value in figures["ratios"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the data, measure, print, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres-url", help="admin URL of a server to also measure")
    parser.add_argument(
        "--postgres", action="store_true", help="also measure on a throwaway PostgreSQL cluster"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.symbols, args.years, args.repeats = 5, 2, 1
    dataset = Dataset(args.symbols, args.years)
    symbols = dataset.symbol_names()
    results: dict[str, Any] = {"dataset": dataset.describe(), "when": dt.datetime.now(dt.UTC)}
    with tempfile.TemporaryDirectory(prefix="datanexus-read-") as folder:
        path = str(Path(folder) / "bench.db")
        url = f"sqlite:///{path}"
        print(f"writing {dataset.total_rows:,} bars to SQLite …", flush=True)
        fill(url, dataset)
        results["sqlite"] = measure(url, raw_sqlite(path, symbols), symbols, args.repeats)
        print(render("SQLite", results["sqlite"], "adbc_driver_sqlite fetch_arrow_table"))
    cluster = None
    if args.postgres and not args.postgres_url:
        cluster = ThrowawayCluster().start()
        args.postgres_url = cluster.admin_url
    try:
        if args.postgres_url:
            measure_postgres(args.postgres_url, dataset, symbols, args.repeats, results)
    finally:
        if cluster is not None:
            cluster.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


def measure_postgres(
    admin_url: str, dataset: Dataset, symbols: list[str], repeats: int, results: dict[str, Any]
) -> None:
    """Fill a fresh database on the server of ``admin_url``, measure, drop it."""
    factory = DatabaseFactory(admin_url)
    pg = factory.create("dn_read_bench")
    try:
        print(f"writing {dataset.total_rows:,} bars to PostgreSQL …", flush=True)
        fill(pg, dataset)
        results["postgresql"] = measure(pg, raw_postgres(pg, symbols), symbols, repeats)
        print(render("PostgreSQL", results["postgresql"], "COPY csv → pyarrow.csv"))
    finally:
        factory.drop(pg)


if __name__ == "__main__":
    raise SystemExit(main())
