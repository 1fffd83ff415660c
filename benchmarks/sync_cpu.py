"""CPU per stored bar of a first sync, against the raw write of the same rows.

    python benchmarks/sync_cpu.py [--symbols 150] [--since 2000-01-03] [--latency-ms 0]
                                  [--backends sqlite,postgres] [--postgres-url URL]
                                  [--profile FILE] [--json FILE] [--quick]

The EODHD emulator runs in another process (:mod:`benchmarks.emulator_process`, market
generated on demand), with no rate limit. A first sync of ``--symbols`` symbols with their
whole histories from ``--since`` runs in this process, and the figure is this process's
CPU time (all threads: fetch, parse, validate, write, commit) over the bars stored.

The baseline writes the very same bars, read back from the synced database as records
(untimed), into an identical fresh table, in this process, one transaction per 32 symbols
(the size of the sync's write batches), exactly as the write benchmark's raw baselines do
(:mod:`benchmarks.baselines`):

- SQLite: each bar made into a row of canonical decimal text and ``executemany`` of a plain
  ``INSERT``; for reference also ``executemany`` of the rows exactly as stored, text
  prepared before timing (the bare cost of SQLite's insert, a floor no loader reaches);
- PostgreSQL: the client side of a raw ``COPY … FROM STDIN`` (``write_row`` of each bar's
  ``date``/``Decimal`` values); the server's CPU is not counted on either side.

The ratio is our CPU per bar over the baseline's (lower is better; target ≤ 1.5).
``--profile FILE`` also profiles the sync (every thread, :mod:`cProfile`), writes the
merged statistics to ``FILE`` and prints the top functions; profiling slows the sync, so
its CPU figure is then not comparable. ``--quick`` is a smoke run of a few seconds (CI).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import io
import json
import os
import pstats
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the checkout
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks.baselines import SQLITE_INSERT, pg_copy, sqlite_connect, sqlite_executemany
from benchmarks.emulator_process import EmulatorProcess, emulator_process
from benchmarks.servers import connect, exit_on_sigterm, fresh_database, open_servers
from data_nexus.assets import add_assets
from data_nexus.config import Settings
from data_nexus.emulator import EmulatorConfig
from data_nexus.records import Bar
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions

TODAY = dt.date(2025, 6, 30)
NOW = dt.datetime(2025, 6, 30, 23, tzinfo=dt.UTC)
#: Symbols per baseline transaction (the sync's AsyncWriter coalesces up to 32 assets).
BATCH = 32
_COLUMNS = "time, symbol, open, high, low, close, adjusted_close, volume"
#: Requests per minute given to the sync: far above what it can send (no limit in effect).
NO_LIMIT = 1_000_000


def symbol_names(symbols: int, seed: int) -> list[str]:
    """The emulator's active US symbols for ``symbols`` and ``seed`` (no bars generated)."""
    market = EmulatorConfig(seed=seed, symbols=symbols, today=TODAY).build_market()
    return [s.symbol for s in market.symbols("US")]


@contextlib.contextmanager
def profiled(path: Path | None) -> Iterator[list[cProfile.Profile]]:
    """Profile the block in this thread and in every thread started inside it.

    Each thread's profile counts that thread's CPU time (``time.thread_time``), not the
    wall clock: a thread waiting for the GIL, the network or a lock costs nothing here.
    """
    if path is None:
        yield []
        return
    profiles: list[cProfile.Profile] = []

    def start_in_thread(*_args: object) -> None:
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()  # replaces this hook for the rest of the thread

    main = cProfile.Profile(time.thread_time)
    profiles.append(main)
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        yield profiles
    finally:
        main.disable()
        threading.setprofile(None)


def _report_profile(profiles: list[cProfile.Profile], path: Path, top: int = 30) -> str:
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        with contextlib.suppress(TypeError):  # a thread that never ran Python code
            stats.add(profile)
    stats.dump_stats(path)
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def sync_once(
    url: str,
    emu: EmulatorProcess,
    names: list[str],
    *,
    since: dt.date,
    profile: Path | None,
) -> dict[str, Any]:
    """A first sync of ``names`` into ``url``: CPU, wall time, bars stored."""
    settings = Settings(
        database_url=url,
        eodhd_api_token=emu.token,
        eodhd_base_url=emu.base_url,
        eodhd_rate_limit=NO_LIMIT,
        _env_file=None,
    )
    add_assets(settings, names)
    gc_before = sum(g["collections"] for g in gc.get_stats())
    times, wall, cpu = os.times(), time.perf_counter(), time.process_time()
    with profiled(profile) as profiles:
        summary = run_sync(settings, SyncOptions(since=since, bulk="never"), clock=lambda: NOW)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = os.times()
    collections = sum(g["collections"] for g in gc.get_stats()) - gc_before
    if summary.failed:
        first = next(iter(summary.failed.items()))
        raise RuntimeError(f"{len(summary.failed)} assets failed, first: {first}")
    out: dict[str, Any] = {
        "bars": summary.rows_inserted,
        "requests": summary.requests_sent,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "cpu_us_per_bar": round(cpu / max(1, summary.rows_inserted) * 1e6, 3),
        "user_s": round(after.user - times.user, 3),
        "system_s": round(after.system - times.system, 3),
        "gc_collections": collections,
    }
    if profile is not None:
        out["profile"] = _report_profile(profiles, profile)
    return out


