"""Our store writing into a TimescaleDB hypertable, before and after its chunks compress.

Two passes per phase, on symbols the data set already holds:

- **re-sync, nothing changed** for ``symbols`` symbols: every bar sent again identical.
  On compressed chunks this must not decompress anything (the store's anti-join drops
  identical rows before they reach the hypertable).
- **history rewrite** for ``rewrite`` other symbols: every adjusted close revised, as the
  provider does after a split or dividend. On compressed chunks the store writes into
  them a few chunks at a time and compresses them again.

The compressed phase runs first; then every chunk is decompressed for the uncompressed
phase. Each phase rewrites different symbols. The figures include how many chunks are
compressed after the pass (in the compressed phase, all of them should still be).
"""

from __future__ import annotations

from typing import Any

from benchmarks.chunk_interval import Extra
from benchmarks.data import Dataset
from benchmarks.servers import connect
from benchmarks.write import store_write


def _compressed_chunks(url: str) -> int:
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM timescaledb_information.chunks "
            "WHERE hypertable_name = 'market_data' AND is_compressed"
        ).fetchone()
    return int(row[0]) if row else 0


def store_on_hypertable(dataset: Dataset, *, symbols: int, rewrite: int, batch: int) -> Extra:
    """An ``extra`` for :func:`benchmarks.chunk_interval.measure_interval`."""
    symbols = min(symbols, dataset.symbols)
    rewrite = min(rewrite, max(0, (dataset.symbols - symbols) // 2))

    def run(url: str, phase: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        same = store_write(url, dataset.batches(batch, count=symbols))
        out["resync_unchanged"] = {
            "rows": same.rows,
            "seconds": round(same.seconds, 3),
            "rows_per_s": round(same.rows / same.seconds) if same.seconds else None,
            **same.totals,
            "compressed_chunks_after": _compressed_chunks(url),
        }
        if rewrite:
            first = symbols + (rewrite if phase == "compressed" else 0)
            changed = store_write(
                url, dataset.batches(batch, first=first, count=rewrite), changed_fraction=1.0
            )
            out["history_rewrite"] = {
                "symbols": rewrite,
                "rows": changed.rows,
                "seconds": round(changed.seconds, 3),
                "rows_per_s": round(changed.rows / changed.seconds) if changed.seconds else None,
                **changed.totals,
                "compressed_chunks_after": _compressed_chunks(url),
            }
        return out

    return run
