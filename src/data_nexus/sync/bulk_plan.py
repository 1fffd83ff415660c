"""Planning a bulk update (pure): which assets of an exchange take the bulk path, for which days.

The per-exchange bulk endpoint answers one session for every symbol at a weighted cost of
100 calls a request; :func:`plan_bulk` decides from the per-symbol plans
(:func:`data_nexus.sync.plan.plan_fetch`) whether that is cheaper (``--bulk auto``) or
wanted anyway (``always``), and :mod:`data_nexus.sync.bulk` carries it out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from data_nexus.exchanges import exchange_today, exchange_zone
from data_nexus.sync.modes import BulkMode, FetchMode
from data_nexus.sync.weekdays import weekdays_between

if TYPE_CHECKING:  # only types: plan.py re-exports plan_bulk
    from data_nexus.sync.plan import AssetState, FetchPlan

#: Weighted cost of one bulk request (EODHD: 100 calls) and of a bulk day (prices, splits,
#: dividends).
BULK_REQUEST_CALLS = 100
BULK_DAY_REQUESTS = 3
#: Assets further behind than this many sessions are synced per symbol even in bulk mode.
BULK_MAX_DAYS = 5
#: Local time after which an exchange's end-of-day bars for that date are final.
DATA_READY = dt.time(18, 0)
ONE_DAY = dt.timedelta(days=1)


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