def _batches(rows: list[tuple[Any, ...]]) -> list[list[list[Bar]]]:
    """Rows (``_COLUMNS``, ordered by symbol) as bars, :data:`BATCH` symbols a batch."""
    date = dt.date.fromisoformat

    def price(value: Any) -> Decimal | None:
        return None if value is None else Decimal(value)  # text (SQLite) or Decimal

    batches: list[list[list[Bar]]] = []
    last = None
    for day, symbol, o, h, lo, c, a, v in rows:
        if symbol != last:
            last = symbol
            if not batches or len(batches[-1]) == BATCH:
                batches.append([])
            batches[-1].append([])
        when = date(day) if isinstance(day, str) else day
        bar = Bar(symbol, when, price(o), price(h), price(lo), Decimal(c), price(a), v)
        batches[-1][-1].append(bar)
    return batches


def _read_rows(conn: Any) -> list[tuple[Any, ...]]:
    sql = f"SELECT {_COLUMNS} FROM market_data ORDER BY symbol, time"
    return list(conn.execute(sql).fetchall())


def sqlite_baseline(synced: Path, fresh: Path, names: list[str]) -> dict[str, Any]:
    """CPU of the raw write of the synced bars into an identical fresh table.

    Two figures: ``executemany`` of the bars as records (each made into a row of canonical
    text, as :func:`benchmarks.baselines.sqlite_executemany` does: the ratio's baseline),
    and, for reference, of the rows exactly as stored (text prepared before timing).
    """
    source = sqlite3.connect(synced)
    try:
        rows = _read_rows(source)
    finally:
        source.close()
    batches = _batches(rows)
    out: dict[str, Any] = {}
    for label in ("records", "text"):
        url = f"sqlite:///{fresh.with_suffix(f'.{label}.db')}"
        add_assets(Settings(database_url=url, _env_file=None), names)  # migrates the new file
        if label == "records":
            cpu, wall = time.process_time(), time.perf_counter()
            sqlite_executemany(url, batches)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            out[label] = _baseline("executemany INSERT of the records", len(rows), cpu, wall)
            continue
        conn = sqlite_connect(url)
        try:
            text_groups = _text_groups(rows)
            cpu, wall = time.process_time(), time.perf_counter()
            for group in text_groups:
                conn.execute("BEGIN")
                conn.executemany(SQLITE_INSERT, group)
                conn.execute("COMMIT")
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            conn.close()
        out[label] = _baseline("executemany INSERT of the stored text", len(rows), cpu, wall)
    return out


def _text_groups(rows: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """Rows (ordered by symbol) in transactions of :data:`BATCH` symbols."""
    groups: list[list[tuple[Any, ...]]] = []
    symbols = 0
    last = None
    for row in rows:
        if row[1] != last:
            last = row[1]
            if symbols % BATCH == 0:
                groups.append([])
            symbols += 1
        groups[-1].append(row)
    return groups


def postgres_baseline(synced_url: str, fresh_url: str, names: list[str]) -> dict[str, Any]:
    """Client-side CPU of a raw ``COPY`` of the synced bars into an identical fresh table
    (:func:`benchmarks.baselines.pg_copy`: ``write_row`` of each bar's values)."""
    with connect(synced_url) as conn:
        rows = _read_rows(conn)
    batches = _batches(rows)
    add_assets(Settings(database_url=fresh_url, _env_file=None), names)
    cpu, wall = time.process_time(), time.perf_counter()
    pg_copy(fresh_url, batches)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"records": _baseline("COPY of the records, client side", len(rows), cpu, wall)}


def _baseline(what: str, rows: int, cpu: float, wall: float) -> dict[str, Any]:
    return {
        "what": what,
        "bars": rows,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "cpu_us_per_bar": round(cpu / max(1, rows) * 1e6, 3),
    }


