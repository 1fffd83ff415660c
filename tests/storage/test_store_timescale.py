"""TimescaleDB: rewrites that land in compressed chunks work, a few chunks at a time.

After a split or dividend the provider rewrites a symbol's whole adjusted history, so a
sync writes into chunks the policy compressed long ago. These tests compress every chunk,
rewrite the history, and check the values exactly, that no more than ``compress_batch``
chunks were ever decompressed (or partially so) at once, and that every chunk ends up
compressed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from data_nexus.records import Bar
from data_nexus.storage import compression
from data_nexus.storage.compression import Chunk, Span, plan_spans
from data_nexus.storage.engine import open_engine
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import AssetUpdate, Store
from data_nexus.storage.timescale import hypertable_info
from tests.conftest import make_settings
from tests.storage.conftest import add_assets, make_bars, pause_compression_policy

START = dt.date(2021, 1, 1)
DAYS = 400  # about 14 monthly chunks
BATCH = 2


@pytest.fixture
def ts_store(empty_timescale_url: str) -> Iterator[Store]:
    """TimescaleDB with monthly chunks, A.US and B.US stored, every chunk compressed."""
    upgrade_db(make_settings(empty_timescale_url, chunk_interval="1 month"))
    with Store.open(make_settings(empty_timescale_url)) as store:
        pause_compression_policy(store)
        store.compress_batch = BATCH
        add_assets(store, "A.US", "B.US")
        for symbol in ("A.US", "B.US"):
            store.write_asset(AssetUpdate(symbol, make_bars(symbol, START, DAYS)))
        compress_all(store)
        yield store


def compress_all(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("SELECT count(compress_chunk(c)) FROM show_chunks('market_data') c"))
    assert store.compressed_chunks is not None
    store.compressed_chunks.invalidate()  # or the store would notice within a minute


_STATES = "SELECT _timescaledb_functions.chunk_status(c) FROM show_chunks('market_data') c"


def chunk_states(store: Store) -> list[int]:
    """TimescaleDB's status bits per chunk: 1 compressed, 8 partially (rows outside)."""
    with store.engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(sa.text(_STATES))]


def not_fully_compressed(states: list[int]) -> int:
    return sum(1 for s in states if not s & 1 or s & 8)


def with_adjusted(bars: list[Bar], shift: Decimal) -> list[Bar]:
    return [
        Bar(b.symbol, b.date, b.open, b.high, b.low, b.close,
            (b.adjusted_close or b.close) * Decimal("0.5") + shift, b.volume)
        for b in bars
    ]  # fmt: skip


@pytest.mark.parametrize("whole_chunks", [False, True], ids=["segments", "whole-chunks"])
def test_history_rewrite_into_compressed_chunks(
    ts_store: Store, monkeypatch: pytest.MonkeyPatch, whole_chunks: bool
) -> None:
    """Changed adjusted closes and window deletes land exactly; chunks end compressed."""
    store = ts_store
    store.whole_chunks = whole_chunks
    assert not_fully_compressed(chunk_states(store)) == 0
    chunks = len(chunk_states(store))
    seen: list[int] = []
    real_after = compression.Compression.after

    def spy(self: compression.Compression, span: Span, changed: bool) -> None:
        # Inside the writing transaction, which alone sees its chunks' status.
        self.cur.execute(_STATES)
        seen.append(not_fully_compressed([int(r[0]) for r in self.cur.fetchall()]))
        real_after(self, span, changed)

    monkeypatch.setattr(compression.Compression, "after", spy)
    old_b = store.read_bars(["B.US"])
    rewritten = with_adjusted(make_bars("A.US", START, DAYS), Decimal("0.00000001"))
    dropped = {10, 200, 399}
    sent = [b for i, b in enumerate(rewritten) if i not in dropped]
    result = store.write_asset(
        AssetUpdate("A.US", sent, window=(START, START + dt.timedelta(days=DAYS)))
    )
    assert (result.inserted, result.updated, result.unchanged) == (0, len(sent), 0)
    assert result.deleted == len(dropped)
    assert store.read_bars(["A.US"]) == sent
    assert store.read_bars(["B.US"]) == old_b
    assert max(seen) == BATCH  # chunks were opened, never more than a batch at once
    assert len(seen) >= chunks // BATCH
    assert not_fully_compressed(chunk_states(store)) == 0


def test_an_unchanged_resync_does_not_decompress_anything(ts_store: Store) -> None:
    """Identical bars over compressed history: counted unchanged, chunks left as they are."""
    again = ts_store.write_asset(AssetUpdate("A.US", make_bars("A.US", START, DAYS)))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, DAYS)
    assert not_fully_compressed(chunk_states(ts_store)) == 0


