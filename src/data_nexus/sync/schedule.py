"""Scheduling a sync run: the run's plan, and the loop that claims and syncs assets.

:func:`plan_run` reads the registry and applies the pure planner (what is due, the bulk
choice, the call estimate); :func:`process_run` updates bulk exchanges first, then claims
the remaining due assets in small leased batches and syncs them with bounded concurrency
until done or asked to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from data_nexus.config import Settings
from data_nexus.providers.protocol import BulkProvider
from data_nexus.storage.store import Store
from data_nexus.sync.bulk import bulk_known_unavailable, run_bulk
from data_nexus.sync.bulk_plan import BulkPlan, plan_bulk
from data_nexus.sync.events import RunStopping, StopCause
from data_nexus.sync.leases import claim_due, held_elsewhere, load_states, release
from data_nexus.sync.modes import BulkMode, SkipReason
from data_nexus.sync.pipeline import RunContext, StopRun, settle_held_failures, sync_asset
from data_nexus.sync.plan import (
    AssetState,
    FetchPlan,
    HeldBack,
    PlanOptions,
    full_refresh_of,
    held_back,
    plan_fetch,
    skip_reason,
)
from data_nexus.sync.summary import SyncOptions

#: How many assets may be in memory (fetching, or awaiting their commit) per place of
#: ``--concurrency``: enough for the writer to batch several into one transaction.
HELD_PER_PLACE = 2


class _Turn:
    """One asset's turn to fetch: a place among ``--concurrency`` and a write the writer
    expects (:meth:`~data_nexus.storage.store.AsyncWriter.expect`).

    :meth:`end` gives both back once the asset's update is handed to the writer (or when
    the block ends): an asset waiting for its commit sends no request, so the next one
    fetches meanwhile, and the writer can wait for the assets still being fetched to
    write them in one transaction. ``held`` bounds the assets fetched or awaiting their
    commit (their bars are in memory) and is given back only when the block ends, so a
    writer slower than the network holds the fetching back instead of queueing histories
    without end.
    """

    def __init__(self, semaphore: asyncio.Semaphore, held: asyncio.Semaphore, ctx: RunContext):
        self._semaphore = semaphore
        self._held = held
        self._ctx = ctx
        self._withdraw: Callable[[], None] | None = None

    async def __aenter__(self) -> _Turn:
        await self._held.acquire()
        try:
            await self._semaphore.acquire()
        except BaseException:
            self._held.release()
            raise
        self._withdraw = self._ctx.writer.expect()
        return self

    def end(self) -> None:
        """Give the place and the expected write back (once)."""
        withdraw, self._withdraw = self._withdraw, None
        if withdraw is not None:
            withdraw()
            self._semaphore.release()

    async def __aexit__(self, *exc: object) -> None:
        self.end()
        self._held.release()


@dataclass(slots=True)
class StopSignal:
    """Set by a signal handler (or a caller) to stop scheduling new assets."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str | None = None

    def set(self, reason: str) -> None:
        """Ask the run to stop (the first reason wins)."""
        if self.reason is None:
            self.reason = reason
        self.event.set()

    @property
    def is_set(self) -> bool:
        """Whether a stop was asked."""
        return self.event.is_set()


@dataclass(slots=True)
class RunPlan:
    """The assets due now, their fetch plans, the bulk updates and the call estimate."""

    due: list[AssetState]
    plans: dict[str, FetchPlan]
    bulk: list[BulkPlan]
    skipped: dict[SkipReason, int]
    calls_estimate: int
    #: Assets a failure backoff keeps out of this run (skipped as ``in backoff``).
    held_back: list[HeldBack] = field(default_factory=list)


def plan_options_of(
    settings: Settings, options: SyncOptions, full_since: dt.datetime | None = None
) -> PlanOptions:
    """The planner's options of a run (``full_since``: the start of its ``--full`` round)."""
    popts = options.plan_options(
        settings.correction_sessions, dt.timedelta(days=settings.actions_every_days)
    )
    return replace(popts, full_since=full_since)


