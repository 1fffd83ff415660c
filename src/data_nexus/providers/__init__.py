"""Data providers: the protocol the sync engine uses, and the EODHD client (``eodhd``)."""

from data_nexus.providers.protocol import MarketDataProvider

__all__ = ["MarketDataProvider"]
