"""Pure checks over stored history: price steps, OHLC, zero closes, adjustment, staleness."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from data_nexus.quality import (
    AssetState,
    Finding,
    adjustment_factors,
    adjustment_mismatches,
    ohlc_violations,
    price_steps,
    stale_assets,
    zero_closes,
)
from data_nexus.records import Bar, Dividend, Split

D = dt.date
S = "VOD.LSE"


def bar(day: dt.date, close: str, adjusted: str | None = None, **prices: str | None) -> Bar:
    values = {name: prices.get(name, close) for name in ("open", "high", "low")}
    return Bar(
        S,
        day,
        *(None if v is None else Decimal(v) for v in values.values()),
        Decimal(close),
        Decimal(adjusted) if adjusted is not None else Decimal(close),
        1000,
    )


def days(n: int) -> list[dt.date]:
    out, day = [], D(2024, 3, 4)
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(1)
    return out


def test_a_hundredfold_pence_pound_step_is_reported_both_ways() -> None:
    d = days(4)
    bars = [bar(d[0], "712.4"), bar(d[1], "7.124"), bar(d[2], "7.13"), bar(d[3], "713.1")]
    found = price_steps(S, bars)
    assert [(f.date, f.kind) for f in found] == [(d[1], "price_step"), (d[3], "price_step")]
    assert "with no split" in found[0].detail


def test_a_split_explains_its_step_but_the_same_step_without_it_is_reported() -> None:
    d = days(3)
    bars = [bar(d[0], "400"), bar(d[1], "101"), bar(d[2], "99.5")]
    split = Split(S, d[1], Decimal(4), Decimal(1))
    assert price_steps(S, bars, [split]) == []
    [unexplained] = price_steps(S, bars)
    assert unexplained.date == d[1]
    # a stored split whose step is not in the prices is reported too
    flat = [bar(d[0], "100"), bar(d[1], "101"), bar(d[2], "99.5")]
    [wrong] = price_steps(S, flat, [split])
    assert "after split 4/1" in wrong.detail


def test_steps_within_threshold_and_non_positive_closes_are_not_steps() -> None:
    d = days(4)
    bars = [bar(d[0], "10"), bar(d[1], "25"), bar(d[2], "-37.63"), bar(d[3], "10.01")]
    assert price_steps(S, bars) == []
    assert len(price_steps(S, bars[:2], threshold=Decimal(2))) == 1
    with pytest.raises(ValueError, match="threshold"):
        price_steps(S, bars, threshold=Decimal(1))


def test_ohlc_invariants() -> None:
    d = days(4)
    good = bar(d[0], "10", open="9.5", high="10.5", low="9")
    low_high = bar(d[1], "10", open="10", high="10.5", low="10.2")
    high_low = bar(d[2], "10", open="11", high="10.5", low="9")
    nulls = bar(d[3], "10", open=None, high=None, low=None)
    found = ohlc_violations(S, [nulls, high_low, low_high, good])
    assert [(f.date, f.kind) for f in found] == [(d[1], "ohlc"), (d[2], "ohlc")]
    assert "low 10.2 > open 10" in found[0].detail
    assert "high 10.5 < open 11" in found[1].detail


def test_zero_close_with_a_range_only() -> None:
    d = days(2)
    bars = [bar(d[0], "0", open="0", high="0", low="0"), bar(d[1], "0", high="1.2", low="0")]
    assert zero_closes(S, bars) == [Finding(S, d[1], "zero_close", "close 0 with high 1.2, low 0")]


def test_adjustment_factors_follow_the_provider_convention() -> None:
    d = days(4)
    bars = [bar(d[0], "400"), bar(d[1], "100"), bar(d[2], "101"), bar(d[3], "99")]
    splits = [Split(S, d[1], Decimal(4), Decimal(1))]
    # a regular and a special dividend on one ex-date: their total counts
    dividends = [
        Dividend(S, d[3], Decimal("0.5"), Decimal("0.5")),
        Dividend(S, d[3], Decimal("0.51"), Decimal("0.51")),
    ]
    factors = adjustment_factors(bars, splits, dividends)
    dividend = 1 - Decimal("1.01") / Decimal("101")
    assert [float(f) for f in factors] == pytest.approx(
        [float(dividend) / 4, float(dividend), float(dividend), 1.0]
    )


def test_a_missed_rescale_is_one_adjustment_finding() -> None:
    # issue 9 kind 7: a 4:1 split rescaled only the year the provider returned
    d = days(5)
    split = Split(S, d[3], Decimal(4), Decimal(1))
    bars = [
        bar(d[0], "400", "400"),  # old scale kept: right value 100
        bar(d[1], "404", "404"),
        bar(d[2], "408", "102"),
        bar(d[3], "101", "101"),
        bar(d[4], "100", "100"),
    ]
    [finding] = adjustment_mismatches(S, bars, [split])
    assert (finding.date, finding.kind) == (d[1], "adjustment")
    assert finding.detail.startswith(f"2 bar(s) from {d[0]} to {d[1]}")
    fixed = [bar(b.date, str(b.close), str(b.close / 4)) for b in bars[:3]] + bars[3:]
    assert adjustment_mismatches(S, fixed, [split]) == []


def test_adjustment_tolerance_covers_the_providers_rounding() -> None:
    d = days(2)
    dividend = Dividend(S, d[1], Decimal("0.00012"), Decimal("0.00012"))
    bars = [bar(d[0], "0.0986", "0.0985"), bar(d[1], "0.0990", "0.0990")]
    # expected 0.0986 - 0.00012 = 0.09848; the provider's 4 decimals give 0.0985
    assert adjustment_mismatches(S, bars, dividends=[dividend]) == []
    assert adjustment_mismatches(S, bars, dividends=[dividend], relative=Decimal(0)) == []
    exact = {"relative": Decimal(0), "absolute": Decimal(0)}
    assert len(adjustment_mismatches(S, bars, dividends=[dividend], **exact)) == 1


def test_stale_paused_backoff_and_never_synced() -> None:
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    day = dt.timedelta(days=1)
    assets = [
        AssetState("FRESH.US", now - day),
        AssetState("OLD.US", now - 3 * day),
        AssetState("NEW.US", None),
        AssetState("HELD.US", now - day, paused=True),
        AssetState("SICK.US", now - day, retry_after=now + day, last_error="HTTP 500"),
        AssetState("HEALED.US", now - day, retry_after=now - day),
    ]
    found = stale_assets(assets, now=now, max_age=2 * day)
    assert [(f.symbol, f.kind) for f in found] == [
        ("OLD.US", "stale"),
        ("NEW.US", "never_synced"),
        ("HELD.US", "paused"),
        ("SICK.US", "backoff"),
    ]
    assert found[0].date == D(2026, 11, 26)
    assert "HTTP 500" in found[3].detail
    with pytest.raises(ValueError, match="timezone"):
        stale_assets(assets, now=now.replace(tzinfo=None), max_age=day)
