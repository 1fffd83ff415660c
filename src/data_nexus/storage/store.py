"""The store: one transaction per asset for writes, thin exact reads.

The sync engine writes through :meth:`Store.write_asset` / :meth:`Store.write_assets` (or
:class:`AsyncWriter` from the event loop); the query API reads through
:meth:`Store.read_bars`, :meth:`Store.read_day` and :meth:`Store.read_actions`.

Contract (the sync engine, the benchmarks and the query API build on it):

- :class:`AssetUpdate` carries everything one asset's sync writes: its ``bars`` (any
  iterable, streamed in batches), an optional authoritative ``window`` (stored bars of the
  symbol inside it that are absent from ``bars`` are deleted), its corporate ``actions``
  with an optional ``actions_window`` (same semantics), ``state`` (``assets`` columns set in
  the same transaction; ``updated_at`` and the coverage ``first_date``/``last_date`` are
  maintained by the writer) and ``lease_owner`` (write only if the asset's lease is this
  worker's or nobody's, else :class:`~data_nexus.errors.LeaseConflict`, nothing written).
- Everything of one asset commits together or not at all. Values are validated
  (:mod:`data_nexus.storage.validate`) before they reach the database; a value the schema
  cannot hold exactly raises :class:`~data_nexus.errors.DataValidationError` naming the
  symbol, date, field and value, and nothing of that asset is written. The first batch
  (on PostgreSQL, the first :data:`~data_nexus.storage.pg_writer.PIECE` bars) is
  validated before the database is touched, the rest piece by piece as it is sent, so the
  server works while the next piece is validated; a bad value there rolls the asset back.
- Re-sending identical bars rewrites nothing (``unchanged`` counts them).

Backend differences are chosen once, from :attr:`Store.caps`: the bar sink
(:mod:`.sqlite_writer` or :mod:`.pg_writer`, with :mod:`.compression` on TimescaleDB).

Every other write goes through :meth:`Store.atomic`, the one write transaction (``BEGIN
IMMEDIATE`` on SQLite), with its statements in :mod:`.registry` (the asset registry),
:mod:`.leases` (sync leases and failures), :mod:`.runs` (``sync_runs``) and
:mod:`.provider_state` (typed shared facts); reads of those take :meth:`Store.connection`.
No module outside ``storage`` builds SQL.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from data_nexus.config import Settings
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage import pg_batch, pg_writer, reads
from data_nexus.storage.async_writer import AsyncWriter
from data_nexus.storage.capabilities import Capabilities, detect_capabilities
from data_nexus.storage.compression import (
    SEGMENT_DML_VERSION,
    CompressedChunks,
    version_tuple,
)
from data_nexus.storage.engine import (
    SQLITE_IMMEDIATE,
    describe_connect_error,
    dispose_engine,
    open_engine,
)
from data_nexus.storage.pg_writer import PgBarSink
from data_nexus.storage.schema import ensure_schema
from data_nexus.storage.sqlite_writer import SqliteBarSink
from data_nexus.storage.updates import AssetUpdate, WriteResult
from data_nexus.storage.writer import (
    DRIVER_ERRORS,
    BarSink,
    Prepared,
    is_transient,
    storage_error,
    write_one,
)

T = TypeVar("T")

#: How often an asset that lost a race with another transaction is written again, and the
#: pause before the first retry (doubled each time): a lock held by a compression job is
#: released within milliseconds to seconds.
TRANSIENT_RETRIES = 3
TRANSIENT_PAUSE = 0.2


class _AssetFailed(Exception):
    """An asset of a batch written without savepoints failed: roll back, write apart."""


class Store:
    """The database behind Data Nexus: bars, corporate actions and asset state.

    Open with :meth:`open`; close with :meth:`close` or use it as a context manager.
    ``batch_size`` bars of a streamed update (any iterable but a list or tuple) are held in
    memory at a time, so memory stays flat however long the history; ``batch_assets``
    assets share one transaction in :meth:`write_assets` (each all-or-nothing);
    ``compress_batch`` compressed TimescaleDB chunks are rewritten at a time, and
    ``compressed_chunks`` is the (cached) list of them.
    """

    def __init__(
        self,
        engine: Engine,
        caps: Capabilities,
        *,
        batch_size: int = 2_000,
        batch_assets: int = 64,
        compress_batch: int = 4,
    ) -> None:
        self.engine = engine
        self.caps = caps
        self.batch_size = batch_size
        self.batch_assets = batch_assets
        self.compress_batch = compress_batch
        self._lock = threading.Lock()
        self.compressed_chunks = CompressedChunks() if caps.is_timescale else None
        self._readers: list[PoolProxiedConnection] = []
        self.whole_chunks = caps.is_timescale and (
            version_tuple(caps.timescale_version or "0") < SEGMENT_DML_VERSION
        )

    @classmethod
    def open(cls, settings: Settings | str, *, check_schema: bool = True) -> Store:
        """Open the database of ``settings`` (or a URL) and detect its capabilities.

        With ``check_schema`` the schema must be at head (an SQLite file is created and
        upgraded automatically; other databases raise
        :class:`~data_nexus.errors.SchemaOutOfDate`).
        """
        if isinstance(settings, str):
            settings = Settings.model_construct(database_url=settings)
        engine = open_engine(settings.database_url)
        try:
            if check_schema:
                ensure_schema(engine, settings)
            with engine.connect() as conn:
                caps = detect_capabilities(conn)
        except DRIVER_ERRORS as error:  # unreachable, refused, bad password, not a database
            engine.dispose()
            raise describe_connect_error(engine.url, error) from error
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, caps)

    def close(self) -> None:
        """Release every connection."""
        with self._lock:
            readers, self._readers = self._readers, []
        for proxied in readers:
            if self.caps.is_postgres:
                proxied.driver_connection.autocommit = False  # type: ignore[union-attr]
            proxied.close()
        dispose_engine(self.engine)  # the last SQLite writer leaves no -wal/-shm behind

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[sa.Connection]:
        """One write transaction: everything done on the connection commits together.

        Commits when the block ends, rolls back if it raises. On SQLite the transaction
        starts with ``BEGIN IMMEDIATE`` (the write lock is taken at once, so a read that
        later writes cannot deadlock with another writer); on PostgreSQL it is an ordinary
        transaction (use row locks for read-then-write). The statements themselves live in
        the ``storage`` modules (:mod:`.registry`, :mod:`.leases`, :mod:`.runs`,
        :mod:`.provider_state`), which take this connection.
        """
        with self.engine.connect() as plain:
            conn = plain.execution_options(**{SQLITE_IMMEDIATE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A connection for reads (no write lock); rolled back when the block ends."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[tuple[sa.Connection, BarSink]]:
        with self.atomic() as conn:
            raw = conn.connection.driver_connection
            if not self.caps.is_postgres:
                yield conn, SqliteBarSink(raw)  # type: ignore[arg-type]
                return
            sink = PgBarSink(
                raw,  # type: ignore[arg-type]
                compressed=self.compressed_chunks,
                compress_batch=self.compress_batch,
                whole_chunks=self.whole_chunks,
            )
            try:
                yield conn, sink
            finally:
                sink.close()

    def _prepare(self, update: AssetUpdate) -> Prepared:
        return Prepared(
            update.symbol,
            update.bars,
            update.actions,
            update.state,
            self.batch_size,
            canonical=not self.caps.is_postgres,  # PostgreSQL parses any exact text
            piece=pg_writer.PIECE if self.caps.is_postgres else None,
            today=update.today,
        )

    def write_asset(self, update: AssetUpdate) -> WriteResult:
        """Write one asset's bars, actions and state in one transaction.

        Raises :class:`~data_nexus.errors.DataValidationError` (nothing written),
        :class:`~data_nexus.errors.LeaseConflict` (nothing written) or
        :class:`~data_nexus.errors.StorageError` for an asset that is not registered or a
        write the database refused. A write that lost a race with another transaction (a
        deadlock, a serialization failure) is run again, up to :data:`TRANSIENT_RETRIES`
        times, when ``update.bars`` can be read again (a collection, not an iterator).
        """
        for attempt in range(TRANSIENT_RETRIES + 1):
            prepared = self._prepare(update)
            try:
                with self._transaction() as (conn, sink):
                    return write_one(conn, sink, update, prepared)
            except DRIVER_ERRORS as error:  # a statement, the commit or the connection failed
                retry = attempt < TRANSIENT_RETRIES and isinstance(update.bars, Collection)
                if not (retry and is_transient(error)):
                    raise storage_error(update.symbol, error) from error
            time.sleep(TRANSIENT_PAUSE * 2**attempt)  # lost a race: run it again, unchanged
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def write_assets(self, updates: Sequence[AssetUpdate]) -> list[WriteResult | Exception]:
        """Write several assets, each all-or-nothing; results (or errors) in input order.

        Up to ``batch_assets`` assets share a transaction, each inside its own savepoint, so
        one bad asset is rolled back alone and the others commit. On SQLite a batch whose
        bars can all be read again (lists, tuples) is first written without savepoints (a
        savepoint makes SQLite journal every page it touches a second time); if any asset
        of it fails, the whole transaction is rolled back and the batch written again with
        a savepoint per asset, so the outcome is the same. On PostgreSQL the batch's
        first loads (lists of bars with a window over no stored bar) share one savepoint and
        one ``COPY`` (:mod:`.pg_batch`); if anything in it fails, it is rolled back and they
        are written one by one. If the transaction itself fails (say, the connection drops
        at commit), its assets are retried one by one where their ``bars`` can be read
        again; the others report the error. An asset that failed on a deadlock or a
        serialization failure (:data:`~.writer.TRANSIENT_SQLSTATES`) is written again alone
        (:meth:`write_asset`) after its batch ended.
        """
        results = self._write_batches(updates)
        # An asset that lost a race (a deadlock, a serialization failure) is written again
        # on its own, in a fresh transaction, once its batch has released its locks.
        again = [
            i
            for i, result in enumerate(results)
            if isinstance(result, Exception)
            and is_transient(result)
            and isinstance(updates[i].bars, Collection)
        ]
        if again:
            time.sleep(TRANSIENT_PAUSE)
        for i in again:
            results[i] = self._write_alone(updates[i])
        return results

    def _write_batches(self, updates: Sequence[AssetUpdate]) -> list[WriteResult | Exception]:
        results: list[WriteResult | Exception] = []
        for first in range(0, len(updates), self.batch_assets):
            batch = updates[first : first + self.batch_assets]
            try:
                results.extend(self._write_batch(batch))
            except Exception as error:  # the shared transaction failed (commit, connection)
                for update in batch:
                    if isinstance(update.bars, Collection):
                        results.append(self._write_alone(update))
                    elif isinstance(error, DRIVER_ERRORS):
                        results.append(storage_error(update.symbol, error))
                    else:
                        results.append(error)
        return results

    def _write_batch(self, batch: Sequence[AssetUpdate]) -> list[WriteResult | Exception]:
        if not self.caps.is_postgres and all(isinstance(u.bars, Collection) for u in batch):
            try:
                return self._write_batch_at_once(batch)
            except _AssetFailed:  # rolled back whole: again, one savepoint per asset
                pass
        return self._write_batch_apart(batch)

    def _write_batch_at_once(self, batch: Sequence[AssetUpdate]) -> list[WriteResult | Exception]:
        """The batch in one transaction without savepoints; raises :class:`_AssetFailed`
        (everything rolled back) as soon as one asset's write fails."""
        out: list[WriteResult | Exception] = []
        with self._transaction() as (conn, sink):
            for update in batch:
                try:
                    ready = self._prepare(update)
                except Exception as error:  # invalid before touching the database
                    out.append(error)
                    continue
                try:
                    out.append(write_one(conn, sink, update, ready))
                except Exception as error:
                    raise _AssetFailed from error
        return out

    def _write_batch_apart(self, batch: Sequence[AssetUpdate]) -> list[WriteResult | Exception]:
        out: dict[int, WriteResult | Exception] = {}
        with self._transaction() as (conn, sink):
            prepared: dict[int, Prepared] = {}
            for i, update in enumerate(batch):
                try:
                    prepared[i] = self._prepare(update)
                except Exception as error:  # invalid before touching the database
                    out[i] = error
            if isinstance(sink, PgBarSink):
                self._write_shared(conn, sink, batch, prepared, out)
            for i, ready in prepared.items():
                savepoint = conn.begin_nested()
                try:
                    out[i] = write_one(conn, sink, batch[i], ready)
                except Exception as error:
                    savepoint.rollback()
                    wrapped = isinstance(error, DRIVER_ERRORS)
                    out[i] = storage_error(batch[i].symbol, error) if wrapped else error
                else:
                    savepoint.commit()
        return [out[i] for i in range(len(batch))]

    def _write_shared(
        self,
        conn: sa.Connection,
        sink: PgBarSink,
        batch: Sequence[AssetUpdate],
        prepared: dict[int, Prepared],
        out: dict[int, WriteResult | Exception],
    ) -> None:
        """The batch's first loads through one COPY (:mod:`.pg_batch`), in one savepoint.

        Moves what it wrote from ``prepared`` to ``out``. If it fails, the savepoint is
        rolled back and the assets whose bars it read (lists) are prepared again, to be
        written one by one.
        """
        savepoint = conn.begin_nested()
        try:
            done = pg_batch.write_shared(conn, sink, batch, prepared)
        except Exception:  # a bad value, a refused row: each asset on its own instead
            savepoint.rollback()
            for i in [i for i, ready in prepared.items() if ready.started]:
                try:
                    prepared[i] = self._prepare(batch[i])
                except Exception as error:
                    del prepared[i]
                    out[i] = error
            return
        savepoint.commit()
        for i, result in done.items():
            del prepared[i]
            out[i] = result

    def _write_alone(self, update: AssetUpdate) -> WriteResult | Exception:
        try:
            return self.write_asset(update)
        except Exception as error:
            return error

    # -- reads -------------------------------------------------------------------------------

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        """A driver connection in autocommit mode for one read, kept for the next one.

        A read is one SELECT: it needs no transaction, no pool ping and no rollback after,
        which are most of the cost of a short read through a pooled SQLAlchemy connection.
        A connection whose read failed is discarded.
        """
        with self._lock:
            proxied = self._readers.pop() if self._readers else None
        if proxied is None:
            proxied = self.engine.raw_connection()
            if self.caps.is_postgres:
                proxied.driver_connection.autocommit = True  # type: ignore[union-attr]
        try:
            yield proxied.driver_connection
        except BaseException:
            proxied.invalidate()
            raise
        with self._lock:
            self._readers.append(proxied)

    def _read(self, read: Callable[[Any], list[T]]) -> list[T]:
        """Run ``read`` on a reader connection; once more on a fresh one if it was dead."""
        try:
            with self._reader() as raw:
                return read(raw)
        except psycopg.OperationalError:  # e.g. the server restarted since the last read
            with self._reader() as raw:
                return read(raw)

    def read_bars(
        self, symbols: Sequence[str], start: dt.date | None = None, end: dt.date | None = None
    ) -> list[Bar]:
        """Bars of ``symbols`` in [start, end] (inclusive), ordered by (symbol, date)."""
        return self._read(lambda raw: reads.read_bars(raw, self.caps, symbols, start, end))

    def read_day(self, day: dt.date, symbols: Sequence[str] | None = None) -> list[Bar]:
        """The bars of one date (all symbols, or ``symbols``), ordered by symbol."""
        return self._read(lambda raw: reads.read_day(raw, self.caps, day, symbols))

    def read_actions(
        self, symbols: Sequence[str], start: dt.date | None = None, end: dt.date | None = None
    ) -> list[Split | Dividend]:
        """Corporate actions of ``symbols`` in [start, end], ordered by (symbol, date, type)."""
        with self.engine.connect() as conn:
            return reads.read_actions(conn, symbols, start, end)


__all__ = ["AssetUpdate", "AsyncWriter", "Store", "WriteResult"]
