"""provider_state's typed accessors round-trip their values on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from data_nexus.storage import provider_state as ps
from data_nexus.storage.store import Store

NOW = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
DAY = NOW.date()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    s = Store.open(url)
    yield s
    s.close()


def test_calls_per_day(store: Store) -> None:
    """A missing day reads 0; lock_calls creates it; set_calls overwrites it."""
    with store.connection() as conn:
        assert ps.calls_spent(conn, DAY) == 0
    with store.atomic() as conn:
        assert ps.lock_calls(conn, store.caps, DAY, NOW) == 0
        ps.set_calls(conn, DAY, 37, NOW)
    with store.atomic() as conn:
        assert ps.lock_calls(conn, store.caps, DAY, NOW) == 37
    with store.connection() as conn:
        assert ps.calls_spent(conn, DAY) == 37
        assert ps.calls_spent(conn, DAY + dt.timedelta(days=1)) == 0


def test_rate_bucket(store: Store) -> None:
    """The first lock stores the initial bucket; a set bucket comes back exactly."""
    initial = ps.RateBucket(4.0, NOW)
    later = ps.RateBucket(1.25, NOW + dt.timedelta(seconds=3))
    with store.atomic() as conn:
        assert ps.lock_rate_bucket(conn, store.caps, initial, NOW) == initial
        ps.set_rate_bucket(conn, later, NOW)
    with store.atomic() as conn:
        assert ps.lock_rate_bucket(conn, store.caps, initial, NOW) == later


def test_bulk_refusal_run_lock_and_demo_mark(store: Store) -> None:
    """Each key reads back what was written, and None once cleared (or never set)."""
    lock = ps.RunLock("w@h:1", NOW, NOW + dt.timedelta(minutes=10))
    with store.atomic() as conn:
        assert ps.bulk_refused_at(conn, "US") is None
        assert ps.run_lock(conn) is None and ps.demo_mark(conn) is None
        ps.set_bulk_refused(conn, "US", True, NOW)
        ps.set_run_lock(conn, lock, NOW)
        ps.set_demo_mark(conn, "demo data", NOW)
    with store.connection() as conn:
        assert ps.bulk_refused_at(conn, "US") == NOW
        assert ps.bulk_refused_at(conn, "LSE") is None
        assert ps.run_lock(conn) == lock and ps.demo_mark(conn) == "demo data"
    renewed = ps.RunLock(lock.owner, lock.since, lock.expires + dt.timedelta(minutes=5))
    with store.atomic() as conn:
        ps.set_bulk_refused(conn, "US", False, NOW)
        ps.set_run_lock(conn, renewed, NOW)
    with store.connection() as conn:
        assert ps.bulk_refused_at(conn, "US") is None and ps.run_lock(conn) == renewed
    with store.atomic() as conn:
        ps.drop_run_lock(conn)
    with store.connection() as conn:
        assert ps.run_lock(conn) is None
