"""The statements of the asset registry (the ``assets`` table's descriptive columns).

Every function takes a connection: the write ones one from :meth:`Store.atomic
<data_nexus.storage.store.Store.atomic>` (so a read, the caller's decision and the write
share one transaction), the read ones any connection. The decisions themselves (which
symbols are new, which disappeared) are made by :mod:`data_nexus.assets`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from data_nexus.models import ASSETS, CORPORATE_ACTIONS, MARKET_DATA

_c = ASSETS.c


@dataclass(frozen=True, slots=True)
class ListingState:
    """What discovery needs to know about one registered asset of an exchange."""

    unlisted_since: dt.date | None
    asset_type: str | None


@dataclass(frozen=True, slots=True)
class ListingChange:
    """One discovery's writes: ``insert`` and ``update`` are ``assets`` rows keyed by
    column name (each with ``symbol``); ``unlisted`` get ``unlisted_since = today``,
    ``relisted`` get it cleared; ``now`` stamps ``created_at``/``updated_at``; ``refused``
    are listed codes that no spelling makes a valid symbol (not written)."""

    now: dt.datetime
    insert: list[dict[str, Any]] = field(default_factory=list)
    update: list[dict[str, Any]] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    relisted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def registered(conn: sa.Connection, symbols: Collection[str]) -> set[str]:
    """Which of ``symbols`` are registered."""
    query = sa.select(_c.symbol).where(_c.symbol.in_(list(symbols)))
    return set(conn.execute(query).scalars())


def insert_assets(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``assets`` rows (column name → value); nothing for an empty list."""
    if rows:
        conn.execute(sa.insert(ASSETS), [dict(r) for r in rows])


def listing_state(conn: sa.Connection, exchange: str) -> dict[str, ListingState]:
    """Every registered asset of ``exchange``: symbol → its :class:`ListingState`."""
    query = sa.select(_c.symbol, _c.unlisted_since, _c.asset_type).where(_c.exchange == exchange)
    return {r.symbol: ListingState(r.unlisted_since, r.asset_type) for r in conn.execute(query)}


def apply_listing(conn: sa.Connection, change: ListingChange) -> None:
    """Write one discovery's :class:`ListingChange` (inserts, refreshes, (un)listings)."""
    insert_assets(conn, [{**row, "created_at": change.now} for row in change.insert])
    if change.update:
        keys = [k for k in change.update[0] if k != "symbol"]
        stmt = (
            sa.update(ASSETS)
            .where(_c.symbol == sa.bindparam("b_symbol"))
            .values({k: sa.bindparam(f"b_{k}") for k in keys})
        )
        conn.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in change.update])
    for symbols, value in ((change.unlisted, change.now.date()), (change.relisted, None)):
        if symbols:
            conn.execute(
                sa.update(ASSETS)
                .where(_c.symbol.in_(symbols))
                .values(unlisted_since=value, updated_at=change.now)
            )


def asset_rows(
    conn: sa.Connection,
    columns: Sequence[str],
    *,
    exchange: str | None = None,
    symbols: Sequence[str] = (),
    active: bool | None = None,
) -> list[dict[str, Any]]:
    """``columns`` of the registered assets in scope, ordered by symbol."""
    query = sa.select(*(_c[name] for name in columns)).order_by(_c.symbol)
    if exchange:
        query = query.where(_c.exchange == exchange)
    if symbols:
        query = query.where(_c.symbol.in_(list(symbols)))
    if active is not None:
        query = query.where(_c.is_active == active)
    return [dict(row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class Activity:
    """Whether an asset is active, and whether a failure backoff is pending."""

    is_active: bool
    next_attempt_at: dt.datetime | None


def activity(conn: sa.Connection, symbols: Collection[str]) -> dict[str, Activity]:
    """The :class:`Activity` of each registered one of ``symbols``."""
    query = sa.select(_c.symbol, _c.is_active, _c.next_attempt_at).where(
        _c.symbol.in_(list(symbols))
    )
    return {r.symbol: Activity(r.is_active, r.next_attempt_at) for r in conn.execute(query)}


def set_active(conn: sa.Connection, symbols: Sequence[str], active: bool, now: dt.datetime) -> None:
    """Pause or resume ``symbols``; resuming also clears the failure backoff."""
    if not symbols:
        return
    values: dict[str, Any] = {"is_active": active, "updated_at": now}
    if active:
        values.update(next_attempt_at=None, fail_count=0)
    conn.execute(sa.update(ASSETS).where(_c.symbol.in_(list(symbols))).values(**values))


def symbol_tables() -> list[sa.Table]:
    """Every table of the models other than ``assets`` with a ``symbol`` column (bars,
    corporate actions, and any later per-symbol table such as findings), dependants first."""
    tables = reversed(ASSETS.metadata.sorted_tables)
    return [t for t in tables if t is not ASSETS and "symbol" in t.c]


_DELETE_CHUNK = 500  # symbols per statement: below SQLite's bound-parameter limit


def delete_assets(conn: sa.Connection, symbols: Sequence[str]) -> dict[str, int]:
    """Delete ``symbols`` from every per-symbol table (:func:`symbol_tables`), then from
    ``assets``; returns table name → rows deleted (``assets`` last). Run it in one
    transaction (:meth:`Store.atomic <data_nexus.storage.store.Store.atomic>`)."""
    counts: dict[str, int] = {}
    for table in [*symbol_tables(), ASSETS]:
        counts[table.name] = 0
        for at in range(0, len(symbols), _DELETE_CHUNK):
            chunk = list(symbols[at : at + _DELETE_CHUNK])
            result = conn.execute(sa.delete(table).where(table.c.symbol.in_(chunk)))
            counts[table.name] += max(result.rowcount, 0)
    return counts


def unconfirmed(
    conn: sa.Connection, symbols: Collection[str], *, owner: str, not_found: Collection[str]
) -> list[str]:
    """Of ``symbols``, those no sync has confirmed, sorted: never synced, not claimed by
    another worker than ``owner`` (locked on PostgreSQL, skipped when another holds them),
    and either never tried (no ``last_error``) or in ``not_found``. Run it in the
    transaction that deletes them."""
    if not symbols:
        return []
    query = (
        sa.select(_c.symbol, _c.last_error)
        .where(_c.symbol.in_(list(symbols)), _c.last_synced.is_(None))
        .where(sa.or_(_c.lease_owner.is_(None), _c.lease_owner == owner))
        .with_for_update(skip_locked=True)
    )
    rows = conn.execute(query).all()
    return sorted(s for s, error in rows if error is None or s in not_found)


def count_assets(conn: sa.Connection) -> int:
    """How many assets are registered."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(ASSETS)).scalar_one())


def newest_bar_date(conn: sa.Connection) -> dt.date | None:
    """The newest ``last_date`` of any asset (``None`` when no asset has a bar): one
    aggregate row from the database, whatever the number of assets (``/health`` asks it on
    every probe). A scan of ``assets``, not of ``market_data``: assets are thousands at
    most, bars millions."""
    value = conn.execute(sa.select(sa.func.max(_c.last_date))).scalar_one()
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def count_rows(conn: sa.Connection) -> tuple[int, int]:
    """How many bars and how many corporate actions are stored (in that order)."""
    bars = conn.execute(sa.select(sa.func.count()).select_from(MARKET_DATA)).scalar_one()
    actions = conn.execute(sa.select(sa.func.count()).select_from(CORPORATE_ACTIONS)).scalar_one()
    return int(bars), int(actions)