def test_a_new_symbol_backfilled_into_compressed_chunks(ts_store: Store) -> None:
    """Bars of a new symbol in compressed months are inserted and compressed with them."""
    add_assets(ts_store, "C.US")
    bars = make_bars("C.US", START, DAYS, base="1.00001234")
    result = ts_store.write_asset(AssetUpdate("C.US", bars))
    assert (result.inserted, result.updated) == (DAYS, 0)
    assert ts_store.read_bars(["C.US"]) == bars
    assert not_fully_compressed(chunk_states(ts_store)) == 0


def test_plan_spans_groups_compressed_chunks_and_covers_the_gaps() -> None:
    """Pure planning: every date of the range in exactly one span, ≤ batch chunks each."""
    day = dt.date
    chunks = [Chunk(f"c{m}", day(2020, m, 1), day(2020, m + 1, 1)) for m in (2, 3, 4, 7)]
    spans = plan_spans(day(2020, 1, 15), day(2020, 9, 30), chunks, 2)
    assert spans == [
        Span(day(2020, 1, 15), day(2020, 1, 31)),
        Span(day(2020, 2, 1), day(2020, 3, 31), ("c2", "c3")),
        Span(day(2020, 4, 1), day(2020, 7, 31), ("c4", "c7")),
        Span(day(2020, 8, 1), day(2020, 9, 30)),
    ]
    assert plan_spans(day(2020, 3, 10), day(2020, 3, 12), chunks, 2) == [
        Span(day(2020, 3, 10), day(2020, 3, 12), ("c3",))
    ]


def test_a_stale_chunk_list_still_writes_correctly(empty_timescale_url: str) -> None:
    """Chunks compressed after the store read its list are written right all the same.

    (TimescaleDB handles the DML; the chunks are left for the policy to recompress.)
    """
    upgrade_db(make_settings(empty_timescale_url, chunk_interval="1 month"))
    with Store.open(make_settings(empty_timescale_url)) as store:
        pause_compression_policy(store)
        add_assets(store, "A.US")
        store.write_asset(AssetUpdate("A.US", make_bars("A.US", START, 100)))  # list read: []
        with store.engine.begin() as conn:
            conn.execute(
                sa.text("SELECT count(compress_chunk(c)) FROM show_chunks('market_data') c")
            )
        rewritten = with_adjusted(make_bars("A.US", START, 100), Decimal("0.5"))
        result = store.write_asset(AssetUpdate("A.US", rewritten))
        assert (result.inserted, result.updated) == (0, 100)
        assert store.read_bars(["A.US"]) == rewritten


def test_migration_0002_keeps_compression_and_stores_any_decimal_in_compressed_chunks(
    empty_timescale_url: str,
) -> None:
    """0001's compressed hypertable goes to unconstrained NUMERIC and back: values, settings,
    policy and compressed chunks survive, and sub-1E-8 and negative prices land in a
    compressed chunk exactly."""
    settings = make_settings(empty_timescale_url, chunk_interval="1 month")
    upgrade_db(settings, "0001")
    engine = open_engine(empty_timescale_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO assets (symbol, code, exchange) VALUES ('A.US', 'A', 'US')")
            )
            conn.execute(
                sa.text(
                    "INSERT INTO market_data (time, symbol, close, volume) "
                    "SELECT d::date, 'A.US', 100.25 + (d::date - DATE '2021-01-01') * 0.01, 1 "
                    "FROM generate_series(DATE '2021-01-01', DATE '2021-06-30', '1 day') d"
                )
            )
            conn.execute(
                sa.text("SELECT count(compress_chunk(c)) FROM show_chunks('market_data') c")
            )
            before = hypertable_info(conn)
        assert before is not None and before.compressed_chunks == before.chunks > 3

        upgrade_db(settings)
        with engine.connect() as conn:
            after = hypertable_info(conn)
            kind = conn.execute(
                sa.text(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'market_data'::regclass AND attname = 'close'"
                )
            ).scalar_one()
        assert kind == "numeric"
        assert after is not None
        assert (after.chunks, after.compressed_chunks) == (before.chunks, before.chunks)
        assert (after.segmentby, after.orderby) == (["symbol"], ["time DESC"])
        assert after.policy_compress_after == before.policy_compress_after
        print(
            f"compression ratio before {before.compression_ratio}, after {after.compression_ratio}"
        )
    finally:
        engine.dispose()

    with Store.open(make_settings(empty_timescale_url)) as store:
        pause_compression_policy(store)
        day = dt.date(2021, 2, 10)
        tiny = Bar("A.US", day, None, None, Decimal("-40.32"), Decimal("8.4401E-06"), None, 1)
        result = store.write_asset(AssetUpdate("A.US", [tiny]))
        assert result.updated == 1
        assert store.read_bars(["A.US"], day, day) == [tiny]
        assert not_fully_compressed(chunk_states(store)) == 0
        assert len(store.read_bars(["A.US"])) == 181
