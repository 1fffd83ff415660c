"""Reads: order, inclusive ranges, the cross section, and that the plans use the indexes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_nexus.decimals import canonical
from data_nexus.records import Bar
from data_nexus.storage import reads
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


def test_packed_sqlite_reads_equal_the_row_by_row_reads(sqlite_store: Store) -> None:
    """One symbol and one date are read as one packed row: the same records, NULLs kept, as
    the row-by-row read of the same SELECT (the path every other read takes)."""
    add_assets(sqlite_store, "A.US", "B.US", "N.US")
    nulls = Bar("N.US", D0, None, None, None, Decimal("0.00000001"), None, None)
    sqlite_store.write_asset(AssetUpdate("N.US", [nulls]))
    for symbol in ("A.US", "B.US"):
        sqlite_store.write_asset(AssetUpdate(symbol, make_bars(symbol, D0, 30)))
    with sqlite_store._reader() as raw:
        for symbols, start, end in (
            (["A.US"], None, None),
            (["B.US"], D0, D0),
            (["N.US"], None, None),
        ):
            sql, params = bars_sql(symbols, start, end, paramstyle="qmark")
            packed = reads._sqlite_packed(raw, sql, params, "time", symbols[0])
            assert [repr(b) for b in packed] == [repr(b) for b in reads._sqlite(raw, sql, params)]
            assert packed  # not an empty answer on both sides
        for day in (D0, D0 + dt.timedelta(days=1)):
            sql, params = day_sql(day, None, paramstyle="qmark")
            packed = reads._sqlite_packed(raw, sql, params, "symbol", day)
            assert [repr(b) for b in packed] == [repr(b) for b in reads._sqlite(raw, sql, params)]
    assert sqlite_store.read_bars(["N.US"]) == [nulls]
    assert [b.symbol for b in sqlite_store.read_day(D0)] == ["A.US", "B.US", "N.US"]


def test_packed_sqlite_read_falls_back_to_rows_when_sqlite_packs_out_of_order(
    sqlite_store: Store,
) -> None:
    """``group_concat`` keeps no promised order before SQLite 3.44: packed rows that are not
    in date order are not used; the read is done again row by row, in order."""
    add_assets(sqlite_store, "A.US")
    bars = make_bars("A.US", D0, 10)
    sqlite_store.write_asset(AssetUpdate("A.US", bars[5:]))  # later dates get the lower rowids
    sqlite_store.write_asset(AssetUpdate("A.US", bars[:5]))
    sql, params = bars_sql(["A.US"], None, None, paramstyle="qmark")
    in_rowid_order = sql.replace("FROM market_data", "FROM market_data NOT INDEXED")
    with sqlite_store._reader() as raw:
        packed = raw.execute(reads._packed_sql(in_rowid_order, "time"), params).fetchone()[1]
        assert packed.split(reads._SEP)[0] == bars[5].date.isoformat()  # out of order indeed
        assert reads._sqlite_packed(raw, in_rowid_order, params, "time", "A.US") == bars
    assert sqlite_store.read_bars(["A.US"]) == bars


def test_packed_sqlite_read_of_a_symbol_holding_the_separator(sqlite_store: Store) -> None:
    """A symbol with the packing separator in it (no valid symbol has one) is still read
    right: the field count no longer matches, and the read falls back to rows."""
    odd = "X\x1fY.US"
    add_assets(sqlite_store, "A.US", odd)
    for symbol in ("A.US", odd):
        sqlite_store.write_asset(AssetUpdate(symbol, make_bars(symbol, D0, 3)))
    assert [b.symbol for b in sqlite_store.read_day(D0)] == ["A.US", odd]
    assert sqlite_store.read_bars([odd]) == make_bars(odd, D0, 3)


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=8, min_value=-(10**10), max_value=10**10
    )
    | st.decimals(allow_nan=False, allow_infinity=False, places=30, max_value=10**40)
)
def test_stored_text_becomes_the_very_decimal_of_the_text(value: Decimal) -> None:
    """The reads' converter gives ``Decimal(text)`` exactly (digits, exponent, sign) for the
    canonical text the writers store, and refuses text that is not a number."""
    text = canonical(value)
    (got,) = reads._decimals([text])
    assert got is not None
    assert got.as_tuple() == Decimal(text).as_tuple()
    assert reads._decimals([text, None]) == [Decimal(text), None]
    assert reads._decimals([text, ""], "") == [Decimal(text), None]
    with pytest.raises(ArithmeticError):
        reads._decimals(["1.5", "1,5"])
