"""Leases and due selection in SQL agree with the pure planner; claims never overlap."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_nexus.errors import LeaseConflict
from data_nexus.models import Asset
from data_nexus.storage.leases import STATE_COLUMNS
from data_nexus.storage.provider_state import RunLock
from data_nexus.storage.store import Store
from data_nexus.sync.leases import (
    acquire_run_lock,
    claim_due,
    load_states,
    lock_refusal,
    record_failure,
    release,
    release_run_lock,
)
from data_nexus.sync.plan import AssetState, PlanOptions, skip_reason

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=10)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


offsets = st.one_of(st.none(), st.integers(-72, 72).map(lambda h: NOW + dt.timedelta(hours=h)))
asset_rows = st.fixed_dictionaries(
    {
        "is_active": st.booleans(),
        "is_delisted": st.booleans(),
        "last_synced": offsets,
        "first_date": st.one_of(st.none(), st.just(dt.date(2026, 11, 10))),
        "last_date": st.one_of(st.none(), st.just(dt.date(2026, 11, 20))),
        # asked back to a weekend before --since 2026-11-15, to it, or to the beginning
        "history_from": st.sampled_from(
            [None, dt.date(2026, 11, 8), dt.date(2026, 11, 15), dt.date.min]
        ),
        "next_attempt_at": offsets,
    }
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(asset_rows, min_size=1, max_size=12),
    explicit=st.booleans(),
    options=st.builds(
        PlanOptions,
        max_age=st.sampled_from([0, 1, 24, 48]).map(lambda h: dt.timedelta(hours=h)),
        full=st.booleans(),
        retry_failed=st.booleans(),
        since=st.sampled_from([None, dt.date(2026, 11, 1), dt.date(2026, 11, 15)]),
    ),
    round_h=st.sampled_from([None, 0, 2, 30]),
)
def test_sql_due_condition_matches_skip_reason(
    *,
    store: Store,
    rows: list[dict[str, object]],
    explicit: bool,
    options: PlanOptions,
    round_h: int | None,
) -> None:
    """claim_due leases exactly the assets skip_reason calls due."""
    with store.engine.begin() as conn:
        conn.execute(sa.delete(Asset))
        conn.execute(
            sa.insert(Asset),
            [
                {"symbol": f"S{i}.US", "code": f"S{i}", "exchange": "US", **r}
                for i, r in enumerate(rows)
            ],
        )
    full_since = None if round_h is None else NOW - dt.timedelta(hours=round_h)
    options = replace(options, full_since=full_since)
    expected = {
        s.symbol
        for s in load_states(store)
        if skip_reason(s, now=NOW, options=options, explicit=explicit) is None
    }
    claimed = claim_due(
        store, owner="w@nowhere:1", now=NOW, options=options, limit=100, lease_ttl=TTL,
        explicit=explicit,
    )  # fmt: skip
    assert {s.symbol for s in claimed} == expected


def test_sql_due_condition_backfills_and_retries(store: Store) -> None:
    """Named with a --since earlier than it was ever asked for, a fresh asset is due (not one
    asked from that date already); --retry-failed ignores a backoff."""
    fresh = {"last_synced": NOW - dt.timedelta(hours=1), "last_date": dt.date(2026, 11, 20)}
    rows = {
        "LATE.US": {**fresh, "first_date": dt.date(2026, 11, 10)},
        "EARLY.US": {**fresh, "first_date": dt.date(2026, 10, 1)},
        # listed after --since, and the provider was asked from --since already
        "ASKED.US": {
            **fresh,
            "first_date": dt.date(2026, 11, 10),
            "history_from": dt.date(2026, 11, 1),
        },
        "WAIT.US": {"next_attempt_at": NOW + dt.timedelta(hours=1)},
    }
    with store.engine.begin() as conn:
        for symbol, values in rows.items():
            conn.execute(
                sa.insert(Asset).values(symbol=symbol, code=symbol[:-3], exchange="US", **values)
            )

    def claimed(options: PlanOptions, explicit: bool) -> set[str]:
        got = claim_due(
            store, owner="w@nowhere:1", now=NOW, options=options, limit=100, lease_ttl=TTL,
            explicit=explicit, symbols=list(rows) if explicit else None,
        )  # fmt: skip
        release(store, [s.symbol for s in got], owner="w@nowhere:1")
        return {s.symbol for s in got}

    back = PlanOptions(since=dt.date(2026, 11, 1))
    assert claimed(back, explicit=True) == {"LATE.US", "WAIT.US"}
    assert claimed(back, explicit=False) == set()
    assert claimed(PlanOptions(retry_failed=True), explicit=False) == {"WAIT.US"}


def _register(store: Store, n: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(Asset),
            [{"symbol": f"S{i:03}.US", "code": f"S{i:03}", "exchange": "US"} for i in range(n)],
        )


def test_claims_are_leases(store: Store) -> None:
    """A leased asset is not claimed by another owner until the lease expires."""
    _register(store, 5)
    first = claim_due(store, owner="a@h:1", now=NOW, options=PlanOptions(), limit=3, lease_ttl=TTL)
    assert [s.symbol for s in first] == ["S000.US", "S001.US", "S002.US"]
    second = claim_due(
        store, owner="b@h:2", now=NOW, options=PlanOptions(), limit=10, lease_ttl=TTL
    )
    assert [s.symbol for s in second] == ["S003.US", "S004.US"]
    later = NOW + TTL + dt.timedelta(seconds=1)
    third = claim_due(
        store, owner="c@h:3", now=later, options=PlanOptions(), limit=10, lease_ttl=TTL
    )
    assert len(third) == 5  # every lease expired: a crashed worker's assets come back


def test_failure_is_recorded_with_backoff_and_redacted(store: Store) -> None:
    """record_failure counts, schedules a retry, clears the lease and hides secrets."""
    _register(store, 1)
    claim_due(store, owner="a@h:1", now=NOW, options=PlanOptions(), limit=1, lease_ttl=TTL)
    retry = record_failure(
        store, "S000.US", owner="a@h:1", now=NOW,
        error="ProviderUnavailable: GET /api/eod/S000.US?api_token=sekrit-123 failed",
        secrets=("sekrit-123",),
    )  # fmt: skip
    assert retry == NOW + dt.timedelta(minutes=15)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(Asset.__table__)).mappings().one()
    assert row["fail_count"] == 1 and row["lease_owner"] is None
    assert "sekrit" not in row["last_error"] and "***" in row["last_error"]


def test_sqlite_allows_one_sync(store: Store) -> None:
    """A second sync on the same SQLite database is refused with a clear line."""
    acquire_run_lock(store, owner="one@elsewhere:1", now=NOW, ttl=TTL)
    with pytest.raises(LeaseConflict, match="SQLite database, which allows one writer"):
        acquire_run_lock(store, owner="two@elsewhere:2", now=NOW, ttl=TTL)
    release_run_lock(store, owner="one@elsewhere:1")
    acquire_run_lock(store, owner="two@elsewhere:2", now=NOW, ttl=TTL)


def test_dead_local_process_lock_is_taken_over(store: Store) -> None:
    """After a crash (kill -9) on this host, the next run does not wait for the lock to expire."""
    import socket

    dead = f"sync@{socket.gethostname()}:999999"
    acquire_run_lock(store, owner=dead, now=NOW, ttl=TTL)
    acquire_run_lock(store, owner="next@h:1", now=NOW, ttl=TTL)


def test_concurrent_claims_on_postgres_never_overlap(pg_url: str) -> None:
    """Eight threads claiming from one pool with SKIP LOCKED each get distinct assets."""
    store = Store.open(pg_url)
    try:
        _register(store, 200)
        got: dict[str, list[str]] = {}

        def worker(name: str) -> None:
            mine: list[str] = []
            while batch := claim_due(
                store, owner=f"{name}@h:1", now=NOW, options=PlanOptions(), limit=7, lease_ttl=TTL
            ):
                mine += [s.symbol for s in batch]
            got[name] = mine

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        every = [s for mine in got.values() for s in mine]
        assert len(every) == len(set(every)) == 200
    finally:
        store.close()


def test_storage_state_columns_are_the_asset_state_fields() -> None:
    """storage.leases reads exactly the columns AssetState holds."""
    assert tuple(AssetState.__dataclass_fields__) == STATE_COLUMNS


def test_lock_refusal_rules() -> None:
    """The lock is refused only while another live holder's time runs."""
    held = RunLock("other@nowhere:1", NOW, NOW + TTL)
    assert lock_refusal(None, owner="me@h:2", now=NOW) is None
    assert lock_refusal(held, owner="other@nowhere:1", now=NOW) is None
    assert lock_refusal(held, owner="me@h:2", now=NOW + TTL) is None
    refusal = lock_refusal(held, owner="me@h:2", now=NOW)
    assert refusal is not None
    assert refusal.startswith("another datanexus sync (other@nowhere:1, since 2026-11-24T12:00:00")
