"""Symbols in ``CODE.EXCHANGE`` form (``AAPL.US``, ``BRK-B.US``, ``GSPC.INDX``).

EODHD allows exactly one dot, before the exchange code: a share class or any other dot
inside a venue ticker is written with a hyphen (``BRK-B.US``, ``BF-B.US``), indices live on
exchange ``INDX`` without Yahoo's caret (``GSPC.INDX``, not ``^GSPC``), and codes are upper
case. A code without an exchange suffix is silently treated as US by the provider; Data
Nexus asks for the suffix instead of guessing.

People and symbol lists write the same ticker in other ways. :func:`parse_symbol` refuses
those spellings with the canonical one as a hint (``BRK.B`` → ``BRK-B.US``, ``^GSPC`` →
``GSPC.INDX``, ``BRK/B.US`` → ``BRK-B.US``); case and surrounding blanks are normalised
silently. :func:`canonical_code` turns a code as an exchange's symbol list writes it
(``BRK.B``, ``brk-a``) into the one form every command accepts, so discovery registers each
ticker once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from data_nexus.errors import InvalidOption, UsageError
from data_nexus.exchanges import known_exchange

#: The longest code and exchange accepted (the registry's column widths allow more).
MAX_CODE = 48
MAX_EXCHANGE = 16
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_\-&=+]*$")
_EXCHANGE = re.compile(r"^[A-Z0-9]+$")
#: What people and symbol lists put between a ticker and its share class instead of '-'.
_CLASS_SEPARATORS = re.compile(r"[./\s]+")
_INDEX_EXCHANGE = "INDX"

#: The ``type`` filters of EODHD's exchange symbol list (``/exchange-symbol-list``).
LISTING_TYPES = ("common_stock", "preferred_stock", "stock", "etf", "fund")


@dataclass(frozen=True, slots=True, order=True)
class Symbol:
    """A parsed symbol."""

    code: str
    exchange: str

    def __str__(self) -> str:
        return f"{self.code}.{self.exchange}"


def canonical_code(code: str) -> str:
    """A ticker code as EODHD writes it: upper case, blanks trimmed, a dot, slash or space
    before a share class written ``-``, no index caret (``"brk.b"`` → ``"BRK-B"``,
    ``"^GSPC"`` → ``"GSPC"``). The result may still be invalid (see :func:`is_valid_code`)."""
    text = code.strip().upper().lstrip("^")
    return _CLASS_SEPARATORS.sub("-", text)


def is_valid_code(code: str) -> bool:
    """Whether ``code`` is a canonical ticker code that every command accepts."""
    return len(code) <= MAX_CODE and bool(_CODE.match(code))


class SymbolError(UsageError):
    """A symbol that is not ``CODE.EXCHANGE``; ``hint`` is a spelling :func:`parse_symbol`
    accepts, or ``None`` when no spelling of the input would be accepted."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _canonical(candidate: str) -> str | None:
    """``candidate`` as :func:`parse_symbol` spells it, or None when it is refused."""
    try:
        return str(_parse(candidate, hints=False))
    except UsageError:
        return None


def _accepted(candidate: str) -> bool:
    return _canonical(candidate) is not None


def _refuse(text: str, why: str, hint: str, *, hints: bool = True) -> SymbolError:
    """The error for ``text``; ``hint`` is shown only when it would itself be accepted, and
    in the spelling it is accepted as (``0.. 0`` suggested ``0-. 0``, stored as ``0-.0``)."""
    canonical = _canonical(hint) if hints else None
    if canonical is not None:
        return SymbolError(f"invalid symbol {text!r}: {why}; use '{canonical}'", canonical)
    return SymbolError(f"invalid symbol {text!r}: {why}")


def parse_symbol(text: str) -> Symbol:
    """Parse ``CODE.EXCHANGE`` (case-insensitive), or raise :class:`SymbolError` saying why.

    Refused with the canonical spelling as a hint: an index caret (``^GSPC`` →
    ``GSPC.INDX``), a share class after a dot, slash or space (``BRK.B``, ``BRK/B.US``,
    ``BRK.B.US`` → ``BRK-B.US``; a one-letter suffix that is not an exchange code is taken
    for a class), a missing exchange (``AAPL`` → ``AAPL.US``). A hint is given only when
    this function accepts it (``A;DROP`` gets none: no spelling of it is a ticker).
    """
    return _parse(text, hints=True)


