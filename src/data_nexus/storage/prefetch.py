"""Validate the next assets on a helper thread while the database writes this one.

Validation is pure Python; a bulk write mostly waits for the server (psycopg and sqlite3
release the GIL while they wait). On a machine with two cores, doing the two one after the
other costs their sum; overlapping them costs about the larger. :class:`Prefetch` runs a
function over a sequence on one helper thread, at most ``depth`` results ahead of the
consumer, and hands back each result or the exception it raised, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POLL_S = 0.1


class Prefetch(Generic[T, R]):
    """``work(item)`` for each item on a helper thread; iterate for results or exceptions.

    Use as a context manager: leaving it early stops the helper after its current item.
    """

    def __init__(self, work: Callable[[T], R], items: Sequence[T], *, depth: int = 2) -> None:
        self._work = work
        self._items = items
        self._results: queue.Queue[R | Exception] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="datanexus-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for item in self._items:
            outcome: R | Exception
            try:
                outcome = self._work(item)
            except Exception as error:  # handed to the consumer, in order
                outcome = error
            while not self._stop.is_set():
                try:
                    self._results.put(outcome, timeout=_POLL_S)
                    break
                except queue.Full:
                    continue
            if self._stop.is_set():
                return

    def __iter__(self) -> Iterator[R | Exception]:
        for _ in self._items:
            yield self._results.get()

    def close(self) -> None:
        """Stop the helper thread and wait for it."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetch[T, R]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
