"""The event-loop side of the write path: one dedicated writer thread per process.

Database writes are blocking (SQLAlchemy Core and psycopg/sqlite3 in a thread); the network
side of a sync is asyncio. :class:`AsyncWriter` hands each :class:`AssetUpdate` to its own
thread through a queue and awaits a future the thread settles, so the event loop never
waits on the database. Updates queued while a write runs are coalesced into one
:meth:`Store.write_assets` batch (each asset still all-or-nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
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


def _settle(future: asyncio.Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class AsyncWriter:
    """Writes asset updates from asyncio code without blocking the event loop.

    ``max_batch`` bounds how many queued updates one transaction takes. A write whose
    awaiting task is cancelled still completes (a transaction is not interrupted midway);
    its result is dropped. Use ``async with`` or call :meth:`aclose` to stop the thread.
    """

    def __init__(self, store: Store, *, max_batch: int = 32) -> None:
        self._store = store
        self._max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="datanexus-writer", daemon=True)
        self._thread.start()

    async def write(self, update: AssetUpdate) -> WriteResult:
        """Write one asset (see :meth:`Store.write_asset`); raises that asset's own error."""
        if self._closed:
            raise RuntimeError("this AsyncWriter is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WriteResult] = loop.create_future()
        self._queue.put(_Job(update, loop, future))
        return await future

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

    def _run(self) -> None:
        stop = False
        while not stop:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            outcomes: list[WriteResult | BaseException]
            try:
                outcomes = list(self._store.write_assets([j.update for j in batch]))
            except BaseException as error:  # handed to every waiting caller
                outcomes = [error] * len(batch)
            for item, outcome in zip(batch, outcomes, strict=True):
                # RuntimeError: that event loop is closed; nobody is waiting any more.
                with contextlib.suppress(RuntimeError):
                    item.loop.call_soon_threadsafe(_settle, item.future, outcome)
