"""Symbols in ``CODE.EXCHANGE`` form (``AAPL.US``, ``BRK-B.US``, ``EURUSD.FOREX``).

EODHD allows exactly one dot: a dot inside a venue ticker becomes a hyphen. A code without
an exchange suffix is silently treated as US by the provider; Data Nexus asks for the
suffix instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from data_nexus.errors import InvalidOption, UsageError

#: The longest code and exchange accepted (the registry's column widths allow more).
MAX_CODE = 48
MAX_EXCHANGE = 16
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_\-&^=+]*$")
_EXCHANGE = re.compile(r"^[A-Z0-9]+$")

#: The ``type`` filters of EODHD's exchange symbol list (``/exchange-symbol-list``).
LISTING_TYPES = ("common_stock", "preferred_stock", "stock", "etf", "fund")


@dataclass(frozen=True, slots=True, order=True)
class Symbol:
    """A parsed symbol."""

    code: str
    exchange: str

    def __str__(self) -> str:
        return f"{self.code}.{self.exchange}"


def parse_symbol(text: str) -> Symbol:
    """Parse ``CODE.EXCHANGE`` (case-insensitive), or raise :class:`UsageError` saying why."""
    raw = text.strip().upper()
    if raw.count(".") != 1:
        if "." not in raw:
            hint = f"add the exchange, e.g. '{raw or 'AAPL'}.US'"
        else:
            hint = "only one dot is allowed; a dot in a ticker becomes '-', e.g. 'BRK-B.US'"
        raise UsageError(f"invalid symbol {text!r}: expected CODE.EXCHANGE ({hint})")
    code, exchange = raw.split(".")
    if len(code) > MAX_CODE:
        raise UsageError(
            f"invalid symbol {text!r}: the code is too long ({len(code)} characters; "
            f"at most {MAX_CODE})"
        )
    if len(exchange) > MAX_EXCHANGE:
        raise UsageError(
            f"invalid symbol {text!r}: the exchange is too long ({len(exchange)} characters; "
            f"at most {MAX_EXCHANGE})"
        )
    if not _CODE.match(code):
        raise UsageError(f"invalid symbol {text!r}: the code {code!r} has unexpected characters")
    if not _EXCHANGE.match(exchange):
        raise UsageError(f"invalid symbol {text!r}: the exchange {exchange!r} is not a code")
    return Symbol(code, exchange)


def parse_symbols(texts: list[str] | tuple[str, ...]) -> list[Symbol]:
    """Parse several symbols, dropping duplicates, keeping the order given."""
    seen: dict[str, Symbol] = {}
    for text in texts:
        symbol = parse_symbol(text)
        seen.setdefault(str(symbol), symbol)
    return list(seen.values())


def parse_exchange(text: str) -> str:
    """Validate an exchange code such as ``US`` or ``LSE``."""
    code = text.strip().upper()
    if not _EXCHANGE.match(code) or len(code) > MAX_EXCHANGE:
        raise UsageError(f"invalid exchange {text!r}: expected a code such as US, LSE or XETRA")
    return code


def parse_listing_type(text: str) -> str:
    """One of :data:`LISTING_TYPES` (case-insensitive), or :class:`InvalidOption`.

    An unknown type is refused rather than sent: the provider ignores a filter it does not
    know and returns the whole exchange.
    """
    value = text.strip().lower()
    if value not in LISTING_TYPES:
        raise InvalidOption("asset_type", repr(text), f"use one of {', '.join(LISTING_TYPES)}")
    return value
