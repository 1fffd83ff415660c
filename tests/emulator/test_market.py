"""The synthetic market: deterministic, consistent, and shaped like a real exchange."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pytest

from data_nexus.emulator import DEMO_SYMBOLS, Market
from data_nexus.emulator.universe import isin_check_digit
from data_nexus.quality import sessions
from tests.emulator.conftest import TODAY


def small(seed: int = 42, symbols: int = 10, today: dt.date = TODAY) -> Market:
    return Market(today=today, seed=seed, symbols=symbols, start=dt.date(2010, 1, 4))


def test_same_seed_gives_the_same_history_and_another_seed_does_not() -> None:
    first, second, other = small(), small(), small(seed=43)
    for symbol in ("AAPL.US", first.symbols("US")[-1].symbol):
        assert first.bars(symbol) == second.bars(symbol)
        assert first.splits(symbol) == second.splits(symbol)
        assert first.dividends(symbol) == second.dividends(symbol)
    assert first.bars("MSFT.US") != other.bars("MSFT.US")


def test_a_symbols_history_does_not_depend_on_how_many_symbols_exist() -> None:
    few, many = small(symbols=10), small(symbols=60)
    few_codes = {s.code for s in few.symbols("US")}
    assert few_codes <= {s.code for s in many.symbols("US")}
    for code in sorted(few_codes)[:4]:
        assert few.bars(f"{code}.US") == many.bars(f"{code}.US")


def test_extending_today_keeps_every_earlier_raw_row() -> None:
    earlier, later = small(today=dt.date(2020, 3, 2)), small()
    for symbol in ("AAPL.US", "MSFT.US", earlier.symbols("US")[-1].symbol):
        old = earlier.raw_series(symbol)
        new = later.raw_series(symbol)
        n = len(old.ordinals)
        assert np.array_equal(old.ordinals, new.ordinals[:n])
        for column in ("open", "high", "low", "close"):
            assert np.array_equal(getattr(old, column), getattr(new, column)[:n])


def test_prices_are_consistent_positive_and_on_trading_days(market: Market) -> None:
    nyse = {o.toordinal() for o in sessions("US", market.start, TODAY).days}
    for listed in market.symbols("US", include_delisted=True):
        view = market.view(listed.symbol)
        assert len(view), listed.symbol
        low, high = view.low.astype(np.int64), view.high.astype(np.int64)
        opened, close = view.open.astype(np.int64), view.close.astype(np.int64)
        assert (low > 0).all()
        assert (low <= np.minimum(opened, close)).all()
        assert (np.maximum(opened, close) <= high).all()
        assert (view.volume >= 0).all() and (view.adjusted_close > 0).all()
        assert (np.diff(view.ordinals) > 0).all()
        assert ((view.ordinals.astype(np.int64) - 1) % 7 < 5).all()  # no weekends
        assert set(view.ordinals.tolist()) <= nyse  # no NYSE holiday
        profile = market.profile(listed.symbol)
        assert profile is not None
        assert view.ordinals[0] >= profile.listing.toordinal()
        assert view.ordinals[-1] <= (profile.delisted or TODAY).toordinal()


def test_the_universe_looks_like_a_real_exchange(market: Market) -> None:
    us = {s.code: s for s in market.symbols("US")}
    assert {"AAPL", "MSFT", "TSLA", "VTI", "AMZN"} <= set(us)
    assert us["VTI"].asset_type == "ETF" and us["AAPL"].isin == "US0378331005"
    assert any("-" in code for code in us)
    assert any(s.asset_type == "FUND" and s.isin is None for s in us.values())
    for listed in us.values():
        if listed.isin:
            assert isin_check_digit(listed.isin[:11]) == listed.isin[11], listed.code
    assert {f"{s.code}.{s.exchange}" for s in market.symbols("US")} >= {
        s for s in DEMO_SYMBOLS if s.endswith(".US")
    }
    assert market.listing("BTC-USD.CC") is not None and market.listing("EURUSD.FOREX")


def test_delisted_symbols_are_listed_apart_and_stopped_trading_before_today(
    market: Market,
) -> None:
    active = {s.code for s in market.symbols("US")}
    gone = market.delisted_symbols("US")
    assert len(active) == 200 and len(gone) == 10
    assert not active & {s.code for s in gone}
    assert all(s.delisted for s in gone)
    for listed in gone:
        last = market.bars(listed.symbol)[-1].date
        assert last < TODAY - dt.timedelta(days=20)


def test_thin_symbols_skip_days_and_some_days_trade_nothing(market: Market) -> None:
    calendar = set(market.trading_days("US", dt.date(2020, 1, 1), TODAY))
    thin = [
        s.symbol for s in market.symbols("US") if (p := market.profile(s.symbol)) and p.thin > 0
    ]
    assert thin
    days = {b.date for b in market.bars(thin[0], dt.date(2020, 1, 1))}
    assert days < calendar
    quiet = 0
    for listed in market.symbols("US")[:40]:
        view = market.view(listed.symbol)
        days_off = view.volume == 0
        quiet += int(days_off.sum())
        assert (view.open[days_off] == view.close[days_off]).all()
        assert (view.high[days_off] == view.low[days_off]).all()
    assert quiet


def test_forex_and_crypto_have_their_own_precision_and_calendar(market: Market) -> None:
    eurusd = market.bars("EURUSD.FOREX")
    assert all(b.volume == 0 for b in eurusd)
    assert max(-b.close.as_tuple().exponent for b in eurusd) == 5
    weekend = [b for b in market.bars("BTC-USD.CC") if b.date.weekday() >= 5]
    assert weekend


def test_trading_days_skip_weekends_and_holidays(market: Market) -> None:
    days = market.trading_days("US", dt.date(2024, 7, 1), dt.date(2024, 7, 8))
    assert days == [dt.date(2024, 7, d) for d in (1, 2, 3, 5, 8)]
    lse = market.trading_days("LSE", dt.date(2024, 12, 24), dt.date(2024, 12, 27))
    assert lse == [dt.date(2024, 12, 24), dt.date(2024, 12, 27)]
    # Good Friday, Thanksgiving, Christmas observed on a Friday: no fixed-date rule has them
    for day in (dt.date(2024, 3, 29), dt.date(2024, 11, 28), dt.date(2021, 12, 24)):
        assert market.trading_days("US", day, day) == []
    assert market.last_trading_day("US", dt.date(2024, 7, 7)) == dt.date(2024, 7, 5)


def test_bars_include_today_when_it_is_a_trading_day(market: Market) -> None:
    assert market.bars("AAPL.US")[-1].date == TODAY
    assert market.bulk_bars("US")[0].date == TODAY


def test_well_known_symbols_carry_their_real_splits(market: Market) -> None:
    splits = {(s.date.isoformat(), s.numerator, s.denominator) for s in market.splits("AAPL.US")}
    assert ("2020-08-31", 4, 1) in splits and ("2014-06-09", 7, 1) in splits


def test_unknown_symbols_raise_key_error(market: Market) -> None:
    with pytest.raises(KeyError):
        market.bars("NOPE.US")
    with pytest.raises(KeyError):
        market.bars("AAPL.XETRA")  # exchange not configured


def test_a_25_year_symbol_generates_in_milliseconds() -> None:
    fresh = Market(today=TODAY, seed=5, symbols=50)
    started = time.perf_counter()
    for listed in fresh.symbols("US")[:20]:
        fresh.view(listed.symbol)
    per_symbol = (time.perf_counter() - started) / 20
    assert per_symbol < 0.05  # measured ~2 ms; generous for slow CI machines
