"""OHLCV resampling of daily bars into weeks, months, quarters and years (pure, NumPy).

Aggregation (the convention of every charting and backtesting library, e.g. pandas'
``resample().ohlc()`` and TradingView): the period's ``open`` is its first bar's open,
``high`` the highest high, ``low`` the lowest low, ``close`` and ``adjusted_close`` its last
bar's, ``volume`` the sum of its volumes. The period is labelled with its **last trading
date** in the data (not the calendar end of the period), so a weekly bar never carries a
date on which nothing traded. Missing values (NaN) are skipped by high/low/volume; a period
whose volumes are all missing has a missing volume. Weeks are ISO weeks (Monday–Sunday).

Adjust first, then aggregate: callers pass adjusted daily prices, so a weekly bar of
adjusted prices is built from adjusted dailies (a split inside a week leaves no jump).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from data_nexus.errors import UsageError

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Dates = npt.NDArray[np.datetime64]

#: Intervals the query API accepts.
INTERVALS = ("1d", "1w", "1mo", "1q", "1y")


def check_interval(interval: str) -> str:
    """The interval ``interval`` names, in any case (``1W`` → ``1w``), else
    :class:`~data_nexus.errors.UsageError`."""
    name = interval.strip().lower() if isinstance(interval, str) else interval
    if name not in INTERVALS:
        raise UsageError(f"unknown interval {interval!r}: use one of {', '.join(INTERVALS)}")
    return name


def period_keys(dates: Dates, interval: str) -> Ints:
    """An integer per date that is equal exactly for dates of the same period.

    ``1d`` → the day number; ``1w`` → the day number of the ISO week's Monday; ``1mo`` →
    months since 1970; ``1q`` → quarters since 1970; ``1y`` → years since 1970.
    """
    check_interval(interval)
    days = dates.astype("datetime64[D]").astype(np.int64)
    if interval == "1d":
        return days
    if interval == "1w":
        # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays
        return days - (days + 3) % 7
    months = dates.astype("datetime64[M]").astype(np.int64)
    if interval == "1mo":
        return months
    if interval == "1q":
        return months // 3
    return months // 12


def group_starts(run_starts: Ints, keys: Ints) -> Ints:
    """First row of each output bar: where the symbol run or the period key changes."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    change[1:] = keys[1:] != keys[:-1]
    change[run_starts[run_starts < n]] = True
    return np.flatnonzero(change).astype(np.int64)


def _last_rows(starts: Ints, n: int) -> Ints:
    return np.append(starts[1:], n).astype(np.int64) - 1


def first(values: Floats, starts: Ints) -> Floats:
    """The first value of each group."""
    out: Floats = values[starts]
    return out


def last(values: npt.NDArray[np.generic], starts: Ints) -> npt.NDArray[np.generic]:
    """The last value of each group."""
    return values[_last_rows(starts, len(values))]


def highest(values: Floats, starts: Ints) -> Floats:
    """The highest value of each group, NaN skipped (NaN if all are NaN)."""
    if len(starts) == 0:
        return np.zeros(0)
    out: Floats = np.fmax.reduceat(values, starts)
    return out


def lowest(values: Floats, starts: Ints) -> Floats:
    """The lowest value of each group, NaN skipped (NaN if all are NaN)."""
    if len(starts) == 0:
        return np.zeros(0)
    out: Floats = np.fmin.reduceat(values, starts)
    return out


def total(
    values: Ints, missing: npt.NDArray[np.bool_], starts: Ints
) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Sum of each group skipping missing values; the group is missing if all are, or if
    its sum does not fit an int64 (volumes are at most 2⁶³ − 1 each: a week of them can
    overflow, and a wrapped sum would be a wrong number; the database's sum says the same).
    """
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    kept = np.where(missing, 0, values)
    with np.errstate(over="ignore"):
        sums: Ints = np.add.reduceat(kept, starts)
    approx = np.add.reduceat(kept.astype(np.float64), starts)
    # non-negative volumes: a sum past 2**63 wraps negative (or is far above it)
    overflow = (approx >= 9.2e18) & ((sums < 0) | (approx > 9.3e18))
    present = np.add.reduceat((~missing).astype(np.int64), starts)
    return np.where(overflow, 0, sums), (present == 0) | overflow


def resample(
    run_starts: Ints,
    dates: Dates,
    columns: dict[str, Floats],
    volume: Ints,
    volume_missing: npt.NDArray[np.bool_],
    *,
    interval: str,
) -> tuple[Ints, Dates, dict[str, Floats], Ints, npt.NDArray[np.bool_]]:
    """Aggregate sorted (symbol, date) daily rows into bars of ``interval``.

    ``run_starts`` are the first rows of each symbol's run; ``columns`` may hold ``open``,
    ``high``, ``low``, ``close`` and ``adjusted_close`` (float64). Returns the first input
    row of each output bar (to take the symbol from), the output dates (each period's last
    trading date), the aggregated columns, the summed volumes and their missing mask.
    """
    keys = period_keys(dates, interval)
    starts = group_starts(run_starts, keys)
    out: dict[str, Floats] = {}
    for name, values in columns.items():
        if name == "open":
            out[name] = first(values, starts)
        elif name == "high":
            out[name] = highest(values, starts)
        elif name == "low":
            out[name] = lowest(values, starts)
        else:  # close, adjusted_close
            out[name] = last(values, starts)  # type: ignore[assignment]
    sums, missing = total(volume, volume_missing, starts)
    out_dates: Dates = last(dates, starts)  # type: ignore[assignment]
    return starts, out_dates, out, sums, missing
