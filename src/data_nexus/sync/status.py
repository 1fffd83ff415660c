"""The status of a sync run (``SyncSummary.status`` and ``sync_runs.status``)."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """How a sync run ended (a :class:`~enum.StrEnum`: stored and printed as its text)."""

    #: In progress (or its process was killed on another host).
    RUNNING = "running"
    #: Every due asset synced.
    OK = "ok"
    #: Some assets failed; the others committed.
    PARTIAL = "partial"
    #: The provider stopped the run (authentication, quota, unreachable).
    STOPPED = "stopped"
    #: Interrupted by a signal; in-flight assets finished, the rest stays due.
    INTERRUPTED = "interrupted"
    #: Planned and reported only (``--dry-run``).
    DRY_RUN = "dry-run"
    #: Ended on an unexpected error (its message is in ``sync_runs.message``).
    FAILED = "failed"
    #: Its process was found gone (on this host) while the row still said ``running``.
    ABANDONED = "abandoned"
