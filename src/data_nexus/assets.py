"""The asset registry: add, discover, list, pause and resume assets.

``assets.is_active`` (the original plan's column) decides what a sync covers. Assets are
never deleted by discovery: a symbol that disappears from the provider's list is kept,
with ``unlisted_since`` set, and its history stays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from data_nexus.clock import Clock, utcnow
from data_nexus.config import Settings
from data_nexus.errors import UsageError
from data_nexus.providers.protocol import SymbolListProvider
from data_nexus.records import ExchangeInfo, ListedSymbol
from data_nexus.storage import registry
from data_nexus.storage.registry import Activity, ListingChange, ListingState
from data_nexus.storage.store import Store
from data_nexus.symbols import (
    canonical_code,
    is_valid_code,
    parse_exchange,
    parse_listing_type,
    parse_symbols,
)

if TYPE_CHECKING:
    import httpx  # only for a type: the client loads httpx when discover runs


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
    names = [str(s) for s in parsed]
    with opened(target) as store, store.atomic() as conn:
        known = registry.registered(conn, names)
        new = [s for s in parsed if str(s) not in known]
        registry.insert_assets(
            conn,
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
    refused: tuple[str, ...] = ()


def canonical_listing(
    listed: Sequence[ListedSymbol],
) -> tuple[list[ListedSymbol], list[str]]:
    """A symbol list with every code in its canonical spelling, each symbol once (pure).

    Codes written with a dot, slash or space before a share class, in lower case or with
    an index caret are respelled (:func:`~data_nexus.symbols.canonical_code`: ``BRK.B`` →
    ``BRK-B``, ``brk-a`` → ``BRK-A``). When two rows spell the same symbol, the row already
    written canonically wins, else the first. Returns the records (in input order) and the
    codes no spelling makes valid (refused, as listed).
    """
    chosen: dict[str, tuple[bool, ListedSymbol]] = {}
    refused: list[str] = []
    for item in listed:
        code = canonical_code(item.code)
        if not is_valid_code(code):
            refused.append(item.code)
            continue
        as_is = code == item.code
        record = item if as_is else replace(item, code=code)
        known = chosen.get(record.symbol)
        if known is None or (as_is and not known[0]):
            chosen[record.symbol] = (as_is, record)
    return [record for _, record in chosen.values()], refused


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


def plan_listing(
    existing: Mapping[str, ListingState],
    listed: Sequence[ListedSymbol],
    *,
    delisted: Sequence[ListedSymbol] = (),
    asset_type: str | None = None,
    now: dt.datetime,
) -> ListingChange:
    """The registry writes that merge a symbol list into ``existing`` (pure).

    ``existing`` is the exchange's registered assets. Symbols not registered are inserted,
    registered ones refreshed; registered assets missing from ``listed`` and ``delisted``
    are marked unlisted (only those of ``asset_type`` when the list was filtered by it),
    and unlisted ones that reappear in ``listed`` are unmarked. Codes are first put in
    their canonical spelling (:func:`canonical_listing`), so a ticker listed as ``BRK.B`` or
    ``brk-b`` is registered once, as ``BRK-B``; codes that cannot be are ``refused``.
    """
    listed, refused = canonical_listing(listed)
    delisted, refused_delisted = canonical_listing(delisted)
    rows = {item.symbol: _listed_row(item, now) for item in listed}
    for item in delisted:
        rows.setdefault(item.symbol, _listed_row(item, now))["is_delisted"] = True
    wanted = None if asset_type is None else asset_type.lower()
    active_listed = {item.symbol for item in listed}
    return ListingChange(
        now=now,
        insert=[row for sym, row in rows.items() if sym not in existing],
        update=[row for sym, row in rows.items() if sym in existing],
        unlisted=[
            s
            for s, r in existing.items()
            if s not in rows
            and r.unlisted_since is None
            and (wanted is None or (r.asset_type or "").lower() == wanted)
        ],
        relisted=[s for s, r in existing.items() if s in active_listed and r.unlisted_since],
        refused=refused + refused_delisted,
    )


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
    The decision is :func:`plan_listing`; it is written in one transaction.
    """
    exchange = parse_exchange(exchange)
    now = clock()
    with opened(target) as store, store.atomic() as conn:
        existing = registry.listing_state(conn, exchange)
        change = plan_listing(existing, listed, delisted=delisted, asset_type=asset_type, now=now)
        registry.apply_listing(conn, change)
    return DiscoverResult(
        exchange=exchange,
        listed=len(listed),
        added=len(change.insert),
        updated=len(change.update),
        unlisted=len(change.unlisted),
        relisted=len(change.relisted),
        delisted=len(delisted),
        refused=tuple(change.refused),
    )


