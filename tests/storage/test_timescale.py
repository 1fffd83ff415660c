"""TimescaleDB: hypertable, symbol-segmented compression and a policy; downgrade removes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from data_nexus.models import Asset, MarketData
from data_nexus.storage.engine import open_engine
from data_nexus.storage.info import database_info
from data_nexus.storage.migrate import downgrade_db, upgrade_db
from tests.conftest import make_settings


def test_hypertable_compression_and_policy(timescale_url: str) -> None:
    """The migration makes market_data a hypertable compressed by symbol, newest first."""
    info = database_info(make_settings(timescale_url))
    assert info.capabilities.backend == "timescaledb"
    hyper = info.hypertable
    assert hyper is not None
    assert hyper.segmentby == ["symbol"]
    assert hyper.orderby == ["time DESC"]
    assert hyper.policy_compress_after is not None
    assert hyper.chunk_interval is not None


def test_chunk_interval_is_a_setting(empty_timescale_url: str) -> None:
    """DATANEXUS_CHUNK_INTERVAL decides the chunk size of a new hypertable."""
    upgrade_db(make_settings(empty_timescale_url, chunk_interval="3 months"))
    engine = open_engine(empty_timescale_url)
    try:
        with engine.connect() as conn:
            interval = conn.execute(
                sa.text(
                    "SELECT time_interval FROM timescaledb_information.dimensions "
                    "WHERE hypertable_name = 'market_data'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert interval == dt.timedelta(days=90)


def test_compressed_rows_read_back_and_downgrade_removes_everything(timescale_url: str) -> None:
    """Compressed chunks read back exactly; downgrade base drops hypertable, policy and all."""
    engine = open_engine(timescale_url)
    rows = [
        {"time": dt.date(2001, 1, 1) + dt.timedelta(days=i), "symbol": "A.US",
         "close": Decimal("0.00001234") + i, "volume": i}
        for i in range(400)
    ]  # fmt: skip
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(Asset), [{"symbol": "A.US", "code": "A", "exchange": "US"}])
            conn.execute(sa.insert(MarketData), rows)
        with engine.begin() as conn:
            compressed = conn.execute(
                sa.text("SELECT count(compress_chunk(c)) FROM show_chunks('market_data') c")
            ).scalar_one()
            assert compressed >= 1
        with engine.connect() as conn:
            back = (
                conn.execute(
                    sa.select(
                        MarketData.time, MarketData.symbol, MarketData.close, MarketData.volume
                    ).order_by(MarketData.time)
                )
                .mappings()
                .all()
            )
        assert [
            {"time": r["time"], "symbol": r["symbol"], "close": r["close"], "volume": r["volume"]}
            for r in back
        ] == rows
        info = database_info(make_settings(timescale_url))
        assert info.hypertable is not None and info.hypertable.compressed_chunks >= 1
        assert (info.hypertable.compression_ratio or 0) > 0

        downgrade_db(make_settings(timescale_url), "base")
        with engine.connect() as conn:
            assert (
                conn.execute(
                    sa.text("SELECT count(*) FROM timescaledb_information.hypertables")
                ).scalar_one()
                == 0
            )
            assert (
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM timescaledb_information.jobs "
                        "WHERE proc_name = 'policy_compression'"
                    )
                ).scalar_one()
                == 0
            )
    finally:
        engine.dispose()
