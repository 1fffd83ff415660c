"""Updating a whole exchange through EODHD's bulk endpoint.

One bulk day costs three requests (prices, splits, dividends; 100 calls each) instead of
one request per asset. Assets with a split or dividend in those days get a per-symbol full
refresh afterwards, so their adjusted history is never stale. A plan without the bulk
endpoint (HTTP 403/404) is remembered for a day in ``provider_state`` and the exchange is
synced symbol by symbol.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from data_nexus.errors import LeaseConflict, NotFound, NotInPlan, ProviderError
from data_nexus.exchanges import exchange_today
from data_nexus.providers.protocol import BulkProvider
from data_nexus.records import Bar, Dividend, Finding, Split
from data_nexus.storage import provider_state
from data_nexus.storage.store import AssetUpdate, Store
from data_nexus.sync.bulk_plan import BulkPlan
from data_nexus.sync.events import AssetSynced, BulkRefused, BulkUsed, Notice
from data_nexus.sync.leases import failure_message
from data_nexus.sync.modes import FetchMode
from data_nexus.sync.pipeline import RunContext, StopRun, fail_asset, synced_state
from data_nexus.sync.plan import AssetState

RECHECK_AFTER = dt.timedelta(days=1)


def bulk_known_unavailable(store: Store, exchange: str, now: dt.datetime) -> bool:
    """Whether the plan answered 403/404 to bulk for ``exchange`` less than a day ago."""
    with store.connection() as conn:
        refused = provider_state.bulk_refused_at(conn, exchange)
    return refused is not None and now - refused < RECHECK_AFTER


def remember_bulk(store: Store, exchange: str, available: bool, now: dt.datetime) -> None:
    """Record the bulk endpoint's availability for ``exchange`` (shared by all workers)."""
    with store.atomic() as conn:
        provider_state.set_bulk_refused(conn, exchange, not available, now)


async def _fetch_days(
    provider: BulkProvider, exchange: str, days: Sequence[dt.date]
) -> tuple[list[Bar], list[Split | Dividend], list[str], list[Finding]]:
    bars: list[Bar] = []
    actions: list[Split | Dividend] = []
    warnings: list[str] = []
    findings: list[Finding] = []
    for day in days:
        # Prices first: on a plan without bulk, one refused request (not three) tells us.
        prices = await provider.bulk_eod(exchange, day=day)
        splits, dividends = await asyncio.gather(
            provider.bulk_splits(exchange, day=day),
            provider.bulk_dividends(exchange, day=day),
        )
        bars += prices.records
        actions += [*splits.records, *dividends.records]
        warnings += [*prices.warnings, *splits.warnings, *dividends.warnings]
        findings += [*prices.findings, *splits.findings, *dividends.findings]
    return bars, actions, warnings, findings


async def run_bulk(
    bulk: BulkPlan, states: dict[str, AssetState], ctx: RunContext, provider: BulkProvider
) -> tuple[list[str], list[str]] | None:
    """Update ``states`` (already leased) from bulk requests for ``bulk.days``.

    Returns ``(synced, refetch)``: assets written from the bulk data, and assets with a
    corporate action in those days that need a per-symbol full refresh. Returns ``None``
    when bulk is not available (or failed), in which case nothing was written and every
    asset should be synced per symbol.
    """
    try:
        bars, actions, warnings, findings = await _fetch_days(provider, bulk.exchange, bulk.days)
    except (NotInPlan, NotFound) as error:
        await asyncio.to_thread(remember_bulk, ctx.store, bulk.exchange, False, ctx.clock())
        ctx.emit(BulkRefused(bulk.exchange, str(error).splitlines()[0]))
        return None
    except ProviderError as error:
        if error.stops_run:
            raise StopRun(error) from None
        ctx.emit(Notice(None, f"bulk {bulk.exchange} failed ({error}); syncing per symbol"))
        return None
    except Exception as error:  # unforeseen: each asset then fails (or not) on its own
        reason = failure_message(f"{type(error).__name__}: {error}", ctx.secrets)
        ctx.emit(Notice(None, f"bulk {bulk.exchange} failed ({reason}); syncing per symbol"))
        return None
    await asyncio.to_thread(remember_bulk, ctx.store, bulk.exchange, True, ctx.clock())
    for text in warnings:
        ctx.emit(Notice(None, f"bulk {bulk.exchange}: {text}"))
    refetch = sorted({a.symbol for a in actions} & states.keys())
    per_symbol: dict[str, dict[dt.date, Bar]] = defaultdict(dict)
    for bar in bars:
        if bar.symbol in states and bar.symbol not in refetch:
            per_symbol[bar.symbol][bar.date] = bar
    todo = [s for s in states if s not in refetch]
    found: dict[str, list[Finding]] = defaultdict(list)  # rows the parser skipped, per asset
    for finding in findings:
        found[finding.symbol].append(finding)
    results = await asyncio.gather(
        *(_write_one(ctx, s, list(per_symbol[s].values()), bulk.exchange, found[s]) for s in todo),
        return_exceptions=True,
    )
    synced = []
    for symbol, result in zip(todo, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):  # cancellation, interpreter exit
                raise result
            if isinstance(result, LeaseConflict):
                continue
            await fail_asset(ctx, symbol, result)  # whatever the cause: this asset only
        else:
            synced.append(symbol)
    ctx.emit(BulkUsed(bulk.exchange, bulk.days, len(synced), len(refetch)))
    return synced, refetch


async def _write_one(
    ctx: RunContext, symbol: str, bars: list[Bar], exchange: str, findings: list[Finding]
) -> None:
    now = ctx.clock()
    result = await ctx.writer.write(
        AssetUpdate(
            symbol=symbol,
            bars=bars,
            state=synced_state(now),
            lease_owner=ctx.owner,
            findings=findings,
            today=exchange_today(exchange, now),
            run_id=ctx.run_id,
        )
    )
    ctx.emit(
        AssetSynced(
            symbol, result.inserted, result.updated, 0, 0, 0, FetchMode.BULK, result.findings
        )
    )
