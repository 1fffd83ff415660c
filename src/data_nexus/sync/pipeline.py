"""One asset's sync: fetch → compare → (refetch on a corporate action) → one write.

The asset's bars, corporate actions and state commit together through the store's
single write transaction, or not at all. A failure leaves the stored data exactly as it
was and records a redacted error and a retry time instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_nexus.clock import Clock
from data_nexus.errors import DataNexusError, LeaseConflict, ProviderError, ProviderUnavailable
from data_nexus.providers.protocol import MarketDataProvider
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage.store import AssetUpdate, AsyncWriter, Store, WriteResult
from data_nexus.sync.events import AssetFailed, AssetSkipped, AssetSynced, EventHandler, Notice
from data_nexus.sync.leases import record_failure
from data_nexus.sync.plan import (
    AssetState,
    FetchMode,
    FetchPlan,
    PlanOptions,
    SkipReason,
    check_window,
    full_refresh_of,
)
from data_nexus.sync.plan import plan_fetch as make_plan


@dataclass(slots=True)
class RunContext:
    """What every asset task of a run shares."""

    store: Store
    provider: MarketDataProvider
    writer: AsyncWriter
    owner: str
    plan_options: PlanOptions
    clock: Clock
    emit: EventHandler
    secrets: tuple[str, ...] = ()
    unreachable_streak: int = 0


#: Consecutive assets failing with server errors or timeouts (after the client's own
#: retries) before the run stops instead of marking every asset failed.
UNREACHABLE_LIMIT = 3


class StopRun(Exception):
    """Raised out of an asset task when the provider says the whole run must stop."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


def synced_state(now: dt.datetime) -> dict[str, Any]:
    """The ``assets`` columns a successful sync sets: synced now, error cleared, lease released."""
    return {
        "last_synced": now,
        "last_error": None,
        "fail_count": 0,
        "next_attempt_at": None,
        "lease_owner": None,
        "lease_expires_at": None,
    }


def _window(bars: Sequence[Bar], end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The range the provider's answer is authoritative for; ``None`` when it is empty.

    It starts at the first bar returned (not at the requested start), so a provider that
    answers a shorter history (the free plan's one year) never deletes older stored bars.
    """
    if not bars:
        return None
    return (min(b.date for b in bars), max(end, *(b.date for b in bars)))


def _actions_differ(
    stored: Sequence[Split | Dividend], fetched: Sequence[Split | Dividend]
) -> bool:
    def key(a: Split | Dividend) -> tuple[Any, ...]:
        if isinstance(a, Split):
            return (a.date, "split", a.numerator, a.denominator)
        return (a.date, "dividend", a.value, a.unadjusted_value)

    return sorted(map(key, stored)) != sorted(map(key, fetched))


async def _fetch_actions(
    ctx: RunContext, symbol: str, end: dt.date
) -> tuple[list[Split | Dividend], list[str]]:
    splits, dividends = await asyncio.gather(
        ctx.provider.splits(symbol, end=end), ctx.provider.dividends(symbol, end=end)
    )
    actions: list[Split | Dividend] = [*splits.records, *dividends.records]
    return actions, [*splits.warnings, *dividends.warnings]


async def sync_asset(state: AssetState, ctx: RunContext, *, plan: FetchPlan | None = None) -> bool:
    """Sync one leased asset; returns ``True`` when it committed.

    Raises :class:`StopRun` for provider errors that end the whole run (authentication,
    quota); every other error is recorded on the asset and reported as an event.
    """
    symbol = state.symbol
    if plan is None:
        plan = make_plan(state, now=ctx.clock(), options=ctx.plan_options)
    try:
        result, calls, mode, actions_changed = await _fetch_and_write(state, plan, ctx)
    except LeaseConflict as error:
        ctx.emit(AssetSkipped(symbol, SkipReason.LEASE_LOST, str(error)))
        return False
    except ProviderError as error:
        if error.stops_run:
            raise StopRun(error) from None
        if isinstance(error, ProviderUnavailable):
            ctx.unreachable_streak += 1
            if ctx.unreachable_streak >= UNREACHABLE_LIMIT:
                raise StopRun(
                    ProviderUnavailable(
                        f"the provider failed for {UNREACHABLE_LIMIT} assets in a row "
                        f"(last: {str(error).splitlines()[0]}); check the network and "
                        "EODHD_BASE_URL, then run again"
                    )
                ) from None
        await fail_asset(ctx, symbol, error)
        return False
    except DataNexusError as error:
        await fail_asset(ctx, symbol, error)
        return False
    ctx.unreachable_streak = 0
    ctx.emit(
        AssetSynced(
            symbol,
            result.inserted,
            result.updated,
            result.deleted,
            actions_changed,
            calls,
            mode,
        )
    )
    return True


async def fail_asset(ctx: RunContext, symbol: str, error: BaseException) -> None:
    text = f"{type(error).__name__}: {error}"
    retry_at = await asyncio.to_thread(
        record_failure,
        ctx.store,
        symbol,
        owner=ctx.owner,
        error=text,
        now=ctx.clock(),
        secrets=ctx.secrets,
    )
    ctx.emit(AssetFailed(symbol, text.splitlines()[0][:300], retry_at))


async def _fetch_and_write(
    state: AssetState, plan: FetchPlan, ctx: RunContext
) -> tuple[WriteResult, int, FetchMode, int]:
    symbol = state.symbol
    calls = 1
    fetched = await ctx.provider.eod(symbol, start=plan.start, end=plan.end)
    warnings = list(fetched.warnings)
    mode = plan.mode
    actions: list[Split | Dividend] | None = None
    refresh = False
    if not plan.full:
        stored = await asyncio.to_thread(ctx.store.read_bars, [symbol], plan.start, plan.end)
        if check_window(stored, fetched.records).adjustment_changed:
            refresh = True
    if plan.fetch_actions or refresh:
        actions, more = await _fetch_actions(ctx, symbol, plan.end)
        calls += 2
        warnings += more
        if not plan.full and not refresh:
            stored_actions = await asyncio.to_thread(ctx.store.read_actions, [symbol])
            refresh = _actions_differ(stored_actions, actions)
    if refresh:
        plan = full_refresh_of(plan, ctx.plan_options.since)
        mode = plan.mode
        fetched = await ctx.provider.eod(symbol, start=plan.start, end=plan.end)
        calls += 1
        warnings += fetched.warnings
    for text in warnings:
        ctx.emit(Notice(symbol, text))
    now = ctx.clock()
    state_values = synced_state(now)
    actions_window = None
    if actions is not None:
        state_values["actions_checked_at"] = now
        actions_window = (dt.date.min, plan.end) if actions else None
    update = AssetUpdate(
        symbol=symbol,
        bars=fetched.records,
        window=_window(fetched.records, plan.end),
        actions=actions or (),
        actions_window=actions_window,
        state=state_values,
        lease_owner=ctx.owner,
    )
    result = await ctx.writer.write(update)
    actions_changed = result.actions_inserted + result.actions_updated + result.actions_deleted
    return result, calls, mode, actions_changed
