"""The registry's pure decisions: a discovery's writes and which pauses change anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from data_nexus.assets import (
    activity_changes,
    add_assets,
    canonical_listing,
    discover_assets,
    list_assets,
    pause_assets,
    plan_listing,
    register_listing,
    resume_assets,
)
from data_nexus.emulator import EmulatorServer
from data_nexus.errors import UsageError
from data_nexus.quality.run import run_checks
from data_nexus.records import ListedSymbol
from data_nexus.storage.registry import Activity, ListingState
from data_nexus.storage.store import Store
from data_nexus.symbols import canonical_code, parse_symbol
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.sync.helpers import settings_for

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


# --- issue 9, kind 9: symbols as people and providers write them ---------------------------


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("BRK.B", "BRK-B.US"),  # the example: not code BRK on exchange B
        ("brk.b", "BRK-B.US"),
        ("BF.B", "BF-B.US"),
        ("MOG.A", "MOG-A.US"),
        ("BRK.B.US", "BRK-B.US"),
        ("BRK/B.US", "BRK-B.US"),
        (" BRK B.US ", "BRK-B.US"),
        ("BRK B", "BRK-B.US"),
        ("^GSPC", "GSPC.INDX"),  # the example (today: '^GSPC.US')
        ("^GSPC.US", "GSPC.INDX"),
        ("^GSPC.INDX", "GSPC.INDX"),
        ("^DJI", "DJI.INDX"),
        ("^ftse", "FTSE.INDX"),
        ("AAPL", "AAPL.US"),
    ],
)
def test_symbols_as_people_write_them_are_refused_with_the_canonical_hint(
    text: str, hint: str
) -> None:
    with pytest.raises(UsageError) as refused:
        parse_symbol(text)
    message = str(refused.value)
    assert f"'{hint}'" in message and message.startswith(f"invalid symbol {text!r}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("brk-b.us", "BRK-B.US"),
        ("  aapl.us\t", "AAPL.US"),
        ("GSPC.INDX", "GSPC.INDX"),
        ("XYZ.V", "XYZ.V"),  # V is TSX Venture, F Frankfurt: exchanges, not share classes
        ("SAP.F", "SAP.F"),
        ("VOD.LSE", "VOD.LSE"),
    ],
)
def test_canonical_and_one_letter_exchanges_are_accepted(text: str, symbol: str) -> None:
    assert str(parse_symbol(text)) == symbol


def test_add_refuses_a_dotted_share_class_and_registers_nothing(store: Store) -> None:
    with pytest.raises(UsageError, match=r"use 'BRK-B\.US'"):
        add_assets(store, ["AAPL.US", "BRK.B"])
    assert list_assets(store) == []
    assert add_assets(store, ["brk-b.us", "BRK-B.US"]).added == ["BRK-B.US"]


def test_canonical_listing_spells_each_ticker_once() -> None:
    rows = [listed("BRK.B"), listed("brk-a"), listed("BF/B"), listed("BRK-B"), listed("^X"),
            listed("bad!"), listed("aapl"), listed("AAPL")]  # fmt: skip
    records, refused = canonical_listing(rows)
    assert [r.symbol for r in records] == ["BRK-B.US", "BRK-A.US", "BF-B.US", "X.US", "AAPL.US"]
    assert refused == ["bad!"]
    assert records[0].name == "BRK-B Inc"  # the row written canonically wins
    assert records[4].name == "AAPL Inc"
    assert [canonical_code(c) for c in ("brk.b", " bf b ", "^gspc")] == ["BRK-B", "BF-B", "GSPC"]


def test_discovery_registers_one_canonical_symbol_per_spelling(store: Store) -> None:
    first = register_listing(store, "US", [listed("BRK.B"), listed("brk-a")], clock=lambda: NOW)
    assert (first.added, first.refused) == (2, ())
    later = NOW + dt.timedelta(days=1)
    second = register_listing(
        store, "US", [listed("BRK-B"), listed("BRK-A"), listed("a b c!")], clock=lambda: later
    )
    assert (second.added, second.updated, second.unlisted) == (0, 2, 0)
    assert second.refused == ("a b c!",)
    assert [a.symbol for a in list_assets(store)] == ["BRK-A.US", "BRK-B.US"]
    assert pause_assets(store, ["brk-a.us"]) == ["BRK-A.US"]


def test_discover_and_sync_symbols_the_list_spells_oddly(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """The emulator's symbol_spelling dirt lists BRK-B as 'BRK.B' and another code in lower
    case: both are registered once, canonically, and sync and check like any other."""
    emu = start_emulator(seed=3, symbols=30, dirty=("symbol_spelling",))
    spelled = {i.symbol for i in emu.truth() if i.kind == "symbol_spelling"}
    assert "BRK-B.US" in spelled and len(spelled) == 2
    settings = settings_for(sqlite_url, emu)
    result = discover_assets(settings, "US")
    registered = [a.symbol for a in list_assets(settings)]
    assert result.added == len(registered) == len(emu.market.symbols("US"))
    assert spelled <= set(registered)
    summary = run_sync(settings, SyncOptions(symbols=tuple(sorted(spelled))))
    assert summary.synced == 2 and not summary.failed
    now = dt.datetime.now(dt.UTC)
    report = run_checks(settings, sorted(spelled), now=now)
    assert report.assets == 2
    assert all(a.last_date is not None for a in list_assets(settings, symbols=sorted(spelled)))
