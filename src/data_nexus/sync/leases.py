"""Who syncs which asset: leases on ``assets`` rows, and the SQLite one-writer lock.

Workers claim due assets in small batches by writing ``lease_owner``/``lease_expires_at``;
on PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so that
concurrent workers never claim the same asset. A lease expires, so a crashed worker's
assets return to the pool; a worker on the same host may also take over leases of a
process that no longer exists (a crash followed by an immediate rerun).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from data_nexus.assets import assets_table, write_transaction
from data_nexus.errors import LeaseConflict
from data_nexus.models import PROVIDER_STATE
from data_nexus.processes import pid_alive
from data_nexus.redact import redact
from data_nexus.storage.store import Store
from data_nexus.sync.plan import AssetState, PlanOptions, backoff_delay

_STATE_COLUMNS = [f for f in AssetState.__dataclass_fields__]
RUN_LOCK_KEY = "sync:run-lock"
LAST_ERROR_MAX = 500


def make_owner(worker_id: str | None = None) -> str:
    """A lease owner id: ``WORKER@HOST:PID`` (the worker id defaults to ``sync``)."""
    return f"{worker_id or 'sync'}@{socket.gethostname()}:{os.getpid()}"


def owner_is_dead(owner: str) -> bool:
    """Whether ``owner`` names a process on this host that no longer runs."""
    _, _, where = owner.rpartition("@")
    host, _, pid = where.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def _state(row: Any) -> AssetState:
    return AssetState(**{c: row._mapping[c] for c in _STATE_COLUMNS})


def _scope(query: Any, symbols: Sequence[str] | None, exchange: str | None) -> Any:
    table = assets_table
    if symbols is not None:
        query = query.where(table.c.symbol.in_(list(symbols)))
    if exchange is not None:
        query = query.where(table.c.exchange == exchange)
    return query


def load_states(
    store: Store, *, symbols: Sequence[str] | None = None, exchange: str | None = None
) -> list[AssetState]:
    """The sync state of every registered asset in scope, ordered by symbol."""
    table = assets_table
    query = _scope(sa.select(*(table.c[c] for c in _STATE_COLUMNS)), symbols, exchange)
    with store.engine.connect() as conn:
        return [_state(r) for r in conn.execute(query.order_by(table.c.symbol))]


def _due_condition(
    now: dt.datetime, options: PlanOptions, explicit: bool
) -> sa.ColumnElement[bool]:
    """SQL twin of :func:`data_nexus.sync.plan.skip_reason` (a test checks they agree)."""
    c = assets_table.c
    conditions: list[sa.ColumnElement[bool]] = [c.is_active.is_(True)]
    if not options.full:
        if not explicit:
            conditions.append(sa.or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))
        conditions.append(
            sa.or_(
                c.last_synced.is_(None),
                sa.and_(
                    sa.not_(sa.and_(c.is_delisted.is_(True), c.last_date.is_not(None))),
                    c.last_synced <= now - options.max_age,
                ),
            )
        )
    return sa.and_(*conditions)


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
) -> list[AssetState]:
    """Lease up to ``limit`` due assets to ``owner``; never-synced and stalest first."""
    table = assets_table
    c = table.c
    with write_transaction(store) as conn:
        holders = conn.execute(
            sa.select(c.lease_owner)
            .where(c.lease_owner.is_not(None), c.lease_owner != owner, c.lease_expires_at > now)
            .distinct()
        ).scalars()
        dead = [h for h in holders if owner_is_dead(h)]
        lease_free = sa.or_(
            c.lease_owner.is_(None),
            c.lease_expires_at <= now,
            c.lease_owner.in_(dead) if dead else sa.false(),
        )
        query = _scope(
            sa.select(c.symbol).where(_due_condition(now, options, explicit), lease_free),
            symbols,
            exchange,
        )
        if exclude:
            query = query.where(c.symbol.not_in(list(exclude)))
        query = query.order_by(c.last_synced.asc().nulls_first(), c.symbol).limit(limit)
        if store.caps.skip_locked:
            query = query.with_for_update(skip_locked=True)
        picked = list(conn.execute(query).scalars())
        if not picked:
            return []
        conn.execute(
            sa.update(table)
            .where(c.symbol.in_(picked))
            .values(lease_owner=owner, lease_expires_at=now + lease_ttl)
        )
        rows = conn.execute(
            sa.select(*(c[col] for col in _STATE_COLUMNS)).where(c.symbol.in_(picked))
        )
        by_symbol = {r.symbol: _state(r) for r in rows}
    return [by_symbol[s] for s in picked]


def release(store: Store, symbols: Sequence[str], *, owner: str) -> None:
    """Give back leases this owner holds (assets claimed but not synced)."""
    if not symbols:
        return
    c = assets_table.c
    with write_transaction(store) as conn:
        conn.execute(
            sa.update(assets_table)
            .where(c.symbol.in_(list(symbols)), c.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )


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
    c = assets_table.c
    text = redact(error, secrets).strip().splitlines()
    message = (text[0] if text else "error")[:LAST_ERROR_MAX]
    with write_transaction(store) as conn:
        fails = conn.execute(
            sa.select(c.fail_count).where(
                c.symbol == symbol, sa.or_(c.lease_owner == owner, c.lease_owner.is_(None))
            )
        ).scalar()
        if fails is None:
            return None
        retry_at = now + backoff_delay(int(fails) + 1)
        conn.execute(
            sa.update(assets_table)
            .where(c.symbol == symbol)
            .values(
                last_error=message,
                fail_count=int(fails) + 1,
                next_attempt_at=retry_at,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
    return retry_at


# --- the SQLite one-writer lock ------------------------------------------------------------

_state_table = PROVIDER_STATE


def acquire_run_lock(store: Store, *, owner: str, now: dt.datetime, ttl: dt.timedelta) -> None:
    """Take the database's sync lock (SQLite allows one writer), or raise :class:`LeaseConflict`.

    A lock whose holder's time ran out, or whose process on this host is gone, is taken over.
    """
    c = _state_table.c
    value = json.dumps(
        {"owner": owner, "since": now.isoformat(), "expires": (now + ttl).isoformat()}
    )
    with write_transaction(store) as conn:
        held = conn.execute(sa.select(c.value).where(c.key == RUN_LOCK_KEY)).scalar()
        if held is not None:
            info = json.loads(held)
            expires = dt.datetime.fromisoformat(info["expires"])
            holder = str(info["owner"])
            if holder != owner and expires > now and not owner_is_dead(holder):
                raise LeaseConflict(
                    f"another datanexus sync ({holder}, since {info['since'][:19]} UTC) is "
                    "writing to this SQLite database, which allows one writer: wait for it to "
                    "finish, or use PostgreSQL to run several workers"
                )
            conn.execute(
                sa.update(_state_table)
                .where(c.key == RUN_LOCK_KEY)
                .values(value=value, updated_at=now)
            )
        else:
            conn.execute(
                sa.insert(_state_table).values(key=RUN_LOCK_KEY, value=value, updated_at=now)
            )


def renew_run_lock(store: Store, *, owner: str, now: dt.datetime, ttl: dt.timedelta) -> None:
    """Push the lock's expiry forward while the run is alive."""
    c = _state_table.c
    with write_transaction(store) as conn:
        held = conn.execute(sa.select(c.value).where(c.key == RUN_LOCK_KEY)).scalar()
        if held is None or json.loads(held)["owner"] != owner:
            return
        info = json.loads(held)
        info["expires"] = (now + ttl).isoformat()
        conn.execute(
            sa.update(_state_table)
            .where(c.key == RUN_LOCK_KEY)
            .values(value=json.dumps(info), updated_at=now)
        )


def release_run_lock(store: Store, *, owner: str) -> None:
    """Drop the lock if we hold it."""
    c = _state_table.c
    with write_transaction(store) as conn:
        held = conn.execute(sa.select(c.value).where(c.key == RUN_LOCK_KEY)).scalar()
        if held is not None and json.loads(held)["owner"] == owner:
            conn.execute(sa.delete(_state_table).where(c.key == RUN_LOCK_KEY))
