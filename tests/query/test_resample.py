"""OHLCV resampling against a plain pandas groupby, and its edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.errors import UsageError
from data_nexus.query.resample import INTERVALS, check_interval, period_keys, resample

FREQ = {"1w": "W-SUN", "1mo": "M", "1q": "Q", "1y": "Y"}  # pandas periods


@st.composite
def daily(draw: st.DrawFn) -> pd.DataFrame:
    frames = []
    for symbol in sorted(draw(st.lists(st.sampled_from("ABC"), min_size=1, unique=True))):
        offsets = sorted(set(draw(st.lists(st.integers(0, 800), min_size=1, max_size=40))))
        n = len(offsets)
        prices = draw(st.lists(st.floats(1, 1000) | st.just(np.nan), min_size=n, max_size=n))
        vols = draw(st.lists(st.integers(0, 10**9) | st.none(), min_size=n, max_size=n))
        frames.append(
            pd.DataFrame(
                {
                    "symbol": symbol,
                    "date": pd.Timestamp("2021-12-27") + pd.to_timedelta(offsets, "D"),
                    "open": prices,
                    "high": np.array(prices) * 1.1,
                    "low": np.array(prices) * 0.9,
                    "close": prices[::-1],
                    "volume": pd.array(vols, dtype="Int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def expected(frame: pd.DataFrame, interval: str) -> pd.DataFrame:
    if interval == "1d":
        return frame
    period = frame["date"].dt.to_period(FREQ[interval])
    grouped = frame.groupby(["symbol", period], sort=True)
    return pd.DataFrame(
        {
            "symbol": grouped["symbol"].first(),
            "date": grouped["date"].last(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].apply(lambda s: s.iloc[-1]),
            "volume": grouped["volume"].sum(min_count=1),
        }
    ).reset_index(drop=True)


@settings(max_examples=150, deadline=None)
@given(daily(), st.sampled_from(INTERVALS))
def test_resample_matches_a_pandas_groupby(frame: pd.DataFrame, interval: str) -> None:
    runs = np.flatnonzero(frame["symbol"].ne(frame["symbol"].shift()).to_numpy())
    cols = {c: frame[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close")}
    vol = frame["volume"]
    starts, dates, out, sums, missing = resample(
        runs,
        frame["date"].to_numpy(),
        cols,
        vol.fillna(0).to_numpy(dtype=np.int64),
        vol.isna().to_numpy(),
        interval=interval,
    )
    want = expected(frame, interval)
    assert frame["symbol"].to_numpy()[starts].tolist() == want["symbol"].tolist()
    assert pd.DatetimeIndex(dates).equals(pd.DatetimeIndex(want["date"]))
    # open: the first bar's own open (NaN stays NaN), high/low skip NaN
    np.testing.assert_array_equal(out["open"], frame["open"].to_numpy()[starts])
    for name in ("high", "low", "close"):
        np.testing.assert_array_equal(out[name], want[name].to_numpy(dtype=float))
    got_volume = pd.array(np.where(missing, None, sums).tolist(), dtype="Int64")
    assert got_volume.tolist() == pd.array(want["volume"], dtype="Int64").tolist()


def test_a_week_is_monday_to_sunday_and_labelled_by_its_last_trading_day() -> None:
    dates = np.array(["2024-01-05", "2024-01-08", "2024-01-12", "2024-01-14"], "datetime64[D]")
    keys = period_keys(dates, "1w")
    assert keys[0] != keys[1] and keys[1] == keys[2] == keys[3]
    _, out, _, _, _ = resample(
        np.array([0]), dates, {}, np.zeros(4, np.int64), np.zeros(4, bool), interval="1w"
    )
    assert out.astype(str).tolist() == ["2024-01-05", "2024-01-14"]


def test_quarters_and_years() -> None:
    dates = np.array(["2023-12-29", "2024-01-02", "2024-03-28", "2024-04-01"], "datetime64[D]")
    assert len(set(period_keys(dates, "1q").tolist())) == 3
    assert len(set(period_keys(dates, "1y").tolist())) == 2


def test_unknown_interval_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown interval '1h'"):
        check_interval("1h")
    assert [check_interval(i) for i in ("1W", "1MO", " 1d ")] == ["1w", "1mo", "1d"]


def test_a_volume_sum_past_int64_is_missing_not_wrapped() -> None:
    """Volumes are at most 2**63 - 1 each; a period's sum that does not fit is missing (the
    database's sum agrees), never a wrapped negative number."""
    from data_nexus.query.resample import total

    big = 2**63 - 1
    values = np.array([big, 5, 7, big, big, 3], dtype=np.int64)
    missing = np.array([False, False, False, False, False, True])
    sums, absent = total(values, missing, np.array([0, 1, 2, 4], dtype=np.int64))
    # groups: [big], [5], [7, big] (overflows), [big, 3 missing]
    assert absent.tolist() == [False, False, True, False]
    assert sums[[0, 1, 3]].tolist() == [big, 5, big]
    sums, absent = total(values, missing, np.array([0, 3], dtype=np.int64))
    assert absent.tolist() == [True, True]  # far past 2**63 (wrapped back positive or not)
