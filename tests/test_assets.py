"""The registry's pure decisions: a discovery's writes and which pauses change anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from data_nexus.assets import (
    activity_changes,
    list_assets,
    pause_assets,
    plan_listing,
    register_listing,
    resume_assets,
)
from data_nexus.errors import UsageError
from data_nexus.records import ListedSymbol
from data_nexus.storage.registry import Activity, ListingState
from data_nexus.storage.store import Store

NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


def listed(code: str, asset_type: str = "Common Stock") -> ListedSymbol:
    return ListedSymbol(code, "US", name=f"{code} Inc", asset_type=asset_type)


def test_plan_listing_inserts_refreshes_unlists_and_relists() -> None:
    """New → insert, known → update, missing → unlisted, back again → relisted."""
    existing = {
        "OLD.US": ListingState(None, "Common Stock"),
        "GONE.US": ListingState(None, "Common Stock"),
        "BACK.US": ListingState(dt.date(2026, 1, 5), "Common Stock"),
        "FUND.US": ListingState(None, "ETF"),
    }
    change = plan_listing(
        existing,
        [listed("NEW"), listed("OLD"), listed("BACK")],
        delisted=[listed("DEAD")],
        asset_type="common stock",
        now=NOW,
    )
    assert [r["symbol"] for r in change.insert] == ["NEW.US", "DEAD.US"]
    assert change.insert[1]["is_delisted"] is True
    assert [r["symbol"] for r in change.update] == ["OLD.US", "BACK.US"]
    assert change.unlisted == ["GONE.US"]  # FUND.US is not of the filtered type
    assert change.relisted == ["BACK.US"]
    unfiltered = plan_listing(existing, [listed("OLD")], now=NOW)
    assert sorted(unfiltered.unlisted) == ["FUND.US", "GONE.US"]


def test_activity_changes() -> None:
    """Pausing changes active assets; resuming paused ones and those in backoff."""
    current = {
        "A.US": Activity(True, None),
        "B.US": Activity(False, None),
        "C.US": Activity(True, NOW),
    }
    names = ["A.US", "B.US", "C.US"]
    assert activity_changes(current, names, False) == ["A.US", "C.US"]
    assert activity_changes(current, names, True) == ["B.US", "C.US"]
    with pytest.raises(UsageError, match=r"unknown asset\(s\): X.US, Y.US \(add them"):
        activity_changes(current, ["X.US", "A.US", "Y.US"], True)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


def test_register_listing_writes_the_plan(store: Store) -> None:
    """The write half applies the plan in one transaction; a second listing unlists."""
    first = register_listing(store, "US", [listed("A"), listed("B")], clock=lambda: NOW)
    assert (first.added, first.updated, first.unlisted) == (2, 0, 0)
    later = NOW + dt.timedelta(days=1)
    second = register_listing(store, "US", [listed("A")], clock=lambda: later)
    assert (second.added, second.updated, second.unlisted) == (0, 1, 1)
    rows = {a.symbol: a for a in list_assets(store, exchange="US")}
    assert rows["B.US"].unlisted_since == later.date() and rows["A.US"].unlisted_since is None
    assert pause_assets(store, ["A.US"]) == ["A.US"]
    assert pause_assets(store, ["A.US"]) == []
    assert resume_assets(store, ["A.US", "B.US"]) == ["A.US"]
