"""The arguments of the read functions: dates, date ranges, symbol lists and where to read.

Pure parsing (no database) except :func:`reader_for`, which opens a read-only
:class:`~data_nexus.storage.frames.FrameReader`. Every refusal is a
:class:`~data_nexus.errors.UsageError` with one line that says what to pass instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from data_nexus.errors import UsageError
from data_nexus.storage.frames import FrameReader, open_reader
from data_nexus.symbols import parse_symbols

DateLike = str | dt.date | dt.datetime | pd.Timestamp | None
Source = str | FrameReader | Any  # a URL, an open reader, or a Store / Settings


def parse_day(value: DateLike, name: str = "date") -> dt.date | None:
    """A date from ISO text (``YYYY-MM-DD``), a date, a datetime or a Timestamp."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UsageError(f"invalid {name} {value!r}: {date_problem(str(value))}") from None


_ISO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date_problem(text: str) -> str:
    """Why ``text`` is not a date: ``not a real date`` when it is written ``YYYY-MM-DD``
    (``2024-02-30``), else ``expected a date as YYYY-MM-DD``."""
    if _ISO_SHAPE.match(text.strip()):
        return "not a real date (the month has no such day, or there is no such month)"
    return "expected a date as YYYY-MM-DD"


def parse_range(start: DateLike, end: DateLike) -> tuple[dt.date | None, dt.date | None]:
    """``(start, end)`` parsed; :class:`UsageError` if start is after end."""
    first, last = parse_day(start, "start date"), parse_day(end, "end date")
    if first is not None and last is not None and first > last:
        raise UsageError(f"start date {first} is after end date {last}")
    return first, last


def symbol_list(symbols: str | Iterable[str]) -> list[str]:
    """Symbols as ``CODE.EXCHANGE`` (case-insensitive input, blanks around a name ignored;
    any item may be a comma-separated list), duplicates dropped, in order.

    :class:`UsageError` for no symbols at all, an empty name (``""``, ``"A.US,,B.US"``) or
    one that is not a symbol (:func:`~data_nexus.symbols.parse_symbol`)."""
    items = [symbols] if isinstance(symbols, str) else list(symbols)
    if not items:
        raise UsageError("no symbols given: name at least one, e.g. AAPL.US")
    return [str(s) for s in parse_symbols(items)]


def reader_for(source: Source) -> tuple[FrameReader, bool]:
    """An open reader for ``source`` and whether the caller must close it."""
    if isinstance(source, FrameReader):
        return source, False
    if isinstance(source, str):
        return open_reader(source), True
    engine = getattr(source, "engine", None)
    if engine is not None:  # a Store
        return open_reader(engine.url), True
    url = getattr(source, "database_url", None)
    if isinstance(url, str):  # Settings
        return open_reader(url), True
    raise UsageError("pass url=… (a database URL) or store=… to read from")


@contextmanager
def reader_from(source: Source) -> Iterator[FrameReader]:
    """:func:`reader_for` as a context manager: closes the reader only if it opened it."""
    reader, owned = reader_for(source)
    try:
        yield reader
    finally:
        if owned:
            reader.close()


def pick_source(url: str | None, store: Any, settings: Any = None) -> Source:
    """The one of ``url``, ``store`` and ``settings`` given; :class:`UsageError` unless
    exactly one is."""
    chosen = [s for s in (url, store, settings) if s is not None]
    if len(chosen) != 1:
        raise UsageError("pass exactly one of url=…, store=… or settings=…")
    return chosen[0]
