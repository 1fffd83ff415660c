"""CSV import and whole-warehouse export on PostgreSQL against PostgreSQL's own ``COPY``.

    python benchmarks/import_export.py [--quick] [--symbols N] [--years Y]
                                       [--postgres-url URL] [--repeats R] [--json FILE]

One synthetic data set (``benchmarks.data.Dataset``) is written as one CSV file per symbol
(``date,symbol,open,high,low,close,adjusted_close,volume``, the layout ``datanexus export
--format csv`` writes). Without ``--postgres-url`` (an admin URL where the benchmark may
create and drop databases) a throwaway cluster is started. Every figure is a ratio of two
timings from the same run, each the best of ``--repeats``, so a loaded machine slows both:

- **import**: ``COPY raw_bars (...) FROM STDIN (FORMAT csv, HEADER)`` of every file through
  psycopg into a table created ``LIKE market_data INCLUDING ALL`` (the same primary key and
  index, no validation) over :func:`data_nexus.query.imports.import_csv` of the same files
  into a fresh migrated database (validated, upserted through the store's writer; creating
  and migrating the database is not timed). Target ≥ 0.5.
- also the same raw ``COPY`` into a table that has ``market_data``'s foreign key to
  ``assets`` as well (no target): PostgreSQL checks it row by row (a lookup and a row lock
  of the asset per bar), which about doubles the server's time for a ``COPY`` into
  ``market_data``, so it bounds what any import into that table can reach.
- **export**: ``COPY market_data TO STDOUT (FORMAT csv)`` into one file over
  :func:`data_nexus.query.exports.export_data` (``--format csv``, hive layout, with a
  manifest and the actions) of the whole warehouse. Target ≥ 0.5.

``--quick`` is a smoke run of a few seconds (``benchmarks/run.py --quick`` runs it).
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

import psycopg
from tests.pgcluster import DatabaseFactory, ThrowawayCluster

from benchmarks.data import Dataset
from data_nexus.config import Settings
from data_nexus.query.exports import export_data
from data_nexus.query.imports import import_csv
from data_nexus.storage.migrate import upgrade_db

COLUMNS = "time, symbol, open, high, low, close, adjusted_close, volume"
HEADER = "date,symbol,open,high,low,close,adjusted_close,volume\n"


def write_files(dataset: Dataset, folder: Path) -> int:
    """One CSV file per symbol; returns the number of bars written."""
    folder.mkdir(parents=True, exist_ok=True)
    days = dataset.days()
    rows = 0
    for k in range(dataset.symbols):
        symbol = dataset.symbol(k)
        lines = [HEADER]
        for bar in dataset.bars(k, days):
            lines.append(
                f"{bar.date.isoformat()},{symbol},{bar.open},{bar.high},{bar.low},{bar.close},"
                f"{bar.adjusted_close},{bar.volume}\n"
            )
        rows += len(lines) - 1
        (folder / f"{symbol}.csv").write_text("".join(lines))
    return rows


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def best(
    run: Callable[[], Any], repeats: int, setup: Callable[[], object] | None = None
) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs (each after an untimed ``setup``), the last result."""
    fastest, result = float("inf"), None
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = run()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, result


def settings_for(url: str) -> Settings:
    """Settings for ``url`` that read no environment or ``.env``."""
    return Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]


def raw_import(url: str, folder: Path, *, foreign_key: bool = False) -> int:
    """COPY every file into an identically indexed table (with ``market_data``'s foreign key
    to ``assets`` too when ``foreign_key``); returns the rows it holds."""
    with psycopg.connect(_conninfo(url)) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_bars")
        conn.execute("CREATE TABLE raw_bars (LIKE market_data INCLUDING ALL)")
        if foreign_key:
            conn.execute("ALTER TABLE raw_bars ADD FOREIGN KEY (symbol) REFERENCES assets")
        conn.commit()
        sql = f"COPY raw_bars ({COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor() as cur:
            for path in sorted(folder.glob("*.csv")):
                with cur.copy(sql) as copy:
                    copy.write(path.read_bytes())
        conn.commit()
        row = conn.execute("SELECT count(*) FROM raw_bars").fetchone()
        conn.execute("DROP TABLE raw_bars")
        conn.commit()
    return int(row[0]) if row else 0


