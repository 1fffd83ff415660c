"""One value judged on its own at the write boundary: stored as exact text, or skipped.

Shared by the bar validator (:mod:`data_nexus.storage.validate`) and the corporate-action
rules (:mod:`data_nexus.storage.action_rows`). A value that cannot be stored correctly is a
:class:`Skip` (its record becomes a finding); a value of the wrong type is a bug of the
caller (:class:`~data_nexus.errors.DataValidationError` naming symbol, date and field).
"""

from __future__ import annotations

from decimal import Decimal

from data_nexus.decimals import canonical, decimal_places
from data_nexus.errors import DataValidationError

#: The sane range of a price or an amount: ``|x| < 10^15``, at most 30 decimal places. The
#: columns hold far more; beyond this a value is garbage, not a quote.
VALUE_LIMIT = Decimal(10) ** 15
MAX_PLACES = 30
BIGINT_MAX = 2**63 - 1


class Skip(Exception):
    """A value that cannot be stored: its record is skipped with a finding of ``kind``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def caller_bug(symbol: str, day: object, field: str, message: str) -> DataValidationError:
    """The error for a value of the wrong type (a bug of the caller, not of the data)."""
    return DataValidationError(f"{symbol} {day} {field}: {message}")


def decimal_text(value: object, *, symbol: str, day: object, field: str) -> str:
    """The canonical text of an exact ``value`` in the sane range.

    Raises :class:`DataValidationError` for floats and other non-decimals (a bug of the
    caller) and :class:`Skip` (kind ``out_of_range``) for a non-finite value, ``|x| >=
    10^15`` or more than 30 decimal places.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise caller_bug(
            symbol, day, field, f"{value!r} is a {type(value).__name__}, not an exact Decimal"
        )
    if not value.is_finite():
        raise Skip("out_of_range", f"{field}: {value} is not a finite number")
    if abs(value) >= VALUE_LIMIT:
        raise Skip("out_of_range", f"{field}: {value} is outside the sane range |x| < 10^15")
    places = decimal_places(value)
    if places > MAX_PLACES:
        raise Skip("out_of_range", f"{field}: {value} has {places} decimal places (more than 30)")
    return canonical(value)