def plan_run(
    store: Store,
    *,
    settings: Settings,
    options: SyncOptions,
    symbols: list[str] | None,
    exchange: str | None,
    now: dt.datetime,
    full_since: dt.datetime | None = None,
) -> RunPlan:
    popts = plan_options_of(settings, options, full_since)
    states = {s.symbol: s for s in load_states(store, symbols=symbols, exchange=exchange)}
    for name in symbols or []:  # dry run: named symbols not registered yet
        if name not in states:
            states[name] = AssetState(symbol=name, exchange=name.rsplit(".", 1)[1])
    skipped: dict[SkipReason, int] = {}
    due: list[AssetState] = []
    backoff: list[HeldBack] = []
    for state in states.values():
        reason = skip_reason(state, now=now, options=popts, explicit=bool(symbols))
        if reason is None:
            due.append(state)
        else:
            skipped[reason] = skipped.get(reason, 0) + 1
            if reason is SkipReason.IN_BACKOFF:
                backoff.append(held_back(state))
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    due.sort(key=lambda s: (s.last_synced is not None, s.last_synced or epoch, s.symbol))
    plans = {s.symbol: plan_fetch(s, now=now, options=popts) for s in due}
    bulk: list[BulkPlan] = []
    shared_pool = options.worker_id is not None and store.caps.multi_writer
    if options.bulk == BulkMode.ALWAYS or (options.bulk == BulkMode.AUTO and not shared_pool):
        by_exchange: dict[str, list[FetchPlan]] = {}
        for plan in plans.values():
            by_exchange.setdefault(plan.exchange, []).append(plan)
        for ex, ex_plans in sorted(by_exchange.items()):
            if options.bulk == BulkMode.AUTO and bulk_known_unavailable(store, ex, now):
                continue
            chosen = plan_bulk(ex, ex_plans, states, now=now, mode=BulkMode(options.bulk))
            if chosen is not None:
                bulk.append(chosen)
    in_bulk = {s for b in bulk for s in b.symbols}
    estimate = sum(p.calls for s, p in plans.items() if s not in in_bulk)
    estimate += sum(b.calls for b in bulk)
    backoff.sort(key=lambda h: (h.next_attempt_at, h.symbol))
    return RunPlan(due, plans, bulk, skipped, estimate, backoff)


#: How often a run checks again for assets another worker's lease kept it from (at most
#: and at least, seconds), and how many symbols it asks about at a time.
REPOLL_MAX_S = 2.0
REPOLL_MIN_S = 0.2
REPOLL_CHUNK = 500


