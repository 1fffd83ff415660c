"""Exact decimal helpers shared by the parsers, the emulator and the SQLite store."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_ZERO = Decimal(0)


def canonical(value: Decimal) -> str:
    """The shortest plain text of ``value``: no exponent, no trailing zeros, no ``-0``.

    ``Decimal("177.8300")`` → ``"177.83"``, ``Decimal("330.0")`` → ``"330"``,
    ``Decimal("1.2E-5")`` → ``"0.000012"``. Two equal decimals always give the same text,
    which is what makes text comparison safe in SQLite.
    """
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    if value == _ZERO:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_decimal(text: str) -> Decimal:
    """A finite :class:`Decimal` from text, or :class:`ValueError`."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value


def decimal_places(value: Decimal) -> int:
    """How many digits ``value`` has after the decimal point, ignoring trailing zeros."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)
