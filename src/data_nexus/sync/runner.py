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
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from data_nexus.assets import add_assets
from data_nexus.clock import Clock, utcnow
from data_nexus.config import Settings
from data_nexus.errors import (
    AuthFailed,
    BudgetTooSmall,
    ProviderError,
    QuotaExhausted,
    UsageError,
)
from data_nexus.providers.eodhd import EodhdClient, ProviderEvent, RequestRetried
from data_nexus.providers.eodhd.factory import make_client
from data_nexus.redact import redact
from data_nexus.storage.engine import parse_database_url
from data_nexus.storage.store import AsyncWriter, Store
from data_nexus.symbols import parse_exchange, parse_symbols
from data_nexus.sync.budget import SharedCallBudget, SharedRateLimiter, calls_spent_today
from data_nexus.sync.events import (
    EventHandler,
    Notice,
    RunFailed,
    RunPlanned,
    RunStopping,
    StopCause,
    SyncEvent,
    ignore,
)
from data_nexus.sync.leases import (
    acquire_run_lock,
    make_owner,
    release_run_lock,
    renew_run_lock,
)
from data_nexus.sync.pipeline import RunContext
from data_nexus.sync.registration import no_assets_on, unregister_unconfirmed
from data_nexus.sync.runs import finish_run, full_round_start, start_run
from data_nexus.sync.schedule import (
    RunPlan,
    StopSignal,
    plan_options_of,
    plan_run,
    process_run,
)
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import (
    INTERRUPTED_REASON,
    PlannedAsset,
    RunFrame,
    SyncOptions,
    SyncSummary,
    summarize,
)

RUN_LOCK_TTL = dt.timedelta(minutes=2)
#: API calls a run with due assets spends before its first fetch: the ``/user`` request
#: that reads today's remaining calls (EODHD charges it like any other, and so does the
#: emulator). Part of ``calls_estimate``, so a dry run's estimate is what a run spends.
USAGE_CHECK_CALLS = 1

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


class _RunRecord:
    """The run's events as they happen (forwarded to the caller) and its frame.

    The summary is :func:`summarize` over what was recorded: nothing else updates it.
    """

    def __init__(self, on_event: EventHandler, worker: str, started_at: dt.datetime) -> None:
        self._on_event = on_event
        self.events: list[SyncEvent] = []
        self.frame = RunFrame(worker=worker, started_at=started_at)

    def emit(self, event: SyncEvent) -> None:
        """Record an event and show it to the caller."""
        self.events.append(event)
        self._on_event(event)

    def note(self, event: SyncEvent) -> None:
        """Record an event the caller learns otherwise (an exception it will receive)."""
        self.events.append(event)

    def note_interrupted(self, error: BaseException) -> None:
        """Record that ``error`` (not an :class:`Exception`) is ending the run: a cancelled
        task (``asyncio.run``'s own Ctrl-C handling when no signal handlers are installed,
        as in the demo or a library caller), ``KeyboardInterrupt`` or ``SystemExit``. The
        run is interrupted, not ok: without this its row would say ``ok``."""
        if isinstance(error, Exception) or self.aborted:
            return
        cause = StopCause.INTERRUPTED
        if not any(isinstance(e, RunStopping) and e.cause is cause for e in self.events):
            self.note(RunStopping(INTERRUPTED_REASON, cause))

    def update(self, **changes: Any) -> None:
        """Change the frame (run id, plan figures, calls spent, …)."""
        self.frame = replace(self.frame, **changes)

    @property
    def aborted(self) -> bool:
        """Whether a second signal asked to abort."""
        return any(isinstance(e, RunStopping) and e.cause is StopCause.ABORTED for e in self.events)

    def summary(self, finished_at: dt.datetime) -> SyncSummary:
        """The summary of everything recorded so far."""
        return summarize(self.events, replace(self.frame, finished_at=finished_at))


