"""Several workers: the ``--full`` round rule and the leases a run waits for."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from data_nexus.models import Asset
from data_nexus.storage.store import Store
from data_nexus.sync.leases import claim_due, held_elsewhere
from data_nexus.sync.plan import PlanOptions
from data_nexus.sync.runs import round_start
from data_nexus.sync.summary import SyncOptions

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
TTL = dt.timedelta(minutes=10)


def _run(minutes_ago: int, **options: object) -> tuple[dt.datetime, str]:
    data = SyncOptions(**options).as_dict()  # type: ignore[arg-type]
    return NOW - minutes_ago * MIN, json.dumps(data)


def test_full_workers_of_one_scope_share_the_earliest_start() -> None:
    """Full runs with a worker id over the same scope form a round; others do not count."""
    me = SyncOptions(full=True, worker_id="w2")
    started = [
        _run(3, full=True, worker_id="w0"),  # the round's first worker
        _run(5, full=False, worker_id="w9"),  # incremental: not part of it
        _run(6, full=True),  # no worker id: a user's own --full
        _run(7, full=True, worker_id="w8", exchange="LSE"),  # another scope
        (NOW - 9 * MIN, "not json"),
    ]
    assert round_start(started, options=me, now=NOW) == NOW - 3 * MIN
    assert round_start(started[1:], options=me, now=NOW) == NOW
    alone = SyncOptions(full=True)  # without --worker-id a --full run refetches everything
    assert round_start(started, options=alone, now=NOW) is None
    assert round_start(started, options=SyncOptions(worker_id="w2"), now=NOW) is None


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


def _assets(store: Store, rows: dict[str, dict[str, object]]) -> None:
    none: dict[str, object] = {"lease_owner": None, "lease_expires_at": None, "last_synced": None}
    with store.engine.begin() as conn:
        for symbol, row in rows.items():
            values = {"symbol": symbol, "code": symbol.split(".")[0], "exchange": "US"}
            conn.execute(sa.insert(Asset).values(**values, **(none | row)))


def test_a_run_waits_only_for_live_leases_of_due_assets(store: Store) -> None:
    """Held = due and leased by another live owner; expired, dead or synced ones are not."""
    _assets(
        store,
        {
            "LIVE.US": {"lease_owner": "w1@elsewhere:1", "lease_expires_at": NOW + TTL},
            "GONE.US": {"lease_owner": "w1@elsewhere:1", "lease_expires_at": NOW - MIN},
            "DONE.US": {
                "lease_owner": "w1@elsewhere:1",
                "lease_expires_at": NOW + TTL,
                "last_synced": NOW - MIN,
            },
            "FREE.US": {},
        },
    )
    names = ["LIVE.US", "GONE.US", "DONE.US", "FREE.US"]
    found = held_elsewhere(
        store, names, owner="me@h:1", now=NOW - 2 * MIN, lease_now=NOW, options=PlanOptions()
    )
    assert found == {"LIVE.US": NOW + TTL}
    # the run's start decides what is due, the current time which leases have ended
    claimed = claim_due(
        store, owner="me@h:1", now=NOW - 2 * MIN, options=PlanOptions(), limit=10,
        lease_ttl=TTL, symbols=names, lease_now=NOW,
    )  # fmt: skip
    assert sorted(s.symbol for s in claimed) == ["FREE.US", "GONE.US"]
