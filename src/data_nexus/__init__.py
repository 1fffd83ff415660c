"""Data Nexus: a market-data warehouse filled by an incremental sync from EODHD."""

__version__ = "0.1.0"
