"""The checks agree with the emulator's clean market, and catch its dirt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from fractions import Fraction

import pytest

from data_nexus.emulator import Market
from data_nexus.emulator.dirt import DirtBook
from data_nexus.quality import (
    adjustment_mismatches,
    check_history,
    gaps,
    off_session_bars,
    ohlc_violations,
    price_steps,
    sessions,
    zero_closes,
)
from data_nexus.records import Bar

TODAY = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(today=TODAY, seed=42, symbols=40, exchanges=("US", "LSE"))


def symbols(market: Market) -> Iterator[str]:
    for exchange in market.exchange_codes:
        for listed in market.symbols(exchange):
            yield listed.symbol


def test_clean_market_has_no_adjustment_ohlc_or_zero_findings(market: Market) -> None:
    with_actions = 0
    for symbol in symbols(market):
        bars = market.bars(symbol)
        splits, dividends = market.splits(symbol), market.dividends(symbol)
        with_actions += bool(splits and dividends)
        assert adjustment_mismatches(symbol, bars, splits, dividends) == [], symbol
        assert ohlc_violations(symbol, bars) == [], symbol
        assert zero_closes(symbol, bars) == [], symbol
    assert with_actions >= 5  # the convention was tested on splits and dividends together


def test_clean_splits_explain_their_steps(market: Market) -> None:
    checked = 0
    for symbol in symbols(market):
        splits = [s for s in market.splits(symbol) if s.ratio >= 5 or s.ratio <= Fraction(1, 5)]
        if not splits:
            continue
        bars = market.bars(symbol)
        assert price_steps(symbol, bars, market.splits(symbol)) == [], symbol
        assert len(price_steps(symbol, bars)) >= len(splits)  # without them: steps
        checked += 1
    assert checked >= 3


def test_a_stored_history_after_a_plan_limited_answer_disagrees(market: Market) -> None:
    """Issue 9 kind 7: rows outside the returned year keep the old scale → a finding."""
    local = Market(today=TODAY, seed=42, symbols=40, exchanges=("US",))
    book = DirtBook(local)
    book.add("MSFT.US", "plan_limited")
    stored = local.bars("MSFT.US")  # first sync: the full history
    due = book.splits_on_advance(TODAY, TODAY + dt.timedelta(days=1))
    local.advance(1, splits={symbol: "4/1" for symbol in due})
    book.record_splits(due)
    view = local.view("MSFT.US")
    served, _ = book.eod_rows(view)
    first_served = served[0][0]
    # merge: the served year replaces what it covers, older stored rows stay as they were
    merged = [b for b in stored if b.date.isoformat() < first_served]
    merged += [b for b in local.bars("MSFT.US") if b.date.isoformat() >= first_served]
    found = adjustment_mismatches(
        "MSFT.US", merged, local.splits("MSFT.US"), local.dividends("MSFT.US")
    )
    assert len(found) == 1 and found[0].kind == "adjustment"
    assert found[0].date.isoformat() < first_served  # type: ignore[union-attr]


def test_check_history_finds_the_served_dirt_and_nothing_else(market: Market) -> None:
    """A 100× glitch and a removed session in otherwise clean emulated history: two findings."""
    bars = market.bars("AAPL.US", start=dt.date(2024, 1, 1))
    glitch = bars[100]
    hundredfold = Bar(
        glitch.symbol, glitch.date, *(v * 100 for v in (glitch.open, glitch.high, glitch.low)),  # type: ignore[operator]
        glitch.close * 100, glitch.adjusted_close, glitch.volume,
    )  # fmt: skip
    removed = bars[50]
    dirty = [b for b in bars if b is not removed and b is not glitch] + [hundredfold]
    found = check_history(
        "AAPL.US",
        dirty,
        market.splits("AAPL.US"),
        market.dividends("AAPL.US"),
        sessions=sessions("US", bars[0].date, bars[-1].date),
    )
    assert [(f.date, f.kind) for f in found] == [
        (removed.date, "gap"),
        (glitch.date, "adjustment"),  # adjusted_close kept: raw × 100 no longer matches it
        (glitch.date, "price_step"),
        (bars[101].date, "price_step"),
    ]


def test_no_false_gap_or_off_session_bar_on_an_emulated_history(market: Market) -> None:
    """The emulator trades on the real sessions: its clean bars are exactly them."""
    for symbol in ("AAPL.US", "MSFT.US", market.symbols("LSE")[0].symbol):
        bars: list[Bar] = market.bars(symbol)
        days = [bar.date for bar in bars]
        exchange = symbol.rpartition(".")[2]
        found = sessions(exchange, days[0], days[-1])
        assert gaps(symbol, days, found) == []
        assert off_session_bars(symbol, days, found) == []
        assert days == list(found.days)  # neither a holiday bar nor a missing session