def raw_export(url: str, target: Path) -> int:
    """COPY the whole bar table into one CSV file; returns the bytes written."""
    written = 0
    sql = "COPY market_data TO STDOUT (FORMAT csv)"
    with (
        psycopg.connect(_conninfo(url)) as conn,
        conn.cursor() as cur,
        target.open("wb") as out,
        cur.copy(sql) as copy,
    ):
        for block in copy:
            written += out.write(block)
    return written


def measure(factory: DatabaseFactory, dataset: Dataset, repeats: int) -> dict[str, Any]:
    """Both figures on the server of ``factory`` (fresh databases, dropped afterwards)."""
    out: dict[str, Any] = {"dataset": dataset.describe(), "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="datanexus-io-") as tmp:
        folder = Path(tmp) / "in"
        out["rows"] = write_files(dataset, folder)
        urls: list[str] = []

        def fresh() -> None:  # untimed, as the baseline's table is made before its COPY
            url = factory.create("dn_io_bench")
            urls.append(url)
            upgrade_db(settings_for(url))

        def ours() -> Any:
            settings = settings_for(urls[-1])
            return import_csv(folder, settings=settings, now=dt.datetime.now(dt.UTC))

        try:
            out["import_s"], result = best(ours, repeats, fresh)
            if result.problems or result.inserted != out["rows"]:
                raise RuntimeError(f"import went wrong: {result.problems[:3]}")
            url = urls[-1]
            for other in urls[:-1]:
                factory.drop(other)
            out["raw_import_s"], copied = best(lambda: raw_import(url, folder), repeats)
            if copied != out["rows"]:
                raise RuntimeError(f"raw COPY holds {copied} rows, expected {out['rows']}")
            out["raw_import_fk_s"], _ = best(
                lambda: raw_import(url, folder, foreign_key=True), repeats
            )
            exports = iter(range(repeats))

            def export() -> Any:
                return export_data(
                    Path(tmp) / f"out{next(exports)}", fmt="csv", now=dt.datetime.now(dt.UTC),
                    url=url,
                )  # fmt: skip

            out["export_s"], exported = best(export, repeats)
            if exported.rows != out["rows"]:
                raise RuntimeError(f"export wrote {exported.rows} rows, expected {out['rows']}")
            out["raw_export_s"], _ = best(lambda: raw_export(url, Path(tmp) / "raw.csv"), repeats)
        finally:
            for url in urls[-1:]:
                factory.drop(url)
    out["ratios"] = {
        "raw COPY FROM / import csv (≥ 0.5)": out["raw_import_s"] / out["import_s"],
        "raw COPY TO / export csv (≥ 0.5)": out["raw_export_s"] / out["export_s"],
        "raw COPY FROM with the foreign key / import csv": out["raw_import_fk_s"] / out["import_s"],
    }
    out["import_us_per_row"] = out["import_s"] / out["rows"] * 1e6
    return out


def render(figures: dict[str, Any]) -> str:
    """The figures as a few lines of text."""
    lines = [
        f"import/export on PostgreSQL, {figures['rows']:,} bars (best of {figures['repeats']}):",
        f"  import csv {figures['import_s']:.2f} s ({figures['import_us_per_row']:.1f} µs/bar), "
        f"raw COPY FROM {figures['raw_import_s']:.2f} s "
        f"({figures['raw_import_fk_s']:.2f} s with market_data's foreign key)",
        f"  export csv {figures['export_s']:.2f} s, raw COPY TO {figures['raw_export_s']:.2f} s",
    ]
    lines += [f"  {name}: {value:.2f}" for name, value in figures["ratios"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print (and write the JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--postgres-url", help="admin URL of a server to use")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.symbols, args.years, args.repeats = 5, 2, 1
    dataset = Dataset(args.symbols, args.years)
    cluster = None
    if not args.postgres_url:
        cluster = ThrowawayCluster().start()
        args.postgres_url = cluster.admin_url
    try:
        figures = measure(DatabaseFactory(args.postgres_url), dataset, args.repeats)
    finally:
        if cluster is not None:
            cluster.stop()
    print(render(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
