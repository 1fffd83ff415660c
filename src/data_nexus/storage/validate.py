"""Validation at the write boundary: refuse what the schema cannot store exactly.

Pure functions over :mod:`data_nexus.records`. Prices are ``NUMERIC(18, 8)``: at most 8
decimal places and below 10^10. PostgreSQL would silently *round* a ninth decimal, so we
refuse it instead, naming the symbol, the date, the field and the value (one line)::

    AAPL.US 2024-01-02 close: 12.123456789 has 9 decimal places;
    the schema keeps 8 (refusing to round)

Validated values come out as their canonical text (:func:`data_nexus.decimals.canonical`),
which is what SQLite stores and what PostgreSQL's ``COPY`` reads, so a bar is checked and
formatted in one pass. :class:`BarValidator` works chunk by chunk, so a stream of bars is
validated without holding it all in memory (it keeps only the dates seen, to refuse a second
bar for the same date).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from data_nexus.decimals import canonical, decimal_places
from data_nexus.errors import DataValidationError
from data_nexus.models import ACTION_TYPES
from data_nexus.records import Bar, Dividend, Split
from data_nexus.types import AMOUNT_PRECISION, AMOUNT_SCALE, PRICE_PRECISION, PRICE_SCALE

_ZERO = Decimal(0)
PRICE_LIMIT = Decimal(10) ** (PRICE_PRECISION - PRICE_SCALE)
AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_PRECISION - AMOUNT_SCALE)
BIGINT_MAX = 2**63 - 1
#: Longest texts of the ``corporate_actions`` columns (PostgreSQL would raise on more).
TEXT_LIMITS = {"currency": 8, "period": 32}

#: A missing price in a row's price text (also ``COPY``'s text-format NULL).
MISSING = "\\N"
PRICE_FIELDS = ("open", "high", "low", "close", "adjusted_close")
#: A validated bar: (ISO date, its five prices in :data:`PRICE_FIELDS` order as exact
#: decimal text joined by tabs, :data:`MISSING` where absent, volume or ``None``).
BarRow = tuple[str, str, int | None]


def _fail(symbol: str, day: object, field: str, message: str) -> DataValidationError:
    return DataValidationError(f"{symbol} {day} {field}: {message}")


def decimal_text(
    value: object, *, symbol: str, day: object, field: str, scale: int, limit: Decimal
) -> str:
    """The canonical text of an exact, non-negative ``value`` that fits ``NUMERIC(_, scale)``.

    Raises :class:`DataValidationError` for floats and other non-decimals, non-finite,
    negative or too large values, and values with more than ``scale`` decimal places.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise _fail(
            symbol, day, field, f"{value!r} is a {type(value).__name__}, not an exact Decimal"
        )
    if not value.is_finite():
        raise _fail(symbol, day, field, f"{value} is not a finite number")
    if value < _ZERO:
        raise _fail(symbol, day, field, f"{value} is negative; the schema keeps values >= 0")
    if value >= limit:
        exponent = len(str(int(limit))) - 1
        raise _fail(
            symbol, day, field, f"{value} is too large; the schema keeps values below 10^{exponent}"
        )
    places = decimal_places(value)
    if places > scale:
        raise _fail(
            symbol,
            day,
            field,
            f"{value} has {places} decimal places; the schema keeps {scale} (refusing to round)",
        )
    return canonical(value)


def _price(value: object, symbol: str, day: object, field: str) -> str:
    return decimal_text(
        value, symbol=symbol, day=day, field=field, scale=PRICE_SCALE, limit=PRICE_LIMIT
    )


