"""The bar validator's fast paths: a whole chunk judged a column at a time, or not at all.

Most chunks of a sync hold nothing to judge: every bar of the right symbol, a new date up
to today, five positive prices that are already what is stored, a volume in range. Such a
chunk is proved clean here with C-level loops (``map``, ``set``, ``min``/``max``) and one
regular expression over its price text, and turned into :data:`~.bar_rows.BarRow` s in the
same pass. Each function returns ``None``, having changed nothing, as soon as one bar needs
a closer look; the validator then judges the chunk row by row (the reference), which gives
the same rows for a clean chunk (property-tested in ``tests/storage/test_clean_chunks.py``).

- :func:`by_columns` takes :class:`~data_nexus.records.Bar` s (their ``Decimal`` s made
  into text again);
- :func:`by_texts` takes :class:`~data_nexus.bar_columns.BarColumns`, bars still in the
  provider's text: nothing to make into text, no ``Decimal`` built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from operator import attrgetter
from typing import cast

from data_nexus.bar_columns import BarColumns
from data_nexus.records import Bar
from data_nexus.storage.bar_rows import (
    CANONICAL_ROWS_OK,
    COLUMN_OK,
    ISO,
    ISO_MAX,
    ROWS_OK,
    TRAILING_ZERO_COLUMN,
    TRAILING_ZEROS_COLUMN,
    TRAILING_ZEROS_ROWS,
    BarChunk,
    ColumnRows,
    keep_digits,
)
from data_nexus.storage.values import BIGINT_MAX

#: A bar's fields in the order the column-wise check takes them apart.
_FIELDS = attrgetter("symbol", "date", "open", "high", "low", "close", "adjusted_close", "volume")


def by_columns(
    bars: Sequence[Bar], symbol: str, dates: set[str], after: str, *, canonical: bool
) -> BarChunk | None:
    """The rows of ``bars`` when every bar passes without a question (their ISO dates then
    added to ``dates``, the validator's dates seen); ``None`` otherwise. ``after`` is the
    last date allowed (ISO), ``canonical`` whether trailing zeros are dropped (SQLite)."""
    symbols, days, o, h, lo, c, a, volumes = zip(*map(_FIELDS, bars), strict=True)
    if set(map(type, days)) != {dt.date} or set(symbols) != {symbol}:
        return None
    prices = (o, h, lo, c, a)
    decimal = {Decimal}
    if any(set(map(type, column)) != decimal or not all(column) for column in prices):
        return None  # a missing, zero or inexact price (all(): no zero)
    if not _volumes_ok(volumes):
        return None
    if len(ISO) >= ISO_MAX:
        ISO.clear()
    isos = list(map(ISO.__getitem__, days))
    first, last = min(isos), max(isos)
    unique = set(isos)
    if last > after or len(unique) != len(isos) or not dates.isdisjoint(unique):
        return None
    texts = list(map("\t".join, zip(*(map(str, column) for column in prices), strict=True)))
    text = "\n".join(texts) + "\n"
    if "-" in text:
        return None  # a sign: a closer look
    if not (CANONICAL_ROWS_OK if canonical else ROWS_OK)(text):
        if not (canonical and ROWS_OK(text)):
            return None  # a price to skip, or to judge on its own
        # as the row path does: only trailing zeros stand between these and canonical
        texts = TRAILING_ZEROS_ROWS.sub(keep_digits, text).split("\n")
        texts.pop()  # after the last newline
    dates |= unique
    return BarChunk(list(zip(isos, texts, volumes, strict=True)), first, last)


def by_texts(
    bars: BarColumns, symbol: str, dates: set[str], after: str, *, canonical: bool
) -> BarChunk | None:
    """:func:`by_columns` for bars still in the provider's text (no ``Decimal`` built).

    What the row path would store for a price is ``str(Decimal(text))`` when that is plain
    and in range, without trailing zeros for SQLite: for the texts
    :data:`~.bar_rows.COLUMN_OK` admits (positive, at least 1E-6, under 1E15, at most 29
    decimals) that is the text itself, or the text without trailing zeros. The dates of a
    ``BarColumns`` are real and strictly increasing (its constructor checks), so the first
    and the last are the smallest and the largest and none comes twice.
    """
    isos, volumes = bars.isos, bars.volumes
    if not isos or bars.symbol != symbol or isos[-1] > after or not dates.isdisjoint(isos):
        return None
    if not _volumes_ok(volumes):
        return None
    columns: list[Sequence[str]] = []
    for column in bars.prices:
        text = "\n".join(column) + "\n"
        if not COLUMN_OK(text):
            return None
        if canonical and "0\n" in text and TRAILING_ZERO_COLUMN.search(text):
            stripped = TRAILING_ZEROS_COLUMN.sub(keep_digits, text).split("\n")
            stripped.pop()  # after the last newline
            columns.append(stripped)
        else:
            columns.append(column)
    dates.update(isos)
    return BarChunk(ColumnRows(isos, columns, cast(Sequence[int], volumes)), isos[0], isos[-1])


def _volumes_ok(volumes: Sequence[int | None]) -> bool:
    """Every volume a whole number in ``[0, 2^63-1]`` (no ``None``: that is a closer look)."""
    if set(map(type, volumes)) != {int}:
        return False
    whole = cast(Sequence[int], volumes)
    return min(whole) >= 0 and max(whole) <= BIGINT_MAX
