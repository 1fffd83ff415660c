"""Reads: order, inclusive ranges, the cross section, and that the plans use the indexes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from decimal import Decimal
from typing import Any

import pytest

from data_nexus.records import Bar
from data_nexus.storage.reads import bars_from_columns, bars_sql, day_sql, make_bar
from data_nexus.storage.store import AssetUpdate, Store
from tests.storage.conftest import add_assets, make_bars

D0 = dt.date(2023, 12, 30)
SYMBOLS = ["B.US", "A.US", "C.US"]


@pytest.fixture
def filled(store: Store) -> Store:
    """Three symbols, 40 days each (C.US every other day)."""
    add_assets(store, *SYMBOLS)
    for symbol in SYMBOLS:
        step = 2 if symbol == "C.US" else 1
        store.write_asset(AssetUpdate(symbol, make_bars(symbol, D0, 40, step=step)))
    return store


def test_read_bars_orders_by_symbol_then_date_with_inclusive_bounds(filled: Store) -> None:
    """Ordered by (symbol, date); start and end are both included."""
    start, end = D0 + dt.timedelta(days=2), D0 + dt.timedelta(days=6)
    got = filled.read_bars(["C.US", "A.US"], start, end)
    assert [(b.symbol, b.date) for b in got] == [
        *[("A.US", start + dt.timedelta(days=i)) for i in range(5)],
        *[("C.US", start + dt.timedelta(days=i)) for i in (0, 2, 4)],
    ]
    assert filled.read_bars(["A.US"]) == make_bars("A.US", D0, 40)
    assert (
        filled.read_bars(["A.US"], start=D0 + dt.timedelta(days=39))
        == make_bars("A.US", D0, 40)[-1:]
    )
    assert filled.read_bars([]) == []
    assert filled.read_bars(["NONE.US"]) == []


def test_read_day_is_the_cross_section_ordered_by_symbol(filled: Store) -> None:
    """All symbols of one date, or the requested ones; a missing bar is simply absent."""
    day = D0 + dt.timedelta(days=1)
    assert [b.symbol for b in filled.read_day(day)] == ["A.US", "B.US"]  # C.US skips this day
    assert [b.symbol for b in filled.read_day(D0)] == ["A.US", "B.US", "C.US"]
    assert [b.symbol for b in filled.read_day(D0, ["C.US", "A.US"])] == ["A.US", "C.US"]
    assert filled.read_day(D0, []) == []
    (bar,) = filled.read_day(D0, ["B.US"])
    assert bar == make_bars("B.US", D0, 1)[0]


def explain(store: Store, sql: str, params: list[Any]) -> str:
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            cur.execute("ANALYZE market_data")
            cur.execute("EXPLAIN " + sql, params)
            return "\n".join(str(r[0]) for r in cur.fetchall())


def test_query_plans_use_the_indexes(store: Store) -> None:
    """Symbol ranges use ix_market_data_symbol_time; the cross section the primary key.

    With 100 symbols x 600 days (60,000 bars), as analysed statistics see them.
    """
    if not store.caps.is_postgres:
        pytest.skip("query plans are checked on PostgreSQL and TimescaleDB")
    symbols = [f"P{i:03d}.US" for i in range(100)]
    add_assets(store, *symbols)
    store.write_assets([AssetUpdate(s, make_bars(s, D0, 600)) for s in symbols])
    one_year = bars_sql(["P007.US"], D0, D0 + dt.timedelta(days=365), paramstyle="format")
    year = explain(store, *one_year)
    history = explain(store, *bars_sql(["P007.US", "P008.US"], None, None, paramstyle="format"))
    section = explain(store, *day_sql(D0 + dt.timedelta(days=9), None, paramstyle="format"))
    assert "ix_market_data_symbol_time" in year, year
    assert "ix_market_data_symbol_time" in history, history
    assert "pk_market_data" in section, section
    assert "Seq Scan" not in year + history + section


def test_make_bar_builds_the_same_record_as_the_constructor() -> None:
    """The fast row builder fills exactly Bar's fields (guards against a new field)."""
    values = ("A.US", D0, Decimal("1.5"), None, Decimal(0), Decimal("2"), None, 7)
    built = make_bar(values)
    assert built == Bar(*values)
    assert repr(built) == repr(Bar(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.close = Decimal(3)  # type: ignore[misc]


def test_bars_from_columns_builds_the_same_records_as_the_constructor() -> None:
    """The column-wise builder of SQLite reads gives ``Bar(*row)`` for every row."""
    rows = [
        ("A.US", D0, Decimal("1.5"), None, Decimal(0), Decimal("2"), None, 7),
        ("B.US", D0 + dt.timedelta(days=1), None, Decimal("1E-8"), None, Decimal(3), None, None),
    ]
    built = bars_from_columns(*zip(*rows, strict=True))
    assert [repr(b) for b in built] == [repr(Bar(*row)) for row in rows]
    assert built == [Bar(*row) for row in rows]
    assert bars_from_columns(*[()] * 8) == []
    with pytest.raises(ValueError, match="zip"):  # a short column is refused, not truncated
        bars_from_columns(*zip(*rows, strict=True), ())


def test_reads_keep_nulls_and_exact_prices(store: Store) -> None:
    """Missing prices come back as None, prices exactly (on SQLite, the same Decimal from
    the stored text), and the garbage collector is running again after a read."""
    add_assets(store, "N.US")
    bars = [
        Bar("N.US", D0, None, Decimal("1.25"), None, Decimal("0.00000001"), None, None),
        Bar("N.US", D0 + dt.timedelta(days=1), Decimal("9999999999.99999999"), None,
            Decimal(1), Decimal("2.5"), Decimal("2.4"), 10**15),
    ]  # fmt: skip
    store.write_asset(AssetUpdate("N.US", bars))
    assert gc.isenabled()
    back = store.read_bars(["N.US"])
    assert back == bars
    if not store.caps.is_postgres:  # the canonical text: the very Decimal, not just an equal one
        assert [repr(b) for b in back] == [repr(b) for b in bars]
    assert gc.isenabled()


def test_many_symbols_in_one_read(store: Store) -> None:
    """More symbols than SQLite takes parameters in one statement: still one ordered answer."""
    symbols = [f"M{i:04d}.US" for i in range(1200)]
    add_assets(store, *symbols)
    store.write_assets([AssetUpdate(s, make_bars(s, D0, 2)) for s in symbols])
    got = store.read_bars(list(reversed(symbols)))
    assert [(b.symbol, b.date) for b in got] == [
        (s, D0 + dt.timedelta(days=i)) for s in symbols for i in range(2)
    ]
    assert [b.symbol for b in store.read_day(D0, symbols[::-1])] == symbols
