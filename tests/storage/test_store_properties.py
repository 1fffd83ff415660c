"""Properties of the write path, on every backend: exact round trips, idempotence, atomicity.

Each Hypothesis example uses a fresh symbol in the test's database, so examples do not
see each other's rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_nexus.errors import DataNexusError, DataValidationError
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage import action_rows, pg_writer
from data_nexus.storage.store import AssetUpdate, Store
from tests.storage.conftest import add_assets, snapshot

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXTREMES = [
    Decimal("0.00001234"), Decimal("9999999999.99999999"), Decimal(0), Decimal("1E-8"),
    Decimal("8.4401E-06"), Decimal("1E-12"), Decimal("-37.63"), Decimal("999999999999999.5"),
    Decimal("-0.000000000000000000000000000001"),
]  # fmt: skip

prices = st.one_of(
    st.sampled_from(EXTREMES),
    st.integers(0, 30).flatmap(
        lambda places: st.decimals(
            min_value=Decimal("-99999999999999"),
            max_value=Decimal("99999999999999"),
            places=places,
        )
    ),
)
maybe_prices = st.none() | prices
volumes = st.none() | st.integers(0, 2**63 - 1)
# 1970-2040 keeps TimescaleDB's chunk count (12-month chunks) small per example.
dates = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2040, 12, 31))
_names = itertools.count()


@pytest.fixture(params=["arrays", "copy", "pieces"])
def write_path(
    request: pytest.FixtureRequest, store: Store, monkeypatch: pytest.MonkeyPatch
) -> str:
    """PostgreSQL merges small chunks from array parameters and large ones through COPY,
    streamed in pieces validated one at a time: run each property through each path,
    "pieces" with three bars a piece (SQLite has one path)."""
    if request.param != "arrays":
        if not store.caps.is_postgres:
            pytest.skip("SQLite has a single write path")
        monkeypatch.setattr(pg_writer, "SMALL_BATCH", 0)
    if request.param == "pieces":
        monkeypatch.setattr(pg_writer, "PIECE", 3)
    return str(request.param)


def fresh_symbol(store: Store) -> str:
    """A new registered symbol for one example."""
    symbol = f"P{next(_names)}.US"
    add_assets(store, symbol)
    return symbol


@st.composite
def bar_batches(draw: st.DrawFn, min_size: int = 0) -> list[tuple[Any, ...]]:
    """Bars without a symbol (added per example): unique dates, any exact values."""
    days = draw(st.lists(dates, min_size=min_size, max_size=40, unique=True))
    return [
        (day, draw(maybe_prices), draw(maybe_prices), draw(maybe_prices), draw(prices),
         draw(maybe_prices), draw(volumes))
        for day in days
    ]  # fmt: skip


def with_symbol(symbol: str, rows: list[tuple[Any, ...]]) -> list[Bar]:
    return [Bar(symbol, *row) for row in rows]


def row_versions(store: Store, symbol: str) -> list[tuple[str, str, str]]:
    """PostgreSQL's physical identity of each stored row: (ctid, xmin, xmax)."""
    with store.engine.connect() as conn:
        return [
            (str(r[0]), str(r[1]), str(r[2]))
            for r in conn.execute(
                sa.text(
                    "SELECT ctid::text, xmin::text, xmax::text FROM market_data "
                    "WHERE symbol = :s ORDER BY time"
                ),
                {"s": symbol},
            )
        ]


