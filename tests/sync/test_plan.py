"""The pure planner: due rules, incremental windows, corporate-action detection, bulk choice."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_nexus.records import Bar
from data_nexus.sync.plan import (
    WHOLE_HISTORY,
    AssetState,
    BulkMode,
    FetchMode,
    FetchPlan,
    PlanOptions,
    SkipReason,
    backoff_delay,
    check_window,
    history_from_after,
    needs_backfill,
    plan_bulk,
    plan_fetch,
    sessions_back,
    skip_reason,
    weekdays_between,
)

NOW = dt.datetime(2026, 11, 24, 23, 0, tzinfo=dt.UTC)  # Tuesday 18:00 in New York
OPTS = PlanOptions()
ZERO = dt.timedelta(0)
HOUR = dt.timedelta(hours=1)
DELISTED_DONE = {
    "is_delisted": True,
    "last_synced": NOW - dt.timedelta(days=9),
    "last_date": dt.date(2020, 1, 2),
}


FRESH_FROM_2020 = {
    "last_synced": NOW - HOUR,
    "first_date": dt.date(2020, 1, 2),
    "last_date": dt.date(2026, 11, 23),
}
BACK_TO_2010 = PlanOptions(since=dt.date(2010, 1, 4))


def state(**kw: object) -> AssetState:
    base: dict[str, object] = {"symbol": "AAPL.US", "exchange": "US"}
    base.update(kw)
    return AssetState(**base)  # type: ignore[arg-type]


def bar(day: dt.date, close: str, adj: str, volume: int = 100) -> Bar:
    c = Decimal(close)
    return Bar("AAPL.US", day, c, c, c, c, Decimal(adj), volume)


@pytest.mark.parametrize(
    ("kw", "options", "explicit", "expected"),
    [
        ({}, OPTS, False, None),  # never synced
        ({"is_active": False}, OPTS, False, "paused"),
        ({"last_synced": NOW - dt.timedelta(hours=2)}, OPTS, False, "fresh"),
        ({"last_synced": NOW - dt.timedelta(days=1)}, OPTS, False, None),
        ({"last_synced": NOW - dt.timedelta(hours=2)}, PlanOptions(full=True), False, None),
        ({"last_synced": NOW - HOUR}, PlanOptions(full=True, full_since=NOW - 2 * HOUR), False,
         "fresh"),  # refreshed by another worker of the same --full round
        ({"last_synced": NOW - 3 * HOUR}, PlanOptions(full=True, full_since=NOW - 2 * HOUR),
         False, None),
        ({}, PlanOptions(full=True, full_since=NOW - 2 * HOUR), False, None),
        ({"last_synced": NOW - dt.timedelta(hours=2)}, PlanOptions(max_age=ZERO), False, None),
        ({"next_attempt_at": NOW + HOUR}, OPTS, False, SkipReason.IN_BACKOFF),
        ({"next_attempt_at": NOW + HOUR}, OPTS, True, None),
        ({"next_attempt_at": NOW + HOUR}, PlanOptions(retry_failed=True), False, None),
        ({**FRESH_FROM_2020, "next_attempt_at": NOW + HOUR}, BACK_TO_2010, False, "in backoff"),
        (FRESH_FROM_2020, BACK_TO_2010, True, None),  # named: a backfill is due now
        (FRESH_FROM_2020, BACK_TO_2010, False, "fresh"),  # else it waits until due
        (FRESH_FROM_2020, PlanOptions(since=dt.date(2021, 1, 4)), True, "fresh"),
        # the provider was asked from 2010 (or from the beginning) already: no backfill
        ({**FRESH_FROM_2020, "history_from": dt.date(2010, 1, 4)}, BACK_TO_2010, True, "fresh"),
        ({**FRESH_FROM_2020, "history_from": WHOLE_HISTORY}, BACK_TO_2010, True, "fresh"),
        ({**FRESH_FROM_2020, "history_from": dt.date(2015, 1, 2)}, BACK_TO_2010, True, None),
        ({**DELISTED_DONE, "first_date": dt.date(2015, 1, 2)}, BACK_TO_2010, True, None),
        (DELISTED_DONE, OPTS, False, "delisted, history complete"),
        ({"is_delisted": True}, OPTS, False, None),
    ],
)  # fmt: skip
def test_skip_reason(
    kw: dict[str, object], options: PlanOptions, explicit: bool, expected: str | None
) -> None:
    """Due = active, never synced or older than max-age, not in backoff (named ones ignore it)."""
    assert skip_reason(state(**kw), now=NOW, options=options, explicit=explicit) == expected


def test_first_sync_fetches_everything_up_to_exchange_today() -> None:
    """First sync: whole history and actions, up to today in New York (not UTC)."""
    plan = plan_fetch(state(), now=dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC), options=OPTS)
    assert plan == FetchPlan(
        "AAPL.US", "US", None, dt.date(2026, 11, 24), True, True, FetchMode.FIRST_SYNC
    )
    assert plan.calls == 3


def test_incremental_window_refetches_the_last_sessions() -> None:
    """Incremental: from five sessions before the last stored bar (over a weekend), 1 call."""
    s = state(
        last_synced=NOW - dt.timedelta(days=1),
        first_date=dt.date(2000, 1, 3),
        last_date=dt.date(2026, 11, 23),  # Monday
        actions_checked_at=NOW - dt.timedelta(days=3),
    )
    plan = plan_fetch(s, now=NOW, options=OPTS)
    assert plan.start == dt.date(2026, 11, 16)
    assert plan.end == dt.date(2026, 11, 24)
    assert (plan.full, plan.fetch_actions, plan.calls) == (False, False, 1)


def test_a_stored_bar_after_today_never_pushes_the_window_past_today() -> None:
    """Kind 5: a database written by an older version holds a bar dated 2026-12-31 on
    2026-11-24; the window still ends today and starts five sessions before it."""
    s = state(last_synced=NOW - dt.timedelta(days=1), last_date=dt.date(2026, 12, 31))
    plan = plan_fetch(s, now=NOW, options=OPTS)
    assert (plan.start, plan.end) == (dt.date(2026, 11, 17), dt.date(2026, 11, 24))


def test_actions_safety_net() -> None:
    """Splits/dividends are fetched explicitly when the safety-net period has passed."""
    s = state(
        last_synced=NOW - dt.timedelta(days=1),
        last_date=dt.date(2026, 11, 23),
        actions_checked_at=NOW - dt.timedelta(days=31),
    )
    plan = plan_fetch(s, now=NOW, options=OPTS)
    assert plan.fetch_actions and plan.calls == 3 and not plan.full


def test_since_before_the_first_bar_backfills() -> None:
    """--since before the first stored bar: one fetch from that date through today, not bulk."""
    s = state(**FRESH_FROM_2020, actions_checked_at=NOW - dt.timedelta(days=3))
    plan = plan_fetch(s, now=NOW, options=BACK_TO_2010)
    assert plan == FetchPlan(
        "AAPL.US", "US", dt.date(2010, 1, 4), dt.date(2026, 11, 24), False, False,
        FetchMode.BACKFILL,
    )  # fmt: skip
    assert plan.calls == 1 and plan.reason == "backfill"
    later = plan_fetch(s, now=NOW, options=PlanOptions(since=dt.date(2020, 1, 2)))
    assert later.mode is FetchMode.INCREMENTAL  # nothing before the first bar is asked for
    states = {"AAPL.US": s}
    assert plan_bulk("US", [plan], states, now=NOW, mode=BulkMode.ALWAYS) is None
    assert plan_bulk("US", [later], states, now=NOW, mode=BulkMode.ALWAYS) is not None


def _after(s: AssetState, start: dt.date | None, **kw: object) -> AssetState:
    """``s`` once a fetch from ``start`` committed (what the pipeline writes)."""
    return replace(s, history_from=history_from_after(s, start), **kw)  # type: ignore[arg-type]


def test_since_before_the_listing_backfills_once() -> None:
    """Listed in 2020, --since 2010 on every run: one backfill, then incremental forever."""
    s = state(**FRESH_FROM_2020)  # a database from before 0003: history_from unknown
    first = plan_fetch(s, now=NOW, options=BACK_TO_2010)
    assert (first.mode, first.start) == (FetchMode.BACKFILL, dt.date(2010, 1, 4))
    # the provider has nothing before 2020-01-02: first_date stays, history_from is 2010
    done = _after(s, first.start)
    assert done.history_from == dt.date(2010, 1, 4) and done.first_date == dt.date(2020, 1, 2)
    assert not needs_backfill(done, BACK_TO_2010)
    assert plan_fetch(done, now=NOW, options=BACK_TO_2010).mode is FetchMode.INCREMENTAL
    # an incremental fetch (from five sessions back) leaves it as it was
    again = _after(done, plan_fetch(done, now=NOW, options=BACK_TO_2010).start)
    assert again.history_from == dt.date(2010, 1, 4)
    # an earlier --since later: a backfill again, and it is remembered
    earlier = PlanOptions(since=dt.date(2005, 1, 3))
    back = plan_fetch(again, now=NOW, options=earlier)
    assert (back.mode, back.start) == (FetchMode.BACKFILL, dt.date(2005, 1, 3))
    assert _after(again, back.start).history_from == dt.date(2005, 1, 3)
    # a later --since never moves it forward
    assert _after(again, dt.date(2019, 1, 2)).history_from == dt.date(2010, 1, 4)


def test_since_on_a_weekend_backfills_once() -> None:
    """--since on a Saturday before the first bar (the Monday): one backfill, then none."""
    saturday = PlanOptions(since=dt.date(2019, 12, 28))
    s = state(**FRESH_FROM_2020)
    plan = plan_fetch(s, now=NOW, options=saturday)
    assert plan.mode is FetchMode.BACKFILL
    assert plan_fetch(_after(s, plan.start), now=NOW, options=saturday).mode is (
        FetchMode.INCREMENTAL
    )
    # the same on a first sync bounded by --since: no backfill on the next run
    first = plan_fetch(state(), now=NOW, options=saturday)
    assert (first.mode, first.start) == (FetchMode.FIRST_SYNC, dt.date(2019, 12, 28))
    synced = _after(state(), first.start, **FRESH_FROM_2020)
    assert synced.history_from == dt.date(2019, 12, 28)
    assert plan_fetch(synced, now=NOW, options=saturday).mode is FetchMode.INCREMENTAL


def test_a_whole_history_fetch_covers_every_since() -> None:
    """A first sync or --full without --since asked from the beginning: no --since backfills."""
    assert _after(state(), None).history_from == WHOLE_HISTORY
    old = state(**FRESH_FROM_2020, history_from=dt.date(2015, 1, 2))
    full = plan_fetch(old, now=NOW, options=PlanOptions(full=True))
    assert full.start is None
    done = _after(old, full.start)
    assert done.history_from == WHOLE_HISTORY
    assert not needs_backfill(done, PlanOptions(since=dt.date(1900, 1, 1)))
    # --full --since 2018 keeps what was asked before (older bars are not deleted)
    assert _after(old, dt.date(2018, 1, 2)).history_from == dt.date(2015, 1, 2)
    # a replaced history (the old company's bars deleted) counts only this fetch
    assert history_from_after(done, dt.date(2018, 1, 2), replaced=True) == dt.date(2018, 1, 2)


def test_history_from_is_set_only_by_fetches_reaching_the_first_bar() -> None:
    """Unknown stays unknown after an incremental fetch; a short history's window reaches."""
    legacy = state(**FRESH_FROM_2020)
    assert history_from_after(legacy, dt.date(2026, 11, 16)) is None
    assert history_from_after(legacy, dt.date(2020, 1, 2)) == dt.date(2020, 1, 2)
    assert history_from_after(state(), dt.date(2026, 1, 2)) == dt.date(2026, 1, 2)


