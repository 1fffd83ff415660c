"""``run_sync``: the main job — plan, claim, fetch, write, report.

The network side is asynchronous (bounded concurrency, a shared rate limiter, retries in
the client); the database side runs in the store's writer thread, so the event loop never
blocks. ``run_sync`` is the synchronous bridge over :func:`arun_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import Callable, Iterator

import httpx

from data_nexus.assets import add_assets
from data_nexus.clock import Clock, utcnow
from data_nexus.config import Settings
from data_nexus.errors import AuthFailed, ProviderError, QuotaExhausted, UsageError
from data_nexus.providers.eodhd import EodhdClient, ProviderEvent, RequestRetried
from data_nexus.providers.eodhd.factory import make_client
from data_nexus.redact import redact
from data_nexus.storage.store import AsyncWriter, Store
from data_nexus.symbols import parse_exchange, parse_symbols
from data_nexus.sync.budget import SharedCallBudget, SharedRateLimiter, calls_spent_today
from data_nexus.sync.events import EventHandler, Notice, RunPlanned, RunStopping, ignore
from data_nexus.sync.leases import (
    acquire_run_lock,
    make_owner,
    release_run_lock,
    renew_run_lock,
)
from data_nexus.sync.pipeline import RunContext
from data_nexus.sync.runs import finish_run, start_run
from data_nexus.sync.schedule import (
    EXIT_PROVIDER_STOP,
    RunPlan,
    StopSignal,
    plan_run,
    process_run,
)
from data_nexus.sync.summary import (
    STATUS_DRY_RUN,
    STATUS_FAILED,
    STATUS_INTERRUPTED,
    STATUS_PARTIAL,
    STATUS_STOPPED,
    PlannedAsset,
    SyncOptions,
    SyncSummary,
)

RUN_LOCK_TTL = dt.timedelta(minutes=2)
EXIT_INTERRUPTED = 130

__all__ = ["StopSignal", "arun_sync", "run_sync"]


def _notice_for(event: ProviderEvent) -> Notice:
    if isinstance(event, RequestRetried):
        return Notice(
            event.symbol,
            f"{event.endpoint}: {event.reason}, retry {event.attempt} in {event.delay_s:.1f}s",
        )
    return Notice(event.symbol, event.text)


async def _remaining_calls(
    client: EodhdClient, store: Store, settings: Settings, now: dt.datetime
) -> tuple[int | None, int | None]:
    """(limit for our shared budget, calls remaining today), from the provider and our count."""
    ours = await asyncio.to_thread(calls_spent_today, store, now)
    limit = settings.eodhd_daily_budget
    spent = ours
    try:
        usage = await client.user()
    except (AuthFailed, QuotaExhausted):
        raise
    except ProviderError:
        usage = None
    if usage is not None:
        if limit is None:
            limit = usage.daily_rate_limit + usage.extra_limit
        today = now.astimezone(dt.UTC).date()
        if usage.api_requests_date in (None, today):
            spent = max(spent, usage.api_requests)
    if limit is None:
        return None, None
    remaining = max(0, limit - spent)
    return ours + remaining, remaining


async def arun_sync(
    settings: Settings,
    options: SyncOptions = SyncOptions(),  # noqa: B008 - frozen dataclass, never mutated
    *,
    on_event: EventHandler = ignore,
    clock: Clock = utcnow,
    transport: httpx.AsyncBaseTransport | None = None,
    stop: StopSignal | None = None,
) -> SyncSummary:
    """Sync due assets from EODHD into the database (see :class:`SyncOptions`).

    Every asset commits its bars, corporate actions and state in one transaction; a
    failure is recorded on the asset and the run goes on. Authentication and quota errors
    stop the run cleanly; running the same command again resumes.
    """
    if options.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if options.rate_limit is not None and options.rate_limit < 1:
        raise UsageError("--rate-limit must be at least 1 request per minute")
    symbols = [str(s) for s in parse_symbols(list(options.symbols))] or None
    exchange = parse_exchange(options.exchange) if options.exchange else None
    stop = stop or StopSignal()
    owner = make_owner(options.worker_id)
    summary = SyncSummary(worker=owner, started_at=clock())
    store = await asyncio.to_thread(Store.open, settings)
    try:
        if symbols and not options.dry_run:
            await asyncio.to_thread(add_assets, store, symbols, clock=clock)
        run_start = clock()
        plan = await asyncio.to_thread(
            lambda: plan_run(
                store,
                settings=settings,
                options=options,
                symbols=symbols,
                exchange=exchange,
                now=run_start,
            )
        )
        summary.planned = len(plan.due)
        summary.skipped = {str(reason): n for reason, n in plan.skipped.items()}
        summary.calls_estimate = plan.calls_estimate
        if options.dry_run:
            in_bulk = {s for b in plan.bulk for s in b.symbols}
            summary.plan = [
                PlannedAsset(
                    p.symbol,
                    "bulk" if p.symbol in in_bulk else p.reason,
                    p.start,
                    p.end,
                    0 if p.symbol in in_bulk else p.calls,
                )
                for p in plan.plans.values()
            ]
            summary.bulk_used = [b.exchange for b in plan.bulk]
            summary.status = STATUS_DRY_RUN
            return summary
        if not plan.due:
            # Recorded all the same: a scheduled run that found everything fresh is evidence
            # that the schedule runs.
            summary.run_id = await asyncio.to_thread(
                start_run, store, worker=owner, options=options, now=run_start
            )
            on_event(RunPlanned(summary.run_id, 0, summary.skipped, 0, None, ()))
            summary.finished_at = clock()
            await asyncio.to_thread(finish_run, store, summary)
            return summary
        await _execute(
            store,
            settings=settings,
            options=options,
            plan=plan,
            summary=summary,
            owner=owner,
            on_event=on_event,
            clock=clock,
            transport=transport,
            stop=stop,
            run_start=run_start,
        )
    finally:
        summary.finished_at = clock()
        await asyncio.to_thread(store.close)
    return summary


@contextlib.contextmanager
def _run_lock(store: Store, owner: str, clock: Clock) -> Iterator[None]:
    if store.caps.multi_writer:
        yield
        return
    acquire_run_lock(store, owner=owner, now=clock(), ttl=RUN_LOCK_TTL)
    try:
        yield
    finally:
        release_run_lock(store, owner=owner)


async def _heartbeat(store: Store, owner: str, clock: Clock) -> None:
    while True:
        await asyncio.sleep(RUN_LOCK_TTL.total_seconds() / 4)
        await asyncio.to_thread(renew_run_lock, store, owner=owner, now=clock(), ttl=RUN_LOCK_TTL)


async def _execute(
    store: Store,
    *,
    settings: Settings,
    options: SyncOptions,
    plan: RunPlan,
    summary: SyncSummary,
    owner: str,
    on_event: EventHandler,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
    stop: StopSignal,
    run_start: dt.datetime,
) -> None:
    with _run_lock(store, owner, clock):
        shared = options.worker_id is not None and store.caps.multi_writer
        rate = options.rate_limit or settings.eodhd_rate_limit
        limiter = SharedRateLimiter(store, rate_limit=rate, clock=clock) if shared else None
        heartbeat = (
            None
            if store.caps.multi_writer
            else asyncio.create_task(_heartbeat(store, owner, clock))
        )
        budget = SharedCallBudget(store, limit=None, clock=clock)
        client = make_client(
            settings,
            rate_limit=rate,
            rate_limiter=limiter,
            call_budget=budget,
            concurrency=options.concurrency,
            on_event=lambda e: on_event(_notice_for(e)),
            transport=transport,
        )
        try:
            async with client:
                summary.run_id = await asyncio.to_thread(
                    start_run, store, worker=owner, options=options, now=run_start
                )
                limit, remaining = await _remaining_calls(client, store, settings, run_start)
                summary.calls_remaining = remaining
                if (
                    remaining is not None
                    and plan.calls_estimate > remaining
                    and not options.allow_partial
                ):
                    raise QuotaExhausted(
                        f"this sync needs about {plan.calls_estimate} API calls but only "
                        f"{remaining} remain today; run it with --allow-partial to sync what "
                        "fits (it stops cleanly when the quota runs out), or after GMT midnight"
                    )
                budget.limit = limit
                on_event(
                    RunPlanned(
                        summary.run_id,
                        len(plan.due),
                        summary.skipped,
                        plan.calls_estimate,
                        remaining,
                        tuple(b.exchange for b in plan.bulk),
                    )
                )
                writer = AsyncWriter(store)
                try:
                    ctx = RunContext(
                        store=store,
                        provider=client,
                        writer=writer,
                        owner=owner,
                        plan_options=options.plan_options(
                            settings.correction_sessions,
                            dt.timedelta(days=settings.actions_every_days),
                        ),
                        clock=clock,
                        emit=on_event,
                        summary=summary,
                        secrets=(settings.token,),
                    )
                    await process_run(
                        ctx,
                        client=client,
                        options=options,
                        plan=plan,
                        stop=stop,
                        run_start=run_start,
                    )
                finally:
                    await writer.aclose()
                summary.calls_spent = client.calls_spent
                summary.requests_sent = client.requests_sent
        except (AuthFailed, QuotaExhausted) as exc:  # before the first asset: a recorded stop
            summary.stop_reason = summary.stop_reason or str(exc)
            summary.stop_exit_code = EXIT_PROVIDER_STOP
            raise
        except Exception as exc:
            summary.status = STATUS_FAILED
            summary.stop_reason = redact(f"{type(exc).__name__}: {exc}", (settings.token,))
            raise
        finally:
            await budget.close()
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            _finish(summary, stop)
            summary.finished_at = clock()
            if summary.run_id is not None and summary.status == STATUS_FAILED:
                with contextlib.suppress(Exception):  # the database may be what failed
                    await asyncio.to_thread(finish_run, store, summary)
            elif summary.run_id is not None:
                await asyncio.to_thread(finish_run, store, summary)


def _finish(summary: SyncSummary, stop: StopSignal) -> None:
    if summary.status == STATUS_FAILED:
        return
    if stop.reason == "interrupted":
        summary.status = STATUS_INTERRUPTED
        summary.stop_reason = summary.stop_reason or "interrupted by a signal"
        summary.stop_exit_code = EXIT_INTERRUPTED
    elif summary.stop_exit_code == EXIT_PROVIDER_STOP:
        summary.status = STATUS_STOPPED
    elif summary.failed:
        summary.status = STATUS_PARTIAL


def run_sync(
    settings: Settings,
    options: SyncOptions = SyncOptions(),  # noqa: B008 - frozen dataclass, never mutated
    *,
    on_event: EventHandler = ignore,
    clock: Clock = utcnow,
    transport: httpx.AsyncBaseTransport | None = None,
    handle_signals: bool = False,
    on_signal: Callable[[], None] | None = None,
) -> SyncSummary:
    """Synchronous :func:`arun_sync`. With ``handle_signals``, SIGINT/SIGTERM stop the run.

    The first signal stops scheduling, lets in-flight assets commit or roll back and
    returns the summary (exit code 130); a second one cancels in-flight work.
    """

    async def main() -> SyncSummary:
        stop = StopSignal()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        installed: list[signal.Signals] = []

        def handler() -> None:
            if stop.is_set and task is not None:
                task.cancel()
                return
            stop.set("interrupted")
            on_event(RunStopping("stopping: finishing in-flight assets (signal again to abort)"))
            if on_signal is not None:
                on_signal()

        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, handler)
                    installed.append(sig)
        try:
            return await arun_sync(
                settings, options, on_event=on_event, clock=clock, transport=transport, stop=stop
            )
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    return asyncio.run(main())
