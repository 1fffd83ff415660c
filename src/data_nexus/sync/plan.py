"""Pure planning for one asset's sync: whether it is due, which dates to fetch, what it costs.

Nothing here touches the network, the database or the clock: every function takes the
state and ``now`` it needs, so the whole decision logic is unit-tested and ``--dry-run``
is simply the plan printed instead of executed. The rest of the plan lives beside it, each
concept in its own module and re-exported here: the named decisions
(:mod:`~data_nexus.sync.modes`), weekday arithmetic (:mod:`~data_nexus.sync.weekdays`), the
bulk plan over an exchange (:mod:`~data_nexus.sync.bulk_plan`) and the check of re-fetched
sessions (:mod:`~data_nexus.sync.window`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from data_nexus.exchanges import exchange_today
from data_nexus.sync.bulk_plan import BulkPlan, plan_bulk
from data_nexus.sync.modes import BulkMode, FetchMode, SkipReason
from data_nexus.sync.weekdays import sessions_back, weekdays_between
from data_nexus.sync.window import WindowCheck, check_window

__all__ = [  # the per-asset plan, and the parts callers outside sync import from here
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "WHOLE_HISTORY",
    "AssetState",
    "BulkMode",
    "BulkPlan",
    "FetchMode",
    "FetchPlan",
    "HeldBack",
    "PlanOptions",
    "SkipReason",
    "WindowCheck",
    "asked_from",
    "backoff_delay",
    "check_window",
    "full_refresh_of",
    "held_back",
    "history_from_after",
    "needs_backfill",
    "plan_bulk",
    "plan_fetch",
    "sessions_back",
    "skip_reason",
    "weekdays_between",
]

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


def backoff_delay(fail_count: int) -> dt.timedelta:
    """Wait before retrying an asset that failed ``fail_count`` times in a row.

    15 minutes, doubling per failure, capped at a day.
    """
    if fail_count <= 0:
        return dt.timedelta(0)
    delay = BACKOFF_BASE * (1 << min(fail_count - 1, 16))
    return min(delay, BACKOFF_CAP)
