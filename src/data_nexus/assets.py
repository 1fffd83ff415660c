"""The asset registry: add, discover, list, pause and resume assets.

``assets.is_active`` (the original plan's column) decides what a sync covers. Assets are
never deleted by discovery: a symbol that disappears from the provider's list is kept,
with ``unlisted_since`` set, and its history stays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx
import sqlalchemy as sa

from data_nexus.clock import Clock, utcnow
from data_nexus.config import Settings
from data_nexus.errors import UsageError
from data_nexus.models import ASSETS
from data_nexus.records import ListedSymbol, Parsed
from data_nexus.storage.engine import SQLITE_IMMEDIATE
from data_nexus.storage.store import Store
from data_nexus.symbols import parse_exchange, parse_listing_type, parse_symbols

assets_table = ASSETS


class SymbolListProvider(Protocol):
    """The provider call discovery needs (the EODHD client has it)."""

    async def symbol_list(
        self, exchange: str, *, asset_type: str | None = None, delisted: bool = False
    ) -> Parsed[ListedSymbol]: ...


@contextmanager
def opened(target: Settings | Store) -> Iterator[Store]:
    """Use an open :class:`Store`, or open (and later close) one for ``settings``."""
    if isinstance(target, Store):
        yield target
        return
    store = Store.open(target)
    try:
        yield store
    finally:
        store.close()


def write_transaction(store: Store) -> Any:
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
    return store.engine.execution_options(**{SQLITE_IMMEDIATE: True}).begin()


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """One row of ``datanexus assets list``."""

    symbol: str
    exchange: str
    name: str | None
    asset_type: str | None
    currency: str | None
    isin: str | None
    is_active: bool
    is_delisted: bool
    unlisted_since: dt.date | None
    last_synced: dt.datetime | None
    first_date: dt.date | None
    last_date: dt.date | None
    fail_count: int
    next_attempt_at: dt.datetime | None
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (dates as ISO text)."""
        return {
            k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
            for k, v in asdict(self).items()
        }


@dataclass(frozen=True, slots=True)
class AddResult:
    """Which symbols were new and which were registered already."""

    added: list[str]
    existing: list[str]


def add_assets(
    target: Settings | Store, symbols: Sequence[str], *, clock: Clock = utcnow
) -> AddResult:
    """Register ``symbols`` (``CODE.EXCHANGE``) as active assets; known ones stay as they are."""
    parsed = parse_symbols(list(symbols))
    if not parsed:
        raise UsageError("no symbols given")
    now = clock()
    with opened(target) as store, write_transaction(store) as conn:
        names = [str(s) for s in parsed]
        known = set(
            conn.execute(
                sa.select(assets_table.c.symbol).where(assets_table.c.symbol.in_(names))
            ).scalars()
        )
        new = [s for s in parsed if str(s) not in known]
        if new:
            conn.execute(
                sa.insert(assets_table),
                [
                    {
                        "symbol": str(s),
                        "code": s.code,
                        "exchange": s.exchange,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for s in new
                ],
            )
    return AddResult(added=[str(s) for s in new], existing=[n for n in names if n in known])


@dataclass(frozen=True, slots=True)
class DiscoverResult:
    """What a discovery changed in the registry."""

    exchange: str
    listed: int
    added: int
    updated: int
    unlisted: int
    relisted: int
    delisted: int


def _listed_row(item: ListedSymbol, now: dt.datetime) -> dict[str, Any]:
    return {
        "symbol": item.symbol,
        "code": item.code,
        "exchange": item.exchange,
        "name": (item.name or None) and item.name[:256],
        "asset_type": (item.asset_type or None) and item.asset_type[:32],
        "currency": (item.currency or None) and item.currency[:8],
        "isin": (item.isin or None) and item.isin[:12],
        "country": (item.country or None) and item.country[:64],
        "venue": (item.venue or None) and item.venue[:32],
        "is_delisted": item.delisted,
        "updated_at": now,
    }


def register_listing(
    target: Settings | Store,
    exchange: str,
    listed: Sequence[ListedSymbol],
    *,
    delisted: Sequence[ListedSymbol] = (),
    asset_type: str | None = None,
    clock: Clock = utcnow,
) -> DiscoverResult:
    """Merge an exchange's symbol list into the registry (the write half of discovery).

    New symbols are added as active assets with their name, type, currency and ISIN;
    known ones get those fields refreshed. Registered assets of ``exchange`` missing from
    ``listed`` are kept and marked ``unlisted_since`` (never deleted); ones that reappear
    are unmarked. ``delisted`` (the provider's delisted list) marks assets ``is_delisted``.
    When the list was filtered by ``asset_type``, only assets of that type can be marked.
    """
    exchange = parse_exchange(exchange)
    now = clock()
    today = now.date()
    rows = {item.symbol: _listed_row(item, now) for item in listed}
    for item in delisted:
        rows.setdefault(item.symbol, _listed_row(item, now))["is_delisted"] = True
    table = assets_table
    with opened(target) as store, write_transaction(store) as conn:
        existing = {
            r.symbol: r
            for r in conn.execute(
                sa.select(table.c.symbol, table.c.unlisted_since, table.c.asset_type).where(
                    table.c.exchange == exchange
                )
            )
        }
        new = [row for sym, row in rows.items() if sym not in existing]
        if new:
            conn.execute(sa.insert(table), [{**row, "created_at": now} for row in new])
        known = [row for sym, row in rows.items() if sym in existing]
        if known:
            keys = [k for k in known[0] if k != "symbol"]
            stmt = (
                sa.update(table)
                .where(table.c.symbol == sa.bindparam("b_symbol"))
                .values({k: sa.bindparam(f"b_{k}") for k in keys})
            )
            conn.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in known])
        active_listed = {item.symbol for item in listed}
        wanted = None if asset_type is None else asset_type.lower()
        gone = [
            s
            for s, r in existing.items()
            if s not in rows
            and r.unlisted_since is None
            and (wanted is None or (r.asset_type or "").lower() == wanted)
        ]
        back = [s for s, r in existing.items() if s in active_listed and r.unlisted_since]
        for symbols, value in ((gone, today), (back, None)):
            if symbols:
                conn.execute(
                    sa.update(table)
                    .where(table.c.symbol.in_(symbols))
                    .values(unlisted_since=value, updated_at=now)
                )
    return DiscoverResult(
        exchange=exchange,
        listed=len(listed),
        added=len(new),
        updated=len(known),
        unlisted=len(gone),
        relisted=len(back),
        delisted=len(delisted),
    )


