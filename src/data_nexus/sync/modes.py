"""The named decisions of a sync plan: when to go bulk, why an asset is skipped, how it is fetched.

Plain string enums, shared by the plan (:mod:`data_nexus.sync.plan`,
:mod:`data_nexus.sync.bulk_plan`), the events that report its outcome and the summary that
counts them, so those need not import the planning logic.
"""

from __future__ import annotations

from enum import StrEnum


class BulkMode(StrEnum):
    """When a sync uses the per-exchange bulk endpoint (``datanexus sync --bulk``)."""

    #: When its requests cost fewer calls than the per-symbol ones they replace.
    AUTO = "auto"
    #: Whenever an asset can take it.
    ALWAYS = "always"
    #: Never.
    NEVER = "never"


class SkipReason(StrEnum):
    """Why an asset is not synced in a run (the keys of ``SyncSummary.skipped``)."""

    #: Excluded with ``datanexus assets pause``.
    PAUSED = "paused"
    #: A recent failure scheduled its retry later (``assets.next_attempt_at``).
    IN_BACKOFF = "in backoff"
    #: Delisted, and its history is stored: nothing new will come.
    DELISTED_COMPLETE = "delisted, history complete"
    #: Synced less than ``max_age`` ago.
    FRESH = "fresh"
    #: Claimed, but another worker took its lease before the write.
    LEASE_LOST = "lease lost"


class FetchMode(StrEnum):
    """How one asset is fetched (``AssetSynced.mode`` and the dry run's plan)."""

    FIRST_SYNC = "first sync"
    INCREMENTAL = "incremental"
    FULL_REFRESH = "full refresh"
    CORPORATE_ACTION = "corporate action detected"
    #: Every re-fetched close moved and no split explains it: another company's history.
    HISTORY_REPLACED = "history replaced"
    BULK = "bulk"
    #: ``--since`` earlier than the provider was ever asked (:func:`needs_backfill`): from
    #: that date through today.
    BACKFILL = "backfill"

    @property
    def is_full(self) -> bool:
        """Whether this mode rewrites the whole history (a full refresh)."""
        full = (FetchMode.FULL_REFRESH, FetchMode.CORPORATE_ACTION, FetchMode.HISTORY_REPLACED)
        return self in full
