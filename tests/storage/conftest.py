"""Fixtures and helpers of the store tests: an open Store per backend, assets, bars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from data_nexus.models import Asset
from data_nexus.records import Bar
from data_nexus.storage.store import Store
from tests.conftest import make_settings


def pause_compression_policy(store: Store) -> None:
    """Stop TimescaleDB's background job compressing chunks under a test's feet.

    The policy would compress old chunks at a random moment; tests that want compressed
    chunks compress them explicitly (see test_store_timescale.py).
    """
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs "
                "WHERE proc_name = 'policy_compression'"
            )
        )


@pytest.fixture
def store(backend_url: str) -> Iterator[Store]:
    """An open Store on each backend in turn (SQLite, PostgreSQL, TimescaleDB)."""
    with Store.open(make_settings(backend_url)) as opened:
        if opened.caps.is_timescale:
            pause_compression_policy(opened)
        yield opened


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """An open Store on a migrated SQLite file."""
    with Store.open(make_settings(sqlite_url)) as opened:
        yield opened


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    """An open Store on a migrated plain PostgreSQL database."""
    with Store.open(make_settings(pg_url)) as opened:
        yield opened


def add_assets(store: Store, *symbols: str, lease_owner: str | None = None) -> None:
    """Register ``symbols`` in the assets table (bars need their asset: foreign key)."""
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(Asset),
            [
                {"symbol": s, "code": s.split(".")[0], "exchange": s.split(".")[-1],
                 "lease_owner": lease_owner}
                for s in symbols
            ],
        )  # fmt: skip


def make_bars(
    symbol: str, start: dt.date, count: int, *, base: str = "100.25", step: int = 1
) -> list[Bar]:
    """``count`` bars on consecutive days from ``start`` with simple exact prices."""
    price = Decimal(base)
    return [
        Bar(symbol, start + dt.timedelta(days=i * step), price + i, price + i + 1,
            price + i - 1, price + i, price + i - Decimal("0.5"), 1000 + i)
        for i in range(count)
    ]  # fmt: skip


def asset_state(store: Store, symbol: str) -> dict[str, object]:
    """The asset's row, minus nothing: used to prove a failed write changed nothing."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(Asset.__table__).where(Asset.symbol == symbol)).mappings()
        return dict(row.one())


def snapshot(store: Store, symbol: str) -> tuple[object, ...]:
    """Everything the store keeps about one asset: bars, actions and its assets row."""
    return (store.read_bars([symbol]), store.read_actions([symbol]), asset_state(store, symbol))
