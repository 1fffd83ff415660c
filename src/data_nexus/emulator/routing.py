"""Which endpoint a request names, what it costs, and how its parameters are read.

Defaults where the sources disagree (see ``eodhd-api.md``, "Unknowns"): without ``fmt``,
``/eod``, ``/splits``, ``/div``, bulk and the symbol list answer CSV (as the EOD page and old
clients say); ``/exchanges-list`` answers JSON. Unparseable dates are ignored, as the real
API ignores a bad ``from``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from data_nexus.emulator.market import normalize_symbol
from data_nexus.emulator.messages import Request

T = TypeVar("T")
BULK_WEIGHT = 100
DEFAULT_FMT = {"exchanges-list": "json"}
SYMBOL_ENDPOINTS = ("eod", "splits", "div")
EXCHANGE_ENDPOINTS = ("eod-bulk-last-day", "exchange-symbol-list")


@dataclass(frozen=True, slots=True)
class Route:
    """Which endpoint a path names, and its symbol (``CODE.EX``) or exchange code."""

    endpoint: str
    target: str | None = None


def route(path: str) -> Route:
    """The route of a decoded request path; unknown paths are ``other``."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] or parts[1] != "api":
        return Route("other")
    name, rest = parts[2], parts[3:]
    if rest and rest[-1] == "":
        rest.pop()
    if name == "exchanges-list" and not rest:
        return Route("exchanges-list")
    if name in ("user", "internal-user") and not rest:
        return Route("user")
    if len(rest) != 1 or not rest[0].strip():
        return Route("other")
    if name in SYMBOL_ENDPOINTS:
        code, exchange = normalize_symbol(rest[0])
        return Route(name, f"{code}.{exchange}")
    if name in EXCHANGE_ENDPOINTS:
        return Route(name, rest[0].strip().upper())
    return Route("other")


def bulk_codes(request: Request) -> list[str]:
    """The ``symbols=`` of a bulk request as bare codes (``AAPL.US`` counts as ``AAPL``)."""
    raw = request.param("symbols") or ""
    return [
        item.strip().upper().rpartition(".")[0] or item.strip().upper()
        for item in raw.split(",")
        if item.strip()
    ]


def weight(found: Route, request: Request) -> int:
    """API calls a request costs: bulk 100 (+1 per ``symbols`` ticker), everything else 1."""
    if found.endpoint != "eod-bulk-last-day":
        return 1
    if (request.param("type") or "").lower() in ("splits", "dividends"):
        return BULK_WEIGHT
    return BULK_WEIGHT + len(bulk_codes(request))


def fmt_of(request: Request, endpoint: str) -> str:
    """The requested ``fmt`` (json or csv), or the endpoint's default."""
    value = (request.param("fmt") or "").lower()
    return value if value in ("json", "csv") else DEFAULT_FMT.get(endpoint, "csv")


def ordinal_of(value: str | None) -> int | None:
    """The ordinal of a ``YYYY-MM-DD`` parameter; None when absent or unparseable."""
    try:
        return dt.date.fromisoformat((value or "").strip()[:10]).toordinal() if value else None
    except ValueError:
        return None


def duplicate_middle(rows: list[T]) -> None:
    """Insert a copy of the middle item (the ``duplicate_date`` fault)."""
    if rows:
        rows.insert(len(rows) // 2, rows[len(rows) // 2])
