"""A pool of read-only query connections, one lent to each request that reads bars.

:class:`~data_nexus.storage.frames.FrameReader` is one database connection (read-only:
SQLite ``mode=ro``, PostgreSQL ``default_transaction_read_only``). Requests run in
Starlette's worker threads, so each borrows a reader of its own and gives it back; a reader
whose read failed with anything but a usage error is closed rather than reused, and the next
request opens a fresh one (a restarted PostgreSQL server costs one failed request).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from data_nexus.errors import ConfigError
from data_nexus.storage.frames import FrameReader, open_reader

#: Idle readers kept for the next requests (more are opened under load, then closed).
KEEP_IDLE = 16


class ReaderPool:
    """Lends :class:`FrameReader` connections on ``url`` (see the module docstring)."""

    def __init__(self, url: str, keep_idle: int = KEEP_IDLE) -> None:
        self._url = url
        self._keep = keep_idle
        self._idle: list[FrameReader] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def reader(self) -> Iterator[FrameReader]:
        """A reader for the duration of one read."""
        with self._lock:
            reader = self._idle.pop() if self._idle else None
        if reader is None:
            reader = open_reader(self._url)
        try:
            yield reader
        except ConfigError:  # a bad symbol, date or mode: the connection is fine
            self._give_back(reader)
            raise
        except BaseException:
            reader.close()
            raise
        self._give_back(reader)

    def _give_back(self, reader: FrameReader) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._keep:
                self._idle.append(reader)
                return
        reader.close()

    def close(self) -> None:
        """Close the idle readers; readers in use are closed when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.close()
