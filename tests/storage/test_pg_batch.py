"""The shared COPY of a write_assets batch (PostgreSQL, TimescaleDB): what it takes, and
that every asset stays all-or-nothing when something fails inside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from data_nexus.errors import DataValidationError, LeaseConflict, StorageError
from data_nexus.records import Bar, Dividend
from data_nexus.storage import action_rows, pg_batch, pg_writer
from data_nexus.storage.store import AssetUpdate, Store, WriteResult
from tests.storage.conftest import add_assets, asset_state, make_bars, snapshot

D0 = dt.date(2024, 1, 1)
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def shared(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[dict[int, Any] | str]:
    """What each write_shared call returned (its results by index), or "raised"."""
    if not store.caps.is_postgres:
        pytest.skip("the shared COPY is PostgreSQL's")
    calls: list[dict[int, Any] | str] = []
    real = pg_batch.write_shared

    def spy(*args: Any) -> dict[int, WriteResult]:
        try:
            done = real(*args)
        except Exception:
            calls.append("raised")
            raise
        calls.append(done)
        return done

    monkeypatch.setattr(pg_batch, "write_shared", spy)
    return calls


def first_load(symbol: str, count: int = 300, **extra: Any) -> AssetUpdate:
    bars = make_bars(symbol, D0, count)
    return AssetUpdate(symbol, bars, window=(D0, bars[-1].date), **extra)


def test_the_first_loads_of_a_batch_share_one_copy(
    store: Store, shared: list[dict[int, Any] | str]
) -> None:
    """Lists with a window over no stored bar are taken; everything else is written alone."""
    add_assets(store, "A.US", "B.US", "C.US", "D.US", "E.US", "H.US", "I.US")
    add_assets(store, "F.US", lease_owner="other")
    store.write_asset(first_load("D.US"))
    dividend = Dividend("B.US", D0, Decimal("0.25"))
    updates = [
        first_load("A.US", state={"last_synced": NOW}),
        first_load("B.US", actions=[dividend], state={"last_synced": NOW}),
        first_load("C.US", 3),  # small: one COPY for it too
        first_load("D.US"),  # a re-sync: merged on its own
        AssetUpdate("E.US", iter(make_bars("E.US", D0, 300)), window=(D0, D0)),  # a generator
        first_load("F.US", lease_owner="me"),  # leased by another worker
        first_load("G.US"),  # not registered
        first_load("H.US"),
        first_load("H.US"),  # the same symbol twice: in order, on their own
        AssetUpdate("I.US", make_bars("I.US", D0, 300)),  # no window
    ]
    results = store.write_assets(updates)
    assert [type(r).__name__ for r in results] == [
        "WriteResult", "WriteResult", "WriteResult", "WriteResult", "WriteResult",
        "LeaseConflict", "StorageError", "WriteResult", "WriteResult", "WriteResult",
    ]  # fmt: skip
    assert len(shared) == 1 and isinstance(shared[0], dict)
    assert sorted(shared[0]) == [0, 1, 2]
    ok = [r for r in results if isinstance(r, WriteResult)]
    assert [(r.symbol, r.inserted, r.unchanged) for r in ok] == [
        ("A.US", 300, 0), ("B.US", 300, 0), ("C.US", 3, 0), ("D.US", 0, 300),
        ("E.US", 300, 0), ("H.US", 300, 0), ("H.US", 0, 300), ("I.US", 300, 0),
    ]  # fmt: skip
    a, b = ok[0], ok[1]
    assert (a.first_date, a.last_date) == (D0, D0 + dt.timedelta(days=299))
    assert (b.actions_inserted, store.read_actions(["B.US"])) == (1, [dividend])
    assert asset_state(store, "A.US")["last_synced"] == NOW
    assert store.read_bars(["A.US"]) == make_bars("A.US", D0, 300)
    assert isinstance(results[5], LeaseConflict) and isinstance(results[6], StorageError)


def test_a_bad_value_late_in_the_shared_copy_fails_that_asset_alone(
    store: Store, shared: list[dict[int, Any] | str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller's bug (a float) met mid-COPY: the batch falls back to one by one, the rest
    commits."""
    monkeypatch.setattr(pg_writer, "PIECE", 50)
    symbols = ["A.US", "B.US", "C.US", "D.US"]
    add_assets(store, *symbols)
    before = snapshot(store, "B.US")
    bars = make_bars("B.US", D0, 300)
    bars[250] = Bar("B.US", bars[250].date, None, None, None, 1.5, None, 1)  # type: ignore[arg-type]
    updates = [first_load(s) for s in symbols]
    updates[1] = AssetUpdate("B.US", bars, window=(D0, bars[-1].date))
    results = store.write_assets(updates)
    assert shared == ["raised"]
    assert isinstance(results[1], DataValidationError)
    assert str(results[1]) == "B.US 2024-09-07 close: 1.5 is a float, not an exact Decimal"
    assert [r.inserted for r in results if isinstance(r, WriteResult)] == [300, 300, 300]
    assert snapshot(store, "B.US") == before
    assert len(store.read_bars(["A.US", "C.US", "D.US"])) == 900


