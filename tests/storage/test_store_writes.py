"""The write contract: leases, registry, windows, actions, state and write_assets batching."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from data_nexus.errors import DataValidationError, LeaseConflict, StorageError
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage import action_rows
from data_nexus.storage.store import AssetUpdate, Store, WriteResult
from tests.storage.conftest import add_assets, asset_state, make_bars, snapshot

D0 = dt.date(2024, 1, 1)
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_a_write_under_another_workers_lease_raises_and_writes_nothing(store: Store) -> None:
    """lease_owner='w1' while the asset is leased to 'w2': LeaseConflict, nothing written."""
    add_assets(store, "L.US", lease_owner="w2")
    before = snapshot(store, "L.US")
    update = AssetUpdate("L.US", make_bars("L.US", D0, 5), lease_owner="w1",
                         state={"last_synced": NOW, "lease_owner": None})  # fmt: skip
    with pytest.raises(LeaseConflict, match=r"L\.US is leased by worker 'w2', not 'w1'"):
        store.write_asset(update)
    assert snapshot(store, "L.US") == before
    # The lease holder (and a caller that does not claim leases) may write.
    assert store.write_asset(AssetUpdate("L.US", make_bars("L.US", D0, 5), lease_owner="w2",
                                         state={"lease_owner": None})).inserted == 5  # fmt: skip
    assert asset_state(store, "L.US")["lease_owner"] is None


def test_an_unregistered_asset_is_a_storage_error(store: Store) -> None:
    """Bars need their asset row; the error says what to do."""
    with pytest.raises(StorageError, match=r"asset NOPE\.US is not in the assets table"):
        store.write_asset(AssetUpdate("NOPE.US", make_bars("NOPE.US", D0, 2)))


def test_window_deletes_stored_bars_the_provider_no_longer_sends(store: Store) -> None:
    """Inside the window, stored bars absent from the update go; outside, nothing does."""
    add_assets(store, "W.US")
    bars = make_bars("W.US", D0, 10)
    store.write_asset(AssetUpdate("W.US", bars))
    kept = [b for i, b in enumerate(bars) if i not in (3, 4, 8)]
    result = store.write_asset(
        AssetUpdate("W.US", kept[2:], window=(bars[2].date, bars[8].date))
    )  # bars 0 and 1 are outside the window; 9 is after it and sent again
    assert (result.deleted, result.unchanged, result.inserted) == (3, len(kept) - 2, 0)
    assert store.read_bars(["W.US"]) == kept
    assert (result.first_date, result.last_date) == (bars[0].date, bars[9].date)
    emptied = store.write_asset(AssetUpdate("W.US", [], window=(D0, bars[-1].date)))
    assert (emptied.deleted, emptied.first_date, emptied.last_date) == (len(kept), None, None)
    assert asset_state(store, "W.US")["first_date"] is None


def test_actions_merge_count_and_obey_their_window(store: Store) -> None:
    """New, changed and vanished actions are counted; a split and a dividend share a day."""
    add_assets(store, "C.US")
    day = dt.date(2020, 8, 31)
    split = Split("C.US", day, Decimal(4), Decimal(1))
    dividend = Dividend("C.US", day, Decimal("0.205"), Decimal("0.82"), "USD")
    old = Dividend("C.US", dt.date(2019, 5, 10), Decimal("0.1925"), currency="USD")
    first = store.write_asset(AssetUpdate("C.US", actions=[split, dividend, old]))
    assert (first.actions_inserted, first.actions_updated, first.actions_deleted) == (3, 0, 0)
    assert store.read_actions(["C.US"]) == [old, dividend, split]
    revised = Dividend("C.US", day, Decimal("0.2050"), Decimal("0.83"), "USD")
    second = store.write_asset(
        AssetUpdate("C.US", actions=[split, revised], actions_window=(dt.date(2020, 1, 1), day))
    )  # `old` is outside the window: kept
    assert (second.actions_inserted, second.actions_updated, second.actions_deleted) == (0, 1, 0)
    third = store.write_asset(
        AssetUpdate("C.US", actions=[revised], actions_window=(dt.date(2019, 1, 1), day))
    )
    assert (third.actions_inserted, third.actions_updated, third.actions_deleted) == (0, 0, 2)
    assert store.read_actions(["C.US"]) == [revised]
    assert store.read_actions(["C.US"], start=day, end=day) == [revised]
    assert store.read_actions(["C.US"], end=dt.date(2020, 8, 30)) == []


def test_state_is_set_in_the_same_transaction_and_coverage_is_recomputed(store: Store) -> None:
    """state columns, updated_at and first/last date change together with the bars."""
    add_assets(store, "S.US")
    before = asset_state(store, "S.US")
    result = store.write_asset(
        AssetUpdate("S.US", make_bars("S.US", D0, 3),
                    state={"last_synced": NOW, "fail_count": 0, "last_error": None})
    )  # fmt: skip
    after = asset_state(store, "S.US")
    assert after["last_synced"] == NOW
    assert (after["first_date"], after["last_date"]) == (D0, D0 + dt.timedelta(days=2))
    assert (result.first_date, result.last_date) == (after["first_date"], after["last_date"])
    assert after["updated_at"] >= before["updated_at"]
    with pytest.raises(ValueError, match="cannot set \\['first_date'\\] through state"):
        store.write_asset(AssetUpdate("S.US", state={"first_date": D0}))


def test_streamed_bars_are_read_in_chunks(store: Store) -> None:
    """A generator is consumed chunk by chunk, never all at once."""
    add_assets(store, "G.US")
    store.batch_size = 50
    pulled: list[int] = []
    bars = make_bars("G.US", D0, 420)

    def stream() -> Iterator[Bar]:
        for i, bar in enumerate(bars):
            pulled.append(i)
            yield bar

    result = store.write_asset(AssetUpdate("G.US", stream()))
    assert (result.inserted, len(pulled)) == (420, 420)
    assert store.read_bars(["G.US"]) == bars


def test_one_bad_asset_in_a_batch_does_not_stop_the_others(store: Store) -> None:
    """write_assets: errors in input order, each asset all-or-nothing, the rest commit."""
    add_assets(store, "A.US", "B.US", "C.US", "D.US")
    add_assets(store, "E.US", lease_owner="other")
    store.write_asset(AssetUpdate("C.US", make_bars("C.US", D0, 4)))
    store.batch_size = 2
    before_c = snapshot(store, "C.US")
    bad_action = Dividend("X.US", D0, Decimal("0.5"))  # a caller's bug: another symbol's
    float_bar = Bar("B.US", D0, None, None, None, 1.5, None, 1)  # type: ignore[arg-type]

    def late_failure() -> Iterator[Bar]:
        yield from make_bars("C.US", D0 + dt.timedelta(days=10), 5)
        raise RuntimeError("stream broke")

    updates = [
        AssetUpdate("A.US", make_bars("A.US", D0, 5)),
        AssetUpdate("B.US", [float_bar]),  # a float where an exact Decimal belongs
        AssetUpdate("C.US", late_failure()),  # fails after two chunks were written
        AssetUpdate("C.US", make_bars("C.US", D0, 4), actions=[bad_action]),  # invalid action
        AssetUpdate("D.US", iter(make_bars("D.US", D0, 7))),
        AssetUpdate("E.US", make_bars("E.US", D0, 2), lease_owner="me"),  # leased elsewhere
        AssetUpdate("X.US", make_bars("X.US", D0, 2)),  # not registered
    ]
    results = store.write_assets(updates)
    assert [type(r).__name__ for r in results] == [
        "WriteResult", "DataValidationError", "RuntimeError", "DataValidationError",
        "WriteResult", "LeaseConflict", "StorageError",
    ]  # fmt: skip
    assert isinstance(results[0], WriteResult) and results[0].inserted == 5
    assert isinstance(results[4], WriteResult) and results[4].inserted == 7
    assert len(store.read_bars(["A.US", "D.US"])) == 12
    assert store.read_bars(["B.US", "E.US", "X.US"]) == []
    assert snapshot(store, "C.US") == before_c


def test_a_database_error_inside_a_batch_is_rolled_back_alone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement the database refuses (CHECK constraint) aborts only that asset's savepoint."""
    add_assets(store, "A.US", "B.US", "C.US")
    monkeypatch.setattr(action_rows, "ACTION_TYPES", ("split", "dividend", "bogus"))
    bogus = Dividend("B.US", D0, Decimal("0.5"))
    object.__setattr__(bogus, "action_type", "bogus")  # slips past validation on purpose
    before_b = snapshot(store, "B.US")
    results = store.write_assets(
        [AssetUpdate(s, make_bars(s, D0, 3), actions=[bogus] if s == "B.US" else [])
         for s in ("A.US", "B.US", "C.US")]
    )  # fmt: skip
    assert isinstance(results[1], StorageError)
    assert str(results[1]).startswith("B.US: the database refused the write, nothing was written:")
    assert isinstance(results[1].__cause__, sa.exc.IntegrityError)
    assert [r.inserted for r in results if isinstance(r, WriteResult)] == [3, 3]
    assert snapshot(store, "B.US") == before_b
    assert len(store.read_bars(["A.US", "C.US"])) == 6