async def arun_sync(
    settings: Settings,
    options: SyncOptions = SyncOptions(),  # noqa: B008 - frozen dataclass, never mutated
    *,
    on_event: EventHandler = ignore,
    clock: Clock = utcnow,
    transport: httpx.AsyncBaseTransport | None = None,
    stop: StopSignal | None = None,
    _record: _RunRecord | None = None,
) -> SyncSummary:
    """Sync due assets from EODHD into the database (see :class:`SyncOptions`).

    Every asset commits its bars, corporate actions and state in one transaction; a
    failure is recorded on the asset and the run goes on. Authentication and quota errors
    (including a plan today's remaining calls cannot finish, without ``allow_partial``)
    stop the run cleanly, before or after its first asset: the summary's status is
    ``stopped`` and ``stop_reason`` says why; running the same command again resumes. Raises
    :class:`~data_nexus.errors.InvalidOption` when ``options.since`` is after today by
    ``clock``, and :class:`~data_nexus.errors.ConfigError` when no API token is set (not on
    a dry run), before anything is registered.
    """
    options.check_since(clock().date())
    symbols = [str(s) for s in parse_symbols(list(options.symbols))] or None
    # an empty exchange is refused (it must not mean every exchange)
    exchange = parse_exchange(options.exchange) if options.exchange is not None else None
    if not options.dry_run:  # a dry run calls no provider; a real one needs a token first
        settings.require_token()
    stop = stop or StopSignal()
    owner = make_owner(options.worker_id)
    record = _record or _RunRecord(on_event, owner, clock())
    record.update(worker=owner, started_at=clock())
    # a dry run never creates the SQLite file: it plans against an empty scratch registry
    scratch = None
    if options.dry_run and missing_sqlite_file(settings.database_url) is not None:
        scratch = tempfile.TemporaryDirectory(prefix="datanexus-plan-")
    where = settings if scratch is None else f"sqlite:///{Path(scratch.name) / 'plan.db'}"
    try:
        store = await asyncio.to_thread(Store.open, where)
    except BaseException:
        if scratch is not None:
            scratch.cleanup()
        raise
    added: list[str] = []
    try:
        if symbols and (not options.dry_run or scratch is not None):
            added = (await asyncio.to_thread(add_assets, store, symbols, clock=clock)).added
        run_start = clock()
        full_since = (
            await asyncio.to_thread(full_round_start, store, options=options, now=run_start)
            if options.full
            else None
        )
        plan = await asyncio.to_thread(
            lambda: plan_run(
                store,
                settings=settings,
                options=options,
                symbols=symbols,
                exchange=exchange,
                now=run_start,
                full_since=full_since,
            )
        )
        if exchange is not None and not symbols and not (plan.due or plan.skipped):
            raise UsageError(no_assets_on(exchange))
        record.update(
            planned=len(plan.due),
            skipped={str(reason): n for reason, n in plan.skipped.items()},
            calls_estimate=plan.calls_estimate + (USAGE_CHECK_CALLS if plan.due else 0),
            held_back=tuple(plan.held_back),
        )
        if options.dry_run:
            in_bulk = {s for b in plan.bulk for s in b.symbols}
            record.update(
                dry_run=True,
                bulk_planned=tuple(b.exchange for b in plan.bulk),
                plan=tuple(
                    PlannedAsset(
                        p.symbol,
                        "bulk" if p.symbol in in_bulk else p.reason,
                        p.start,
                        p.end,
                        0 if p.symbol in in_bulk else p.calls,
                    )
                    for p in plan.plans.values()
                ),
            )
            return record.summary(clock())
        if not plan.due:
            # Recorded all the same: a scheduled run that found everything fresh is evidence
            # that the schedule runs.
            try:
                run_id = await _start_run(
                    record, store, owner=owner, options=options, now=run_start
                )
                record.emit(RunPlanned(run_id, 0, dict(record.frame.skipped), 0, None, ()))
            except Exception as exc:
                record.note(RunFailed(redact(f"{type(exc).__name__}: {exc}", (settings.token,))))
                raise
            except BaseException as exc:
                record.note_interrupted(exc)
                raise
            finally:
                summary = record.summary(clock())
                if summary.run_id is not None:
                    await asyncio.to_thread(finish_run, store, summary)
            return summary
        await _execute(
            store,
            settings=settings,
            options=options,
            plan=plan,
            record=record,
            owner=owner,
            clock=clock,
            transport=transport,
            stop=stop,
            run_start=run_start,
            full_since=full_since,
            added=added,
        )
    finally:
        await asyncio.to_thread(store.close)
        if scratch is not None:
            scratch.cleanup()
    return record.summary(clock())


def missing_sqlite_file(url: str) -> str | None:
    """The path of the SQLite file ``url`` names when that file does not exist yet.

    ``None`` for an existing file, an in-memory database or another backend. Raises
    :class:`~data_nexus.errors.ConfigError` for a URL :func:`parse_database_url` refuses.
    """
    parsed = parse_database_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    if path.startswith("file:"):
        return None
    return None if Path(path).exists() else path


