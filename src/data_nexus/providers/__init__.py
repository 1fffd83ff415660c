"""Data providers: the protocol the sync engine uses, and the EODHD client (``eodhd``).

The face: :class:`MarketDataProvider` (what a provider must answer) and
:class:`EodhdClient` (the one implementation). A new provider is a subpackage beside
``eodhd/`` that satisfies the protocol. Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_nexus._lazy import lazy_exports

_EXPORTS = {
    "EodhdClient": "data_nexus.providers.eodhd",
    "MarketDataProvider": "data_nexus.providers.protocol",
}

__all__ = ["EodhdClient", "MarketDataProvider"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from data_nexus.providers.eodhd import EodhdClient
    from data_nexus.providers.protocol import MarketDataProvider
