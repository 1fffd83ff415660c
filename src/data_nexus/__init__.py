"""Data Nexus: a market-data warehouse filled by an incremental sync from EODHD.

The public Python API. Everything the ``datanexus`` command line does is a call to one of
these functions::

    from data_nexus import SyncOptions, load_settings, run_sync

    settings = load_settings()                 # DATANEXUS_DATABASE_URL, EODHD_API_TOKEN, …
    summary = run_sync(settings, SyncOptions(symbols=("AAPL.US", "MSFT.US")))

The names below are the supported surface (``__all__``); each subpackage has its own face
(:mod:`data_nexus.sync`, :mod:`data_nexus.storage`, :mod:`data_nexus.providers`), and the
EODHD emulator lives in :mod:`data_nexus.emulator`. The exception tree is drawn in
:mod:`data_nexus.errors`. Names load on first use, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_nexus._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    **dict.fromkeys(
        ("AssetInfo", "add_assets", "list_assets", "pause_assets", "remove_assets",
         "resume_assets"),
        "data_nexus.assets",
    ),
    "discover_assets": "data_nexus.discovery",
    **dict.fromkeys(("Settings", "load_settings"), "data_nexus.config"),
    "run_demo": "data_nexus.demo",
    **dict.fromkeys(
        ("AuthFailed", "BadRequest", "BadResponse", "BudgetTooSmall", "BulkUnavailable",
         "ConfigError", "DataNexusError", "DataValidationError", "DatabaseUnavailable",
         "InvalidOption", "LeaseConflict", "NotFound", "NotInPlan", "ProviderError",
         "ProviderUnavailable", "QuotaExhausted", "RateLimited", "SchemaOutOfDate",
         "SettingsWarning", "StorageError", "UnknownSymbols", "UsageError"),
        "data_nexus.errors",
    ),
    "EodhdClient": "data_nexus.providers.eodhd",
    "ADJUST_MODES": "data_nexus.query.adjust",
    **dict.fromkeys(("get_bars", "get_bars_arrow", "get_prices", "get_returns"),
                    "data_nexus.query.bars"),
    "get_findings": "data_nexus.query.findings",
    "Nexus": "data_nexus.query.nexus",
    "INTERVALS": "data_nexus.query.resample",
    "RETURN_KINDS": "data_nexus.query.returns",
    **dict.fromkeys(("get_actions", "get_runs", "get_status"), "data_nexus.query.status"),
    **dict.fromkeys(
        ("ApiUsage", "Bar", "Dividend", "ExchangeInfo", "ListedSymbol", "Split"),
        "data_nexus.records",
    ),
    "database_info": "data_nexus.storage.info",
    **dict.fromkeys(("downgrade_db", "upgrade_db"), "data_nexus.storage.migrate"),
    "Store": "data_nexus.storage.store",
    **dict.fromkeys(("arun_sync", "run_sync"), "data_nexus.sync.runner"),
    "RunStatus": "data_nexus.sync.status",
    **dict.fromkeys(("CheckReport", "run_checks"), "data_nexus.quality.run"),
    **dict.fromkeys(("SyncOptions", "SyncSummary"), "data_nexus.sync.summary"),
}  # fmt: skip

__all__ = [  # noqa: RUF022 - plain sorted(), as tests/test_public_api.py checks
    "ADJUST_MODES",
    "ApiUsage",
    "AssetInfo",
    "AuthFailed",
    "BadRequest",
    "BadResponse",
    "Bar",
    "BudgetTooSmall",
    "BulkUnavailable",
    "CheckReport",
    "ConfigError",
    "DataNexusError",
    "DataValidationError",
    "DatabaseUnavailable",
    "Dividend",
    "EodhdClient",
    "ExchangeInfo",
    "INTERVALS",
    "InvalidOption",
    "LeaseConflict",
    "ListedSymbol",
    "Nexus",
    "NotFound",
    "NotInPlan",
    "ProviderError",
    "ProviderUnavailable",
    "QuotaExhausted",
    "RETURN_KINDS",
    "RateLimited",
    "RunStatus",
    "SchemaOutOfDate",
    "Settings",
    "SettingsWarning",
    "Split",
    "StorageError",
    "Store",
    "SyncOptions",
    "SyncSummary",
    "UnknownSymbols",
    "UsageError",
    "__version__",
    "add_assets",
    "arun_sync",
    "database_info",
    "discover_assets",
    "downgrade_db",
    "get_actions",
    "get_bars",
    "get_bars_arrow",
    "get_findings",
    "get_prices",
    "get_returns",
    "get_runs",
    "get_status",
    "list_assets",
    "load_settings",
    "pause_assets",
    "remove_assets",
    "resume_assets",
    "run_checks",
    "run_demo",
    "run_sync",
    "upgrade_db",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from data_nexus.assets import (
        AssetInfo,
        add_assets,
        list_assets,
        pause_assets,
        remove_assets,
        resume_assets,
    )
    from data_nexus.config import Settings, load_settings
    from data_nexus.demo import run_demo
    from data_nexus.discovery import discover_assets
    from data_nexus.errors import (
        AuthFailed,
        BadRequest,
        BadResponse,
        BudgetTooSmall,
        BulkUnavailable,
        ConfigError,
        DatabaseUnavailable,
        DataNexusError,
        DataValidationError,
        InvalidOption,
        LeaseConflict,
        NotFound,
        NotInPlan,
        ProviderError,
        ProviderUnavailable,
        QuotaExhausted,
        RateLimited,
        SchemaOutOfDate,
        SettingsWarning,
        StorageError,
        UnknownSymbols,
        UsageError,
    )
    from data_nexus.providers.eodhd import EodhdClient
    from data_nexus.quality.run import CheckReport, run_checks
    from data_nexus.query.adjust import ADJUST_MODES
    from data_nexus.query.bars import get_bars, get_bars_arrow, get_prices, get_returns
    from data_nexus.query.findings import get_findings
    from data_nexus.query.nexus import Nexus
    from data_nexus.query.resample import INTERVALS
    from data_nexus.query.returns import RETURN_KINDS
    from data_nexus.query.status import get_actions, get_runs, get_status
    from data_nexus.records import ApiUsage, Bar, Dividend, ExchangeInfo, ListedSymbol, Split
    from data_nexus.storage.info import database_info
    from data_nexus.storage.migrate import downgrade_db, upgrade_db
    from data_nexus.storage.store import Store
    from data_nexus.sync.runner import arun_sync, run_sync
    from data_nexus.sync.status import RunStatus
    from data_nexus.sync.summary import SyncOptions, SyncSummary
