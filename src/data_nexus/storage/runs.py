"""The statements of the ``sync_runs`` table (one row per sync run with its figures).

The decisions (which rows were abandoned, the final status and message) are made by
:mod:`data_nexus.sync.runs`; writes take a connection from :meth:`Store.atomic
<data_nexus.storage.store.Store.atomic>`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from data_nexus.models import ASSETS, SYNC_RUNS

_c = SYNC_RUNS.c


def workers_with_status(conn: sa.Connection, status: str) -> list[tuple[int, str | None]]:
    """``(id, worker_id)`` of every run whose status is ``status``."""
    query = sa.select(_c.id, _c.worker_id).where(_c.status == status)
    return [(int(r.id), r.worker_id) for r in conn.execute(query)]


def abandoned_window_figures(
    conn: sa.Connection, run_id: int, end: dt.datetime
) -> tuple[dt.datetime, bool, int]:
    """For a run that ended without finishing its row, detected at ``end``: its start,
    whether another run's span overlapped ``[start, end]`` (then the assets' sync times
    cannot tell the two apart), and how many assets have ``last_synced`` in that window."""
    start = conn.execute(sa.select(_c.started_at).where(_c.id == run_id)).scalar_one()
    others = sa.select(sa.func.count()).where(
        _c.id != run_id,
        _c.started_at <= end,
        sa.or_(_c.finished_at.is_(None), _c.finished_at > start),
    )
    overlapped = bool(conn.execute(others).scalar_one())
    synced = sa.select(sa.func.count()).where(
        ASSETS.c.last_synced >= start, ASSETS.c.last_synced <= end
    )
    return start, overlapped, int(conn.execute(synced).scalar_one())


def set_abandoned(
    conn: sa.Connection, run_id: int, *, found_at: dt.datetime, assets_synced: int, message: str
) -> None:
    """Close a run that ended without finishing its row: status ``abandoned``, the assets
    it is known to have committed, and why. Its ``finished_at`` is ``found_at``, when it was
    found dead: the latest it can have ended (so later runs' windows do not overlap it)."""
    conn.execute(
        sa.update(SYNC_RUNS)
        .where(_c.id == run_id)
        .values(
            status="abandoned", finished_at=found_at, assets_synced=assets_synced, message=message
        )
    )


def started_since(conn: sa.Connection, since: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """``(started_at, options JSON)`` of every run started at or after ``since``."""
    query = sa.select(_c.started_at, _c.options).where(_c.started_at >= since)
    return [(r.started_at, r.options or "{}") for r in conn.execute(query)]


def insert_run(
    conn: sa.Connection, *, started_at: dt.datetime, worker: str, status: str, options: str
) -> int:
    """Insert a run's row (``options`` as JSON text); returns its id."""
    result = conn.execute(
        sa.insert(SYNC_RUNS)
        .values(started_at=started_at, worker_id=worker, status=status, options=options)
        .returning(_c.id)
    )
    return int(result.scalar_one())


@dataclass(frozen=True, slots=True)
class RunFigures:
    """What a finished run writes to its row (the ``sync_runs`` column of each field)."""

    finished_at: dt.datetime | None
    status: str
    assets_planned: int
    assets_synced: int
    assets_skipped: int
    assets_failed: int
    rows_written: int
    rows_revised: int
    calls_spent: int
    bulk_used: bool
    message: str | None


def finish_run(conn: sa.Connection, run_id: int, figures: RunFigures) -> None:
    """Write a finished run's :class:`RunFigures`."""
    conn.execute(sa.update(SYNC_RUNS).where(_c.id == run_id).values(**asdict(figures)))