def _volume(value: object, symbol: str, day: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(symbol, day, "volume", f"{value!r} is not an integer")
    if value < 0:
        raise _fail(symbol, day, "volume", f"{value} is negative")
    if value > BIGINT_MAX:
        raise _fail(symbol, day, "volume", f"{value} is outside the BIGINT range (max 2^63-1)")
    return value


# The fast path checks a whole row's prices with one regular expression over their text:
# no sign, no exponent, at most 10 digits before the point and 8 after is exactly
# "0 <= x < 10^10 with at most 8 decimal places". The canonical variant also refuses
# trailing zeros, so what passes is already the text SQLite stores. Every price but the
# close may be missing ("None" in the text, then written as MISSING).
_PLAIN = r"[0-9]{1,10}(?:\.[0-9]{1,8})?"
_CANONICAL = r"(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{0,7}[1-9])?"


def _row_pattern(price: str) -> Callable[[str], re.Match[str] | None]:
    optional = f"(?:{price}|None)"
    return re.compile("\t".join([optional, optional, optional, price, optional])).fullmatch


_ROW_OK = _row_pattern(_PLAIN)
_CANONICAL_ROW_OK = _row_pattern(_CANONICAL)
_TRAILING_ZEROS = re.compile(r"\.([0-9]*?)0+(?=\t|$)")


def _keep_digits(match: re.Match[str]) -> str:
    return "." + match.group(1) if match.group(1) else ""


#: ISO text of the dates seen lately: every symbol trades on the same few thousand days, and
#: a dictionary hit costs a tenth of ``date.isoformat()``.
_ISO: dict[dt.date, str] = {}
_ISO_MAX = 50_000


def _iso(day: dt.date) -> str:
    if len(_ISO) >= _ISO_MAX:
        _ISO.clear()
    text = _ISO[day] = day.isoformat()
    return text


@dataclass(frozen=True, slots=True)
class BarChunk:
    """Validated rows of one chunk of bars, with their smallest and largest ISO date."""

    rows: list[BarRow]
    first: str | None
    last: str | None


class BarValidator:
    """Validates one symbol's bars chunk by chunk and turns them into :data:`BarRow` rows.

    Keeps the set of dates seen (ISO text), so a date sent twice, even in different chunks,
    is refused. With ``canonical`` (SQLite), prices come out as canonical text; without it
    (PostgreSQL, which parses any exact decimal text), as the shortest exact text at hand.
    """

    def __init__(self, symbol: str, *, canonical: bool = True) -> None:
        self.symbol = symbol
        self.dates: set[str] = set()
        self.canonical = canonical
        self._row_ok = _CANONICAL_ROW_OK if canonical else _ROW_OK

    def _mend(self, text: str, bar: Bar, iso: str) -> str:
        """Prices that failed the fast check: strip trailing zeros, or check one by one."""
        if self.canonical and _ROW_OK(text):
            return _TRAILING_ZEROS.sub(_keep_digits, text).replace("None", MISSING)
        return _prices_text(bar, self.symbol, iso)

    def chunk(self, bars: Iterable[Bar]) -> BarChunk:
        """Validate ``bars``; raise on the first bad value (nothing is rounded)."""
        symbol, seen, row_ok, D = self.symbol, self.dates, self._row_ok, Decimal
        iso_of = _ISO
        out: list[BarRow] = []
        isos: list[str] = []
        for bar in bars:
            day = bar.date
            if type(day) is not dt.date:
                raise _fail(symbol, day, "date", f"{day!r} is not a date")
            iso = iso_of.get(day) or _iso(day)
            if bar.symbol != symbol:
                raise _fail(symbol, iso, "symbol", f"the bar belongs to {bar.symbol!r}")
            if iso in seen:
                raise DataValidationError(f"{symbol} {iso}: more than one bar for this date")
            seen.add(iso)
            isos.append(iso)
            o, h, lo, c, a, v = (
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.adjusted_close,
                bar.volume,
            )
            if (
                type(c) is D
                and (type(o) is D or o is None)
                and (type(h) is D or h is None)
                and (type(lo) is D or lo is None)
                and (type(a) is D or a is None)
            ):
                text = f"{o!s}\t{h!s}\t{lo!s}\t{c!s}\t{a!s}"
                if not row_ok(text):
                    text = self._mend(text, bar, iso)
                elif "N" in text:
                    text = text.replace("None", MISSING)
            else:
                text = _prices_text(bar, symbol, iso)
            if not (type(v) is int and 0 <= v <= BIGINT_MAX):
                v = _volume(v, symbol, iso)
            out.append((iso, text, v))
        return BarChunk(out, min(isos, default=None), max(isos, default=None))

    def rows(self, bars: Iterable[Bar]) -> list[BarRow]:
        """Validate ``bars`` and return their rows."""
        return self.chunk(bars).rows


def _prices_text(bar: Bar, symbol: str, iso: str) -> str:
    """The slow path: each price on its own, canonical, :data:`MISSING` where absent."""
    if bar.close is None:
        raise _fail(symbol, iso, "close", "missing (a bar needs a close)")
    parts = []
    for name in PRICE_FIELDS:
        value = getattr(bar, name)
        parts.append(MISSING if value is None else _price(value, symbol, iso, name))
    return "\t".join(parts)


def split_prices(text: str) -> tuple[str | None, ...]:
    """A row's price text back into the five values (``None`` where missing)."""
    return tuple(None if p == MISSING else p for p in text.split("\t"))


def validate_bars(symbol: str, bars: Iterable[Bar]) -> list[BarRow]:
    """Validate all of ``symbol``'s ``bars``; return their rows (see :data:`BarRow`)."""
    return BarValidator(symbol).rows(bars)


# --- corporate actions ----------------------------------------------------------------------

#: Columns of ``corporate_actions`` in the order of an action row.
ACTION_COLUMNS = (
    "symbol",
    "date",
    "action_type",
    "value",
    "numerator",
    "denominator",
    "unadjusted_value",
    "currency",
    "declaration_date",
    "record_date",
    "payment_date",
    "period",
)


def _amount(value: object, symbol: str, day: object, field: str) -> Decimal:
    text = decimal_text(
        value, symbol=symbol, day=day, field=field, scale=AMOUNT_SCALE, limit=AMOUNT_LIMIT
    )
    return Decimal(text)


def split_value(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded half-even to 12 places, computed exactly."""
    scaled = Fraction(numerator) / Fraction(denominator) * 10**AMOUNT_SCALE
    return Decimal(round(scaled)).scaleb(-AMOUNT_SCALE)


def action_row(symbol: str, action: Split | Dividend) -> dict[str, Any]:
    """Validate one corporate action and map it to a ``corporate_actions`` row."""
    day = action.date
    if type(day) is not dt.date:
        raise _fail(symbol, day, "date", f"{day!r} is not a date")
    if action.symbol != symbol:
        raise _fail(symbol, day, "symbol", f"the action belongs to {action.symbol!r}")
    if action.action_type not in ACTION_TYPES:
        kind = action.action_type
        raise _fail(symbol, day, "action_type", f"{kind!r} is not one of {ACTION_TYPES}")
    row: dict[str, Any] = dict.fromkeys(ACTION_COLUMNS)
    row.update(symbol=symbol, date=day, action_type=action.action_type)
    if isinstance(action, Split):
        numerator = _amount(action.numerator, symbol, day, "numerator")
        denominator = _amount(action.denominator, symbol, day, "denominator")
        if numerator == 0 or denominator == 0:
            raise _fail(symbol, day, "split", f"{numerator}/{denominator} is not a ratio")
        value = split_value(numerator, denominator)
        if value >= AMOUNT_LIMIT:
            raise _fail(symbol, day, "value", f"split ratio {value} is too large")
        row.update(numerator=numerator, denominator=denominator, value=value)
        return row
    row["value"] = _amount(action.value, symbol, day, "value")
    if action.unadjusted_value is not None:
        row["unadjusted_value"] = _amount(action.unadjusted_value, symbol, day, "unadjusted_value")
    for name in ("declaration_date", "record_date", "payment_date"):
        when = getattr(action, name)
        if when is not None and type(when) is not dt.date:
            raise _fail(symbol, day, name, f"{when!r} is not a date")
        row[name] = when
    for name, limit in TEXT_LIMITS.items():
        text = getattr(action, name)
        if text is not None and len(text) > limit:
            raise _fail(symbol, day, name, f"{text!r} is longer than {limit} characters")
        row[name] = text
    return row


def validate_actions(symbol: str, actions: Sequence[Split | Dividend]) -> list[dict[str, Any]]:
    """Validate ``symbol``'s corporate actions; return ``corporate_actions`` rows.

    At most one action per (date, action type): a split and a dividend on the same day are
    fine, two dividends on the same day are refused.
    """
    rows = [action_row(symbol, action) for action in actions]
    seen: set[tuple[dt.date, str]] = set()
    for row in rows:
        key = (row["date"], row["action_type"])
        if key in seen:
            raise DataValidationError(
                f"{symbol} {row['date']} {row['action_type']}: more than one on this date"
            )
        seen.add(key)
    return rows