@pytest.mark.usefixtures("write_path")
@PROPERTY
@given(rows=bar_batches())
def test_bars_read_back_exactly_and_a_second_write_changes_nothing(
    store: Store, rows: list[tuple[Any, ...]]
) -> None:
    """Decimal-exact, dates unshifted, None kept; re-sending the batch rewrites no row."""
    symbol = fresh_symbol(store)
    bars = with_symbol(symbol, rows)
    first = store.write_asset(AssetUpdate(symbol, bars))
    assert (first.inserted, first.updated, first.unchanged) == (len(bars), 0, 0)
    expected = sorted(bars, key=lambda b: b.date)
    back = store.read_bars([symbol])
    assert back == expected
    for got, sent in zip(back, expected, strict=True):
        assert got.date == sent.date
        for name in ("open", "high", "low", "close", "adjusted_close"):
            a, b = getattr(got, name), getattr(sent, name)
            assert (a is None) == (b is None)
            assert a is None or (isinstance(a, Decimal) and a.normalize() == b.normalize())
    assert (first.first_date, first.last_date) == (
        (expected[0].date, expected[-1].date) if expected else (None, None)
    )
    before = row_versions(store, symbol) if store.caps.is_postgres else None
    second = store.write_asset(AssetUpdate(symbol, iter(bars)))
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, len(bars))
    assert store.read_bars([symbol]) == expected
    if before is not None:
        # Same ctid and xmin: no new row version; xmax unchanged: not even locked.
        assert row_versions(store, symbol) == before


@pytest.mark.usefixtures("write_path")
@PROPERTY
@given(old=bar_batches(), new=bar_batches())
def test_an_overlapping_write_counts_exactly_and_the_result_is_the_merge(
    store: Store, old: list[tuple[Any, ...]], new: list[tuple[Any, ...]]
) -> None:
    """inserted/updated/unchanged match a dict merge of old and new bars."""
    symbol = fresh_symbol(store)
    store.write_asset(AssetUpdate(symbol, with_symbol(symbol, old)))
    stored = {row[0]: row for row in old}
    inserted = sum(row[0] not in stored for row in new)
    updated = sum(row[0] in stored and stored[row[0]] != row for row in new)
    result = store.write_asset(AssetUpdate(symbol, with_symbol(symbol, new)))
    assert (result.inserted, result.updated, result.unchanged) == (
        inserted, updated, len(new) - inserted - updated)  # fmt: skip
    merged = {**stored, **{row[0]: row for row in new}}
    assert store.read_bars([symbol]) == with_symbol(symbol, [merged[d] for d in sorted(merged)])


@st.composite
def windowed(draw: st.DrawFn) -> tuple[list[Any], list[Any], tuple[dt.date, dt.date], bool]:
    """One asset's stored bars, the bars sent, the window and whether a bad value follows."""
    old = draw(bar_batches())
    new = draw(bar_batches())
    start, end = sorted(draw(st.tuples(dates, dates)))
    if new and draw(st.booleans()):  # mostly the window the sync sends: the bars' range
        start, end = min(r[0] for r in new), max(r[0] for r in new)
    return old, new, (start, end), draw(st.integers(0, 4)) == 0


@pytest.mark.usefixtures("write_path")
@PROPERTY
@given(assets=st.lists(windowed(), min_size=1, max_size=4))
def test_a_batch_of_windowed_writes_is_each_merge_minus_what_its_window_dropped(
    store: Store, assets: list[tuple[list[Any], list[Any], tuple[dt.date, dt.date], bool]]
) -> None:
    """write_assets with windows (first loads share one COPY on PostgreSQL): each asset's
    counts and bars are the dict model's; one with a caller's bad last value (a float)
    changes nothing."""
    symbols = [fresh_symbol(store) for _ in assets]
    updates, expected = [], []
    for symbol, (old, new, window, bad) in zip(symbols, assets, strict=True):
        store.write_asset(AssetUpdate(symbol, with_symbol(symbol, old)))
        stored = {row[0]: row for row in old}
        sent = {row[0]: row for row in new}
        gone = [d for d in stored if window[0] <= d <= window[1] and d not in sent]
        inserted = sum(d not in stored for d in sent)
        updated = sum(d in stored and stored[d] != row for d, row in sent.items())
        merged = {d: r for d, r in stored.items() if d not in gone} | sent
        bars = with_symbol(symbol, new)
        if bad:
            day = max([*sent, window[1]]) + dt.timedelta(days=1)
            bars.append(Bar(symbol, day, None, None, None, 0.125, None, None))  # type: ignore[arg-type]
            merged = stored
        updates.append(AssetUpdate(symbol, bars, window=window))
        counts = (inserted, updated, len(new) - inserted - updated, len(gone))
        expected.append((None if bad else counts, [merged[d] for d in sorted(merged)]))
    results = store.write_assets(updates)
    for symbol, result, (counts, rows) in zip(symbols, results, expected, strict=True):
        if counts is None:
            assert isinstance(result, DataValidationError)
        else:
            assert not isinstance(result, Exception), result
            assert (result.inserted, result.updated, result.unchanged, result.deleted) == counts
        assert store.read_bars([symbol]) == with_symbol(symbol, rows)


