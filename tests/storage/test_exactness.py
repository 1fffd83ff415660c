"""Prices keep every digit and dates keep their day on every backend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from data_nexus.models import Asset, CorporateAction, MarketData
from data_nexus.storage.engine import open_engine

EXTREMES = [
    Decimal("0.00001234"), Decimal("123456789.12345678"), Decimal("9999999999.99999999"),
    Decimal("8.4401E-06"), Decimal("1E-12"), Decimal("-37.63"), Decimal("999999999999999.5"),
    Decimal("-0.000000000000000000000000000001"),
]  # fmt: skip


def test_extreme_prices_round_trip_exactly(backend_url: str) -> None:
    """0.00001234, 123456789.12345678, 8.4401E-06, 1E-12 and -37.63 come back digit for digit
    (no float on the way, no fixed scale in the column)."""
    engine = open_engine(backend_url)
    rows = [
        {
            "time": dt.date(2024, 1, 2) + dt.timedelta(days=i),
            "symbol": "X.CC",
            "open": price,
            "high": price,
            "low": price,
            "close": price,
            "adjusted_close": price,
            "volume": 9_000_000_000_000_000_000 if i == 0 else 0,
        }
        for i, price in enumerate(EXTREMES)
    ]
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(Asset), [{"symbol": "X.CC", "code": "X", "exchange": "CC"}])
            conn.execute(sa.insert(MarketData), rows)
        with engine.connect() as conn:
            back = (
                conn.execute(sa.select(MarketData.__table__).order_by(MarketData.time))
                .mappings()
                .all()
            )
    finally:
        engine.dispose()
    assert [dict(r) for r in back] == rows
    for row in back:
        for column in ("open", "high", "low", "close", "adjusted_close"):
            assert isinstance(row[column], Decimal)
            assert str(row[column].normalize()) == str(rows[back.index(row)][column].normalize())


def test_corporate_action_amounts_and_same_day_split_and_dividend(backend_url: str) -> None:
    """A split and a dividend on the same day are two rows; amounts keep 12 decimals."""
    engine = open_engine(backend_url)
    day = dt.date(2020, 8, 31)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Asset), [{"symbol": "AAPL.US", "code": "AAPL", "exchange": "US"}]
            )
            conn.execute(
                sa.insert(CorporateAction),
                [
                    {"symbol": "AAPL.US", "date": day, "action_type": "split",
                     "value": Decimal("0.079429272132"), "numerator": Decimal("1.000000"),
                     "denominator": Decimal("12.589830"), "unadjusted_value": None,
                     "currency": None},
                    {"symbol": "AAPL.US", "date": day, "action_type": "dividend",
                     "value": Decimal("0.00054"), "numerator": None, "denominator": None,
                     "unadjusted_value": Decimal("0.12096"), "currency": "USD"},
                ],
            )  # fmt: skip
        with engine.connect() as conn:
            back = (
                conn.execute(
                    sa.select(CorporateAction.__table__).order_by(CorporateAction.action_type)
                )
                .mappings()
                .all()
            )
    finally:
        engine.dispose()
    assert [r["action_type"] for r in back] == ["dividend", "split"]
    assert back[0]["value"] == Decimal("0.00054")
    assert back[1]["denominator"] == Decimal("12.589830")
    assert back[1]["value"] == Decimal("0.079429272132")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles", "Asia/Tokyo"])
def test_dates_do_not_shift_with_session_time_zone(pg_url: str, zone: str) -> None:
    """A bar's trading date is a DATE: no session time zone moves it to another day."""
    engine = open_engine(pg_url)
    day = dt.date(2024, 3, 10)  # a DST change in the US
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"SET TIME ZONE '{zone}'"))
            conn.execute(sa.insert(Asset), [{"symbol": "A.US", "code": "A", "exchange": "US"}])
            conn.execute(
                sa.insert(MarketData),
                [{"time": day, "symbol": "A.US", "close": Decimal("1")}],
            )
        with engine.connect() as conn:
            conn.execute(sa.text("SET TIME ZONE 'UTC'"))
            assert conn.execute(sa.select(MarketData.time)).scalar_one() == day
            conn.execute(sa.text("SET TIME ZONE 'Pacific/Pago_Pago'"))
            assert conn.execute(sa.select(MarketData.time)).scalar_one() == day
    finally:
        engine.dispose()
