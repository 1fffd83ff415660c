"""Progress of a sync as small events (progress is an event, not a UI).

``run_sync(on_event=…)`` calls the handler with these dataclasses; the CLI renders them
with Rich, a Python user may log or ignore them. Texts are already redacted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass


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
    mode: str  # a FetchMode: "first sync", "incremental", "full refresh", "corporate action
    # detected", "history replaced", "bulk"
    findings: int = 0  # open findings the write recorded (skipped rows, replaced history …)


@dataclass(frozen=True, slots=True)
class AssetFailed:
    """One asset failed; its previous data and state are untouched, a retry is scheduled."""

    symbol: str
    error: str
    next_attempt_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AssetSkipped:
    """An asset that was due but was not synced in this run (e.g. the lease was lost)."""

    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class BulkUsed:
    """An exchange was updated through the bulk endpoint."""

    exchange: str
    days: tuple[dt.date, ...]
    assets: int
    refetch: int


@dataclass(frozen=True, slots=True)
class BulkRefused:
    """The plan lacks the bulk endpoint (HTTP 403/404): per-symbol sync instead."""

    exchange: str
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something worth telling that changes nothing: a provider warning, a retry."""

    symbol: str | None
    text: str


@dataclass(frozen=True, slots=True)
class RunStopping:
    """The run stops scheduling new assets (signal, quota, authentication)."""

    reason: str


SyncEvent = (
    RunPlanned
    | AssetSynced
    | AssetFailed
    | AssetSkipped
    | BulkUsed
    | BulkRefused
    | Notice
    | RunStopping
)
EventHandler = Callable[[SyncEvent], None]


def ignore(_event: SyncEvent) -> None:
    """The default handler: no output."""
