"""Data Nexus: a market-data warehouse filled by an incremental sync from EODHD.

The public Python API. Everything the ``datanexus`` command line does is a call to one of
these functions::

    from data_nexus import SyncOptions, load_settings, run_sync

    settings = load_settings()                 # DATANEXUS_DATABASE_URL, EODHD_API_TOKEN, …
    summary = run_sync(settings, SyncOptions(symbols=("AAPL.US", "MSFT.US")))
"""

from data_nexus.assets import (
    AssetInfo,
    add_assets,
    discover_assets,
    list_assets,
    pause_assets,
    resume_assets,
)
from data_nexus.config import Settings, load_settings
from data_nexus.demo import run_demo
from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.errors import (
    AuthFailed,
    BadRequest,
    BadResponse,
    ConfigError,
    DatabaseUnavailable,
    DataNexusError,
    DataValidationError,
    LeaseConflict,
    NotFound,
    NotInPlan,
    ProviderError,
    ProviderUnavailable,
    QuotaExhausted,
    RateLimited,
    SchemaOutOfDate,
    StorageError,
    UsageError,
)
from data_nexus.providers.eodhd import EodhdClient
from data_nexus.quality.run import CheckReport, run_checks
from data_nexus.records import ApiUsage, Bar, Dividend, ExchangeInfo, ListedSymbol, Parsed, Split
from data_nexus.storage.info import database_info
from data_nexus.storage.migrate import downgrade_db, upgrade_db
from data_nexus.storage.store import AssetUpdate, AsyncWriter, Store, WriteResult
from data_nexus.sync.runner import arun_sync, run_sync
from data_nexus.sync.summary import SyncOptions, SyncSummary

__version__ = "0.1.0"

__all__ = [
    "ApiUsage",
    "AssetInfo",
    "AssetUpdate",
    "AsyncWriter",
    "AuthFailed",
    "BadRequest",
    "BadResponse",
    "Bar",
    "CheckReport",
    "ConfigError",
    "DataNexusError",
    "DataValidationError",
    "DatabaseUnavailable",
    "Dividend",
    "EmulatorConfig",
    "EmulatorServer",
    "EodhdClient",
    "ExchangeInfo",
    "LeaseConflict",
    "ListedSymbol",
    "NotFound",
    "NotInPlan",
    "Parsed",
    "ProviderError",
    "ProviderUnavailable",
    "QuotaExhausted",
    "RateLimited",
    "SchemaOutOfDate",
    "Settings",
    "Split",
    "StorageError",
    "Store",
    "SyncOptions",
    "SyncSummary",
    "UsageError",
    "WriteResult",
    "__version__",
    "add_assets",
    "arun_sync",
    "database_info",
    "discover_assets",
    "downgrade_db",
    "list_assets",
    "load_settings",
    "pause_assets",
    "resume_assets",
    "run_checks",
    "run_demo",
    "run_sync",
    "upgrade_db",
]
