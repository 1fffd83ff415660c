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
from collections.abc import Iterable, Sequence
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

#: A validated bar: ISO date, open, high, low, close, adjusted close as canonical text
#: (``None`` where missing), volume.
BarRow = tuple[str, str | None, str | None, str | None, str, str | None, int | None]
PRICE_FIELDS = ("open", "high", "low", "close", "adjusted_close")


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
    """Fast path of :func:`decimal_text` for prices (most values pass it untouched)."""
    if type(value) is Decimal and value.is_finite() and _ZERO <= value < PRICE_LIMIT:
        text = str(value)
        dot = text.find(".")
        if "E" in text or text[0] == "-":  # 1E-7, 0E-10, -0: the slow path canonicalises
            pass
        elif dot < 0:
            return text
        elif len(text) - dot <= PRICE_SCALE + 1:
            text = text.rstrip("0")
            return text[:-1] if text[-1] == "." else text
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


class BarValidator:
    """Validates one symbol's bars chunk by chunk and turns them into :data:`BarRow` rows.

    Keeps the set of dates seen (ISO text) so a date sent twice, even in different chunks,
    is refused; ``first``/``last`` are the smallest and largest dates seen so far.
    """

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.dates: set[str] = set()
        self.first: str | None = None
        self.last: str | None = None

    def rows(self, bars: Iterable[Bar]) -> list[BarRow]:
        """Validate ``bars`` and return their rows; raise on the first bad value."""
        symbol = self.symbol
        seen = self.dates
        out: list[BarRow] = []
        append = out.append
        for bar in bars:
            day = bar.date
            if type(day) is not dt.date:
                raise _fail(symbol, day, "date", f"{day!r} is not a date")
            iso = day.isoformat()
            if bar.symbol != symbol:
                raise _fail(symbol, iso, "symbol", f"the bar belongs to {bar.symbol!r}")
            if iso in seen:
                raise DataValidationError(f"{symbol} {iso}: more than one bar for this date")
            seen.add(iso)
            o, h, lo, a = bar.open, bar.high, bar.low, bar.adjusted_close
            if bar.close is None:
                raise _fail(symbol, iso, "close", "missing (a bar needs a close)")
            append(
                (
                    iso,
                    None if o is None else _price(o, symbol, iso, "open"),
                    None if h is None else _price(h, symbol, iso, "high"),
                    None if lo is None else _price(lo, symbol, iso, "low"),
                    _price(bar.close, symbol, iso, "close"),
                    None if a is None else _price(a, symbol, iso, "adjusted_close"),
                    None if bar.volume is None else _volume(bar.volume, symbol, iso),
                )
            )
        if out:
            low = min(r[0] for r in out)
            high = max(r[0] for r in out)
            self.first = low if self.first is None else min(self.first, low)
            self.last = high if self.last is None else max(self.last, high)
        return out


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