def test_write_assets_commits_in_batches(store: Store) -> None:
    """More assets than batch_assets: several transactions, results still in order."""
    symbols = [f"T{i}.US" for i in range(7)]
    add_assets(store, *symbols)
    store.batch_assets = 3
    results = store.write_assets([AssetUpdate(s, make_bars(s, D0, 2)) for s in symbols])
    assert [r.symbol for r in results if isinstance(r, WriteResult)] == symbols
    assert len(store.read_bars(symbols)) == 14


def test_validation_happens_before_the_database_is_touched(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first chunk with a caller's bug (a float price) never opens a transaction."""
    add_assets(store, "V.US")
    bars = make_bars("V.US", D0, 3)
    bars[1] = Bar("V.US", bars[1].date, None, None, None, 1.5, None, 1)  # type: ignore[arg-type]

    def no_connection() -> None:
        raise AssertionError("the database was touched")

    monkeypatch.setattr(store.engine, "connect", no_connection)
    with pytest.raises(DataValidationError):
        store.write_asset(AssetUpdate("V.US", bars))


def test_concurrent_writers_of_one_asset_queue_up(pg_store: Store) -> None:
    """Two workers writing the same new bars at once: the asset lock serialises them.

    Without it, both would see an empty range, both would COPY, and one would fail on the
    primary key. With it, one inserts and the other finds everything unchanged.
    """
    add_assets(pg_store, "R.US")
    bars = make_bars("R.US", D0, 3000)
    barrier = threading.Barrier(2)

    def write() -> WriteResult:
        barrier.wait()
        return pg_store.write_asset(AssetUpdate("R.US", bars, window=(D0, bars[-1].date)))

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: write(), range(2)))
    assert sorted((r.inserted, r.unchanged) for r in results) == [(0, 3000), (3000, 0)]
    assert pg_store.read_bars(["R.US"]) == bars


