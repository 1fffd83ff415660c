"""Column types that keep values exact on every backend.

PostgreSQL stores prices as ``NUMERIC``. SQLite has no decimal type: its ``NUMERIC``
affinity would turn ``123456789.12345678`` into a float and lose digits, so on SQLite the
same columns are ``TEXT`` holding the canonical decimal text (see
:func:`data_nexus.decimals.canonical`), which is exact, readable and compares equal exactly
when the values are equal. Timestamps are always timezone-aware UTC in Python.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from data_nexus.decimals import canonical

#: Digits of revision 0001's price columns, ``NUMERIC(18, 8)`` (since 0002: :func:`exact_type`).
PRICE_PRECISION = 18
PRICE_SCALE = 8
#: Revision 0001's corporate-action amounts, ``NUMERIC(24, 12)``; still the places kept by a
#: split's convenience ``value`` (the quotient of its two sides).
AMOUNT_PRECISION = 24
AMOUNT_SCALE = 12


class DecimalText(TypeDecorator[Decimal]):
    """SQLite storage of an exact decimal as its canonical text."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else canonical(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def exact_type() -> sa.types.TypeEngine[Decimal]:
    """Unconstrained ``NUMERIC`` (any decimal exactly); ``TEXT`` of exact decimal text on SQLite.

    The type of prices and corporate-action amounts since revision 0002: a crypto close of
    ``8.4401E-06`` or ``1E-12`` and a negative oil future are kept digit for digit.
    """
    return sa.Numeric(asdecimal=True).with_variant(DecimalText(), "sqlite")


def price_type() -> sa.types.TypeEngine[Decimal]:
    """Revision 0001's prices: ``NUMERIC(18, 8)``; ``TEXT`` of exact decimal text on SQLite."""
    return sa.Numeric(PRICE_PRECISION, PRICE_SCALE, asdecimal=True).with_variant(
        DecimalText(), "sqlite"
    )


def amount_type() -> sa.types.TypeEngine[Decimal]:
    """Revision 0001's amounts: ``NUMERIC(24, 12)``; ``TEXT`` of exact decimal text on SQLite."""
    return sa.Numeric(AMOUNT_PRECISION, AMOUNT_SCALE, asdecimal=True).with_variant(
        DecimalText(), "sqlite"
    )


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone; PostgreSQL uses ``timestamptz``. Naive values are refused on the
    way in, so no local clock can leak into stored state.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware UTC timestamp")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        stamp: dt.datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)