def list_assets(
    target: Settings | Store,
    *,
    exchange: str | None = None,
    symbols: Sequence[str] = (),
    active: bool | None = None,
) -> list[AssetInfo]:
    """Registered assets with their sync state, ordered by symbol."""
    ex = parse_exchange(exchange) if exchange is not None else None  # '' is refused
    names = [str(s) for s in parse_symbols(list(symbols))] if symbols else []
    with opened(target) as store, store.connection() as conn:
        rows = registry.asset_rows(
            conn, list(AssetInfo.__dataclass_fields__), exchange=ex, symbols=names, active=active
        )
    return [AssetInfo(**row) for row in rows]


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
    with opened(target) as store, store.atomic() as conn:
        changed = activity_changes(registry.activity(conn, names), names, active)
        registry.set_active(conn, changed, active, clock())
    return changed


def activity_changes(
    current: Mapping[str, Activity], names: Sequence[str], active: bool
) -> list[str]:
    """Which of ``names`` pausing (``active=False``) or resuming changes (pure).

    Resuming changes an active asset too when it is in a failure backoff. A name missing
    from ``current`` raises :class:`UsageError` naming every such one.
    """
    unknown = [n for n in names if n not in current]
    if unknown:
        raise UsageError(
            f"unknown asset(s): {', '.join(unknown)} (add them with 'datanexus assets add')"
        )
    return [
        n
        for n in names
        if current[n].is_active != active or (active and current[n].next_attempt_at is not None)
    ]


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


def remove_assets(target: Settings | Store, symbols: Sequence[str]) -> dict[str, int]:
    """Delete assets and everything stored for them, in one transaction.

    Removes the rows of ``symbols`` from every per-symbol table (bars, corporate actions,
    and any other table with a ``symbol`` column) and then the assets themselves; returns
    table name → rows deleted (``assets`` last). Unknown symbols raise :class:`UsageError`
    naming them, and nothing is deleted. Unlike pausing, this cannot be undone except by
    syncing the history again.
    """
    names = list(dict.fromkeys(str(s) for s in parse_symbols(list(symbols))))
    if not names:
        raise UsageError("no symbols given")
    with opened(target) as store, store.atomic() as conn:
        known = registry.registered(conn, names)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UsageError(f"unknown asset(s): {', '.join(unknown)}")
        return registry.delete_assets(conn, names)


#: How to list the exchange codes the provider knows (said by every unknown-exchange line).
LIST_EXCHANGES_HINT = "'datanexus assets exchanges' lists the provider's exchange codes"


def no_listing_message(exchange: str) -> str:
    """The one line for an exchange the provider lists no symbols on."""
    return (
        f"the provider lists no symbols on exchange {exchange!r}: check the code "
        f"({LIST_EXCHANGES_HINT})"
    )


def list_exchanges(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[ExchangeInfo]:
    """The exchanges the provider covers, sorted by code (``datanexus assets exchanges``;
    1 API call). Raises :class:`~data_nexus.errors.ConfigError` without a token and
    :class:`~data_nexus.errors.ProviderError` when the provider refuses."""
    from data_nexus.providers.eodhd.factory import make_client  # noqa: PLC0415 - light imports

    async def main() -> list[ExchangeInfo]:
        async with make_client(settings, transport=transport) as client:
            return list((await client.exchanges()).records)

    return sorted(asyncio.run(main()), key=lambda e: e.code)


def drop_unconfirmed(
    store: Store, symbols: Sequence[str], *, owner: str, not_found: Sequence[str] = ()
) -> list[str]:
    """Take back the registration of ``symbols`` (registered by a sync run) that the
    provider never confirmed: never synced, and either answered "not found" (``not_found``)
    or never tried because the run stopped first (interrupted, or stopped by an
    authentication or quota error). One transaction; returns the symbols removed.

    Symbols that failed otherwise keep their registration and their error (``status``
    shows it); ones another worker holds are left to it.
    """
    if not symbols:
        return []
    with store.atomic() as conn:
        names = registry.unconfirmed(conn, symbols, owner=owner, not_found=not_found)
        if names:
            registry.delete_assets(conn, names)
    return names


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
    if not listed.records and asset_type is None:
        # nothing applied: an empty answer must not mark a whole exchange unlisted
        raise UsageError(no_listing_message(exchange))
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
    from data_nexus.providers.eodhd.factory import make_client  # noqa: PLC0415 - light imports

    async def main() -> DiscoverResult:
        async with make_client(settings, transport=transport) as client:
            return await adiscover_assets(
                settings,
                client,
                exchange,
                asset_type=asset_type,
                include_delisted=include_delisted,
                clock=clock,
            )

    return asyncio.run(main())