def test_since_bounds_first_sync() -> None:
    """--since bounds the first fetch."""
    plan = plan_fetch(state(), now=NOW, options=PlanOptions(since=dt.date(2020, 1, 1)))
    assert plan.start == dt.date(2020, 1, 1)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)), st.integers(1, 30))
def test_sessions_back_counts_weekdays(day: dt.date, n: int) -> None:
    """sessions_back(d, n) is the weekday such that [start, d) holds exactly n weekdays."""
    start = sessions_back(day, n)
    assert start < day and start.weekday() < 5
    assert 1 + len(weekdays_between(start, day - dt.timedelta(days=1))) == n


def test_check_window_detects_readjustment_and_revisions() -> None:
    """Same close but new adjusted_close → corporate action; other changes → revisions."""
    d1, d2, d3 = dt.date(2026, 11, 20), dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    stored = [bar(d1, "10", "10"), bar(d2, "11", "11")]
    same = check_window(stored, [bar(d1, "10", "10"), bar(d2, "11", "11"), bar(d3, "12", "12")])
    assert not same.adjustment_changed and same.revised_dates == ()
    dividend = check_window(stored, [bar(d1, "10", "9.9"), bar(d2, "11", "10.89")])
    assert dividend.adjustment_changed and dividend.revised_dates == (d1, d2)
    late_volume = check_window(stored, [bar(d1, "10", "10"), bar(d2, "11", "11", volume=999)])
    assert not late_volume.adjustment_changed and late_volume.revised_dates == (d2,)
    corrected = check_window(stored, [bar(d1, "10", "10"), bar(d2, "11.5", "11.5")])
    assert not corrected.adjustment_changed and corrected.revised_dates == (d2,)


