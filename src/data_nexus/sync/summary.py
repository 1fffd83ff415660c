"""The options of a sync run and the summary it returns (also stored in ``sync_runs``).

:class:`SyncOptions` refuses, when it is built, a value a run could not use (an unknown bulk
mode, a ``since`` after today, a duration out of range). :class:`SyncSummary` is what a run
did, built by :func:`summarize` as a pure fold over the run's
:mod:`~data_nexus.sync.events` plus the run's frame (:class:`RunFrame`). Its ``status`` is a
:class:`~data_nexus.sync.status.RunStatus`; exit codes are the CLI's business
(``data_nexus.cli.errors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, asdict, dataclass, field
from typing import Any

from data_nexus.errors import InvalidOption
from data_nexus.sync.events import (
    AssetFailed,
    AssetSkipped,
    AssetSynced,
    BulkRefused,
    BulkUsed,
    Notice,
    RunFailed,
    RunPlanned,
    RunStopping,
    StopCause,
    SyncEvent,
)
from data_nexus.sync.modes import BulkMode
from data_nexus.sync.plan import HeldBack, PlanOptions
from data_nexus.sync.status import RunStatus

#: The longest ``max_age`` and ``lease_ttl`` accepted (100 years: beyond, dates overflow).
MAX_DURATION = dt.timedelta(days=36_525)


def _check_duration(option: str, value: dt.timedelta, *, minimum: dt.timedelta) -> None:
    if not minimum <= value <= MAX_DURATION:
        raise InvalidOption(
            option,
            f"{value.total_seconds():g}s",
            f"out of range ({minimum.total_seconds():g}s to {MAX_DURATION.days} days)",
        )


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """What to sync and how (the ``datanexus sync`` options).

    ``symbols`` are synced (and registered first when new); otherwise every active asset,
    or those of ``exchange``. ``max_age``: an asset synced more recently is fresh and
    skipped. ``full`` refetches every history. ``since`` bounds the first (or full) fetch;
    before an asset's first stored bar it backfills from there. ``retry_failed`` tries
    assets in a failure backoff now (named ``symbols`` always are).
    ``concurrency`` bounds requests in flight, ``rate_limit`` requests per minute (None:
    the settings' value). ``bulk``: per-exchange bulk requests when cheaper (``auto``).
    ``worker_id`` names this worker when several share a PostgreSQL database.
    ``dry_run`` plans and reports without fetching or writing. ``allow_partial`` starts
    even when the remaining daily budget cannot finish the plan.

    Built only when it can run: an unknown ``bulk``, an empty or unprintable ``worker_id``,
    ``concurrency`` or ``rate_limit`` below 1, ``max_age`` or ``lease_ttl`` outside 0 (1 s
    for the lease) to 100 years, or
    ``since`` after ``today`` raise :class:`~data_nexus.errors.InvalidOption`. ``today``
    (the caller's clock; not stored) is needed for the last check only.
    """

    symbols: tuple[str, ...] = ()
    exchange: str | None = None
    max_age: dt.timedelta = dt.timedelta(days=1)
    full: bool = False
    since: dt.date | None = None
    concurrency: int = 8
    rate_limit: int | None = None
    bulk: BulkMode = BulkMode.AUTO
    worker_id: str | None = None
    dry_run: bool = False
    allow_partial: bool = False
    retry_failed: bool = False
    lease_ttl: dt.timedelta = dt.timedelta(minutes=10)
    today: InitVar[dt.date | None] = None

    def __post_init__(self, today: dt.date | None) -> None:
        if self.bulk not in {mode.value for mode in BulkMode}:
            raise InvalidOption("bulk", repr(self.bulk), "use auto, always or never")
        object.__setattr__(self, "bulk", BulkMode(self.bulk))
        if self.concurrency < 1:
            raise InvalidOption("concurrency", self.concurrency, "must be at least 1")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise InvalidOption(
                "rate_limit", self.rate_limit, "must be at least 1 request per minute"
            )
        if self.worker_id is not None and (
            not self.worker_id.strip() or not self.worker_id.isprintable()
        ):
            raise InvalidOption(
                "worker_id", repr(self.worker_id), "give a name such as host-a-1, or leave it out"
            )
        _check_duration("max_age", self.max_age, minimum=dt.timedelta(0))
        _check_duration("lease_ttl", self.lease_ttl, minimum=dt.timedelta(seconds=1))
        if today is not None:
            self.check_since(today)

    def check_since(self, today: dt.date) -> None:
        """Raise :class:`InvalidOption` when ``since`` is after ``today``."""
        if self.since is not None and self.since > today:
            raise InvalidOption(
                "since", self.since.isoformat(), f"it is after today ({today.isoformat()})"
            )

    def plan_options(self, correction_sessions: int, actions_every: dt.timedelta) -> PlanOptions:
        """The part of the options the pure planner needs."""
        return PlanOptions(
            max_age=self.max_age,
            full=self.full,
            since=self.since,
            correction_sessions=correction_sessions,
            actions_every=actions_every,
            retry_failed=self.retry_failed,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (stored with the run)."""
        data = asdict(self)
        data["bulk"] = str(self.bulk)
        data["max_age"] = self.max_age.total_seconds()
        data["lease_ttl"] = self.lease_ttl.total_seconds()
        data["since"] = self.since.isoformat() if self.since else None
        data["symbols"] = list(self.symbols)
        return data


@dataclass(frozen=True, slots=True)
class PlannedAsset:
    """One line of a dry run: what would be fetched for an asset and why."""

    symbol: str
    mode: str
    start: dt.date | None
    end: dt.date
    calls: int


@dataclass(frozen=True, slots=True)
class RunFrame:
    """What a run knows outside its events: who, when, what it planned and spent."""

    worker: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None = None
    run_id: int | None = None
    planned: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    calls_estimate: int = 0
    calls_spent: int = 0
    requests_sent: int = 0
    dry_run: bool = False
    plan: tuple[PlannedAsset, ...] = ()
    bulk_planned: tuple[str, ...] = ()
    held_back: tuple[HeldBack, ...] = ()


@dataclass(slots=True)
class SyncSummary:
    """What a sync did; ``status`` says how it ended (the CLI maps it to an exit code)."""

    run_id: int | None = None
    status: RunStatus = RunStatus.OK
    worker: str = ""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    planned: int = 0
    synced: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    rows_inserted: int = 0
    rows_revised: int = 0
    rows_deleted: int = 0
    actions_changed: int = 0
    #: Findings the run's writes recorded (one per skipped row or action, flagged price,
    #: replaced or rescaled history …; ``datanexus check`` lists them).
    findings: int = 0
    full_refreshes: int = 0
    calls_estimate: int = 0
    calls_spent: int = 0
    requests_sent: int = 0
    calls_remaining: int | None = None
    bulk_used: list[str] = field(default_factory=list)
    bulk_unavailable: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    notices: list[str] = field(default_factory=list)
    plan: list[PlannedAsset] = field(default_factory=list)
    #: Assets a failure backoff kept out of the run, soonest retry first.
    held_back: list[HeldBack] = field(default_factory=list)

    @property
    def rows_written(self) -> int:
        """New plus revised bars."""
        return self.rows_inserted + self.rows_revised

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``--json``; the CLI adds its exit code)."""
        data = asdict(self)
        data["status"] = self.status.value
        for key in ("started_at", "finished_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        data["rows_written"] = self.rows_written
        data["plan"] = [
            {
                **asdict(p),
                "start": p.start.isoformat() if p.start else None,
                "end": p.end.isoformat(),
            }
            for p in self.plan
        ]
        data["held_back"] = [
            {**asdict(h), "next_attempt_at": h.next_attempt_at.isoformat()} for h in self.held_back
        ]
        return data


#: The most notices a summary lists; beyond, one last line counts the rest.
MAX_NOTICES = 50


def _notice_lines(notices: list[Notice]) -> list[str]:
    lines = [f"{n.symbol}: {n.text}" if n.symbol else n.text for n in notices[:MAX_NOTICES]]
    if len(notices) > MAX_NOTICES:
        lines.append(f"… and {len(notices) - MAX_NOTICES} more notices")
    return lines


#: The stop reason of a run interrupted by a signal (the first one).
INTERRUPTED_REASON = "interrupted by a signal"
#: The stop reason of a run aborted by a second signal.
ABORTED_REASON = "aborted by a second signal: in-flight assets were rolled back"


def summarize(events: Iterable[SyncEvent], frame: RunFrame) -> SyncSummary:
    """Fold a run's events into its summary (pure: same events, same summary).

    ``notices`` lists the run's :class:`Notice` events (retries, provider warnings) as
    ``SYMBOL: text`` lines, the first :data:`MAX_NOTICES` of them. Precedence of the
    outcome: a failed run, then an interrupted (or aborted) one, then a
    provider stop, then some failed assets (partial), else ok. A dry run has no events.
    """
    summary = SyncSummary(
        run_id=frame.run_id,
        worker=frame.worker,
        started_at=frame.started_at,
        finished_at=frame.finished_at,
        planned=frame.planned,
        skipped=dict(frame.skipped),
        calls_estimate=frame.calls_estimate,
        calls_spent=frame.calls_spent,
        requests_sent=frame.requests_sent,
        plan=list(frame.plan),
        held_back=list(frame.held_back),
    )
    if frame.dry_run:
        summary.status = RunStatus.DRY_RUN
        summary.bulk_used = list(frame.bulk_planned)
        return summary
    provider_stop: str | None = None
    notices: list[Notice] = []
    interrupted = aborted = False
    failure: str | None = None
    for event in events:
        if isinstance(event, RunPlanned):
            summary.calls_remaining = event.calls_remaining
            if event.run_id is not None:
                summary.run_id = event.run_id
        elif isinstance(event, AssetSynced):
            summary.synced += 1
            summary.rows_inserted += event.inserted
            summary.rows_revised += event.revised
            summary.rows_deleted += event.deleted
            summary.actions_changed += event.actions_changed
            summary.full_refreshes += event.mode.is_full
            summary.findings += event.findings
        elif isinstance(event, AssetFailed):
            summary.failed[event.symbol] = event.error
        elif isinstance(event, AssetSkipped):
            reason = str(event.reason)
            summary.skipped[reason] = summary.skipped.get(reason, 0) + 1
        elif isinstance(event, BulkUsed):
            summary.bulk_used.append(event.exchange)
        elif isinstance(event, BulkRefused):
            summary.bulk_unavailable.append(event.exchange)
        elif isinstance(event, RunStopping):
            if event.cause is StopCause.PROVIDER:
                provider_stop = provider_stop or event.reason
            elif event.cause is StopCause.ABORTED:
                aborted = True
            else:
                interrupted = True
        elif isinstance(event, RunFailed):
            failure = failure or event.error
        elif isinstance(event, Notice):
            notices.append(event)
    summary.notices = _notice_lines(notices)
    if failure is not None:
        summary.status, summary.stop_reason = RunStatus.FAILED, failure
    elif aborted or interrupted:
        summary.status = RunStatus.INTERRUPTED
        summary.stop_reason = ABORTED_REASON if aborted else (provider_stop or INTERRUPTED_REASON)
    elif provider_stop is not None:
        summary.status, summary.stop_reason = RunStatus.STOPPED, provider_stop
    elif summary.failed:
        summary.status = RunStatus.PARTIAL
    return summary
