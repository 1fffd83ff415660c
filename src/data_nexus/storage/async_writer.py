"""The event-loop side of the write path: one dedicated writer thread per process.

Database writes are blocking (SQLAlchemy Core and psycopg/sqlite3 in a thread); the network
side of a sync is asyncio. :class:`AsyncWriter` hands each :class:`AssetUpdate` to its own
thread through a queue and awaits a future the thread settles, so the event loop never
waits on the database. Updates queued while a write runs are coalesced into one
:meth:`Store.write_assets` batch (each asset still all-or-nothing).

A caller that knows more writes are on their way says so (:meth:`AsyncWriter.expect`, the
sync does it for every asset it is fetching): while any is expected, the writer thread
waits up to ``linger`` seconds for them before it writes what it holds, so several assets
share one transaction. On SQLite a commit writes every page its transaction touched to the
WAL, and one asset's history touches nearly every leaf page of the ``(time, symbol)`` key
(one entry a date): committing one asset at a time cost a first sync of 150 full-depth
histories about 4.7 µs a bar, a third of its CPU (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from data_nexus.storage.updates import AssetUpdate, WriteResult

if TYPE_CHECKING:
    from data_nexus.storage.store import Store


@dataclass(slots=True)
class _Job:
    update: AssetUpdate
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[WriteResult]


#: Put in the queue to wake the writer thread when no write is expected any more.
_WAKE = object()


def _settle(future: asyncio.Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class AsyncWriter:
    """Writes asset updates from asyncio code without blocking the event loop.

    ``max_batch`` bounds how many queued updates one transaction takes; ``linger`` is how
    long (seconds) the writer thread waits for expected writes (:meth:`expect`) before it
    writes the ones it holds. A write whose awaiting task is cancelled still completes (a
    transaction is not interrupted midway); its result is dropped. Use ``async with`` or
    call :meth:`aclose` to stop the thread.
    """

    def __init__(self, store: Store, *, max_batch: int = 32, linger: float = 0.5) -> None:
        self._store = store
        self._max_batch = max(1, max_batch)
        self._linger = max(0.0, linger)
        self._queue: queue.SimpleQueue[_Job | object | None] = queue.SimpleQueue()
        self._closed = False
        self._expected = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="datanexus-writer", daemon=True)
        self._thread.start()

    async def write(
        self, update: AssetUpdate, *, queued: Callable[[], None] | None = None
    ) -> WriteResult:
        """Write one asset (see :meth:`Store.write_asset`); raises that asset's own error.

        ``queued``, when given, is called once the update is in the writer's queue (say,
        the withdrawal :meth:`expect` returned), before waiting for the commit.
        """
        if self._closed:
            raise RuntimeError("this AsyncWriter is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WriteResult] = loop.create_future()
        self._queue.put(_Job(update, loop, future))
        if queued is not None:
            queued()
        return await future

    def expect(self) -> Callable[[], None]:
        """Announce one write on its way (say, an asset being fetched); returns the call that
        withdraws it, to be made once the write is queued or will not come (idempotent).

        While writes are expected, the writer thread holds the updates it has for up to
        ``linger`` seconds so that they share a transaction with the expected ones.
        """
        with self._lock:
            self._expected += 1
        withdrawn = False

        def withdraw() -> None:
            nonlocal withdrawn
            if withdrawn:
                return
            withdrawn = True
            with self._lock:
                self._expected -= 1
                last = self._expected == 0
            if last:
                self._queue.put(_WAKE)  # a waiting writer thread writes what it holds now

        return withdraw

    async def aclose(self) -> None:
        """Finish the queued writes and stop the writer thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)

    async def __aenter__(self) -> AsyncWriter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the writer thread ---------------------------------------------------------------------

    def _collect(self, job: _Job) -> tuple[list[_Job], bool]:
        """``job`` and the updates to write with it; whether the writer was closed.

        Takes what is queued; while writes are expected, waits for them up to ``linger``
        seconds from the moment the queue first ran dry.
        """
        batch = [job]
        deadline: float | None = None
        while len(batch) < self._max_batch:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                if self._expected <= 0:
                    break
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self._linger
                if now >= deadline:
                    break
                try:
                    nxt = self._queue.get(timeout=deadline - now)
                except queue.Empty:
                    break
            if nxt is None:
                return batch, True
            if isinstance(nxt, _Job):
                batch.append(nxt)
        return batch, False

    def _run(self) -> None:
        stop = False
        while not stop:
            job = self._queue.get()
            if job is None:
                return
            if not isinstance(job, _Job):
                continue  # a wake-up with nothing to write
            batch, stop = self._collect(job)
            outcomes: list[WriteResult | BaseException]
            try:
                outcomes = list(self._store.write_assets([j.update for j in batch]))
            except BaseException as error:  # handed to every waiting caller
                outcomes = [error] * len(batch)
            for item, outcome in zip(batch, outcomes, strict=True):
                # RuntimeError: that event loop is closed; nobody is waiting any more.
                with contextlib.suppress(RuntimeError):
                    item.loop.call_soon_threadsafe(_settle, item.future, outcome)
