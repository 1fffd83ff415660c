"""Discovery: merge an exchange's symbol list from the provider into the asset registry.

The provider's side (:func:`discover_assets`, :func:`list_exchanges`: the API calls), the
pure plan of what a list changes (:func:`canonical_listing`, :func:`plan_listing`) and its
write in one transaction (:func:`register_listing`). Assets are never deleted by
discovery: a symbol that disappears from the provider's list is kept, with
``unlisted_since`` set, and its history stays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from data_nexus.clock import Clock, utcnow
from data_nexus.config import Settings
from data_nexus.errors import UsageError
from data_nexus.providers.protocol import SymbolListProvider
from data_nexus.records import ExchangeInfo, ListedSymbol
from data_nexus.storage import registry
from data_nexus.storage.registry import ListingChange, ListingState
from data_nexus.storage.store import Store
from data_nexus.symbols import canonical_code, is_valid_code, parse_exchange, parse_listing_type
from data_nexus.targets import opened

if TYPE_CHECKING:
    import httpx  # only for a type: the client loads httpx when discover runs


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
