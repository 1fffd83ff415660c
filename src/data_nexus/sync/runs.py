"""The ``sync_runs`` table: one row per run with its figures."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from data_nexus.assets import write_transaction
from data_nexus.models import SYNC_RUNS
from data_nexus.storage.store import Store
from data_nexus.sync.leases import owner_is_dead
from data_nexus.sync.summary import (
    STATUS_ABANDONED,
    STATUS_RUNNING,
    SyncOptions,
    SyncSummary,
)

_table = SYNC_RUNS


def start_run(store: Store, *, worker: str, options: SyncOptions, now: dt.datetime) -> int:
    """Insert the run's row (status ``running``) and return its id.

    Rows still ``running`` whose worker was a process on this host that no longer exists
    (killed before it could finish its row) are closed as ``abandoned`` first.
    """
    with write_transaction(store) as conn:
        running = conn.execute(
            sa.select(_table.c.id, _table.c.worker_id).where(_table.c.status == STATUS_RUNNING)
        ).all()
        abandoned = [r.id for r in running if r.worker_id and owner_is_dead(r.worker_id)]
        if abandoned:
            conn.execute(
                sa.update(_table)
                .where(_table.c.id.in_(abandoned))
                .values(
                    status=STATUS_ABANDONED,
                    message="the process ended without finishing this run (killed?)",
                )
            )
        result = conn.execute(
            sa.insert(_table)
            .values(
                started_at=now,
                worker_id=worker,
                status=STATUS_RUNNING,
                options=json.dumps(options.as_dict()),
            )
            .returning(_table.c.id)
        )
        return int(result.scalar_one())


def finish_run(store: Store, summary: SyncSummary) -> None:
    """Write the run's figures and final status."""
    if summary.run_id is None:
        return
    message = summary.stop_reason or (
        f"{len(summary.failed)} asset(s) failed" if summary.failed else None
    )
    with write_transaction(store) as conn:
        conn.execute(
            sa.update(_table)
            .where(_table.c.id == summary.run_id)
            .values(
                finished_at=summary.finished_at,
                status=summary.status,
                assets_planned=summary.planned,
                assets_synced=summary.synced,
                assets_skipped=sum(summary.skipped.values()),
                assets_failed=len(summary.failed),
                rows_written=summary.rows_written,
                rows_revised=summary.rows_revised,
                calls_spent=summary.calls_spent,
                bulk_used=bool(summary.bulk_used),
                message=message,
            )
        )
