"""Peak memory of the writer: 1 versus 20 years per symbol, the same number of symbols.

Each measurement runs in a fresh Python process (so earlier work cannot inflate its peak)
that opens the store, notes its resident set so far, then writes every symbol with
``write_asset`` from a *generator* of bars, never a list: the bars exist only as the
writer pulls them, so the peak shows what the writer itself holds. The child reports its
peak resident set (``VmHWM``, the ``ru_maxrss`` of its own address space) and the same
figure before writing; a writer that streams has about the same peak for 1 and 20 years.

The child side is ``python -m benchmarks.rss --child SYMBOLS YEARS`` with the database URL
in the ``DATANEXUS_BENCH_URL`` environment variable (not on the command line, where other
users of the machine could read a password).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.backends import Target
from benchmarks.data import Dataset
from benchmarks.write import SYNCED_AT
from data_nexus.redact import redact
from data_nexus.storage.store import AssetUpdate, Store

REPO = Path(__file__).resolve().parent.parent
URL_VARIABLE = "DATANEXUS_BENCH_URL"


def _peak_kib() -> int:
    """Peak resident set of this process so far, KiB.

    ``VmHWM`` from ``/proc/self/status`` where there is one: Linux carries ``ru_maxrss``
    over ``exec``, so a child started by a big parent would report the parent's peak.
    Elsewhere, ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024 if sys.platform == "darwin" else peak)


def child(url: str, symbols: int, years: int) -> dict[str, Any]:
    """Write ``symbols`` x ``years`` of streamed bars through our store; memory figures."""
    dataset = Dataset(symbols, years)
    days = dataset.days()
    store = Store.open(url)
    try:
        baseline = _peak_kib()
        start = time.perf_counter()
        for index in range(symbols):
            update = AssetUpdate(
                symbol=dataset.symbol(index),
                bars=dataset.iter_bars(index),
                window=(days[0], days[-1]),
                state={"last_synced": SYNCED_AT},
            )
            store.write_asset(update)
        seconds = time.perf_counter() - start
    finally:
        store.close()
    return {
        "symbols": symbols,
        "years": years,
        "rows": dataset.total_rows,
        "seconds": round(seconds, 3),
        "baseline_kib": baseline,
        "peak_kib": _peak_kib(),
    }


def measure_rss(target: Target, symbols: int, short: int = 1, long: int = 20) -> dict[str, Any]:
    """Peak RSS writing ``symbols`` x ``short`` and x ``long`` years, and their ratio.

    A third, control run writes as many rows as the long one, but as ``long / short``
    times the symbols with ``short`` years each: if it peaks as high as the long run, the
    growth comes from the volume written (say, SQLite's page cache filling up), not from
    holding one symbol's history.
    """
    plan = {
        f"{short}y": (symbols, short),
        f"{long}y": (symbols, long),
        f"{short}y_x{long // short}_symbols": (symbols * (long // short), short),
    }
    runs = {}
    for name, (count, years) in plan.items():
        print(f"  [{target.name}] peak RSS writing {count} symbols x {years} years …", flush=True)
        with target.database(f"rss_{years}y_{count}", Dataset(count, years)) as url:
            runs[name] = _spawn(url, count, years)
    first, last = runs[f"{short}y"], runs[f"{long}y"]
    return {
        "runs": runs,
        "peak_ratio": round(last["peak_kib"] / first["peak_kib"], 3),
        "growth_ratio": round(
            max(1, last["peak_kib"] - last["baseline_kib"])
            / max(1, first["peak_kib"] - first["baseline_kib"]),
            3,
        ),
    }


def _spawn(url: str, symbols: int, years: int) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env[URL_VARIABLE] = url
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.rss", "--child", str(symbols), str(years)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"RSS child failed: {redact(done.stderr.strip()[-2000:])}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child" and URL_VARIABLE in os.environ:
        print(json.dumps(child(os.environ[URL_VARIABLE], int(sys.argv[2]), int(sys.argv[3]))))
    else:
        print(__doc__)
        raise SystemExit(2)
