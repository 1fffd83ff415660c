"""The fast path of the end-of-day parsers: plain rows → :class:`Bar` without the ceremony.

For bodies that are not in EODHD's compact JSON (:mod:`._compact` reads those), or are CSV.
Reading every value through :class:`~._fields.Fields` costs a call, a regex and a few
``Decimal`` methods including an ``as_tuple()``. Almost every row is plain: a ``YYYY-MM-DD``
date, five positive prices of a few digits and a whole volume. Such a row is recognised here
with type checks, two comparisons and a ``len(str(x))`` per value, and built straight into
a bar.

Anything else (a ``warning`` key, a missing key, a null or string price, zero, a negative, an
odd date, a fractional or huge volume, NaN…) is handed to the careful row parser, which
either builds the record (a warning, a skipped all-zero row) or raises the error that names
symbol, field and excerpt. So every outcome is the careful path's by construction; the only
outcomes reached here are the ones that are cheap to prove equal:

- a price is used as it is only when it is a ``Decimal`` in ``[1E-6, 1E16)`` whose text is
  under 32 characters: then it is finite, positive, its adjusted exponent is within
  ``[-6, 15]`` and plain notation leaves at most 29 decimal places (exponent ≥ -29);
- zero of any spelling is ``Decimal(0)``, as the careful path returns it;
- a volume is used when it is a whole ``Decimal`` (``int(v) == v``) in ``[0, 1E16)`` whose
  text is under 32 characters, or a string of at most 16 digits;
- a numeric string (CSV cells, amounts sent as text) is used only when it is plain digits
  with at most 16 before and 29 after the point;
- a date is read by ``date.fromisoformat`` only when it is 10 characters with ``-`` at 4
  and 7: in that shape it accepts exactly ``[0-9]{4}-[0-9]{2}-[0-9]{2}`` of a real day.

The rows are the careful loader's own (:func:`~._fields.load_json` or the CSV reader), so a
row handed back to the careful parser is exactly what it would have seen.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any

from data_nexus.providers.eodhd._fields import duplicate
from data_nexus.records import Bar

#: The careful parser of one row: its bar and the symbol that names it, or ``None`` when the
#: row is skipped (warning-only, all zeros). Raises the row's ``BadResponse``.
Careful = Callable[[dict[str, Any]], tuple[Bar, str] | None]
Row = dict[str, Any]

_LOW = Decimal("1E-6")
_HIGH = Decimal("1E16")
_MAX_TEXT = 32
_ZERO = Decimal(0)
_WARNING = "warning"
_PLAIN = re.compile(r"[0-9]{1,16}(?:\.[0-9]{1,29})?")
_WHOLE = re.compile(r"[0-9]{1,16}")
# Printable ASCII without space, ``*``, ``:`` and ``=``: nothing redaction could rewrite.
_CODE = re.compile(r"[\x21-\x29\x2b-\x39\x3b\x3c\x3e-\x7e]{1,40}")
_by_date = attrgetter("date")


class _Careful(Exception):
    """This value needs the careful parser (raised and caught inside this module only)."""


def eod_bars(
    rows: list[Row],
    symbol: str,
    careful: Careful,
    *,
    zero_rows: list[str],
    secrets: tuple[str, ...],
) -> list[Bar]:
    """Bars of one symbol, sorted by date; duplicate dates raise. ``zero_rows`` collects the
    skipped all-zero rows (``"SYMBOL YYYY-MM-DD"``) for the caller's warning."""
    return _plain_bars(
        rows, lambda _row: symbol, _by_date, careful, zero_rows=zero_rows, secrets=secrets
    )


def bulk_bars(
    rows: list[Row],
    exchange: str,
    careful: Careful,
    *,
    zero_rows: list[str],
    secrets: tuple[str, ...],
) -> list[Bar]:
    """Bars of a whole exchange (symbol ``CODE.EXCHANGE``), sorted by date then symbol;
    a symbol twice on one date raises."""
    suffixes: dict[str, str] = {}
    masks = tuple(s for s in secrets if s and len(s) >= 4)  # the ones redaction would replace

    def symbol_of(row: Row) -> str | None:
        return _bulk_symbol(row, exchange, suffixes, masks)

    return _plain_bars(
        rows, symbol_of, _by_date_symbol, careful, zero_rows=zero_rows, secrets=secrets
    )