def list_assets(
    target: Settings | Store,
    *,
    exchange: str | None = None,
    symbols: Sequence[str] = (),
    active: bool | None = None,
) -> list[AssetInfo]:
    """Registered assets with their sync state, ordered by symbol."""
    table = assets_table
    query = sa.select(*(table.c[f] for f in AssetInfo.__dataclass_fields__)).order_by(
        table.c.symbol
    )
    if exchange:
        query = query.where(table.c.exchange == parse_exchange(exchange))
    if symbols:
        query = query.where(table.c.symbol.in_([str(s) for s in parse_symbols(list(symbols))]))
    if active is not None:
        query = query.where(table.c.is_active == active)
    with opened(target) as store, store.engine.connect() as conn:
        return [AssetInfo(**row._mapping) for row in conn.execute(query)]


def set_active(
    target: Settings | Store, symbols: Sequence[str], active: bool, *, clock: Clock = utcnow
) -> list[str]:
    """Pause (``active=False``) or resume assets; returns the symbols whose state changed.

    Resuming also clears a failure backoff, so the next sync tries the asset at once.
    Unknown symbols raise :class:`UsageError` naming them, and nothing changes.
    """
    names = [str(s) for s in parse_symbols(list(symbols))]
    if not names:
        raise UsageError("no symbols given")
    table = assets_table
    with opened(target) as store, write_transaction(store) as conn:
        rows = {
            r.symbol: r
            for r in conn.execute(
                sa.select(table.c.symbol, table.c.is_active, table.c.next_attempt_at).where(
                    table.c.symbol.in_(names)
                )
            )
        }
        unknown = [n for n in names if n not in rows]
        if unknown:
            raise UsageError(
                f"unknown asset(s): {', '.join(unknown)} (add them with 'datanexus assets add')"
            )
        changed = [
            n
            for n in names
            if rows[n].is_active != active or (active and rows[n].next_attempt_at is not None)
        ]
        if changed:
            values: dict[str, Any] = {"is_active": active, "updated_at": clock()}
            if active:
                values.update(next_attempt_at=None, fail_count=0)
            conn.execute(sa.update(table).where(table.c.symbol.in_(changed)).values(**values))
    return changed


def pause_assets(
    target: Settings | Store, symbols: Sequence[str], *, clock: Clock = utcnow
) -> list[str]:
    """Exclude assets from syncs (``is_active = false``); their data stays."""
    return set_active(target, symbols, False, clock=clock)


def resume_assets(
    target: Settings | Store, symbols: Sequence[str], *, clock: Clock = utcnow
) -> list[str]:
    """Include paused assets in syncs again (and clear any failure backoff)."""
    return set_active(target, symbols, True, clock=clock)


async def adiscover_assets(
    target: Settings | Store,
    provider: SymbolListProvider,
    exchange: str,
    *,
    asset_type: str | None = None,
    include_delisted: bool = False,
    clock: Clock = utcnow,
) -> DiscoverResult:
    """Fetch ``exchange``'s symbol list (and its delisted list) and merge it into the registry."""
    exchange = parse_exchange(exchange)
    asset_type = parse_listing_type(asset_type) if asset_type is not None else None
    listed = await provider.symbol_list(exchange, asset_type=asset_type)
    delisted = (
        (await provider.symbol_list(exchange, asset_type=asset_type, delisted=True)).records
        if include_delisted
        else []
    )
    active = [item for item in listed.records if not item.delisted]
    return await asyncio.to_thread(
        lambda: register_listing(
            target, exchange, active, delisted=delisted, asset_type=asset_type, clock=clock
        )
    )


def discover_assets(
    settings: Settings,
    exchange: str,
    *,
    asset_type: str | None = None,
    include_delisted: bool = False,
    clock: Clock = utcnow,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DiscoverResult:
    """Register the symbols an exchange lists at the provider (``datanexus assets discover``).

    Name, type, currency and ISIN are kept; assets that disappeared from the list are kept
    and marked ``unlisted_since``, never deleted.
    """
    from data_nexus.providers.eodhd import EodhdClient  # noqa: PLC0415 - keeps imports light

    async def main() -> DiscoverResult:
        async with EodhdClient(
            settings.token,
            base_url=settings.eodhd_base_url,
            transport=transport,
            rate_limit=settings.eodhd_rate_limit,
        ) as client:
            return await adiscover_assets(
                settings,
                client,
                exchange,
                asset_type=asset_type,
                include_delisted=include_delisted,
                clock=clock,
            )

    return asyncio.run(main())
