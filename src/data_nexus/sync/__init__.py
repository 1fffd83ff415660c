"""The sync engine: plan (pure), leases and state, the runner, and its events.

The face: :func:`run_sync`/:func:`arun_sync` with :class:`SyncOptions` in, a
:class:`SyncSummary` (its ``status`` a :class:`RunStatus`) out, and the progress events passed to
``on_event`` (:mod:`data_nexus.sync.events`). Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_nexus._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(
        ("AssetFailed", "AssetSkipped", "AssetSynced", "BulkRefused", "BulkUsed",
         "EventHandler", "Notice", "RunFailed", "RunPlanned", "RunStopping", "StopCause",
         "SyncEvent"),
        "data_nexus.sync.events",
    ),
    **dict.fromkeys(("arun_sync", "run_sync"), "data_nexus.sync.runner"),
    "RunStatus": "data_nexus.sync.status",
    **dict.fromkeys(
        ("RunFrame", "SyncOptions", "SyncSummary", "summarize"),
        "data_nexus.sync.summary",
    ),
}  # fmt: skip

__all__ = [
    "AssetFailed",
    "AssetSkipped",
    "AssetSynced",
    "BulkRefused",
    "BulkUsed",
    "EventHandler",
    "Notice",
    "RunFailed",
    "RunFrame",
    "RunPlanned",
    "RunStatus",
    "RunStopping",
    "StopCause",
    "SyncEvent",
    "SyncOptions",
    "SyncSummary",
    "arun_sync",
    "run_sync",
    "summarize",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from data_nexus.sync.events import (
        AssetFailed,
        AssetSkipped,
        AssetSynced,
        BulkRefused,
        BulkUsed,
        EventHandler,
        Notice,
        RunFailed,
        RunPlanned,
        RunStopping,
        StopCause,
        SyncEvent,
    )
    from data_nexus.sync.runner import arun_sync, run_sync
    from data_nexus.sync.status import RunStatus
    from data_nexus.sync.summary import RunFrame, SyncOptions, SyncSummary, summarize
