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
Generating the bars is never timed. Each scenario can run several rounds, alternating
which side goes first; the fastest pass of each side is reported.
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
from data_nexus.storage.store import AssetUpdate, Store

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


def _update(bars: list[Bar]) -> AssetUpdate:
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
    revision: int = 0,
    single: bool = False,
) -> StoreFigures:
    """Write every batch through :class:`Store`; only the store calls are timed.

    With ``changed_fraction``, revision ``n`` sends the bars with the revisions 0 … n
    applied, each revising a different ``changed_fraction`` of every symbol's adjusted
    closes: written in order, every pass changes just ``changed_fraction`` of the rows.
    """
    figures = StoreFigures()
    store = Store.open(url)
    try:
        symbol_index = 0
        for generated in batches:
            batch = generated
            if changed_fraction:
                batch = []
                for original in generated:
                    bars = original
                    for n in range(revision + 1):
                        bars, changed = revise(bars, changed_fraction, symbol_index + n)
                    figures.changed_sent += changed
                    symbol_index += 1
                    batch.append(bars)
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


def _best(rows: int, samples: list[float]) -> dict[str, Any]:
    """The fastest of repeated passes (noise only ever slows a pass down), and all of them."""
    seconds = min(samples)
    return {
        "seconds": round(seconds, 3),
        "rows_per_s": _rate(rows, seconds),
        "samples_rows_per_s": [_rate(rows, s) for s in samples],
    }


@dataclass
class _Passes:
    """Timings of one scenario over the rounds, and the first round's counts."""

    samples: list[float] = field(default_factory=list)
    first: StoreFigures | None = None
    updated: list[int] = field(default_factory=list)

    def add(self, figures: StoreFigures) -> None:
        self.samples.append(figures.seconds)
        self.updated.append(figures.totals.get("updated", 0))
        self.first = self.first or figures


def measure_writes(
    target: Target,
    url: str,
    dataset: Dataset,
    *,
    batch: int,
    orm_symbols: int,
    rounds: int = 1,
) -> dict[str, Any]:
    """All write figures; leaves ``url`` (our database) loaded for the read benchmark.

    Each scenario runs ``rounds`` times, ours and its baseline in alternating order
    (ours first in even rounds), and the fastest pass of each is reported: on a shared
    machine other work only ever slows a pass down.
    """
    rows = dataset.total_rows
    out: dict[str, Any] = {"rows": rows, "batch_symbols": batch, "rounds": rounds}
    name = target.name

    print(f"  [{name}] empty table, ours vs {target.raw_baseline} ({rows:,} rows) …", flush=True)
    empty, raw = _Passes(), []
    for r in range(rounds):
        for side in ("ours", "raw") if r % 2 == 0 else ("raw", "ours"):
            if side == "raw":
                with target.database("raw", dataset) as raw_url:
                    target.settle(raw_url)
                    raw.append(target.raw_write(raw_url, dataset.batches(batch)))
            elif r == 0:  # the first load goes into `url`, which the reads use later
                target.settle(url)
                empty.add(store_write(url, dataset.batches(batch)))
            else:
                with target.database(f"ours_{r}", dataset) as again:
                    target.settle(again)
                    empty.add(store_write(again, dataset.batches(batch)))
    assert empty.first is not None
    out["ours_empty"] = _best(rows, empty.samples) | empty.first.totals
    out["raw"] = {"what": target.raw_baseline} | _best(rows, raw)
    target.vacuum(url)

    print(f"  [{name}] re-sync, nothing changed …", flush=True)
    same = _Passes()
    probe = target.rewrite_probe(url)
    for _ in range(rounds):
        same.add(store_write(url, dataset.batches(batch)))
    assert same.first is not None
    out["resync_unchanged"] = (
        _best(rows, same.samples)
        | same.first.totals
        | {"updated_per_round": same.updated, "database": probe()}
    )
    target.vacuum(url)

    print(f"  [{name}] re-sync, 1% changed …", flush=True)
    some = _Passes()
    probe = target.rewrite_probe(url)
    for r in range(rounds):
        some.add(store_write(url, dataset.batches(batch), changed_fraction=0.01, revision=r))
        if r == 0:
            database = probe()
    assert some.first is not None
    out["resync_1pct"] = (
        _best(rows, some.samples)
        | {"changed_sent": some.first.changed_sent}
        | some.first.totals
        | {"updated_per_round": some.updated, "database": database}
    )
    target.vacuum(url)

    out["orm"] = _measure_orm(target, dataset, batch, orm_symbols, rounds)
    return out


def _measure_orm(
    target: Target, dataset: Dataset, batch: int, symbols: int, rounds: int
) -> dict[str, Any]:
    """The ORM baseline and our two write calls on the same subset, each into a fresh table."""
    subset = Dataset(min(symbols, dataset.symbols), dataset.years, dataset.end, dataset.seed)
    rows = subset.total_rows
    print(f"  [{target.name}] ORM add_all baseline vs ours ({rows:,} rows) …", flush=True)
    samples: dict[str, list[float]] = {"orm": [], "ours": [], "single": []}
    for r in range(rounds):
        order = ("orm", "ours", "single") if r % 2 == 0 else ("single", "ours", "orm")
        for side in order:
            with target.database(f"subset_{side}", subset) as sub_url:
                target.settle(sub_url)
                if side == "orm":
                    samples[side].append(baselines.orm_add_all(sub_url, subset.batches(batch)))
                else:
                    figures = store_write(sub_url, subset.batches(batch), single=side == "single")
                    samples[side].append(figures.seconds)
    orm, ours, single = (_best(rows, samples[k]) for k in ("orm", "ours", "single"))
    return {
        "rows": rows,
        **orm,
        "ours_seconds": ours["seconds"],
        "ours_rows_per_s": ours["rows_per_s"],
        "ours_samples_rows_per_s": ours["samples_rows_per_s"],
        "ours_single_seconds": single["seconds"],
        "ours_single_rows_per_s": single["rows_per_s"],
        "ours_single_samples_rows_per_s": single["samples_rows_per_s"],
    }
