"""The ``sync_runs`` table: one row per run with its figures."""

from __future__ import annotations

import datetime as dt
import json

from data_nexus.storage import runs as stored
from data_nexus.storage.runs import RunFigures
from data_nexus.storage.store import Store
from data_nexus.sync.leases import owner_is_dead
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import SyncOptions, SyncSummary

ABANDONED_MESSAGE = "the process ended without finishing this run (killed?)"


def abandoned_figures(synced: int, *, overlapped: bool) -> tuple[int, str]:
    """``(assets_synced, message)`` of an abandoned run (pure).

    Its assets committed one by one, each with its ``last_synced``, so ``synced`` (the
    assets synced between its start and its detection) is what it did, unless another run
    overlapped that window: then its share cannot be told apart, and the message says the
    count is unknown instead of claiming 0. Rows written are never known (bars carry no run).
    """
    if overlapped:
        return 0, (
            f"{ABANDONED_MESSAGE}; assets synced unknown (another run overlapped it), "
            "rows written unknown"
        )
    return synced, (
        f"{ABANDONED_MESSAGE}; {synced} asset(s) had committed (from their last sync times), "
        "rows written unknown"
    )


def start_run(store: Store, *, worker: str, options: SyncOptions, now: dt.datetime) -> int:
    """Insert the run's row (status ``running``) and return its id.

    Rows still ``running`` whose worker was a process on this host that no longer exists
    (killed before it could finish its row) are closed as ``abandoned`` first, with the
    assets they committed (:func:`abandoned_figures`).
    """
    with store.atomic() as conn:
        running = stored.workers_with_status(conn, RunStatus.RUNNING)
        abandoned = [
            run_id for run_id, worker_id in running if worker_id and owner_is_dead(worker_id)
        ]
        for run_id in abandoned:
            _, overlapped, synced = stored.abandoned_window_figures(conn, run_id, now)
            count, message = abandoned_figures(synced, overlapped=overlapped)
            stored.set_abandoned(conn, run_id, found_at=now, assets_synced=count, message=message)
        return stored.insert_run(
            conn,
            started_at=now,
            worker=worker,
            status=RunStatus.RUNNING,
            options=json.dumps(options.as_dict()),
        )


def round_start(
    started: list[tuple[dt.datetime, str]], *, options: SyncOptions, now: dt.datetime
) -> dt.datetime | None:
    """When the ``--full`` round a run starting at ``now`` joins began (pure).

    ``started`` is ``(started_at, options JSON)`` of recent runs. Runs with ``--full`` and a
    ``--worker-id`` over the same symbols and exchange form a round with this one (when it
    has both too); the round began at the earliest of them, else ``now``. ``None`` for a
    run that is not part of a round (no ``--full`` or no ``--worker-id``): it refetches
    every asset, whenever it was last synced.
    """
    if not (options.full and options.worker_id):
        return None
    mine = (sorted(options.symbols), options.exchange)
    earliest = now
    for when, text in started:
        try:
            other = json.loads(text)
        except ValueError:
            continue
        if not isinstance(other, dict) or not (other.get("full") and other.get("worker_id")):
            continue
        if (sorted(other.get("symbols") or []), other.get("exchange")) == mine:
            earliest = min(earliest, when)
    return earliest


def full_round_start(store: Store, *, options: SyncOptions, now: dt.datetime) -> dt.datetime | None:
    """:func:`round_start` over the runs started within ``options.lease_ttl`` before ``now``."""
    with store.connection() as conn:
        started = stored.started_since(conn, now - options.lease_ttl)
    return round_start(started, options=options, now=now)


def run_figures(summary: SyncSummary) -> RunFigures:
    """What ``summary`` writes to its ``sync_runs`` row (pure)."""
    message = summary.stop_reason or (
        f"{len(summary.failed)} asset(s) failed" if summary.failed else None
    )
    return RunFigures(
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


def finish_run(store: Store, summary: SyncSummary) -> None:
    """Write the run's figures and final status."""
    if summary.run_id is None:
        return
    figures = run_figures(summary)
    with store.atomic() as conn:
        stored.finish_run(conn, summary.run_id, figures)
