"""Pure planning for a sync: what is due, which dates to fetch, what it will cost.

Nothing here touches the network, the database or the clock: every function takes the
state and ``now`` it needs, so the whole decision logic is unit-tested and ``--dry-run``
is simply the plan printed instead of executed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from data_nexus.exchanges import exchange_today, exchange_zone
from data_nexus.records import Bar


class BulkMode(StrEnum):
    """When a sync uses the per-exchange bulk endpoint (``datanexus sync --bulk``)."""

    #: When its requests cost fewer calls than the per-symbol ones they replace.
    AUTO = "auto"
    #: Whenever an asset can take it.
    ALWAYS = "always"
    #: Never.
    NEVER = "never"


class SkipReason(StrEnum):
    """Why an asset is not synced in a run (the keys of ``SyncSummary.skipped``)."""

    #: Excluded with ``datanexus assets pause``.
    PAUSED = "paused"
    #: A recent failure scheduled its retry later (``assets.next_attempt_at``).
    IN_BACKOFF = "in backoff"
    #: Delisted, and its history is stored: nothing new will come.
    DELISTED_COMPLETE = "delisted, history complete"
    #: Synced less than ``max_age`` ago.
    FRESH = "fresh"
    #: Claimed, but another worker took its lease before the write.
    LEASE_LOST = "lease lost"


class FetchMode(StrEnum):
    """How one asset is fetched (``AssetSynced.mode`` and the dry run's plan)."""

    FIRST_SYNC = "first sync"
    INCREMENTAL = "incremental"
    FULL_REFRESH = "full refresh"
    CORPORATE_ACTION = "corporate action detected"
    #: Every re-fetched close moved and no split explains it: another company's history.
    HISTORY_REPLACED = "history replaced"
    BULK = "bulk"
    #: ``--since`` earlier than the provider was ever asked (:func:`needs_backfill`): from
    #: that date through today.
    BACKFILL = "backfill"

    @property
    def is_full(self) -> bool:
        """Whether this mode rewrites the whole history (a full refresh)."""
        full = (FetchMode.FULL_REFRESH, FetchMode.CORPORATE_ACTION, FetchMode.HISTORY_REPLACED)
        return self in full


#: Weighted cost of one bulk request (EODHD: 100 calls) and of a bulk day (prices, splits,
#: dividends).
BULK_REQUEST_CALLS = 100
BULK_DAY_REQUESTS = 3
#: Assets further behind than this many sessions are synced per symbol even in bulk mode.
BULK_MAX_DAYS = 5
#: Local time after which an exchange's end-of-day bars for that date are final.
DATA_READY = dt.time(18, 0)
ONE_DAY = dt.timedelta(days=1)
BACKOFF_BASE = dt.timedelta(minutes=15)
BACKOFF_CAP = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AssetState:
    """The sync-relevant columns of one ``assets`` row."""

    symbol: str
    exchange: str
    is_active: bool = True
    is_delisted: bool = False
    last_synced: dt.datetime | None = None
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    #: ``assets.history_from``: see :func:`asked_from` and :func:`history_from_after`.
    history_from: dt.date | None = None
    actions_checked_at: dt.datetime | None = None
    fail_count: int = 0
    next_attempt_at: dt.datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """The knobs of a sync that the plan depends on (see ``datanexus sync --help``)."""

    max_age: dt.timedelta = dt.timedelta(days=1)
    full: bool = False
    since: dt.date | None = None
    correction_sessions: int = 5
    actions_every: dt.timedelta = dt.timedelta(days=30)
    retry_failed: bool = False
    #: With ``full``: the start of the ``--full`` round; an asset synced since is not
    #: fetched again (``None``: every asset is).
    full_since: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class HeldBack:
    """An asset a failure backoff keeps out of this run, and when it is tried again."""

    symbol: str
    next_attempt_at: dt.datetime
    fail_count: int
    last_error: str | None


def held_back(state: AssetState) -> HeldBack:
    """The :class:`HeldBack` of an asset skipped as :attr:`SkipReason.IN_BACKOFF`."""
    assert state.next_attempt_at is not None
    return HeldBack(state.symbol, state.next_attempt_at, state.fail_count, state.last_error)


#: ``assets.history_from`` after a fetch without ``from``: the provider was asked for the
#: whole history, so no ``--since`` is earlier.
WHOLE_HISTORY = dt.date.min


def asked_from(state: AssetState) -> dt.date | None:
    """The earliest date the provider has answered this asset's history from.

    ``history_from`` when known; else (a database from before revision 0003, until the
    next fetch that reaches back) the first stored bar, the best guess there is. ``None``:
    nothing is known (no bar stored, nothing recorded).
    """
    return state.history_from if state.history_from is not None else state.first_date


def needs_backfill(state: AssetState, options: PlanOptions) -> bool:
    """Whether ``--since`` asks for history earlier than the provider was ever asked for.

    Not merely earlier than the first stored bar: an asset listed after ``since``, or a
    ``since`` on a weekend or holiday, has no bar on or after ``since`` before its first
    one, and once a fetch from ``since`` (or earlier) succeeded, asking again would get the
    same answer (:func:`asked_from`).
    """
    asked = asked_from(state)
    return options.since is not None and asked is not None and options.since < asked


def history_from_after(
    state: AssetState, start: dt.date | None, *, replaced: bool = False
) -> dt.date | None:
    """``assets.history_from`` once a fetch from ``start`` (``None``: no ``from``) committed.

    A fetch reaching back to the first stored bar (or over an asset with none) extends what
    is known to its ``start`` (:data:`WHOLE_HISTORY` without one); a later start (the usual
    incremental window) leaves it as it was. ``replaced``: the answer replaced the whole
    stored history (another company's), so only this fetch counts.
    """
    reach = WHOLE_HISTORY if start is None else start
    if replaced or state.first_date is None:
        return reach
    if reach > state.first_date:
        return state.history_from
    return reach if state.history_from is None else min(state.history_from, reach)


def sessions_back(day: dt.date, sessions: int) -> dt.date:
    """The date ``sessions`` weekdays before ``day`` (holidays are not known here)."""
    current = day
    remaining = sessions
    while remaining > 0:
        current -= dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def weekdays_between(after: dt.date, until: dt.date) -> list[dt.date]:
    """Weekdays in ``(after, until]``: the candidate sessions after the last stored bar."""
    days = []
    current = after + dt.timedelta(days=1)
    while current <= until:
        if current.weekday() < 5:
            days.append(current)
        current += dt.timedelta(days=1)
    return days


def skip_reason(
    state: AssetState, *, now: dt.datetime, options: PlanOptions, explicit: bool = False
) -> SkipReason | None:
    """Why ``state`` is not due now, or ``None`` when it is.

    Due = active, and never synced or last synced longer ago than ``max_age``, and not in
    backoff after a failure. ``--full`` ignores freshness and backoff, except that an asset
    synced since ``options.full_since`` (the round's start) is fresh. Symbols named
    explicitly, and every asset with ``--retry-failed``, ignore the failure backoff (the user
    asked for them now). Symbols named explicitly with a ``--since`` earlier than the
    provider was ever asked for are due (a backfill, :func:`needs_backfill`). A delisted
    asset whose history is stored is not fetched again unless ``--full`` or a backfill.
    """
    if not state.is_active:
        return SkipReason.PAUSED
    if options.full:
        since = options.full_since
        if since is None or state.last_synced is None or state.last_synced < since:
            return None
        return SkipReason.FRESH
    in_backoff = state.next_attempt_at is not None and state.next_attempt_at > now
    if in_backoff and not (explicit or options.retry_failed):
        return SkipReason.IN_BACKOFF
    if state.last_synced is None or (explicit and needs_backfill(state, options)):
        return None
    if state.is_delisted and state.last_date is not None:
        return SkipReason.DELISTED_COMPLETE
    if now - state.last_synced < options.max_age:
        return SkipReason.FRESH
    return None


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """What one asset's per-symbol sync fetches.

    ``start is None`` means the whole history. ``fetch_actions`` adds the splits and
    dividends requests (first sync, full refresh, or the safety-net schedule). ``mode``
    says why; :attr:`reason` is its text for people.
    """

    symbol: str
    exchange: str
    start: dt.date | None
    end: dt.date
    full: bool
    fetch_actions: bool
    mode: FetchMode

    @property
    def reason(self) -> str:
        """The mode as shown to people: an incremental fetch with actions says so."""
        if self.mode in (FetchMode.INCREMENTAL, FetchMode.BACKFILL) and self.fetch_actions:
            return f"{self.mode} + actions safety net"
        return str(self.mode)

    @property
    def calls(self) -> int:
        """Weighted API calls this plan costs (before any refetch it may trigger)."""
        return 1 + (2 if self.fetch_actions else 0)


def plan_fetch(state: AssetState, *, now: dt.datetime, options: PlanOptions) -> FetchPlan:
    """The fetch for one due asset.

    First sync or ``--full``: the whole history (from ``--since`` if given) plus its
    actions. Otherwise the incremental window: from ``correction_sessions`` sessions before
    the last stored bar (re-fetching them corrects provider revisions and partial bars,
    and reveals new corporate actions through a changed ``adjusted_close``) to today in
    the exchange's time zone; actions only when the safety-net schedule says so.

    A ``--since`` earlier than the provider was ever asked for (:func:`needs_backfill`; not
    merely before the first stored bar) makes it a backfill: the same incremental
    fetch, one request from ``since`` through today (EODHD charges one call for any range),
    so the missing older history is added and the stored bars are checked against the
    provider like the correction window. Actions follow the safety-net schedule as usual:
    a first sync already stored the whole action history.
    """
    today = exchange_today(state.exchange, now)
    if options.full or state.last_date is None:
        mode = FetchMode.FULL_REFRESH if options.full else FetchMode.FIRST_SYNC
        return FetchPlan(state.symbol, state.exchange, options.since, today, True, True, mode)
    # min(): a bar stored after today (by a version that did not skip them) never pushes
    # the window past today
    start = sessions_back(min(state.last_date, today), options.correction_sessions)
    mode = FetchMode.INCREMENTAL
    if needs_backfill(state, options):
        start, mode = cast(dt.date, options.since), FetchMode.BACKFILL
    elif options.since is not None and options.since > start:
        start = options.since
    stale_actions = (
        state.actions_checked_at is None or now - state.actions_checked_at >= options.actions_every
    )
    return FetchPlan(state.symbol, state.exchange, start, today, False, stale_actions, mode)


def full_refresh_of(plan: FetchPlan, since: dt.date | None) -> FetchPlan:
    """The plan that replaces ``plan`` once a corporate action was detected."""
    return FetchPlan(
        plan.symbol, plan.exchange, since, plan.end, True, True, FetchMode.CORPORATE_ACTION
    )


@dataclass(frozen=True, slots=True)
class WindowCheck:
    """How the re-fetched sessions compare with what is stored."""

    adjustment_changed: bool
    revised_dates: tuple[dt.date, ...]


def _values(bar: Bar) -> tuple[object, ...]:
    return (bar.open, bar.high, bar.low, bar.close, bar.adjusted_close, bar.volume)


def check_window(stored: Sequence[Bar], fetched: Sequence[Bar]) -> WindowCheck:
    """Compare the stored bars with the re-fetched ones on the dates both have.

    A day whose raw ``close`` is unchanged but whose ``adjusted_close`` differs means the
    provider re-adjusted history: a split or dividend happened (or was corrected), so the
    whole adjusted history must be fetched again. Any other difference is a revision of
    that bar (late volume, a corrected print) and is simply overwritten.
    """
    by_date = {bar.date: bar for bar in fetched}
    changed = False
    revised: list[dt.date] = []
    for old in stored:
        new = by_date.get(old.date)
        if new is None:
            continue
        if _values(old) != _values(new):
            revised.append(old.date)
            if old.close == new.close and old.adjusted_close != new.adjusted_close:
                changed = True
    return WindowCheck(changed, tuple(revised))


def backoff_delay(fail_count: int) -> dt.timedelta:
    """Wait before retrying an asset that failed ``fail_count`` times in a row.

    15 minutes, doubling per failure, capped at a day.
    """
    if fail_count <= 0:
        return dt.timedelta(0)
    delay = BACKOFF_BASE * (1 << min(fail_count - 1, 16))
    return min(delay, BACKOFF_CAP)


@dataclass(frozen=True, slots=True)
class BulkPlan:
    """A bulk update of one exchange: these sessions for these assets."""

    exchange: str
    days: tuple[dt.date, ...]
    symbols: tuple[str, ...]

    @property
    def calls(self) -> int:
        """Weighted calls of the bulk requests (prices, splits, dividends per day)."""
        return len(self.days) * BULK_DAY_REQUESTS * BULK_REQUEST_CALLS


def covered_through(state: AssetState) -> dt.date | None:
    """The last session this asset's stored data is final for (a bar, or no trading).

    The last stored bar, or the exchange date of the last sync when it ran after
    :data:`DATA_READY` local time (the day's final bars are published by then), else the
    day before — whichever is later.
    """
    if state.last_date is None:
        return None
    if state.last_synced is None:
        return state.last_date
    local = state.last_synced.astimezone(exchange_zone(state.exchange))
    synced_day = local.date() if local.time() >= DATA_READY else local.date() - ONE_DAY
    return max(state.last_date, synced_day)


def plan_bulk(
    exchange: str,
    plans: Iterable[FetchPlan],
    states: dict[str, AssetState],
    *,
    now: dt.datetime,
    mode: BulkMode,
) -> BulkPlan | None:
    """Whether (and for which assets and days) to update ``exchange`` through bulk requests.

    Incremental assets covered up to the same session (the most common one, so that a few
    thinly traded or lagging assets cannot stretch the bulk days) take the bulk path for
    the sessions since; the rest, and anything more than :data:`BULK_MAX_DAYS` sessions
    behind, sync per symbol. ``auto`` chooses bulk when its requests cost fewer calls than
    the per-symbol requests it replaces; ``always`` whenever an asset can take it; ``never``
    not at all.
    """
    if mode == BulkMode.NEVER:
        return None
    today = exchange_today(exchange, now)
    candidates: list[tuple[FetchPlan, dt.date]] = []
    for plan in plans:
        covered = covered_through(states[plan.symbol])
        if plan.full or plan.fetch_actions or plan.mode is FetchMode.BACKFILL or covered is None:
            continue
        if len(weekdays_between(covered, today)) > BULK_MAX_DAYS:
            continue
        candidates.append((plan, covered))
    if not candidates:
        return None
    counts = Counter(covered for _, covered in candidates)
    common = max(counts, key=lambda day: (counts[day], day))
    eligible = [plan for plan, covered in candidates if covered >= common]
    days = tuple(weekdays_between(common, today))
    if not days:  # nothing new: the per-symbol path re-fetches the correction window instead
        return None
    bulk = BulkPlan(exchange, days, tuple(p.symbol for p in eligible))
    per_symbol_calls = sum(p.calls for p in eligible)
    if mode == BulkMode.AUTO and bulk.calls >= per_symbol_calls:
        return None
    return bulk