def _plain_bars(
    rows: list[Row],
    symbol_of: Callable[[Row], str | None],
    key: Callable[[Bar], Any],
    careful: Careful,
    *,
    zero_rows: list[str],
    secrets: tuple[str, ...],
) -> list[Bar]:
    """The one loop of both readers: a plain row (``symbol_of`` names its symbol, else
    ``None``) is built here, any other by ``careful``; bars sorted by ``key``, which must be
    unique (a repeated key raises the careful path's duplicate error)."""
    bars: list[Bar] = []
    seen: set[Any] = set()
    for row in rows:
        symbol = None if _WARNING in row else symbol_of(row)
        values = None if symbol is None else _values(row)
        if values is None or symbol is None:
            picked = careful(row)
            if picked is None:
                continue
            bar, name = picked
        else:
            day, o, h, lo, c, a, v = values
            if not (c or o or h or lo or a):
                zero_rows.append(f"{symbol} {row['date']}")
                continue
            bar, name = Bar(symbol, day, o, h, lo, c, a, v), symbol
        k = key(bar)
        if k in seen:
            raise duplicate(name, row, secrets)
        seen.add(k)
        bars.append(bar)
    bars.sort(key=key)
    return bars


_by_date_symbol = attrgetter("date", "symbol")

_Values = tuple[
    dt.date, Decimal | None, Decimal | None, Decimal | None, Decimal, Decimal | None, int | None
]


def _values(row: Row) -> _Values | None:
    """(date, open, high, low, close, adjusted_close, volume) of a plain row, exactly as the
    careful parser would read them; ``None`` when the row needs the careful parser."""
    try:
        d = row["date"]
        o, h, lo, c, a = row["open"], row["high"], row["low"], row["close"], row["adjusted_close"]
        v = row["volume"]
        if type(d) is not str or len(d) != 10 or d[4] != "-" or d[7] != "-":
            return None
        day = dt.date.fromisoformat(d)
        if type(v) is Decimal:
            if not (_ZERO <= v < _HIGH and len(str(v)) < _MAX_TEXT) or int(v) != v:
                return None  # fractional (a warning), out of range…
            v = int(v)
        elif v is not None:
            v = _whole(v)
        if not (
            type(o) is Decimal
            and type(h) is Decimal
            and type(lo) is Decimal
            and type(c) is Decimal
            and type(a) is Decimal
            and _LOW <= o < _HIGH
            and _LOW <= h < _HIGH
            and _LOW <= lo < _HIGH
            and _LOW <= c < _HIGH
            and _LOW <= a < _HIGH
            and len(str(o)) < _MAX_TEXT
            and len(str(h)) < _MAX_TEXT
            and len(str(lo)) < _MAX_TEXT
            and len(str(c)) < _MAX_TEXT
            and len(str(a)) < _MAX_TEXT
        ):
            o, h, lo, c, a = _price(o), _price(h), _price(lo), _price(c), _price(a)
            if c is None:
                return None  # "missing close"
    except (KeyError, ValueError, ArithmeticError, _Careful):
        return None  # ValueError: not a real day; ArithmeticError: NaN compared
    return day, o, h, lo, c, a, v


def _price(value: Any) -> Decimal | None:
    """A price the careful way's result, for the plain cases; :class:`_Careful` otherwise."""
    if type(value) is Decimal:
        if value.is_zero():
            return _ZERO
        if _LOW <= value < _HIGH and len(str(value)) < _MAX_TEXT:
            return value
    elif type(value) is str:
        if _PLAIN.fullmatch(value):
            number = Decimal(value)
            return number if number else _ZERO
    elif value is None:
        return None
    raise _Careful


def _whole(value: Any) -> int:
    """A volume sent as text (CSV): plain digits only; :class:`_Careful` otherwise."""
    if type(value) is str and _WHOLE.fullmatch(value):
        return int(value)
    raise _Careful


def _bulk_symbol(
    row: Row, exchange: str, suffixes: dict[str, str], masks: tuple[str, ...]
) -> str | None:
    """``CODE.EXCHANGE`` of a bulk row when both parts are plain codes, else ``None``."""
    code = row.get("code")
    if type(code) is not str or not _plain_code(code, masks):
        return None
    raw = row.get("exchange_short_name")
    if raw is None or raw == "":
        return f"{code}.{exchange}"
    if type(raw) is not str:
        return None
    suffix = suffixes.get(raw)
    if suffix is None:
        if not _plain_code(raw, masks):
            return None
        suffix = suffixes[raw] = raw
    return f"{code}.{suffix}"


def _plain_code(text: str, masks: tuple[str, ...]) -> bool:
    """True when the careful ``Fields.code`` would return ``text`` unchanged."""
    if _CODE.fullmatch(text) is None:
        return False
    return not any(mask in text for mask in masks)