async def process_run(
    ctx: RunContext,
    *,
    client: BulkProvider,
    options: SyncOptions,
    plan: RunPlan,
    stop: StopSignal,
    run_start: dt.datetime,
) -> None:
    """Bulk exchanges first, then every remaining due asset per symbol, in claimed batches.

    Assets another worker held when their turn came are tried again when its lease ends
    (a killed worker's assets), for at most ``options.lease_ttl`` after the queue was
    walked; assets that worker synced meanwhile are no longer due and are left alone.
    """
    claim_now = run_start
    popts = ctx.plan_options
    explicit = bool(options.symbols)
    done: set[str] = set()
    refresh: list[AssetState] = []

    mine: set[str] = set()  # every asset this run claimed

    def claim(names: list[str], limit: int | None = None) -> list[AssetState]:
        claimed = claim_due(
            ctx.store,
            owner=ctx.owner,
            now=claim_now,
            options=popts,
            limit=limit or len(names),
            lease_ttl=options.lease_ttl,
            symbols=names,
            explicit=explicit,
            lease_now=ctx.clock(),
        )
        mine.update(s.symbol for s in claimed)
        return claimed

    def held(names: list[str]) -> dict[str, dt.datetime]:
        return held_elsewhere(
            ctx.store,
            names,
            owner=ctx.owner,
            now=claim_now,
            lease_now=ctx.clock(),
            options=popts,
            explicit=explicit,
        )

    provider_stops: list[StopRun] = []

    def stop_for(error: StopRun) -> None:
        if not provider_stops:  # said once; the first reason is the run's
            provider_stops.append(error)
            ctx.emit(RunStopping(str(error), StopCause.PROVIDER))
        stop.set("provider")

    for bulk in plan.bulk:
        if stop.is_set:
            break
        claimed = await asyncio.to_thread(claim, list(bulk.symbols))
        states = {s.symbol: s for s in claimed}
        result: tuple[list[str], list[str]] | None = None
        try:
            result = await run_bulk(bulk, states, ctx, client)
        except StopRun as error:
            stop_for(error)
        if result is None:
            await asyncio.to_thread(release, ctx.store, list(states), owner=ctx.owner)
            continue
        synced, refetch = result
        done.update(synced)
        refresh += [states[s] for s in refetch]
        done.update(refetch)

    semaphore = asyncio.Semaphore(options.concurrency)
    #: assets in memory at once: fetching, or fetched and awaiting their commit
    in_memory = asyncio.Semaphore(HELD_PER_PLACE * options.concurrency)

    async def one(state: AssetState, fetch: FetchPlan | None = None) -> None:
        async with _Turn(semaphore, in_memory, ctx) as turn:
            if not stop.is_set:
                try:
                    await sync_asset(state, ctx, plan=fetch, on_fetched=turn.end)
                    return
                except StopRun as error:  # this asset did not commit: give its lease back
                    stop_for(error)
            await asyncio.to_thread(release, ctx.store, [state.symbol], owner=ctx.owner)

    tasks = [
        asyncio.create_task(one(s, full_refresh_of(plan.plans[s.symbol], popts.since)))
        for s in refresh
    ]
    queue = [s.symbol for s in plan.due if s.symbol not in done]
    batch = max(2, options.concurrency * 2)
    pending: set[asyncio.Task[None]] = set(tasks)
    position = 0
    try:
        while not stop.is_set and position < len(queue):
            while len(pending) >= options.concurrency * 2:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            names = queue[position : position + batch]
            position += batch
            for state in await asyncio.to_thread(claim, names):
                pending.add(asyncio.create_task(one(state)))
        if pending:
            await asyncio.gather(*pending)
        # Assets skipped above because another worker leased them: claim them when that
        # lease ends (a worker killed mid-run), until none is left or only live leases are.
        deadline = time.monotonic() + options.lease_ttl.total_seconds()
        candidates = [s for s in queue if s not in mine]
        while candidates and not stop.is_set:
            got: list[AssetState] = []
            holders: dict[str, dt.datetime] = {}
            for i in range(0, len(candidates), REPOLL_CHUNK):
                chunk = candidates[i : i + REPOLL_CHUNK]
                got = await asyncio.to_thread(claim, chunk, batch)
                if got:
                    break
                holders.update(await asyncio.to_thread(held, chunk))
            if got:
                pending = {asyncio.create_task(one(state)) for state in got}
                await asyncio.gather(*pending)
                candidates = [s for s in candidates if s not in mine]
                continue
            candidates = [s for s in candidates if s in holders]  # the rest is no longer due
            left = deadline - time.monotonic()
            if not candidates or left <= 0:
                break
            until = (min(holders.values()) - ctx.clock()).total_seconds()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.event.wait(), min(max(until, REPOLL_MIN_S), REPOLL_MAX_S, left)
                )
    except asyncio.CancelledError:
        # Aborted (a second signal): cancel the in-flight assets and wait until they are
        # gone, so none outlives the client it fetches with.
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise
    # the run ended inside an unreachable streak: failures if it went on, else an outage
    await settle_held_failures(ctx, outage=stop.is_set)
    if stop.reason == "interrupted":
        ctx.emit(
            RunStopping(
                "interrupted: in-flight assets finished, the rest stays due",
                StopCause.INTERRUPTED,
            )
        )