def test_a_bar_without_prices_late_in_the_shared_copy_is_a_finding(
    store: Store, shared: list[dict[int, Any] | str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Provider data judged mid-COPY: that bar is skipped with a finding, the COPY goes on."""
    monkeypatch.setattr(pg_writer, "PIECE", 50)
    add_assets(store, "A.US", "B.US")
    bars = make_bars("B.US", D0, 300)
    bars[250] = Bar("B.US", bars[250].date, None, None, None, None, None, 0)  # type: ignore[arg-type]
    updates = [first_load("A.US"), AssetUpdate("B.US", bars, window=(D0, bars[-1].date))]
    results = store.write_assets(updates)
    assert shared != ["raised"]
    assert [(r.inserted, r.findings) for r in results] == [(300, 0), (299, 1)]  # type: ignore[union-attr]
    stored = store.read_bars(["B.US"])
    assert stored == bars[:250] + bars[251:]


def test_a_database_error_in_the_shared_part_fails_that_asset_alone(
    store: Store, shared: list[dict[int, Any] | str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An action the database refuses (CHECK constraint) after the shared COPY."""
    monkeypatch.setattr(action_rows, "ACTION_TYPES", ("split", "dividend", "bogus"))
    bogus = Dividend("B.US", D0, Decimal("0.5"))
    object.__setattr__(bogus, "action_type", "bogus")
    add_assets(store, "A.US", "B.US", "C.US")
    before = snapshot(store, "B.US")
    updates = [first_load(s, actions=[bogus] if s == "B.US" else []) for s in
               ("A.US", "B.US", "C.US")]  # fmt: skip
    results = store.write_assets(updates)
    assert shared == ["raised"]
    assert isinstance(results[1], StorageError)
    assert isinstance(results[1].__cause__, sa.exc.IntegrityError)
    assert [r.inserted for r in results if isinstance(r, WriteResult)] == [300, 300]
    assert snapshot(store, "B.US") == before


def test_bars_outside_the_window_are_merged_after_the_copy(
    store: Store, shared: list[dict[int, Any] | str]
) -> None:
    """Outside its window an asset's stored bars are unknown: merged, counted exactly."""
    add_assets(store, "A.US", "B.US")
    old = make_bars("A.US", D0, 10)
    store.write_asset(AssetUpdate("A.US", old))
    bars = make_bars("A.US", D0, 300)
    bars[3] = Bar("A.US", bars[3].date, None, None, None, Decimal(7), None, None)
    window = (D0 + dt.timedelta(days=10), bars[-1].date)  # bars 0-9 are before it

    def updates() -> Iterator[AssetUpdate]:
        yield AssetUpdate("A.US", bars, window=window)
        yield first_load("B.US")

    results = store.write_assets(list(updates()))
    assert isinstance(shared[0], dict) and sorted(shared[0]) == [0, 1]
    a = results[0]
    assert isinstance(a, WriteResult)
    assert (a.inserted, a.updated, a.unchanged, a.deleted) == (290, 1, 9, 0)
    assert (a.first_date, a.last_date) == (D0, bars[-1].date)
    assert store.read_bars(["A.US"]) == bars
