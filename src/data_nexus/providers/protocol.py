"""What the library needs from a provider: the one place the provider calls are declared.

:class:`MarketDataProvider` (per-symbol history, the sync pipeline), :class:`BulkProvider`
(one exchange's day, the bulk path) and :class:`SymbolListProvider` (discovery).
:class:`~data_nexus.providers.eodhd.EodhdClient` implements all three (build it with
:func:`~data_nexus.providers.eodhd.make_client`); so can a CSV folder or a test double.
Methods return :class:`~data_nexus.records.Parsed` records sorted by date, and raise
errors from :mod:`data_nexus.errors` (``ProviderError`` subclasses).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from data_nexus.records import Bar, Dividend, ListedSymbol, Parsed, Split


@runtime_checkable
class MarketDataProvider(Protocol):
    """Per-symbol history: bars, splits and dividends in an inclusive date range."""

    async def eod(
        self, symbol: str, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Parsed[Bar]:
        """Daily bars of ``symbol`` from ``start`` to ``end`` (``None``: unbounded)."""
        ...

    async def splits(
        self, symbol: str, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Parsed[Split]:
        """Splits of ``symbol`` with ex-dates in the range."""
        ...

    async def dividends(
        self, symbol: str, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Parsed[Dividend]:
        """Dividends of ``symbol`` with ex-dates in the range."""
        ...


@runtime_checkable
class BulkProvider(Protocol):
    """One exchange's whole day in one request each (EODHD's bulk endpoint).

    A plan without bulk access raises :class:`~data_nexus.errors.NotInPlan` (or
    :class:`~data_nexus.errors.NotFound`); ``day`` ``None`` means the last session.
    """

    async def bulk_eod(self, exchange: str, *, day: dt.date | None = None) -> Parsed[Bar]:
        """Every symbol's bar of ``exchange`` for ``day``."""
        ...

    async def bulk_splits(self, exchange: str, *, day: dt.date | None = None) -> Parsed[Split]:
        """The splits of ``exchange`` with ex-date ``day``."""
        ...

    async def bulk_dividends(
        self, exchange: str, *, day: dt.date | None = None
    ) -> Parsed[Dividend]:
        """The dividends of ``exchange`` with ex-date ``day``."""
        ...


@runtime_checkable
class SymbolListProvider(Protocol):
    """The symbols an exchange lists (discovery, ``datanexus assets discover``)."""

    async def symbol_list(
        self, exchange: str, *, asset_type: str | None = None, delisted: bool = False
    ) -> Parsed[ListedSymbol]:
        """The listed (or, with ``delisted``, the delisted) symbols, optionally of one type."""
        ...
