"""A write that loses a race with another transaction (a deadlock) is run again, not failed.

The race is real: TimescaleDB's compression policy job takes chunks exclusively while a
first sync writes into them, and PostgreSQL then aborts one side with ``deadlock detected``
(40P01). Here a second connection builds the same cycle deterministically on plain
PostgreSQL: it holds ``market_data`` in SHARE mode (our insert waits), then asks for the
asset row our writer has locked. Our writer waited first, so its deadlock check fires
first and PostgreSQL aborts our transaction; the other side then finishes and lets go.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from data_nexus.errors import StorageError
from data_nexus.storage.store import AssetUpdate, Store
from data_nexus.storage.writer import is_transient, storage_error
from tests.storage.conftest import add_assets, make_bars, snapshot

from .test_store_writes import D0


def _conninfo(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://", 1
    )


def _rival(conninfo: str, symbol: str, started: threading.Event, errors: list[str]) -> None:
    """Hold market_data in SHARE mode, then wait for ``symbol``'s row: a lock cycle."""
    try:
        with psycopg.connect(conninfo) as conn:
            conn.execute("LOCK TABLE market_data IN SHARE MODE")
            started.set()
            time.sleep(0.5)  # our writer now holds the asset row and waits for the table
            conn.execute("SELECT 1 FROM assets WHERE symbol = %s FOR UPDATE", (symbol,))
            conn.rollback()
    except psycopg.Error as error:  # the rival lost the race instead: no cycle was built
        errors.append(str(error))
        started.set()


@pytest.mark.parametrize("batched", [False, True], ids=["write_asset", "write_assets"])
def test_a_deadlocked_write_is_written_again(pg_store: Store, batched: bool) -> None:
    """The asset whose transaction PostgreSQL aborted on a deadlock is stored exactly once."""
    add_assets(pg_store, "DL.US", "OK.US")
    bars = make_bars("DL.US", D0, 30)
    started, errors = threading.Event(), []
    rival = threading.Thread(target=_rival, args=(_conninfo(pg_store), "DL.US", started, errors))
    rival.start()
    started.wait(10)
    try:
        if batched:
            other = make_bars("OK.US", D0, 5)
            results = pg_store.write_assets(
                [AssetUpdate("DL.US", bars), AssetUpdate("OK.US", other)]
            )
            assert [getattr(r, "inserted", r) for r in results] == [30, 5]
        else:
            assert pg_store.write_asset(AssetUpdate("DL.US", bars)).inserted == 30
    finally:
        rival.join(30)
    assert not errors, errors
    assert pg_store.read_bars(["DL.US"]) == bars
    assert snapshot(pg_store, "DL.US")  # the asset's state was written with its bars


def test_an_iterator_of_bars_cannot_be_read_again_so_it_fails_cleanly(pg_store: Store) -> None:
    """Bars given as an iterator were consumed: the deadlock is reported, nothing written."""
    add_assets(pg_store, "IT.US")
    before = snapshot(pg_store, "IT.US")
    started, errors = threading.Event(), []
    rival = threading.Thread(target=_rival, args=(_conninfo(pg_store), "IT.US", started, errors))
    rival.start()
    started.wait(10)
    try:
        with pytest.raises(StorageError, match=r"IT\.US: .*nothing was written: deadlock"):
            pg_store.write_asset(AssetUpdate("IT.US", iter(make_bars("IT.US", D0, 3))))
    finally:
        rival.join(30)
    assert not errors, errors
    assert snapshot(pg_store, "IT.US") == before
    assert pg_store.read_bars(["IT.US"]) == []


def test_only_races_are_transient() -> None:
    """Only errors with a transient SQLSTATE are retried; other driver errors are not."""
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    assert is_transient(deadlock)
    assert is_transient(storage_error("X.US", deadlock))
    assert is_transient(psycopg.errors.SerializationFailure("could not serialize"))
    assert not is_transient(psycopg.errors.UniqueViolation("duplicate key"))
    assert not is_transient(storage_error("X.US", RuntimeError("disk full")))
