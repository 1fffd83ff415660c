"""Who syncs which asset: leases on ``assets`` rows, and the SQLite one-writer lock.

Workers claim due assets in small batches by writing ``lease_owner``/``lease_expires_at``;
on PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so that
concurrent workers never claim the same asset. A lease expires, so a crashed worker's
assets return to the pool; a worker on the same host may also take over leases of a
process that no longer exists (a crash followed by an immediate rerun).

The rules live here (pure functions); the statements in :mod:`data_nexus.storage.leases`
and :mod:`data_nexus.storage.provider_state`.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Sequence
from typing import Any

from data_nexus.errors import LeaseConflict
from data_nexus.processes import pid_alive
from data_nexus.redact import redact
from data_nexus.storage import leases as stored
from data_nexus.storage import provider_state
from data_nexus.storage.leases import DueRule
from data_nexus.storage.provider_state import RunLock
from data_nexus.storage.store import Store
from data_nexus.sync.plan import AssetState, PlanOptions, backoff_delay

LAST_ERROR_MAX = 500


def make_owner(worker_id: str | None = None) -> str:
    """A lease owner id: ``WORKER@HOST:PID`` (the worker id defaults to ``sync``)."""
    return f"{worker_id or 'sync'}@{socket.gethostname()}:{os.getpid()}"


def owner_is_dead(owner: str) -> bool:
    """Whether ``owner`` names a process on this host that no longer runs."""
    _, _, where = owner.rpartition("@")
    host, _, pid = where.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def _state(row: dict[str, Any]) -> AssetState:
    return AssetState(**row)


def due_rule(now: dt.datetime, options: PlanOptions, explicit: bool) -> DueRule:
    """The storage twin of :func:`data_nexus.sync.plan.skip_reason` (a test checks they agree)."""
    return DueRule(
        now=now,
        max_age=options.max_age,
        full=options.full,
        explicit=explicit,
        retry_failed=options.retry_failed,
        since=options.since,
        full_since=options.full_since,
    )


def load_states(
    store: Store, *, symbols: Sequence[str] | None = None, exchange: str | None = None
) -> list[AssetState]:
    """The sync state of every registered asset in scope, ordered by symbol."""
    with store.connection() as conn:
        rows = stored.load_states(conn, symbols=symbols, exchange=exchange)
    return [_state(r) for r in rows]


def claim_due(
    store: Store,
    *,
    owner: str,
    now: dt.datetime,
    options: PlanOptions,
    limit: int,
    lease_ttl: dt.timedelta,
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
    explicit: bool = False,
    exclude: Sequence[str] = (),
    lease_now: dt.datetime | None = None,
) -> list[AssetState]:
    """Lease up to ``limit`` due assets to ``owner``; never-synced and stalest first.

    ``now`` decides what is due; leases are compared with ``lease_now`` (default ``now``):
    a run keeps its start as ``now`` and passes the current time here. Leases of processes
    on this host that no longer exist are taken over.
    """
    with store.atomic() as conn:
        holders = stored.lease_holders(conn, other_than=owner, now=lease_now or now)
        rows = stored.claim(
            conn,
            owner=owner,
            due=due_rule(now, options, explicit),
            limit=limit,
            lease_ttl=lease_ttl,
            take_over=[h for h in holders if owner_is_dead(h)],
            symbols=symbols,
            exchange=exchange,
            exclude=exclude,
            skip_locked=store.caps.skip_locked,
            lease_now=lease_now,
        )
    return [_state(r) for r in rows]


def held_elsewhere(
    store: Store,
    symbols: Sequence[str],
    *,
    owner: str,
    now: dt.datetime,
    lease_now: dt.datetime,
    options: PlanOptions,
    explicit: bool = False,
) -> dict[str, dt.datetime]:
    """Of ``symbols``, those due at ``now`` held by another owner's lease at ``lease_now``.

    Maps each to its lease's expiry. A process gone from this host holds no lease.
    """
    with store.connection() as conn:
        held = stored.held_elsewhere(
            conn, symbols, owner=owner, due=due_rule(now, options, explicit), now=lease_now
        )
    return {s: until for s, (holder, until) in held.items() if not owner_is_dead(holder)}


def release(store: Store, symbols: Sequence[str], *, owner: str) -> None:
    """Give back leases this owner holds (assets claimed but not synced)."""
    if not symbols:
        return
    with store.atomic() as conn:
        stored.release(conn, symbols, owner=owner)


def failure_message(error: str, secrets: Sequence[str] = ()) -> str:
    """The ``last_error`` stored for ``error``: redacted, its first line, at most 500 chars."""
    text = redact(error, secrets).strip().splitlines()
    return (text[0] if text else "error")[:LAST_ERROR_MAX]


def record_failure(
    store: Store,
    symbol: str,
    *,
    owner: str,
    error: str,
    now: dt.datetime,
    secrets: Sequence[str] = (),
) -> dt.datetime | None:
    """Store a redacted ``last_error``, count the failure and schedule the retry.

    Returns the time of the next attempt; ``None`` if another worker holds the asset now.
    The asset's bars, actions and coverage are not touched.
    """
    message = failure_message(error, secrets)
    with store.atomic() as conn:
        fails = stored.fail_count(conn, symbol, owner=owner)
        if fails is None:
            return None
        retry_at = now + backoff_delay(fails + 1)
        stored.record_failure(
            conn, symbol, message=message, fail_count=fails + 1, retry_at=retry_at, now=now
        )
    return retry_at


# --- the SQLite one-writer lock ------------------------------------------------------------


def lock_refusal(held: RunLock | None, *, owner: str, now: dt.datetime) -> str | None:
    """Why ``owner`` may not take the lock ``held`` at ``now`` (pure); ``None``: it may.

    A lock of the same owner, whose time ran out, or whose process on this host is gone
    may be taken over.
    """
    if held is None or held.owner == owner or held.expires <= now or owner_is_dead(held.owner):
        return None
    return (
        f"another datanexus sync ({held.owner}, since {held.since.isoformat()[:19]} UTC) is "
        "writing to this SQLite database, which allows one writer: wait for it to "
        "finish, or use PostgreSQL to run several workers"
    )


def acquire_run_lock(store: Store, *, owner: str, now: dt.datetime, ttl: dt.timedelta) -> None:
    """Take the database's sync lock (SQLite allows one writer), or raise :class:`LeaseConflict`.

    A lock whose holder's time ran out, or whose process on this host is gone, is taken over.
    """
    with store.atomic() as conn:
        refusal = lock_refusal(provider_state.run_lock(conn), owner=owner, now=now)
        if refusal is not None:
            raise LeaseConflict(refusal)
        provider_state.set_run_lock(conn, RunLock(owner, now, now + ttl), now)


def renew_run_lock(store: Store, *, owner: str, now: dt.datetime, ttl: dt.timedelta) -> None:
    """Push the lock's expiry forward while the run is alive."""
    with store.atomic() as conn:
        held = provider_state.run_lock(conn)
        if held is None or held.owner != owner:
            return
        provider_state.set_run_lock(conn, RunLock(owner, held.since, now + ttl), now)


def release_run_lock(store: Store, *, owner: str) -> None:
    """Drop the lock if we hold it."""
    with store.atomic() as conn:
        held = provider_state.run_lock(conn)
        if held is not None and held.owner == owner:
            provider_state.drop_run_lock(conn)
