"""One asset's sync: fetch → compare → (refetch on a corporate action) → one write.

The asset's bars, corporate actions and state commit together through the store's
single write transaction, or not at all. A failure leaves the stored data exactly as it
was and records a redacted error and a retry time instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from data_nexus.bar_columns import BarColumns
from data_nexus.clock import Clock
from data_nexus.errors import (
    DataNexusError,
    LeaseConflict,
    NotFound,
    ProviderError,
    ProviderUnavailable,
)
from data_nexus.providers.protocol import MarketDataProvider
from data_nexus.records import Bar, Dividend, Finding, Split
from data_nexus.storage.store import AssetUpdate, AsyncWriter, Store, WriteResult
from data_nexus.sync.events import AssetFailed, AssetSkipped, AssetSynced, EventHandler, Notice
from data_nexus.sync.history import (
    Replacement,
    explained_by_splits,
    replaced_history,
    rescale_outside,
    retracted_actions,
)
from data_nexus.sync.leases import failure_message, record_failure, release
from data_nexus.sync.modes import FetchMode, SkipReason
from data_nexus.sync.plan import (
    AssetState,
    FetchPlan,
    PlanOptions,
    full_refresh_of,
    history_from_after,
)
from data_nexus.sync.plan import plan_fetch as make_plan
from data_nexus.sync.weekdays import sessions_back
from data_nexus.sync.window import check_window


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
    #: The ``sync_runs`` row findings are recorded under (``None`` outside a recorded run).
    run_id: int | None = None
    #: Assets the provider answered "not found" for in this run.
    not_found: set[str] = field(default_factory=set)
    #: Assets of the current unreachable streak whose failure is not recorded yet: if the
    #: streak reaches :data:`UNREACHABLE_LIMIT` it is an outage (they are released, never
    #: put into backoff); if another asset succeeds, or the run ends first, they failed.
    held_failures: list[tuple[str, BaseException]] = field(default_factory=list)


#: Consecutive assets failing with server errors, timeouts or connection errors (after the
#: client's own retries) before the run stops as an outage; none of them is marked failed.
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


_date_of = attrgetter("date")


def _window(
    bars: Sequence[Bar], end: dt.date, last_stored: dt.date | None = None
) -> tuple[dt.date, dt.date] | None:
    """The range the provider's answer is authoritative for; ``None`` when it is empty.

    It starts at the first bar returned (not at the requested start), so a provider that
    answers a shorter history (the free plan's one year) never deletes older stored bars.
    It ends at ``end`` (the exchange's today) or later: at the last bar returned (bars after
    today are skipped with a finding, so a stored one is removed) and at ``last_stored``
    (bars stored after today by an older version are removed).
    """
    if not bars:
        return None
    # one C-level pass (the dates of bars still in text are at hand); min/max over the list
    dates = bars.days if isinstance(bars, BarColumns) else list(map(_date_of, bars))
    return min(dates), max(end, last_stored or end, *dates)


def _actions_differ(
    stored: Sequence[Split | Dividend], fetched: Sequence[Split | Dividend]
) -> bool:
    def key(a: Split | Dividend) -> tuple[Any, ...]:
        if isinstance(a, Split):
            return (a.date, "split", a.numerator, a.denominator)
        return (a.date, "dividend", a.value, a.unadjusted_value)

    # sets: an exact duplicate in the provider's list is stored once, not a difference
    return sorted(set(map(key, stored))) != sorted(set(map(key, fetched)))


async def _fetch_actions(
    ctx: RunContext, symbol: str, end: dt.date
) -> tuple[list[Split | Dividend], list[str], list[Finding]]:
    splits, dividends = await asyncio.gather(
        ctx.provider.splits(symbol, end=end), ctx.provider.dividends(symbol, end=end)
    )
    actions: list[Split | Dividend] = [*splits.records, *dividends.records]
    return (
        actions,
        [*splits.warnings, *dividends.warnings],
        [*splits.findings, *dividends.findings],
    )


async def sync_asset(
    state: AssetState,
    ctx: RunContext,
    *,
    plan: FetchPlan | None = None,
    on_fetched: Callable[[], None] | None = None,
) -> bool:
    """Sync one leased asset; returns ``True`` when it committed.

    ``on_fetched`` is called once everything is fetched and the update is queued for the
    writer (the scheduler lets the next asset fetch while this one waits for its commit).

    Raises :class:`StopRun` for provider errors that end the whole run (authentication,
    quota); every other error, expected or not (a bug, an unforeseen answer), fails this
    asset only: its redacted error and a retry time are recorded, its lease released, and
    the run goes on.
    """
    symbol = state.symbol
    try:
        if plan is None:
            plan = make_plan(state, now=ctx.clock(), options=ctx.plan_options)
        result, calls, mode, actions_changed = await _fetch_and_write(state, plan, ctx, on_fetched)
    except LeaseConflict as error:
        ctx.emit(AssetSkipped(symbol, SkipReason.LEASE_LOST, str(error)))
        return False
    except ProviderError as error:
        if error.stops_run:
            raise StopRun(error) from None
        if isinstance(error, ProviderUnavailable):
            ctx.unreachable_streak += 1
            if ctx.unreachable_streak >= UNREACHABLE_LIMIT:
                # released now: an asset still in flight that syncs must not fail them
                await settle_held_failures(ctx, outage=True)
                raise StopRun(
                    ProviderUnavailable(
                        f"the provider failed for {UNREACHABLE_LIMIT} assets in a row "
                        f"(last: {str(error).splitlines()[0]}); an outage, so no asset is "
                        "marked failed: check the network and EODHD_BASE_URL, then run again"
                    )
                ) from None
            ctx.held_failures.append((symbol, error))  # recorded once the streak is broken
            return False
        await fail_asset(ctx, symbol, error)
        return False
    except DataNexusError as error:
        await fail_asset(ctx, symbol, error)
        return False
    except Exception as error:  # whatever the cause, one asset never costs the run
        await fail_asset(ctx, symbol, error)
        return False
    ctx.unreachable_streak = 0
    await settle_held_failures(ctx)  # the provider answers: those assets really failed
    ctx.emit(
        AssetSynced(
            symbol,
            result.inserted,
            result.updated,
            result.deleted,
            actions_changed,
            calls,
            mode,
            result.findings,
        )
    )
    return True


async def settle_held_failures(ctx: RunContext, *, outage: bool = False) -> None:
    """Resolve the assets :attr:`RunContext.held_failures` holds, and forget them.

    ``outage=False`` (another asset synced, or the run ended without an outage): record each
    failure (backoff, lease released). ``outage=True`` (the run stopped): release their
    leases only, so an outage never puts an asset into failure backoff.
    """
    held, ctx.held_failures = ctx.held_failures, []
    if outage:
        await asyncio.to_thread(release, ctx.store, [s for s, _ in held], owner=ctx.owner)
        return
    for symbol, error in held:
        await fail_asset(ctx, symbol, error)


async def fail_asset(ctx: RunContext, symbol: str, error: BaseException) -> None:
    """Record ``error`` on the asset (redacted, backoff, lease released) and report it."""
    if isinstance(error, NotFound):
        ctx.not_found.add(symbol)
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
    ctx.emit(AssetFailed(symbol, failure_message(text, ctx.secrets)[:300], retry_at))


async def _fetch_and_write(
    state: AssetState, plan: FetchPlan, ctx: RunContext, on_fetched: Callable[[], None] | None
) -> tuple[WriteResult, int, FetchMode, int]:
    """Fetch, judge the answer against what is stored, and write it in one transaction.

    Incremental: the re-fetched sessions are compared with the stored ones; a changed
    adjustment (a new or corrected action) or a replaced history (kind 8, see
    :mod:`data_nexus.sync.history`) refetches the whole history. Whenever the actions are
    fetched, their list is the truth for everything up to today, even when empty (kind 6).
    A whole-history answer that starts after the stored history rescales the older rows
    (kind 7). The bars are asked for without an end (the provider's whole answer up to its
    own today): a bar dated after the exchange's today is seen, skipped and recorded as a
    finding (kind 5), and one stored by an older version is removed.
    """
    symbol = state.symbol
    calls = 1
    fetched = await ctx.provider.eod(symbol, start=plan.start)
    warnings = list(fetched.warnings)
    mode = plan.mode
    actions: list[Split | Dividend] | None = None
    action_findings: list[Finding] = []
    stored_actions: list[Split | Dividend] = []
    refresh = False
    replaced: Replacement | None = None
    if not plan.full:
        stored = await asyncio.to_thread(ctx.store.read_bars, [symbol], plan.start, plan.end)
        refresh = check_window(stored, fetched.records).adjustment_changed
        replaced = replaced_history(stored, fetched.records)
    elif state.last_date is not None:  # a full fetch over a stored history: compare its end
        tail = sessions_back(min(state.last_date, plan.end), ctx.plan_options.correction_sessions)
        stored = await asyncio.to_thread(ctx.store.read_bars, [symbol], tail, plan.end)
        replaced = replaced_history(stored, fetched.records)
    if plan.fetch_actions or refresh or replaced is not None:
        actions, more, action_findings = await _fetch_actions(ctx, symbol, plan.end)
        calls += 2
        warnings += more
        stored_actions = await asyncio.to_thread(ctx.store.read_actions, [symbol])
        if replaced is not None and explained_by_splits(replaced, stored_actions, actions):
            replaced, refresh = None, not plan.full
        if not plan.full and not refresh:
            refresh = replaced is not None or _actions_differ(stored_actions, actions)
    if refresh:
        plan = full_refresh_of(plan, ctx.plan_options.since)
        mode = plan.mode if replaced is None else FetchMode.HISTORY_REPLACED
        fetched = await ctx.provider.eod(symbol, start=plan.start)
        calls += 1
        warnings += fetched.warnings
    for text in warnings:
        ctx.emit(Notice(symbol, text))
    findings = [*fetched.findings, *action_findings]
    bars: Sequence[Bar] = fetched.records  # BarColumns stay text until a bar is asked for
    window = _window(bars, plan.end, state.last_date)
    if replaced is not None and window is not None:
        # the old company's history goes, whatever the new answer covers
        window, mode = (dt.date.min, window[1]), FetchMode.HISTORY_REPLACED
        findings.append(replaced.finding(symbol, state.first_date))
    elif actions is not None and plan.full and bars and state.first_date is not None:
        first = min(b.date for b in bars)
        if state.first_date < first:
            outside = await asyncio.to_thread(
                ctx.store.read_bars, [symbol], None, first - dt.timedelta(days=1)
            )
            rescaled = rescale_outside(outside, bars, stored_actions, actions)
            bars = [*rescaled.bars, *bars]
            findings += rescaled.findings
    now = ctx.clock()
    state_values = synced_state(now)
    wiped = replaced is not None and window is not None  # the old history was deleted
    reach = history_from_after(state, plan.start, replaced=wiped)
    if reach is not None:  # how far back the provider answered, committed with its bars
        state_values["history_from"] = reach
    actions_window = None
    if actions is not None:
        state_values["actions_checked_at"] = now
        # the fetched list is the truth up to today, even when it is empty
        actions_window = (dt.date.min, plan.end)
        if replaced is None:  # a replaced history's old actions are not retractions
            findings += retracted_actions(stored_actions, actions)
    update = AssetUpdate(
        symbol=symbol,
        bars=bars,
        window=window,
        actions=actions or (),
        actions_window=actions_window,
        state=state_values,
        lease_owner=ctx.owner,
        findings=findings,
        today=plan.end,
        run_id=ctx.run_id,
    )
    result = await ctx.writer.write(update, queued=on_fetched)
    actions_changed = result.actions_inserted + result.actions_updated + result.actions_deleted
    return result, calls, mode, actions_changed
