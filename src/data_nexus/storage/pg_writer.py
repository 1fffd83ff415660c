"""The PostgreSQL/TimescaleDB bar sink: ``COPY`` where it pays, one merge statement always.

Every upsert goes through one statement of the form
``INSERT … SELECT … ON CONFLICT (time, symbol) DO UPDATE … WHERE … IS DISTINCT FROM``
whose ``SELECT`` already drops the rows identical to the stored ones (an anti-join on the
primary key), so unchanged rows are neither locked nor rewritten: no dead tuples, no WAL
and, on TimescaleDB, no decompression. ``RETURNING (xmax = 0)`` tells inserted from
updated rows. Where its rows come from depends on the size of the chunk:

- **Large batches** (a history, a full re-sync) are *streamed*: validated :data:`PIECE`
  bars at a time, each piece sent into an open ``COPY`` as soon as it is validated, so the
  server ingests one piece while we validate the next (done one after the other, our
  validation and the server's work added up: ``write_vs_copy`` was 0.70). When the window
  holds no stored bar (a first load) every row is new and cannot conflict (the asset row is
  locked ``FOR NO KEY UPDATE`` for the transaction, so no other writer adds bars of the
  symbol meanwhile): all batches go into one ``COPY`` straight into ``market_data``.
  Otherwise each batch is ``COPY``-ed into a temporary staging table (created once per
  transaction, ``ON COMMIT DELETE ROWS``) and merged from there. A bad value raises out of
  the open ``COPY``, which aborts it; the caller rolls the whole asset back.
- **Without a window** the stored dates of a large batch's range are read first (one
  index-only query): new rows are ``COPY``-ed straight in, re-sent ones staged and merged.
- **Small batches** (an incremental sync: a few days). ``COPY`` and staging cost more round
  trips than the rows: the rows travel as three array parameters of the merge statement
  itself, one round trip in all.

The merge runs with nested loops off (see :data:`_NO_NESTLOOP`). ``COPY`` data is built
as text by us (the validator already produced exact decimal text): psycopg's binary
``COPY`` of ``Decimal`` values measured about half as fast on our side, and its
``QueuedLibpqWriter`` (libpq fed from a thread) gained nothing here: streamed pieces never
fill libpq's buffer, so there is no wait for a thread to hide, only GIL hand-offs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg

from data_nexus.storage.compression import CompressedChunks, Compression, Span
from data_nexus.storage.validate import MISSING, BarChunk, BarRow
from data_nexus.storage.writer import Chunk, Known, write_validated

_COLUMNS = "time, symbol, open, high, low, close, adjusted_close, volume"
_STAGE = "dn_stage_bars"
#: Rows per ``copy.write``: small enough that the server works while we format the next.
_COPY_WRITE_ROWS = 2000
#: Bars validated at a time when a batch is streamed: the server ingests one piece while
#: the next is validated (the first piece of an asset is validated before the write starts).
PIECE = 250
#: Up to this many rows a batch is merged from array parameters (measured: 5 rows 0.3 ms
#: against 1.3 ms through COPY and staging, even at 500 rows; 3x slower at 5,000).
SMALL_BATCH = 256

_CREATE_STAGE = f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (LIKE market_data) ON COMMIT DELETE ROWS"
#: The merge joins the incoming rows to the stored ones of the symbol's date range. Without
#: statistics (a table just loaded, before ANALYZE; the staging table never has any) the
#: planner expects a handful of rows on both sides and picks a nested loop comparing every
#: incoming row with every stored one: 13.6 M comparisons and 3.2 s for one symbol's 20
#: years, a re-sync at 14.5k rows/s instead of 240k. A hash join is linear and never slower
#: (one symbol x 20 years, EXPLAIN ANALYZE; planner's choice -> hash join):
#:
#: - PostgreSQL, no statistics: staged 781 -> 2.9 ms, 200 rows from arrays 4.8 -> 0.34 ms;
#: - PostgreSQL, analysed: staged 6.6 -> 2.9 ms (a per-row index probe), arrays 0.53 -> 0.34;
#: - TimescaleDB, no statistics: arrays 24.7 -> 0.56 ms; analysed: staged 72 -> 3.6 ms (a
#:   re-sync at 117k rows/s instead of 225k).
#:
#: So nested loops are off for the merge statement only: set before it and back to the
#: default right after it, in the same pipeline (one round trip). The stored-dates read is
#: a single index scan, no join: its plan does not depend on statistics.
_NO_NESTLOOP = "SET LOCAL enable_nestloop = off"
_NESTLOOP_DEFAULT = "SET LOCAL enable_nestloop TO DEFAULT"
_TRUNCATE = f"TRUNCATE {_STAGE}"
_VALUES = ("open", "high", "low", "close", "adjusted_close", "volume")


def _row(alias: str) -> str:
    return "(" + ", ".join(f"{alias}.{c}" for c in _VALUES) + ")"


def _price(n: int) -> str:
    return f"NULLIF(split_part(u.p, E'\\t', {n}), '{MISSING}')::numeric"


# A batch as array parameters: ISO dates, the tab-joined price texts, volumes.
_FROM_ARRAYS = f"""(
    SELECT u.d::date AS time, CAST(%(symbol)s AS varchar) AS symbol,
           {_price(1)} AS open, {_price(2)} AS high, {_price(3)} AS low,
           {_price(4)} AS close, {_price(5)} AS adjusted_close, u.v AS volume
    FROM unnest(CAST(%(dates)s AS text[]), CAST(%(prices)s AS text[]),
                CAST(%(volumes)s AS bigint[])) AS u(d, p, v)
)"""

_MERGE = f"""
WITH w AS (
    INSERT INTO market_data AS m ({_COLUMNS})
    SELECT s.time, s.symbol, s.open, s.high, s.low, s.close, s.adjusted_close, s.volume
    FROM {{source}} s
    LEFT JOIN market_data t
      ON t.time = s.time AND t.symbol = s.symbol
     AND t.symbol = %(symbol)s AND t.time BETWEEN %(start)s AND %(end)s
    WHERE s.time BETWEEN %(start)s AND %(end)s
      AND (t.time IS NULL OR {_row("t")} IS DISTINCT FROM {_row("s")})
    ON CONFLICT (time, symbol) DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in _VALUES)}
    WHERE {_row("m")} IS DISTINCT FROM {_row("excluded")}
    RETURNING (m.xmax = 0) AS fresh
)
SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) FROM w
"""
_MERGE_STAGED = _MERGE.replace("{source}", _STAGE)
_MERGE_ARRAYS = _MERGE.replace("{source}", _FROM_ARRAYS)


def copy_text(symbol: str) -> str:
    """``symbol`` escaped for ``COPY … FROM STDIN`` text format."""
    return (
        symbol.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _pieces(batch: Chunk, more: Iterator[Chunk]) -> Iterator[BarChunk]:
    """The pieces of ``batch``, then of every batch in ``more`` (each dropped once done)."""
    yield from batch.pieces()
    del batch
    for following in more:
        yield from following.pieces()
        del following


def send_inside(
    copy: psycopg.Copy, symbol: str, pieces: Iterable[BarChunk], known: Known
) -> tuple[int, list[BarRow]]:
    """Send the rows of ``pieces`` inside ``known``'s range into ``copy`` as each piece is
    validated; (rows sent, the rows outside the range, held for the caller)."""
    lo, hi = known.first, known.last
    sym, sent, outside = copy_text(symbol), 0, []
    for piece in pieces:
        rows = piece.rows
        if piece.first is None or piece.last is None:
            continue
        if piece.first < lo or piece.last > hi:
            outside += [r for r in rows if not lo <= r[0] <= hi]
            rows = [r for r in rows if lo <= r[0] <= hi]
        copy.write(copy_lines(sym, rows))
        sent += len(rows)
        del piece, rows
    return sent, outside


def copy_sql(table: str) -> str:
    """The ``COPY … FROM STDIN`` statement of ``table`` (``market_data``'s columns)."""
    return f"COPY {table} ({_COLUMNS}) FROM STDIN"


def copy_lines(sym: str, rows: Iterable[BarRow]) -> str:
    """``rows`` as ``COPY`` text lines (``sym``: the symbol escaped by :func:`copy_text`)."""
    return "".join([f"{d}\t{sym}\t{p}\t{MISSING if v is None else v}\n" for d, p, v in rows])


class PgBarSink:
    """Writes bars through the raw psycopg connection of the current SQLAlchemy transaction.

    ``compressed`` is given on TimescaleDB only: the store's list of compressed chunks.
    """

    def __init__(
        self,
        raw: psycopg.Connection[Any],
        *,
        compressed: CompressedChunks | None,
        compress_batch: int = 4,
        whole_chunks: bool = False,
    ) -> None:
        self.conn = raw
        self.cur: psycopg.Cursor[Any] = raw.cursor()
        self.compression = (
            None
            if compressed is None
            else Compression(self.cur, compressed, batch=compress_batch, whole_chunks=whole_chunks)
        )
        # Created here, at the start of the transaction: created inside an asset's
        # savepoint, a rollback of that asset would drop it again.
        self.cur.execute(_CREATE_STAGE)

    def close(self) -> None:
        """Close the cursor."""
        self.cur.close()

    # -- upsert ------------------------------------------------------------------------------

    def write(
        self, symbol: str, rows: Sequence[BarRow], first: str, last: str, stored: set[str] | None
    ) -> tuple[int, int]:
        """Insert new rows, update changed ones, leave identical ones; (inserted, updated)."""
        start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        spans = self._spans(start, end)
        if len(rows) <= SMALL_BATCH:
            dates = [r[0] for r in rows]
            params = {
                "symbol": symbol,
                "dates": dates,
                "prices": [r[1] for r in rows],
                "volumes": [r[2] for r in rows],
            }
            return self._merge(_MERGE_ARRAYS, params, dates, spans)
        if any(span.chunks for span in spans):  # compressed chunks: merge span by span
            return self._stage_and_merge(symbol, rows, spans)
        if stored is None:
            stored = self.stored_dates(symbol, start, end)
        new = [r for r in rows if r[0] not in stored] if stored else rows
        if new:
            self._copy("market_data", symbol, new)
        if len(new) == len(rows):
            return len(new), 0
        old = [r for r in rows if r[0] in stored]
        inserted, updated = self._stage_and_merge(symbol, old, spans)
        return len(new) + inserted, updated

    def write_chunks(
        self, symbol: str, batches: Iterable[Chunk], known: Known | None
    ) -> tuple[int, int, int]:
        """Write every batch; large ones inside ``known``'s range streamed piece by piece.

        A streamed piece is validated, then sent at once into an open ``COPY``, so the
        server ingests it while the next piece is validated. When ``known``'s range holds
        no stored bar (a first load) every row in it is new: all batches go into one ``COPY``
        straight into ``market_data``. Otherwise each batch goes into the staging table and
        is merged (new rows too). A bad value raises out of the open ``COPY``, which aborts
        it; the caller rolls the asset back.
        """
        inserted = updated = total = 0
        batches = iter(batches)
        for batch in batches:
            if known is None or batch.size <= SMALL_BATCH:
                new, changed, count = write_validated(self, symbol, batch, known)
            elif not known.stored and not self.compressed(*known.dates()):
                new, changed, count = self._stream_new(symbol, batch, batches, known)
            else:
                new, changed, count = self._stream_staged(symbol, batch)
            inserted, updated, total = inserted + new, updated + changed, total + count
            del batch
        return inserted, updated, total

    def _stream_new(
        self, symbol: str, batch: Chunk, more: Iterator[Chunk], known: Known
    ) -> tuple[int, int, int]:
        """This batch and all ``more`` in one ``COPY`` into ``market_data``.

        ``known``'s range holds no stored bar, so its rows are new (the asset row is locked:
        nobody else adds bars of the symbol meanwhile). Rows outside it are held and written
        after the ``COPY`` (the caller's window normally covers every bar).
        """
        with self.cur.copy(copy_sql("market_data")) as copy:
            sent, outside = send_inside(copy, symbol, _pieces(batch, more), known)
        inserted, updated = sent, 0
        if outside:
            new, updated = self.write(symbol, outside, min(outside)[0], max(outside)[0], None)
            inserted += new
        return inserted, updated, sent + len(outside)

    def _stream_staged(self, symbol: str, batch: Chunk) -> tuple[int, int, int]:
        """The batch ``COPY``-ed piece by piece into the staging table, then merged."""
        dates: list[str] = []
        sym = copy_text(symbol)
        with self.cur.copy(copy_sql(_STAGE)) as copy:
            for piece in batch.pieces():
                if piece.rows:
                    copy.write(copy_lines(sym, piece.rows))
                    dates += [r[0] for r in piece.rows]
                del piece
        if not dates:
            return 0, 0, 0
        start, end = dt.date.fromisoformat(min(dates)), dt.date.fromisoformat(max(dates))
        params = {"symbol": symbol}
        inserted, updated = self._merge(
            _MERGE_STAGED, params, dates, self._spans(start, end), _TRUNCATE
        )
        return inserted, updated, len(dates)

    def compressed(self, start: dt.date, end: dt.date) -> bool:
        """Whether [start, end] touches compressed chunks (which are merged span by span)."""
        if self.compression is None:
            return False
        return any(span.chunks for span in self._spans(start, end))

    def _stage_and_merge(
        self, symbol: str, rows: Sequence[BarRow], spans: list[Span]
    ) -> tuple[int, int]:
        self._copy(_STAGE, symbol, rows)
        dates = [r[0] for r in rows]
        return self._merge(_MERGE_STAGED, {"symbol": symbol}, dates, spans, _TRUNCATE)

    def _merge(
        self,
        sql: str,
        params: dict[str, Any],
        dates: Sequence[str],
        spans: list[Span],
        then: str | None = None,
    ) -> tuple[int, int]:
        """Run the merge once per span holding some of ``dates``, then ``then``.

        Returns (inserted, updated) in all.
        """
        inserted = updated = 0
        for i, span in enumerate(spans):
            first, last = span.start.isoformat(), span.end.isoformat()
            final = then if i == len(spans) - 1 else None
            if len(spans) > 1 and not any(first <= d <= last for d in dates):
                if final:
                    self.cur.execute(final)
                continue
            self._open(span)
            with self.conn.pipeline():  # one round trip for these statements
                self.conn.execute(_NO_NESTLOOP)
                self.cur.execute(sql, {**params, "start": span.start, "end": span.end})
                self.conn.execute(_NESTLOOP_DEFAULT)
                if final:
                    self.conn.execute(final)
            row = self.cur.fetchone()
            new, changed = (int(row[0]), int(row[1])) if row else (0, 0)
            self._close(span, changed=bool(new or changed))
            inserted += new
            updated += changed
        return inserted, updated

    def _copy(self, table: str, symbol: str, rows: Sequence[BarRow]) -> None:
        sym = copy_text(symbol)
        with self.cur.copy(copy_sql(table)) as copy:
            for i in range(0, len(rows), _COPY_WRITE_ROWS):
                copy.write(copy_lines(sym, rows[i : i + _COPY_WRITE_ROWS]))

    # -- compressed chunks (TimescaleDB) -----------------------------------------------------

    def _spans(self, start: dt.date, end: dt.date) -> list[Span]:
        if self.compression is None:
            return [Span(start, end)]
        return self.compression.spans(start, end)

    def _open(self, span: Span) -> None:
        if self.compression is not None and span.chunks:
            self.compression.before(span)

    def _close(self, span: Span, *, changed: bool) -> None:
        if self.compression is not None and span.chunks:
            self.compression.after(span, changed=changed)

    # -- window deletes ----------------------------------------------------------------------

    def stored_dates(self, symbol: str, start: dt.date, end: dt.date) -> set[str]:
        """ISO dates of the stored bars of ``symbol`` in [start, end]."""
        self.cur.execute(
            "SELECT to_char(time, 'YYYY-MM-DD') FROM market_data "
            "WHERE symbol = %s AND time BETWEEN %s AND %s",
            (symbol, start, end),
        )
        return {r[0] for r in self.cur.fetchall()}

    def delete_dates(self, symbol: str, dates: list[str]) -> int:
        """Delete these bars of ``symbol``, compressed chunks a few at a time."""
        days = [dt.date.fromisoformat(d) for d in dates]
        deleted = 0
        for span in self._spans(min(days), max(days)):
            in_span = [d for d in days if span.start <= d <= span.end]
            if not in_span:
                continue
            self._open(span)
            self.cur.execute(
                "DELETE FROM market_data WHERE symbol = %s AND time = ANY(%s)", (symbol, in_span)
            )
            count = self.cur.rowcount
            deleted += count
            self._close(span, changed=count > 0)
        return deleted
