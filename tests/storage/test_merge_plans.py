"""The merge never plans a nested loop, even on a table that has no statistics yet.

Right after a first load nothing has statistics: autovacuum has not analysed
``market_data`` yet, and the staging table never is. The planner then expects a handful
of rows on both sides of the merge's join and, left alone, compares every incoming row
with every stored one of the range (measured: 13.6 million comparisons and 3.2 s for one
symbol's 20 years, a re-sync 15x slower). These tests capture the plans of the statements
the writer really runs (``auto_explain``, sent to the client as notices) while the table
provably has no statistics, and check both merge paths (staging table and array
parameters) on PostgreSQL and TimescaleDB. No timing is involved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from data_nexus.storage import pg_writer
from data_nexus.storage.store import AssetUpdate, Store, WriteResult
from data_nexus.storage.validate import BarValidator
from tests.storage.conftest import add_assets, make_bars

D0 = dt.date(2020, 1, 1)
SYMBOLS = [f"N{i:02d}.US" for i in range(12)]
DAYS = 600  # > SMALL_BATCH: a full re-sync goes through the staging table

_NO_STATISTICS = """
SELECT count(*) FROM pg_statistic
WHERE starelid = 'market_data'::regclass
   OR starelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'market_data'::regclass)
"""


@pytest.fixture
def plans(store: Store) -> Iterator[list[str]]:
    """Every plan the store's connections run from now on (auto_explain notices)."""
    if not store.caps.is_postgres:
        pytest.skip("query plans are checked on PostgreSQL and TimescaleDB")
    captured: list[str] = []

    def explain_everything(dbapi_conn: psycopg.Connection[Any], _record: object) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            cur.execute("SET auto_explain.log_min_duration = 0")
            cur.execute("SET auto_explain.log_level = 'notice'")
        dbapi_conn.commit()  # keep the session settings past the pool's rollback
        dbapi_conn.add_notice_handler(lambda d: captured.append(d.message_primary or ""))

    with store.engine.connect() as conn:
        try:
            conn.exec_driver_sql("LOAD 'auto_explain'")
        except sa.exc.DBAPIError as error:
            pytest.skip(f"auto_explain cannot be loaded here: {error.orig}")
    sa.event.listen(store.engine, "connect", explain_everything)
    store.engine.dispose()  # every connection from now on is a new one
    yield captured
    sa.event.remove(store.engine, "connect", explain_everything)


def _statistics(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(_NO_STATISTICS)).scalar_one())


def test_the_merge_never_plans_a_nested_loop_without_statistics(
    store: Store, plans: list[str]
) -> None:
    """A full re-sync (staging table) and an incremental one (arrays) right after the
    first load, autovacuum off: every merge plan joins without a nested loop."""
    add_assets(store, *SYMBOLS)
    with store.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE market_data SET (autovacuum_enabled = false)"))
    bars = {s: make_bars(s, D0, DAYS) for s in SYMBOLS}
    window = (D0, D0 + dt.timedelta(days=DAYS - 1))
    first = store.write_assets([AssetUpdate(s, bars[s], window=window) for s in SYMBOLS])
    assert all(isinstance(r, WriteResult) and r.inserted == DAYS for r in first)
    del plans[:]

    again = store.write_assets([AssetUpdate(s, bars[s], window=window) for s in SYMBOLS])
    tail = (window[1] - dt.timedelta(days=4), window[1])
    recent = store.write_assets([AssetUpdate(s, bars[s][-5:], window=tail) for s in SYMBOLS])

    assert _statistics(store) == 0, "the premise: market_data was never analysed"
    assert all(isinstance(r, WriteResult) and r.unchanged == DAYS for r in again)
    assert all(isinstance(r, WriteResult) and r.unchanged == 5 for r in recent)
    merges = [p for p in plans if "INSERT INTO market_data AS m" in p]
    staged = [p for p in merges if pg_writer._STAGE in p]
    arrays = [p for p in merges if "unnest" in p]
    assert (len(staged), len(arrays)) == (len(SYMBOLS), len(SYMBOLS)), merges[:1]
    looped = [p for p in merges if "Nested Loop" in p]
    assert not looped, looped[0]


def test_nested_loops_are_allowed_again_right_after_the_merge(store: Store) -> None:
    """The setting lasts for the merge statement only, not the rest of the transaction."""
    if not store.caps.is_postgres:
        pytest.skip("PostgreSQL and TimescaleDB only")
    add_assets(store, "Z.US")
    rows = BarValidator("Z.US", canonical=False).rows(make_bars("Z.US", D0, 5))
    with store._transaction() as (conn, sink):
        assert sink.write("Z.US", rows, rows[0][0], rows[-1][0], None) == (5, 0)
        assert conn.exec_driver_sql("SHOW enable_nestloop").scalar_one() == "on"
