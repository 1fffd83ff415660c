"""What the sync engine needs from a source of daily bars and corporate actions.

:class:`~data_nexus.providers.eodhd.EodhdClient` implements it; so can a CSV folder or a test
double. Methods return :class:`~data_nexus.records.Parsed` records sorted by date, and raise
errors from :mod:`data_nexus.errors` (``ProviderError`` subclasses).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from data_nexus.records import Bar, Dividend, Parsed, Split


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
