"""Read latency: our query API against the same SELECT through the raw driver.

Both sides read the same database, the same cases in the same order, interleaved case by
case (see :func:`benchmarks.timing.time_calls`). Our side returns
:class:`~data_nexus.records.Bar` objects with exact ``Decimal`` prices; the raw side
returns the driver's tuples (``Decimal`` on PostgreSQL, text on SQLite).
"""

from __future__ import annotations

from typing import Any

from benchmarks.backends import Target
from benchmarks.queries import ReadCase, ReadSuite
from benchmarks.timing import latency, time_calls
from data_nexus.storage.store import Store


def measure_reads(target: Target, url: str, suite: ReadSuite) -> dict[str, Any]:
    """p50/p95 of ours and raw SQL for each read kind, and their ratio."""
    store = Store.open(url)
    try:

        def ours(case: object) -> object:
            assert isinstance(case, ReadCase)
            if case.symbol is None:
                return store.read_day(case.start)
            return store.read_bars([case.symbol], case.start, case.end)

        out: dict[str, Any] = {}
        with target.raw_reader(url) as raw:
            for kind, cases in suite.kinds().items():
                _check_same_rows(ours, raw, cases[0], kind)
                samples = time_calls({"ours": ours, "sql": raw}, cases)
                mine, sql = latency(samples["ours"]), latency(samples["sql"])
                out[kind] = {
                    "rows": len(raw(cases[0])),  # type: ignore[arg-type]
                    "ours": mine,
                    "sql": sql,
                    "p50_ratio": round(mine["p50_ms"] / sql["p50_ms"], 3),
                    "p95_ratio": round(mine["p95_ms"] / sql["p95_ms"], 3),
                }
        return out
    finally:
        store.close()


def _check_same_rows(ours: Any, raw: Any, case: ReadCase, kind: str) -> None:
    got, expected = len(ours(case)), len(raw(case))
    if got != expected or expected == 0:
        raise RuntimeError(f"{kind} read: our API returned {got} rows, raw SQL {expected}")
