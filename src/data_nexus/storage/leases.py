"""The statements behind sync leases: the sync-state columns of ``assets``.

A lease is ``lease_owner``/``lease_expires_at`` on an asset's row. The rules (who is due,
whose lease may be taken over, the retry schedule) are decided by
:mod:`data_nexus.sync.leases` and :mod:`data_nexus.sync.plan`; the functions here run the
statements, each on a connection from :meth:`Store.atomic
<data_nexus.storage.store.Store.atomic>` (writes) or any connection (reads).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data_nexus.models import ASSETS

_c = ASSETS.c

#: The ``assets`` columns of an asset's sync state (the fields of
#: :class:`data_nexus.sync.plan.AssetState`, a test checks they agree).
STATE_COLUMNS = (
    "symbol",
    "exchange",
    "is_active",
    "is_delisted",
    "last_synced",
    "first_date",
    "last_date",
    "history_from",
    "actions_checked_at",
    "fail_count",
    "next_attempt_at",
    "last_error",
)


@dataclass(frozen=True, slots=True)
class DueRule:
    """Which assets are due at ``now`` (the SQL twin of ``sync.plan.skip_reason``).

    Due = active, and with ``full`` never synced or synced before ``full_since`` (the
    start of the ``--full`` round; ``None``: always); otherwise not in a failure backoff
    (unless ``explicit`` or ``retry_failed``) and never synced, or (when ``explicit``)
    never asked for history as old as ``since`` (a backfill: ``history_from``, else
    ``first_date``, after ``since``), or synced at least ``max_age`` ago and
    not a delisted asset whose history is stored.
    """

    now: dt.datetime
    max_age: dt.timedelta
    full: bool = False
    explicit: bool = False
    retry_failed: bool = False
    since: dt.date | None = None
    full_since: dt.datetime | None = None

    def condition(self) -> sa.ColumnElement[bool]:
        """The rule as a ``WHERE`` condition on ``assets``."""
        conditions: list[sa.ColumnElement[bool]] = [_c.is_active.is_(True)]
        if self.full and self.full_since is not None:
            conditions.append(sa.or_(_c.last_synced.is_(None), _c.last_synced < self.full_since))
        if not self.full:
            if not (self.explicit or self.retry_failed):
                conditions.append(
                    sa.or_(_c.next_attempt_at.is_(None), _c.next_attempt_at <= self.now)
                )
            backfill = (
                sa.func.coalesce(_c.history_from, _c.first_date) > self.since
                if self.explicit and self.since is not None
                else sa.false()
            )
            conditions.append(
                sa.or_(
                    _c.last_synced.is_(None),
                    backfill,
                    sa.and_(
                        sa.not_(sa.and_(_c.is_delisted.is_(True), _c.last_date.is_not(None))),
                        _c.last_synced <= self.now - self.max_age,
                    ),
                )
            )
        return sa.and_(*conditions)


def _scope(query: Any, symbols: Sequence[str] | None, exchange: str | None) -> Any:
    if symbols is not None:
        query = query.where(_c.symbol.in_(list(symbols)))
    if exchange is not None:
        query = query.where(_c.exchange == exchange)
    return query


def _states(conn: sa.Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(query)]


def load_states(
    conn: sa.Connection, *, symbols: Sequence[str] | None = None, exchange: str | None = None
) -> list[dict[str, Any]]:
    """The :data:`STATE_COLUMNS` of every registered asset in scope, ordered by symbol."""
    query = _scope(sa.select(*(_c[col] for col in STATE_COLUMNS)), symbols, exchange)
    return _states(conn, query.order_by(_c.symbol))


def lease_holders(conn: sa.Connection, *, other_than: str, now: dt.datetime) -> list[str]:
    """The owners, other than ``other_than``, of leases still running at ``now``."""
    query = (
        sa.select(_c.lease_owner)
        .where(_c.lease_owner.is_not(None), _c.lease_owner != other_than, _c.lease_expires_at > now)
        .distinct()
    )
    return [str(owner) for owner in conn.execute(query).scalars()]


def held_elsewhere(
    conn: sa.Connection, symbols: Sequence[str], *, owner: str, due: DueRule, now: dt.datetime
) -> dict[str, tuple[str, dt.datetime]]:
    """Of ``symbols``, the due ones another owner leases beyond ``now``: (owner, expiry)."""
    if not symbols:
        return {}
    query = sa.select(_c.symbol, _c.lease_owner, _c.lease_expires_at).where(
        _c.symbol.in_(list(symbols)),
        due.condition(),
        _c.lease_owner.is_not(None),
        _c.lease_owner != owner,
        _c.lease_expires_at > now,
    )
    return {row.symbol: (row.lease_owner, row.lease_expires_at) for row in conn.execute(query)}


def claim(
    conn: sa.Connection,
    *,
    owner: str,
    due: DueRule,
    limit: int,
    lease_ttl: dt.timedelta,
    take_over: Sequence[str] = (),
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
    exclude: Sequence[str] = (),
    skip_locked: bool = False,
    lease_now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Lease up to ``limit`` due assets to ``owner``; their state rows, in claim order.

    Free = no lease, one expired at ``lease_now`` (default ``due.now``), or one held by an
    owner in ``take_over``; the new lease runs ``lease_ttl`` from ``lease_now``.
    Never-synced and stalest assets come first. With ``skip_locked`` (PostgreSQL) candidate
    rows locked by a concurrent claim are skipped, so two workers never claim the same
    asset.
    """
    now = lease_now or due.now
    free = sa.or_(
        _c.lease_owner.is_(None),
        _c.lease_expires_at <= now,
        _c.lease_owner.in_(list(take_over)) if take_over else sa.false(),
    )
    query = _scope(sa.select(_c.symbol).where(due.condition(), free), symbols, exchange)
    if exclude:
        query = query.where(_c.symbol.not_in(list(exclude)))
    query = query.order_by(_c.last_synced.asc().nulls_first(), _c.symbol).limit(limit)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    picked = list(conn.execute(query).scalars())
    if not picked:
        return []
    conn.execute(
        sa.update(ASSETS)
        .where(_c.symbol.in_(picked))
        .values(lease_owner=owner, lease_expires_at=now + lease_ttl)
    )
    rows = _states(
        conn, sa.select(*(_c[col] for col in STATE_COLUMNS)).where(_c.symbol.in_(picked))
    )
    by_symbol = {row["symbol"]: row for row in rows}
    return [by_symbol[s] for s in picked]


def release(conn: sa.Connection, symbols: Sequence[str], *, owner: str) -> None:
    """Clear the leases ``owner`` holds on ``symbols``."""
    if symbols:
        conn.execute(
            sa.update(ASSETS)
            .where(_c.symbol.in_(list(symbols)), _c.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )


def fail_count(conn: sa.Connection, symbol: str, *, owner: str) -> int | None:
    """The asset's failure count, or ``None`` when another owner leases it (or it is unknown)."""
    value = conn.execute(
        sa.select(_c.fail_count).where(
            _c.symbol == symbol, sa.or_(_c.lease_owner == owner, _c.lease_owner.is_(None))
        )
    ).scalar()
    return None if value is None else int(value)


def record_failure(
    conn: sa.Connection,
    symbol: str,
    *,
    message: str,
    fail_count: int,
    retry_at: dt.datetime,
    now: dt.datetime,
) -> None:
    """Store a failure: its message, the new count and the retry time; the lease is cleared."""
    conn.execute(
        sa.update(ASSETS)
        .where(_c.symbol == symbol)
        .values(
            last_error=message,
            fail_count=fail_count,
            next_attempt_at=retry_at,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )
