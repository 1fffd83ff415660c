"""TimescaleDB: writing into compressed chunks in bounded batches, then compressing again.

The compression policy keeps the recent window uncompressed, so an incremental sync never
meets a compressed chunk. A full-history rewrite (after a split or dividend the provider
rewrites every ``adjusted_close``) does. The writer then splits the incoming date range into
:class:`Span` s: groups of at most ``batch`` compressed chunks, and the uncompressed stretches
between them. Each group is written (TimescaleDB ≥ 2.11 decompresses only the affected
``symbol`` segments of those chunks; older versions, or ``whole_chunks=True``, decompress
the chunks first) and compressed again before the next group is touched, so a rewrite never
holds the whole table decompressed at once.

The list of compressed chunks is cached for a minute (:class:`CompressedChunks`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

_ONE_DAY = dt.timedelta(days=1)
#: Oldest TimescaleDB whose DML decompresses only the affected segments of a chunk.
SEGMENT_DML_VERSION = (2, 11)

_CHUNKS = """
SELECT quote_ident(chunk_schema) || '.' || quote_ident(chunk_name),
       (range_start AT TIME ZONE 'UTC')::date,
       (range_end AT TIME ZONE 'UTC')::date
FROM timescaledb_information.chunks
WHERE hypertable_name = 'market_data' AND hypertable_schema = current_schema()
  AND is_compressed
ORDER BY range_start
"""


@dataclass(frozen=True, slots=True)
class Chunk:
    """A compressed chunk holding the dates [start, end)."""

    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Span:
    """Inclusive dates [start, end] written by one statement, and the compressed chunks in it."""

    start: dt.date
    end: dt.date
    chunks: tuple[str, ...] = ()


def plan_spans(start: dt.date, end: dt.date, chunks: Sequence[Chunk], batch: int) -> list[Span]:
    """Cover [start, end] with spans: groups of ≤ ``batch`` compressed chunks and the gaps.

    Pure: ``chunks`` are all compressed chunks ordered by start; those outside the range are
    ignored.
    """
    touched = [c for c in chunks if c.end > start and c.start <= end]
    spans: list[Span] = []
    cursor = start
    for i in range(0, len(touched), batch):
        group = touched[i : i + batch]
        g_start = max(group[0].start, start)
        g_end = min(group[-1].end - _ONE_DAY, end)
        if cursor < g_start:
            spans.append(Span(cursor, g_start - _ONE_DAY))
        spans.append(Span(g_start, g_end, tuple(c.name for c in group)))
        cursor = g_end + _ONE_DAY
    if cursor <= end:
        spans.append(Span(cursor, end))
    return spans


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.28.3"`` → ``(2, 28, 3)`` (non-numeric parts are dropped)."""
    return tuple(int(p) for p in version.split(".") if p.isdigit())


class CompressedChunks:
    """The list of compressed chunks, shared by a store's transactions for ``ttl`` seconds.

    Reading it costs a few milliseconds with hundreds of chunks, more than an incremental
    write of one asset; the compression policy changes it a few times a day. A stale list
    is harmless: a chunk compressed since is still written correctly (TimescaleDB handles
    the DML) and left for the policy to recompress.
    """

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._chunks: list[Chunk] = []
        self._read_at: float | None = None

    def invalidate(self) -> None:
        """Read the list again at the next write (after compressing chunks by hand)."""
        with self._lock:
            self._read_at = None

    def get(self, cur: psycopg.Cursor[Any]) -> list[Chunk]:
        """The cached list, read again through ``cur`` when older than ``ttl``."""
        with self._lock:
            now = time.monotonic()
            if self._read_at is None or now - self._read_at > self.ttl:
                cur.execute(_CHUNKS)
                self._chunks = [Chunk(str(r[0]), r[1], r[2]) for r in cur.fetchall()]
                self._read_at = now
            return self._chunks


class Compression:
    """Writes of one transaction into the compressed chunks of ``market_data``."""

    def __init__(
        self,
        cur: psycopg.Cursor[Any],
        known: CompressedChunks,
        *,
        batch: int = 4,
        whole_chunks: bool = False,
    ) -> None:
        self.cur = cur
        self.known = known
        self.batch = batch
        self.whole_chunks = whole_chunks

    @property
    def chunks(self) -> list[Chunk]:
        """All compressed chunks, oldest first (see :class:`CompressedChunks`)."""
        return self.known.get(self.cur)

    def spans(self, start: dt.date, end: dt.date) -> list[Span]:
        """See :func:`plan_spans`."""
        return plan_spans(start, end, self.chunks, self.batch)

    def before(self, span: Span) -> None:
        """Decompress the span's chunks first, where segment-wise DML is not available."""
        if self.whole_chunks:
            for name in span.chunks:
                self.cur.execute(
                    "SELECT decompress_chunk(CAST(%s AS regclass), if_compressed => true)", (name,)
                )

    def after(self, span: Span, changed: bool) -> None:
        """Compress the span's chunks again (only needed if something was written)."""
        if changed or self.whole_chunks:
            for name in span.chunks:
                self.cur.execute(
                    "SELECT compress_chunk(CAST(%s AS regclass), if_not_compressed => true)",
                    (name,),
                )
