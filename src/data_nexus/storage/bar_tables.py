"""The read side's bar tables: their columns and Arrow schema, and the memory a read uses.

Every bar table :class:`~data_nexus.storage.frames.FrameReader` returns has
:func:`bar_schema`: ``symbol`` (dictionary string), ``date`` (date32), ``open``, ``high``,
``low``, ``close``, ``adjusted_close`` (float64 or :data:`EXACT_PRICE`) and ``volume``
(int64). Its buffers come from :data:`READ_POOL`; :func:`release_freed` hands the pages a
large read freed back to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

import pyarrow as pa

PRICE_COLUMNS = ("open", "high", "low", "close", "adjusted_close")
BAR_COLUMNS = ("symbol", "date", *PRICE_COLUMNS, "volume")
#: The pool of the read path's Arrow buffers: the C allocator, whose freed blocks the NumPy
#: arrays built from a table can reuse (Arrow's default pool keeps freed memory for itself,
#: so a read's peak would hold the text, the typed table and the NumPy columns at once).
READ_POOL = pa.system_memory_pool()
#: The columns of every bar read, in :data:`BAR_COLUMNS`' order (``time`` is the date).
BAR_SELECT = "SELECT symbol, time, open, high, low, close, adjusted_close, volume FROM market_data"
#: Below this many rows a read leaves too little freed memory behind to be worth a trim.
TRIM_ROWS = 100_000


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(
            ctypes.util.find_library("c") or "libc.so.6"
        ).malloc_trim
        return trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_TRIM = _malloc_trim() if sys.platform.startswith("linux") else None


def release_freed(rows: int) -> None:
    """Hand the C heap's free pages back to the system after a read of ``rows`` rows.

    Arrow's CSV reader builds each column from chunks of ~100 KiB, which glibc serves from
    its heap, not from their own mappings; freed column by column while the NumPy columns
    (mapped on their own) are built, they leave holes the heap keeps resident. Measured on
    PostgreSQL, 200 symbols x 20 years: a 59 MiB frame left 86 MiB of such holes, and the
    peak was 2.4x the frame. ``malloc_trim`` returns those pages (``MADV_DONTNEED``) at once:
    called after each price column is converted (``query.frame.to_frame``), the peak is 1.6-1.75x.
    Trimming after each group's CSV too (1.55x) made the read ~20 % slower (the next
    group faults its pages in again); once per column costs a few per cent. Skipped for
    small reads and where the C library is not glibc.
    """
    if _TRIM is not None and rows >= TRIM_ROWS:
        _TRIM(0)


#: Exact Arrow prices: 46 of 76 digits cover any stored price (up to 1e15, 30 decimals, signed;
#: prices are unconstrained ``NUMERIC`` since revision 0002).
EXACT_PRICE = pa.decimal256(76, 30)


def price_type(exact: bool) -> pa.DataType:
    """:data:`EXACT_PRICE` (``decimal256(76, 30)``) if ``exact``, else float64."""
    return EXACT_PRICE if exact else pa.float64()


def bar_schema(exact: bool) -> pa.Schema:
    """The schema of every bar table this module returns."""
    prices = [pa.field(name, price_type(exact)) for name in PRICE_COLUMNS]
    return pa.schema(
        [
            pa.field("symbol", pa.dictionary(pa.int32(), pa.string())),
            pa.field("date", pa.date32()),
            *prices,
            pa.field("volume", pa.int64()),
        ]
    )