FAILURES = ["stream_raises", "late_validation_error", "database_error"]


def failing_update(
    symbol: str, bars: list[Bar], how: str, monkeypatch: pytest.MonkeyPatch
) -> AssetUpdate:
    """An update that fails after some of its bars reached the database."""
    if how == "stream_raises":

        def stream() -> Iterator[Bar]:
            yield from bars
            raise RuntimeError("provider connection lost")

        return AssetUpdate(symbol, stream(), state={"fail_count": 99})
    if how == "late_validation_error":
        last = bars[-1]
        bad = Bar(symbol, last.date + dt.timedelta(days=1), None, None, None,
                  1.125, None, None)  # type: ignore[arg-type]  # a caller's float  # fmt: skip
        return AssetUpdate(symbol, iter([*bars, bad]), state={"fail_count": 99})
    # A corporate action the database refuses (CHECK constraint), after the bars went in.
    monkeypatch.setattr(action_rows, "ACTION_TYPES", ("split", "dividend", "bogus"))
    action = Dividend(symbol, bars[0].date, Decimal("0.5"))
    object.__setattr__(action, "action_type", "bogus")
    return AssetUpdate(
        symbol, bars, actions=[Split(symbol, bars[0].date, Decimal(2), Decimal(1)), action],
        state={"fail_count": 99},
    )  # fmt: skip


@pytest.mark.usefixtures("write_path")
@PROPERTY
@given(old=bar_batches(), new=bar_batches(min_size=1), how=st.sampled_from(FAILURES))
def test_a_write_that_fails_midway_leaves_the_asset_exactly_as_before(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    old: list[tuple[Any, ...]],
    new: list[tuple[Any, ...]],
    how: str,
) -> None:
    """Bars, actions and state are all as before, whichever step failed."""
    store.batch_size = 3  # several chunks reach the database before the failure
    symbol = fresh_symbol(store)
    store.write_asset(
        AssetUpdate(symbol, with_symbol(symbol, old),
                    actions=[Dividend(symbol, dt.date(2000, 1, 3), Decimal("0.25"))])
    )  # fmt: skip
    before = snapshot(store, symbol)
    with monkeypatch.context() as patch:
        update = failing_update(symbol, sorted(with_symbol(symbol, new), key=lambda b: b.date),
                                how, patch)  # fmt: skip
        with pytest.raises((RuntimeError, DataNexusError)):
            store.write_asset(update)
    assert snapshot(store, symbol) == before


def test_invalid_values_write_nothing(store: Store) -> None:
    """A refused value (a caller's float) raises the exact line and leaves bars, actions and
    state alone."""
    add_assets(store, "V.US")
    day = dt.date(2024, 1, 2)
    before = snapshot(store, "V.US")
    bars = [Bar("V.US", day, None, None, None, 12.5, None, None)]  # type: ignore[arg-type]
    with pytest.raises(DataValidationError) as caught:
        store.write_asset(AssetUpdate("V.US", bars, state={"fail_count": 3}))
    assert str(caught.value) == "V.US 2024-01-02 close: 12.5 is a float, not an exact Decimal"
    assert snapshot(store, "V.US") == before
