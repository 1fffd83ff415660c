"""The asset registry: add, list, pause, resume and remove assets.

``assets.is_active`` (the original plan's column) decides what a sync covers. Filling the
registry from a provider's symbol list is :mod:`data_nexus.discovery`; the names of it
that the CLI and tests import from here are re-exported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from data_nexus.clock import Clock, utcnow
from data_nexus.config import Settings
from data_nexus.discovery import (
    canonical_listing,
    discover_assets,
    list_exchanges,
    plan_listing,
    register_listing,
)
from data_nexus.errors import UsageError
from data_nexus.storage import registry
from data_nexus.storage.registry import Activity
from data_nexus.storage.store import Store
from data_nexus.symbols import parse_exchange, parse_symbols
from data_nexus.targets import opened

__all__ = [  # the registry functions, and discovery's names the CLI and tests import from here
    "AddResult",
    "AssetInfo",
    "activity_changes",
    "add_assets",
    "canonical_listing",
    "discover_assets",
    "drop_unconfirmed",
    "list_assets",
    "list_exchanges",
    "pause_assets",
    "plan_listing",
    "register_listing",
    "remove_assets",
    "resume_assets",
    "set_active",
]


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
