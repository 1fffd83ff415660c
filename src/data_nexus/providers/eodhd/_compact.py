"""The fastest path of the end-of-day parsers: bodies in EODHD's own compact JSON.

EODHD (and the emulator) write ``/eod`` and bulk bodies in one exact shape::

    [{"date":"2022-01-03","open":177.83,"high":182.88,"low":177.71,"close":182.01,
      "adjusted_close":179.2736,"volume":104487900},{...}]

(bulk rows start with ``"code":"AAPL","exchange_short_name":"US",``). Such a body is read
here with one regular expression over the whole body instead of ``json.loads`` plus a check
per value: the body must be ``[`` + rows joined by ``,`` + ``]`` with every row matching the
pattern in full, or nothing is read and the caller takes the general path. The pattern
admits only values the careful parser accepts unchanged, so the records are the same:

- numbers are plain JSON numbers without sign or exponent, at most 16 digits before the
  point and 29 after (so finite, non-negative, below ``1E16``, exponent ≥ -29); the careful
  loader builds the same ``Decimal`` from the same text, and zero is ``Decimal(0)`` as there;
- a volume is a whole number of at most 16 digits or ``null``;
- a date is ``[0-9]{4}-[0-9]{2}-[0-9]{2}`` (a day that does not exist sends the body to the
  general path, which reports it);
- codes are printable ASCII without space, quote, backslash, ``*``, ``:`` or ``=`` (nothing
  a JSON escape or redaction could change), and a code containing a secret is not read here.

How the whole body is proved to be rows: ``findall`` returns non-overlapping matches of
``{row},`` in ``body[1:-1] + ","``. Everything in the pattern outside its groups is literal,
so a match is exactly as long as its literal part plus its captured texts; when those
lengths add up to the length of the text, the matches tile it with nothing between them.

Every row is matched before any is built, so a duplicate date (the one error raised here)
is only reported for a body that the careful path would also have read up to that row.

The common ``/eod`` body (no zero price, no ``null`` volume, real days in increasing order)
becomes :class:`~data_nexus.bar_columns.BarColumns`: the matched texts themselves, read as
bars only when a caller asks for them (the validator judges the texts), so no ``Decimal``
and no ``Bar`` is built for a first sync. A common bulk body is built column-wise (``map``
over each column: a C loop, not a Python one per row). Any other body is built row by row
in :func:`_by_rows`, the reference; all of them give the same records.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import repeat
from operator import attrgetter, gt
from typing import Any

from data_nexus.bar_columns import BarColumns, build_bars, days_of
from data_nexus.collector import paused
from data_nexus.providers.eodhd._fields import duplicate
from data_nexus.records import Bar

# Possessive quantifiers (``{m,n}+``, ``?+``): what follows a number, a volume or a code is
# never a character it could contain, so giving digits back could never help a match; not
# trying saves a third of the time.
_NUMBER = r"((?:0|[1-9][0-9]{0,15}+)(?:\.[0-9]{1,29}+)?+)"
_DAY = r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
_VOLUME = r"(0|[1-9][0-9]{0,15}+|null)"
_CODE = r"[\x21\x23-\x29\x2b-\x39\x3b\x3c\x3e-\x5b\x5d-\x7e]"
#: (literal text, captured group) in the order EODHD writes them, from the date on.
_PRICES: list[tuple[str, str]] = [
    ('","open":', _NUMBER),
    (',"high":', _NUMBER),
    (',"low":', _NUMBER),
    (',"close":', _NUMBER),
    (',"adjusted_close":', _NUMBER),
    (',"volume":', _VOLUME),
]


def _row_pattern(parts: list[tuple[str, str]]) -> tuple[re.Pattern[str], int]:
    """``{`` + literal/group parts + ``},`` as a pattern, and the length of its literal text."""
    literal = "{" + "".join(text for text, _group in parts) + "},"
    pattern = "\\{" + "".join(re.escape(text) + group for text, group in parts) + "\\},"
    return re.compile(pattern), len(literal)


_EOD_ROW, _EOD_FIXED = _row_pattern([('"date":"', _DAY), *_PRICES])
_BULK_ROW, _BULK_FIXED = _row_pattern(
    [
        ('"code":"', f"({_CODE}{{1,40}}+)"),
        ('","exchange_short_name":"', f"({_CODE}{{0,40}}+)"),
        ('","date":"', _DAY),
        *_PRICES,
    ]
)
_ZERO = Decimal(0)
#: What makes a bar unique in a body (its date, or its date and symbol), also its order.
Key = Callable[[Bar], Any]
_by_date = attrgetter("date")
_by_date_symbol = attrgetter("date", "symbol")
#: A zero written with decimals (``0.0``, ``0.000``) in a column's text framed by newlines;
#: ``0`` itself is found with ``in``. (The number pattern admits no other spelling of zero.)
_ZERO_DECIMALS = re.compile(r"\n0\.0++\n")


def compact_eod(
    body: bytes, symbol: str, *, zero_rows: list[str], secrets: tuple[str, ...]
) -> Sequence[Bar] | None:
    """Bars of one symbol from a compact ``/eod`` body, sorted by date (as
    :class:`BarColumns` when :func:`_eod_columns` can); ``None`` when the body is not in
    that shape (or names a day that does not exist)."""
    with paused():  # rows and bars hold no cycles (see data_nexus.collector)
        rows = _rows(body, _EOD_ROW, _EOD_FIXED)
        if rows is None:
            return None
        if not rows:
            return []
        columns = list(zip(*rows, strict=True))
        del rows
        return _eod_columns(symbol, columns, zero_rows, secrets)


def _eod_columns(
    symbol: str, columns: list[tuple[str, ...]], zero_rows: list[str], secrets: tuple[str, ...]
) -> Sequence[Bar] | None:
    """One symbol's matched rows as :class:`BarColumns` (their texts, no ``Decimal`` built)
    when nothing needs a judgement here: no ``null`` volume, no zero price, real days in
    strictly increasing order. Any other body is built row by row (:func:`_by_rows`)."""
    day_texts, volumes = columns[0], columns[6]
    prices = columns[1:6]
    if "null" not in volumes and not any(map(_has_zero, prices)):
        try:
            return BarColumns(
                symbol, day_texts, (prices[0], prices[1], prices[2], prices[3], prices[4]),
                list(map(int, volumes)),
            )  # fmt: skip
        except ValueError:
            pass  # a day that does not exist, or dates out of order: the reference decides
    return _by_rows(repeat(symbol, len(day_texts)), columns, _by_date, zero_rows, secrets)


def _has_zero(column: Sequence[str]) -> bool:
    """Whether a column of matched numbers holds a zero (``0``, ``0.0``, ``0.00`` …)."""
    text = "\n" + "\n".join(column) + "\n"
    return "\n0\n" in text or ("\n0.0" in text and _ZERO_DECIMALS.search(text) is not None)


def compact_bulk(
    body: bytes, exchange: str, *, zero_rows: list[str], secrets: tuple[str, ...]
) -> list[Bar] | None:
    """Bars of an exchange from a compact ``/eod-bulk-last-day`` body, sorted by date then
    symbol; ``None`` when the body is not in that shape."""
    with paused():  # rows and bars hold no cycles (see data_nexus.collector)
        rows = _rows(body, _BULK_ROW, _BULK_FIXED)
        if rows is None:
            return None
        if not rows:
            return []
        masks = tuple(s for s in secrets if s and len(s) >= 4)  # what redaction replaces
        if masks and any(mask in row[0] or mask in row[1] for row in rows for mask in masks):
            return None
        codes, suffixes, *columns = zip(*rows, strict=True)
        symbols = [f"{c}.{suffix or exchange}" for c, suffix in zip(codes, suffixes, strict=True)]
        return _bars(symbols, columns, _by_date_symbol, zero_rows, secrets)


def _bars(
    symbols: Iterable[str],
    columns: Sequence[Sequence[str]],
    key: Key,
    zero_rows: list[str],
    secrets: tuple[str, ...],
) -> list[Bar] | None:
    """The bars of matched rows (``columns``: day, five prices, volume texts), sorted by
    ``key``, which must be unique; ``None`` when a day does not exist."""
    symbols = list(symbols)
    day_texts, volumes = columns[0], columns[6]
    fast = "null" not in volumes
    if fast:
        try:
            days = days_of(day_texts)
        except ValueError:
            fast = False
    if fast:
        prices = [list(map(Decimal, column)) for column in columns[1:6]]
        fast = all(all(column) for column in prices)  # a zero: built row by row
    if not fast:
        return _by_rows(symbols, columns, key, zero_rows, secrets)
    bars = build_bars(symbols, days, prices, list(map(int, volumes)))
    keys = list(map(key, bars))
    if len(set(keys)) != len(keys):  # the row-by-row build names the first duplicate
        return _by_rows(symbols, columns, key, zero_rows, secrets)
    if any(map(gt, keys, keys[1:])):
        bars.sort(key=key)
    return bars


def _by_rows(
    symbols: Iterable[str],
    columns: Sequence[Sequence[str]],
    key: Key,
    zero_rows: list[str],
    secrets: tuple[str, ...],
) -> list[Bar] | None:
    """The reference build, one row at a time: all-zero rows are skipped (and listed in
    ``zero_rows``), the first repeated ``key`` raises, an unreal day gives ``None``."""
    bars: list[Bar] = []
    skipped: list[str] = []
    seen: set[Any] = set()
    d = Decimal
    for symbol, day_text, o, h, lo, c, a, v in zip(symbols, *columns, strict=True):
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            return None
        bar = Bar(
            symbol,
            day,
            d(o) or _ZERO,
            d(h) or _ZERO,
            d(lo) or _ZERO,
            d(c) or _ZERO,
            d(a) or _ZERO,
            None if v == "null" else int(v),
        )
        if not (bar.close or bar.open or bar.high or bar.low or bar.adjusted_close):
            skipped.append(f"{symbol} {day_text}")
            continue
        k = key(bar)
        if k in seen:
            raise duplicate(symbol, {"date": day_text}, secrets)
        seen.add(k)
        bars.append(bar)
    bars.sort(key=key)
    zero_rows += skipped
    return bars


def _rows(body: bytes, row: re.Pattern[str], fixed: int) -> list[tuple[str, ...]] | None:
    """The captured fields of every row, or ``None`` unless the whole body is compact."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not (text.startswith("[{") and text.endswith("}]")):
        return None
    inner = text[1:-1] + ","
    found: list[tuple[str, ...]] = row.findall(inner)
    if sum(map(len, map("".join, found))) + fixed * len(found) != len(inner):
        return None  # something between or inside the rows is not a compact row
    return found
