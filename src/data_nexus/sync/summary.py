"""The options of a sync run and the summary it returns (also stored in ``sync_runs``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from data_nexus.sync.plan import BulkMode, PlanOptions

#: A run in progress (or one whose process was killed on another host).
STATUS_RUNNING = "running"
STATUS_OK = "ok"
STATUS_PARTIAL = "partial"
STATUS_STOPPED = "stopped"
STATUS_INTERRUPTED = "interrupted"
STATUS_DRY_RUN = "dry-run"
#: The run ended on an unexpected error (its message is in ``sync_runs.message``).
STATUS_FAILED = "failed"
#: Its process was found gone (on this host) while the row still said ``running``.
STATUS_ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """What to sync and how (the ``datanexus sync`` options).

    ``symbols`` are synced (and registered first when new); otherwise every active asset,
    or those of ``exchange``. ``max_age``: an asset synced more recently is fresh and
    skipped. ``full`` refetches every history. ``since`` bounds the first (or full) fetch.
    ``concurrency`` bounds requests in flight, ``rate_limit`` requests per minute (None:
    the settings' value). ``bulk``: per-exchange bulk requests when cheaper (``auto``).
    ``worker_id`` names this worker when several share a PostgreSQL database.
    ``dry_run`` plans and reports without fetching or writing. ``allow_partial`` starts
    even when the remaining daily budget cannot finish the plan.
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
    lease_ttl: dt.timedelta = dt.timedelta(minutes=10)

    def plan_options(self, correction_sessions: int, actions_every: dt.timedelta) -> PlanOptions:
        """The part of the options the pure planner needs."""
        return PlanOptions(
            max_age=self.max_age,
            full=self.full,
            since=self.since,
            correction_sessions=correction_sessions,
            actions_every=actions_every,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (stored with the run)."""
        data = asdict(self)
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


@dataclass(slots=True)
class SyncSummary:
    """What a sync did. ``exit_code`` follows the CLI's documented codes."""

    run_id: int | None = None
    status: str = STATUS_OK
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
    stop_exit_code: int | None = None
    notices: list[str] = field(default_factory=list)
    plan: list[PlannedAsset] = field(default_factory=list)

    @property
    def rows_written(self) -> int:
        """New plus revised bars."""
        return self.rows_inserted + self.rows_revised

    @property
    def exit_code(self) -> int:
        """0 all ok; 1 some assets failed; 3 quota/auth stop; 130 interrupted."""
        if self.stop_exit_code is not None:
            return self.stop_exit_code
        return 1 if self.failed else 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``--json``)."""
        data = asdict(self)
        for key in ("started_at", "finished_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        data["rows_written"] = self.rows_written
        data["exit_code"] = self.exit_code
        data["plan"] = [
            {
                **asdict(p),
                "start": p.start.isoformat() if p.start else None,
                "end": p.end.isoformat(),
            }
            for p in self.plan
        ]
        return data
