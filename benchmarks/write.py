"""Write throughput: our store's upsert against the raw and ORM baselines, same rows.

Scenarios, each on the database states the sync really meets:

- **empty**: every bar is new (first sync of an exchange).
- **re-sync, nothing changed**: every bar is sent again with identical values (a sync
  that re-fetches a window it already has). Nothing may be rewritten.
- **re-sync, 1% changed**: the same, with about 1% of adjusted closes revised.

Our side sends one :class:`AssetUpdate` per symbol, the way the sync engine does: the
symbol's bars, its authoritative window (first to last bar date) and ``last_synced``.
``write_assets`` gets ``batch`` symbols per call (the writer thread coalesces concurrent
syncs the same way); ``single`` mode calls ``write_asset`` per symbol instead.
Generating the bars is never timed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import baselines
from benchmarks.backends import Target
from benchmarks.data import Dataset, revise
from data_nexus.records import Bar

#: The ``last_synced`` our benchmark writes (fixed: benchmarks do not read the clock).
SYNCED_AT = dt.datetime(2026, 1, 2, 22, 0, tzinfo=dt.UTC)


@dataclass
class StoreFigures:
    """What one pass of our writer did, and how long it took."""

    seconds: float = 0.0
    rows: int = 0
    changed_sent: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, result: Any) -> None:
        """Accumulate a ``WriteResult`` (or record an exception)."""
        if isinstance(result, Exception):
            self.errors.append(f"{type(result).__name__}: {result}")
            return
        for name in ("inserted", "updated", "unchanged", "deleted"):
            self.totals[name] = self.totals.get(name, 0) + int(getattr(result, name))


def _update(bars: list[Bar]) -> Any:
    from data_nexus.storage.store import AssetUpdate

    return AssetUpdate(
        symbol=bars[0].symbol,
        bars=bars,
        window=(bars[0].date, bars[-1].date),
        state={"last_synced": SYNCED_AT},
    )


def store_write(
    url: str,
    batches: Iterable[list[list[Bar]]],
    *,
    changed_fraction: float = 0.0,
    single: bool = False,
) -> StoreFigures:
    """Write every batch through :class:`Store`; only the store calls are timed."""
    from data_nexus.storage.store import Store

    figures = StoreFigures()
    store = Store.open(url)
    try:
        salt = 0
        for generated in batches:
            batch = generated
            if changed_fraction:
                batch = []
                for bars in generated:
                    new, changed = revise(bars, changed_fraction, salt)
                    salt += 1
                    figures.changed_sent += changed
                    batch.append(new)
            updates = [_update(bars) for bars in batch if bars]
            figures.rows += sum(len(bars) for bars in batch)
            start = time.perf_counter()
            if single:
                results: list[Any] = []
                for update in updates:
                    try:
                        results.append(store.write_asset(update))
                    except Exception as error:  # reported by the caller, not hidden
                        results.append(error)
            else:
                results = list(store.write_assets(updates))
            figures.seconds += time.perf_counter() - start
            for result in results:
                figures.add(result)
    finally:
        store.close()
    if figures.errors:
        raise RuntimeError(f"{len(figures.errors)} writes failed, first: {figures.errors[0]}")
    return figures


def _rate(rows: int, seconds: float) -> float | None:
    return round(rows / seconds) if seconds > 0 else None


def measure_writes(
    target: Target,
    url: str,
    dataset: Dataset,
    *,
    batch: int,
    orm_symbols: int,
) -> dict[str, Any]:
    """All write figures; leaves ``url`` (our database) loaded for the read benchmark."""
    rows = dataset.total_rows
    out: dict[str, Any] = {"rows": rows, "batch_symbols": batch}
    target.settle(url)

    print(f"  [{target.name}] our write into an empty table ({rows:,} rows) …", flush=True)
    empty = store_write(url, dataset.batches(batch))
    target.vacuum(url)
    out["ours_empty"] = {
        "seconds": round(empty.seconds, 3),
        "rows_per_s": _rate(rows, empty.seconds),
        **empty.totals,
    }

    print(f"  [{target.name}] raw baseline: {target.raw_baseline} …", flush=True)
    with target.database("raw", dataset) as raw_url:
        target.settle(raw_url)
        raw_s = target.raw_write(raw_url, dataset.batches(batch))
    out["raw"] = {
        "what": target.raw_baseline,
        "seconds": round(raw_s, 3),
        "rows_per_s": _rate(rows, raw_s),
    }

    print(f"  [{target.name}] re-sync, nothing changed …", flush=True)
    probe = target.rewrite_probe(url)
    same = store_write(url, dataset.batches(batch))
    out["resync_unchanged"] = {
        "seconds": round(same.seconds, 3),
        "rows_per_s": _rate(rows, same.seconds),
        **same.totals,
        "database": probe(),
    }
    target.vacuum(url)

    print(f"  [{target.name}] re-sync, 1% changed …", flush=True)
    probe = target.rewrite_probe(url)
    some = store_write(url, dataset.batches(batch), changed_fraction=0.01)
    out["resync_1pct"] = {
        "seconds": round(some.seconds, 3),
        "rows_per_s": _rate(rows, some.seconds),
        "changed_sent": some.changed_sent,
        **some.totals,
        "database": probe(),
    }
    target.vacuum(url)

    subset = Dataset(min(orm_symbols, dataset.symbols), dataset.years, dataset.end, dataset.seed)
    print(f"  [{target.name}] ORM add_all baseline ({subset.total_rows:,} rows) …", flush=True)
    with target.database("orm", subset) as orm_url:
        target.settle(orm_url)
        orm_s = baselines.orm_add_all(orm_url, subset.batches(batch))
    with target.database("ours_subset", subset) as ours_url:
        target.settle(ours_url)
        ours_subset = store_write(ours_url, subset.batches(batch))
    with target.database("ours_single", subset) as single_url:
        target.settle(single_url)
        single = store_write(single_url, subset.batches(batch), single=True)
    out["orm"] = {
        "rows": subset.total_rows,
        "seconds": round(orm_s, 3),
        "rows_per_s": _rate(subset.total_rows, orm_s),
        "ours_seconds": round(ours_subset.seconds, 3),
        "ours_rows_per_s": _rate(subset.total_rows, ours_subset.seconds),
        "ours_single_seconds": round(single.seconds, 3),
        "ours_single_rows_per_s": _rate(subset.total_rows, single.seconds),
    }
    return out