def test_backoff_doubles_and_caps() -> None:
    """15 min, 30 min, 1 h … capped at one day."""
    assert [backoff_delay(n).total_seconds() / 60 for n in (1, 2, 3)] == [15, 30, 60]
    assert backoff_delay(40) == dt.timedelta(days=1)


def _incremental(
    n: int, last: dt.date, synced: dt.datetime = NOW - dt.timedelta(days=1)
) -> tuple[list[FetchPlan], dict[str, AssetState]]:
    states = {
        f"S{i}.US": state(symbol=f"S{i}.US", last_synced=synced,
                          last_date=last, actions_checked_at=NOW)
        for i in range(n)
    }  # fmt: skip
    return [plan_fetch(s, now=NOW, options=OPTS) for s in states.values()], states


def test_bulk_auto_chooses_the_cheaper_path() -> None:
    """1,000 assets one day behind → bulk (300 calls); 60 assets → per symbol (60 calls)."""
    plans, states = _incremental(1000, dt.date(2026, 11, 23))
    bulk = plan_bulk("US", plans, states, now=NOW, mode=BulkMode.AUTO)
    assert bulk is not None and bulk.days == (dt.date(2026, 11, 24),) and bulk.calls == 300
    plans, states = _incremental(60, dt.date(2026, 11, 23))
    assert plan_bulk("US", plans, states, now=NOW, mode=BulkMode.AUTO) is None
    assert plan_bulk("US", plans, states, now=NOW, mode=BulkMode.ALWAYS) is not None
    assert plan_bulk("US", plans, states, now=NOW, mode=BulkMode.NEVER) is None