def symbol_hint(text: str) -> str | None:
    """The spelling :func:`parse_symbol` suggests for ``text``: ``None`` when ``text`` is
    accepted as it is or no accepted spelling is known. Any hint returned is accepted."""
    try:
        parse_symbol(text)
    except SymbolError as error:
        return error.hint
    except UsageError:
        return None
    return None


def _parse(text: str, *, hints: bool) -> Symbol:
    raw = " ".join(text.split()).upper()
    if raw.startswith("^"):
        index = canonical_code(raw.rpartition(".")[0] if raw.count(".") == 1 else raw)
        hint = f"{index or 'GSPC'}.{_INDEX_EXCHANGE}"
        why = "EODHD writes an index without '^', on exchange INDX"
        raise _refuse(text, why, hint, hints=hints)
    if "." not in raw:
        if _CLASS_SEPARATORS.search(raw):
            hint = f"{canonical_code(raw)}.US"
            why = "a share class is written with '-' and needs an exchange"
            raise _refuse(text, why, hint, hints=hints)
        hint = f"{raw}.US"
        if hints and raw and _accepted(hint):
            raise SymbolError(
                f"invalid symbol {text!r}: expected CODE.EXCHANGE (add the exchange, e.g. "
                f"'{hint}')",
                hint,
            )
        raise SymbolError(f"invalid symbol {text!r}: expected CODE.EXCHANGE, e.g. 'AAPL.US'")
    head, _, exchange = raw.rpartition(".")
    if "." in head:
        hint = f"{canonical_code(head)}.{exchange}"
        raise _refuse(text, "only one dot is allowed, before the exchange", hint, hints=hints)
    code = head.strip()
    exchange = exchange.strip()
    if len(exchange) == 1 and exchange.isalpha() and not known_exchange(exchange):
        hint = f"{canonical_code(code)}-{exchange}.US"
        why = f"{exchange!r} is a share class, not an exchange"
        raise _refuse(text, why, hint, hints=hints)
    if _CLASS_SEPARATORS.search(code):
        hint = f"{canonical_code(code)}.{exchange}"
        raise _refuse(text, "a share class is written with '-'", hint, hints=hints)
    if len(code) > MAX_CODE:
        raise SymbolError(
            f"invalid symbol {text!r}: the code is too long ({len(code)} characters; "
            f"at most {MAX_CODE})"
        )
    if len(exchange) > MAX_EXCHANGE:
        raise SymbolError(
            f"invalid symbol {text!r}: the exchange is too long ({len(exchange)} characters; "
            f"at most {MAX_EXCHANGE})"
        )
    if not _CODE.match(code):
        raise SymbolError(f"invalid symbol {text!r}: the code {code!r} has unexpected characters")
    if not _EXCHANGE.match(exchange):
        raise SymbolError(f"invalid symbol {text!r}: the exchange {exchange!r} is not a code")
    return Symbol(code, exchange)


def split_symbols(texts: list[str] | tuple[str, ...]) -> list[str]:
    """The symbol texts of ``texts``, each of which may be a comma-separated list
    (``["AAPL.US,MSFT.US", "SPY.US"]``): a comma is never part of a symbol. An empty name
    between commas is a :class:`UsageError`; a single empty text is left for
    :func:`parse_symbol` to refuse."""
    out: list[str] = []
    for text in texts:
        pieces = text.split(",")
        if len(pieces) > 1 and any(not piece.strip() for piece in pieces):
            raise UsageError(f"invalid symbol list {text!r}: an empty name between commas")
        out.extend(pieces)
    return out


def parse_symbols(texts: list[str] | tuple[str, ...]) -> list[Symbol]:
    """Parse several symbols (each text may be a comma-separated list, see
    :func:`split_symbols`), dropping duplicates, keeping the order given."""
    seen: dict[str, Symbol] = {}
    for text in split_symbols(texts):
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