def _figure(backend: str, ours: dict[str, Any], raws: dict[str, Any]) -> dict[str, Any]:
    raw = raws["records"]
    if ours["bars"] != raw["bars"]:
        raise RuntimeError(f"{backend}: synced {ours['bars']} bars, baseline wrote {raw['bars']}")
    ratio = ours["cpu_us_per_bar"] / raw["cpu_us_per_bar"] if raw["cpu_us_per_bar"] else None
    return {
        "ours": ours,
        "raw": raw,
        "raw_other": {k: v for k, v in raws.items() if k != "records"},
        "ratio": None if ratio is None else round(ratio, 3),
        "better": "lower",
        "target": "<= 1.5",
        "met": None if ratio is None else ratio <= 1.5,
    }


def measure(
    *,
    symbols: int,
    since: dt.date,
    latency_ms: float,
    backends: Sequence[str],
    postgres_url: str | None,
    profile: Path | None,
    seed: int = 99,
) -> dict[str, Any]:
    """Sync and baseline on each backend; the figures."""
    names = symbol_names(symbols, seed)
    load = [round(x, 2) for x in os.getloadavg()]
    results: dict[str, Any] = {
        "symbols": len(names),
        "since": since.isoformat(),
        "today": TODAY.isoformat(),
        "latency_ms": latency_ms,
        "cpu_count": os.cpu_count(),
        "load_average_before": load,
    }
    with emulator_process(
        symbols=symbols, start=since, today=TODAY, seed=seed, latency_ms=latency_ms
    ) as emu:
        if "sqlite" in backends:
            with tempfile.TemporaryDirectory(prefix="datanexus-synccpu-") as tmp:
                synced = Path(tmp) / "sync.db"
                print(f"  [sqlite] first sync of {len(names)} symbols …", flush=True)
                ours = sync_once(f"sqlite:///{synced}", emu, names, since=since, profile=profile)
                print("  [sqlite] raw executemany of the same rows …", flush=True)
                raw = sqlite_baseline(synced, Path(tmp) / "raw.db", names)
            results["sqlite"] = _figure("sqlite", ours, raw)
        if "postgres" in backends:
            with open_servers(postgres_url, None, need_postgres=True, need_timescale=False) as s:
                if s.postgres is None:
                    raise RuntimeError("no PostgreSQL server could be started")
                with (
                    fresh_database(s.postgres, "dn_synccpu") as url,
                    fresh_database(s.postgres, "dn_synccpu_raw") as raw_url,
                ):
                    print(f"  [postgresql] first sync of {len(names)} symbols …", flush=True)
                    pg_profile = profile.with_suffix(".pg" + profile.suffix) if profile else None
                    ours = sync_once(url, emu, names, since=since, profile=pg_profile)
                    print("  [postgresql] raw COPY of the same rows …", flush=True)
                    raw = postgres_baseline(url, raw_url, names)
            results["postgres"] = _figure("postgres", ours, raw)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return results


def render(results: dict[str, Any]) -> str:
    """One line per backend."""
    lines = []
    for backend in ("sqlite", "postgres"):
        if backend not in results:
            continue
        fig = results[backend]
        ours, raw = fig["ours"], fig["raw"]
        lines.append(
            f"{backend}: {ours['bars']:,} bars, sync {ours['cpu_s']} s CPU "
            f"({ours['user_s']} user + {ours['system_s']} system; {ours['wall_s']} s wall) = "
            f"{ours['cpu_us_per_bar']} µs/bar; "
            f"{raw['what']} {raw['cpu_s']} s CPU = {raw['cpu_us_per_bar']} µs/bar; "
            f"ratio {fig['ratio']} (target {fig['target']})"
        )
        for other in fig["raw_other"].values():
            lines.append(
                f"  for reference: {other['what']} {other['cpu_s']} s CPU = "
                f"{other['cpu_us_per_bar']} µs/bar (ours / that: "
                f"{ours['cpu_us_per_bar'] / max(other['cpu_us_per_bar'], 1e-9):.2f})"
            )
    lines.append(
        f"load average before {results['load_average_before']}, "
        f"after {results['load_average_after']} ({results['cpu_count']} CPUs)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/sync_cpu.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--symbols", type=int, default=150)
    parser.add_argument("--since", type=dt.date.fromisoformat, default=dt.date(2000, 1, 3))
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--postgres-url", help="admin URL of a PostgreSQL server to use")
    parser.add_argument("--profile", type=Path, help="profile the sync, write pstats here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 4 symbols, 2 years")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - {"sqlite", "postgres"})
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose sqlite and/or postgres")
    if args.quick:
        args.symbols, args.since = 4, dt.date(2023, 7, 3)
    exit_on_sigterm()
    results = measure(
        symbols=args.symbols,
        since=args.since,
        latency_ms=args.latency_ms,
        backends=backends,
        postgres_url=args.postgres_url,
        profile=args.profile,
    )
    for backend in ("sqlite", "postgres"):
        text = results.get(backend, {}).get("ours", {}).pop("profile", None)
        if text:
            print(f"--- profile of the {backend} sync (tottime) ---\n{text}")
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