def test_a_failed_batch_transaction_falls_back_to_one_by_one(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the shared transaction itself fails, replayable updates are written alone.

    A generator already consumed cannot be replayed: its caller gets the error to retry.
    """
    add_assets(sqlite_store, "A.US", "B.US")

    def lost(self: Store, batch: object) -> list[object]:
        raise StorageError("connection lost at commit")

    monkeypatch.setattr(Store, "_write_batch", lost)
    results = sqlite_store.write_assets(
        [AssetUpdate("A.US", make_bars("A.US", D0, 3)),
         AssetUpdate("B.US", iter(make_bars("B.US", D0, 3)))]
    )  # fmt: skip
    assert isinstance(results[0], WriteResult) and results[0].inserted == 3
    assert isinstance(results[1], StorageError)
    assert sqlite_store.read_bars(["B.US"]) == []


def test_a_clean_sqlite_batch_of_lists_takes_no_savepoint_and_a_failure_rolls_back_alone(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite writes a batch of re-readable updates without savepoints; when one asset
    fails, the batch is rolled back whole and written again with a savepoint per asset,
    so the others still commit and the failed one is left exactly as it was."""
    add_assets(sqlite_store, "A.US", "B.US", "C.US")
    statements: list[str] = []
    sa.event.listen(
        sqlite_store.engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_rest: statements.append(sql),
    )
    results = sqlite_store.write_assets(
        [AssetUpdate(s, make_bars(s, D0, 3)) for s in ("A.US", "B.US")]
    )
    assert [r.inserted for r in results if isinstance(r, WriteResult)] == [3, 3]
    assert not [s for s in statements if s.startswith("SAVEPOINT")]

    monkeypatch.setattr(action_rows, "ACTION_TYPES", ("split", "dividend", "bogus"))
    bogus = Dividend("B.US", D0, Decimal("0.5"))
    object.__setattr__(bogus, "action_type", "bogus")  # the database refuses it
    before_b = snapshot(sqlite_store, "B.US")
    results = sqlite_store.write_assets(
        [AssetUpdate("A.US", make_bars("A.US", D0 + dt.timedelta(days=3), 2)),
         AssetUpdate("B.US", make_bars("B.US", D0 + dt.timedelta(days=3), 2), actions=[bogus]),
         AssetUpdate("C.US", make_bars("C.US", D0, 4))]
    )  # fmt: skip
    assert isinstance(results[1], StorageError)
    assert [r.inserted for r in results if isinstance(r, WriteResult)] == [2, 4]
    assert [s for s in statements if s.startswith("SAVEPOINT")]  # the second attempt
    assert snapshot(sqlite_store, "B.US") == before_b
    assert len(sqlite_store.read_bars(["A.US"])) == 5
    assert len(sqlite_store.read_bars(["C.US"])) == 4
