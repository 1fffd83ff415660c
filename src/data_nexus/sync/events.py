"""Progress of a sync as small events (progress is an event, not a UI).

``run_sync(on_event=…)`` calls the handler with these dataclasses; the CLI renders them
with Rich, a Python user may log or ignore them. Texts are already redacted.

The events are also the run's record: :func:`data_nexus.sync.summary.summarize` folds them
into the :class:`~data_nexus.sync.summary.SyncSummary`, so what the user saw and what the
summary counts cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from data_nexus.sync.modes import FetchMode, SkipReason


@dataclass(frozen=True, slots=True)
class RunPlanned:
    """The run's plan: how many assets are due, what it should cost, bulk or not."""

    run_id: int | None
    due: int
    skipped: dict[str, int]
    calls_estimate: int
    calls_remaining: int | None
    bulk_exchanges: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AssetSynced:
    """One asset committed: its bars, actions, findings and state, in one transaction."""

    symbol: str
    inserted: int
    revised: int
    deleted: int
    actions_changed: int
    calls: int
    #: How it was fetched; ``mode.is_full`` when the whole history was refetched.
    mode: FetchMode
    #: Open findings the write recorded (skipped rows, a replaced history, …).
    findings: int = 0


@dataclass(frozen=True, slots=True)
class AssetFailed:
    """One asset failed; its previous data and state are untouched, a retry is scheduled."""

    symbol: str
    error: str
    next_attempt_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AssetSkipped:
    """An asset that was due but was not synced in this run.

    ``reason`` is the category the summary counts; ``detail`` the one-line explanation
    shown beside it.
    """

    symbol: str
    reason: SkipReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BulkUsed:
    """An exchange was updated through the bulk endpoint."""

    exchange: str
    days: tuple[dt.date, ...]
    assets: int
    refetch: int


@dataclass(frozen=True, slots=True)
class BulkRefused:
    """The provider refused the bulk endpoint (HTTP 403/404: not in the plan).

    The exchange is synced per symbol instead. (The exception for the same answer is
    :class:`data_nexus.providers.eodhd.BulkUnavailable`.)
    """

    exchange: str
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something worth telling that changes nothing: a provider warning, a retry."""

    symbol: str | None
    text: str


class StopCause(enum.StrEnum):
    """Why a run stops before its plan is done."""

    #: A first SIGINT/SIGTERM: no new assets; in-flight ones commit or roll back.
    INTERRUPTED = "interrupted"
    #: A second signal: in-flight work is cancelled at once.
    ABORTED = "aborted"
    #: The provider ended the run: authentication, daily quota, or repeated failures.
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class RunStopping:
    """The run stops scheduling new assets; ``cause`` says why, ``reason`` in words."""

    reason: str
    cause: StopCause


@dataclass(frozen=True, slots=True)
class RunFailed:
    """The run ended on an unexpected error (its redacted one-line text)."""

    error: str


SyncEvent = (
    RunPlanned
    | AssetSynced
    | AssetFailed
    | AssetSkipped
    | BulkUsed
    | BulkRefused
    | Notice
    | RunStopping
    | RunFailed
)
EventHandler = Callable[[SyncEvent], None]


def ignore(_event: SyncEvent) -> None:
    """The default handler: no output."""