async def _start_run(
    record: _RunRecord, store: Store, *, owner: str, options: SyncOptions, now: dt.datetime
) -> int:
    """Insert the run's row (:func:`start_run`, in a thread) and record its id.

    The id is recorded even when the task is cancelled while the thread inserts (the
    insert goes on regardless), so that the caller's clean-up can still close the row
    instead of leaving it ``running``.
    """
    insert = asyncio.ensure_future(
        asyncio.to_thread(start_run, store, worker=owner, options=options, now=now)
    )
    try:
        run_id = await asyncio.shield(insert)
    except asyncio.CancelledError:
        record.update(run_id=await insert)
        raise
    record.update(run_id=run_id)
    return run_id


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
    record: _RunRecord,
    owner: str,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
    stop: StopSignal,
    run_start: dt.datetime,
    full_since: dt.datetime | None,
    added: Sequence[str] = (),
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
        not_found: set[str] = set()  # filled by the assets the provider answers 404 for
        client = make_client(
            settings,
            rate_limit=rate,
            rate_limiter=limiter,
            call_budget=budget,
            concurrency=options.concurrency,
            on_event=lambda e: record.emit(_notice_for(e)),
            transport=transport,
        )
        try:
            async with client:
                run_id = await _start_run(
                    record, store, owner=owner, options=options, now=run_start
                )
                limit, remaining = await _remaining_calls(client, store, settings, run_start)
                record.emit(
                    RunPlanned(
                        run_id,
                        len(plan.due),
                        dict(record.frame.skipped),
                        record.frame.calls_estimate,
                        remaining,
                        tuple(b.exchange for b in plan.bulk),
                    )
                )
                # the plan's fetches against what is left now the usage check is spent
                if (
                    remaining is not None
                    and plan.calls_estimate > remaining
                    and not options.allow_partial
                ):
                    raise BudgetTooSmall(plan.calls_estimate, remaining)
                budget.limit = limit
                writer = AsyncWriter(store)
                try:
                    ctx = RunContext(
                        not_found=not_found,
                        store=store,
                        provider=client,
                        writer=writer,
                        owner=owner,
                        plan_options=plan_options_of(settings, options, full_since),
                        clock=clock,
                        emit=record.emit,
                        secrets=(settings.token,),
                        run_id=run_id,
                    )
                    await process_run(
                        ctx,
                        client=client,
                        options=options,
                        plan=plan,
                        stop=stop,
                        run_start=run_start,
                    )
                except asyncio.CancelledError:
                    if not record.aborted:
                        raise
                    # A second signal: in-flight fetches were cancelled before they reached
                    # the writer, so their assets keep their previous state; the run ends
                    # here and is recorded as interrupted.
                    current = asyncio.current_task()
                    if current is not None:
                        current.uncancel()
                finally:
                    await writer.aclose()
                    record.update(
                        calls_spent=client.calls_spent, requests_sent=client.requests_sent
                    )
        except (AuthFailed, QuotaExhausted) as exc:
            # Before the first asset (the user endpoint, or the budget check): a stopped run
            # like one stopped later, so the caller still gets its summary.
            record.emit(RunStopping(redact(str(exc), (settings.token,)), StopCause.PROVIDER))
        except Exception as exc:
            record.note(RunFailed(redact(f"{type(exc).__name__}: {exc}", (settings.token,))))
            raise
        except BaseException as exc:  # cancelled or KeyboardInterrupt: in-flight work is gone
            record.note_interrupted(exc)
            raise
        finally:
            await budget.close()
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            failed = any(isinstance(e, RunFailed) for e in record.events)
            # the database may be what failed: then the run's own error is the one to see
            with contextlib.suppress(Exception) if failed else contextlib.nullcontext():
                await unregister_unconfirmed(store, record.emit, added, not_found, owner)
            # also when the run ended before fetching (refused by the budget): the usage
            # check was spent all the same
            record.update(calls_spent=client.calls_spent, requests_sent=client.requests_sent)
            summary = record.summary(clock())
            if summary.run_id is not None and summary.status is RunStatus.FAILED:
                with contextlib.suppress(Exception):  # the database may be what failed
                    await asyncio.to_thread(finish_run, store, summary)
            elif summary.run_id is not None:
                await asyncio.to_thread(finish_run, store, summary)


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

    The first signal stops scheduling and lets in-flight assets commit or roll back; a
    second one aborts at once: in-flight fetches are cancelled (those assets keep their
    previous state; a transaction already in the writer completes, never half). Either way
    the summary's outcome is ``interrupted``.
    """

    async def main() -> SyncSummary:
        stop = StopSignal()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        installed: list[signal.Signals] = []
        record = _RunRecord(on_event, "", clock())

        def handler() -> None:
            if stop.is_set and task is not None:
                if not record.aborted:
                    record.emit(
                        RunStopping("aborting: cancelling in-flight assets", StopCause.ABORTED)
                    )
                    task.cancel()
                return
            stop.set("interrupted")
            record.emit(
                RunStopping(
                    "stopping: finishing in-flight assets (signal again to abort)",
                    StopCause.INTERRUPTED,
                )
            )
            if on_signal is not None:
                on_signal()

        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, handler)
                    installed.append(sig)
        try:
            return await arun_sync(
                settings,
                options,
                on_event=on_event,
                clock=clock,
                transport=transport,
                stop=stop,
                _record=record,
            )
        except asyncio.CancelledError:
            if not record.aborted:
                raise
            # Aborted before the run's work began (planning, opening the store).
            return record.summary(clock())
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    return asyncio.run(main())
