"""Data providers: the protocol the sync engine uses, and the EODHD client (``eodhd``).

The face: :class:`MarketDataProvider` (what a provider must answer; :class:`BulkProvider`
and :class:`SymbolListProvider` for the optional calls), :class:`EodhdClient`
(the one implementation) and :func:`make_client` (the one place a client is built from
``Settings``). A new provider is a subpackage beside ``eodhd/`` that satisfies the protocol.
Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_nexus._lazy import lazy_exports

_EXPORTS = {
    "EodhdClient": "data_nexus.providers.eodhd",
    **dict.fromkeys(
        ("BulkProvider", "MarketDataProvider", "SymbolListProvider"),
        "data_nexus.providers.protocol",
    ),
    "make_client": "data_nexus.providers.eodhd.factory",
}

__all__ = [
    "BulkProvider",
    "EodhdClient",
    "MarketDataProvider",
    "SymbolListProvider",
    "make_client",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from data_nexus.providers.eodhd import EodhdClient
    from data_nexus.providers.eodhd.factory import make_client
    from data_nexus.providers.protocol import (
        BulkProvider,
        MarketDataProvider,
        SymbolListProvider,
    )
