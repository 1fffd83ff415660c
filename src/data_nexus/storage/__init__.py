"""Storage: engines and backend capabilities, migrations, and the per-backend writers.

The face: :class:`Store` (open a database, write an asset's update in one transaction,
read it back), :class:`AsyncWriter` (the event loop's side of the writer thread), the
migrations (:func:`upgrade_db`, :func:`downgrade_db`) and :func:`database_info`. Names load
on first use, so a command that needs no Alembic never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_nexus._lazy import lazy_exports

_EXPORTS = {
    "AsyncWriter": "data_nexus.storage.async_writer",
    "Capabilities": "data_nexus.storage.capabilities",
    "database_info": "data_nexus.storage.info",
    **dict.fromkeys(("downgrade_db", "upgrade_db"), "data_nexus.storage.migrate"),
    "Store": "data_nexus.storage.store",
    **dict.fromkeys(("AssetUpdate", "WriteResult"), "data_nexus.storage.updates"),
}

__all__ = [
    "AssetUpdate",
    "AsyncWriter",
    "Capabilities",
    "Store",
    "WriteResult",
    "database_info",
    "downgrade_db",
    "upgrade_db",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from data_nexus.storage.async_writer import AsyncWriter
    from data_nexus.storage.capabilities import Capabilities
    from data_nexus.storage.info import database_info
    from data_nexus.storage.migrate import downgrade_db, upgrade_db
    from data_nexus.storage.store import Store
    from data_nexus.storage.updates import AssetUpdate, WriteResult