def test_bulk_skips_assets_too_far_behind_or_up_to_date() -> None:
    """Assets weeks behind go per symbol; nothing new since the last bar → no bulk."""
    long_ago = dt.datetime(2026, 10, 1, 23, tzinfo=dt.UTC)
    plans, states = _incremental(1000, dt.date(2026, 10, 1), synced=long_ago)
    assert plan_bulk("US", plans, states, now=NOW, mode=BulkMode.ALWAYS) is None
    plans, states = _incremental(1000, dt.date(2026, 11, 24))
    assert plan_bulk("US", plans, states, now=NOW, mode=BulkMode.ALWAYS) is None


def test_bulk_days_follow_the_common_session_not_laggards() -> None:
    """A thinly traded asset (no bar on the last session) cannot stretch the bulk days."""
    plans, states = _incremental(1000, dt.date(2026, 11, 23))
    thin = state(symbol="THIN.US", last_synced=NOW - dt.timedelta(days=1),
                 last_date=dt.date(2026, 11, 18), actions_checked_at=NOW)  # fmt: skip
    lagging = state(symbol="LAG.US", last_synced=NOW - dt.timedelta(days=3),
                    last_date=dt.date(2026, 11, 20), actions_checked_at=NOW)  # fmt: skip
    for extra in (thin, lagging):
        states[extra.symbol] = extra
        plans.append(plan_fetch(extra, now=NOW, options=OPTS))
    bulk = plan_bulk("US", plans, states, now=NOW, mode=BulkMode.AUTO)
    assert bulk is not None and bulk.days == (dt.date(2026, 11, 24),)
    assert "THIN.US" in bulk.symbols  # synced after the close on the 23rd: covered
    assert "LAG.US" not in bulk.symbols  # last synced on the 21st: per symbol
