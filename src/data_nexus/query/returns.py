"""Daily price and total returns (pure, NumPy).

Conventions (CRSP's holding-period return ``RET``): on each trading day ``t`` of a symbol,

- price return: ``a[t] / a[t-1] - 1`` where ``a`` is the split-adjusted close, so a split
  is not a return;
- total return: ``(a[t] + d[t]) / a[t-1] - 1`` where ``d[t]`` is the cash dividend whose
  ex-date is ``t``, per share and expressed in the same (split-adjusted) shares as ``a``;
  several dividends on one ex-date are reinvested together, ``d[t]`` their total (the same
  grouping as the price factors, :mod:`data_nexus.exdates`).
  The dividend is reinvested at the ex-date's close: compounding these returns
  (:func:`growth`) gives the total-return index users ask their data vendor for.

The first bar of each symbol has no return (NaN). A missing close gives NaN returns for
its own day and the next, never a zero. Note that ``a_all[t] / a_all[t-1] - 1`` on closes
adjusted with ``adjust="all"`` is close to, but not the same as, the total return: the
multiplicative back-adjustment reinvests at the previous close (``a[t] / (a[t-1] - d)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from data_nexus.errors import UsageError
from data_nexus.exdates import ExDate

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

RETURN_KINDS = ("price", "total")


def check_kind(kind: str) -> str:
    """``kind`` if it is ``price`` or ``total``, else :class:`~data_nexus.errors.UsageError`."""
    if kind not in RETURN_KINDS:
        raise UsageError(f"unknown return kind {kind!r}: use price or total")
    return kind


def ex_date_dividends(
    symbols: Sequence[str],
    run_starts: Ints,
    days: npt.NDArray[np.datetime64],
    events: Iterable[ExDate],
    split_factors: Floats,
) -> Floats:
    """The ``dividend`` column of :func:`daily_returns`: per row, the total of the dividends
    whose ex-date is that row's date, in the row's split-adjusted shares (``total ×
    split_factors[row]``), 0 elsewhere.

    ``events`` are :func:`data_nexus.exdates.ex_dates` (one per symbol and ex-date, however
    many dividends share it); an ex-date without a bar of its symbol is skipped.
    """
    out = np.zeros(len(days))
    bounds = np.append(run_starts, len(days)).astype(np.int64)
    run = {symbol: k for k, symbol in enumerate(symbols)}
    for event in events:
        k = run.get(event.symbol)
        if k is None:
            continue
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        day = np.datetime64(event.date.isoformat(), "D")
        row = lo + int(np.searchsorted(days[lo:hi], day))
        if row < hi and days[row] == day:
            out[row] = float(event.total) * split_factors[row]
    return out


def daily_returns(close: Floats, dividend: Floats, run_starts: Ints, kind: str) -> Floats:
    """Per row, the return since the symbol's previous row (NaN on each run's first row).

    ``close`` is split-adjusted; ``dividend`` holds the split-adjusted cash total of each
    ex-date row's dividends and 0 elsewhere (ignored for ``kind="price"``). Shapes are ``(n,)``.
    """
    check_kind(kind)
    n = len(close)
    out = np.full(n, np.nan)
    if n < 2:
        return out
    gain = close[1:] + dividend[1:] if kind == "total" else close[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = np.where(close[:-1] != 0, gain / close[:-1] - 1.0, np.nan)
    out[run_starts[run_starts < n]] = np.nan
    return out


def growth(returns: Floats, run_starts: Ints) -> Floats:
    """The value of 1 invested at each symbol's first row: ``cumprod(1 + r)`` per run.

    NaN returns (the first row, gaps) count as 0 for the index, so it stays defined after a
    missing day; the first row of each run is 1.
    """
    n = len(returns)
    out = np.empty(n)
    bounds = np.append(run_starts, n).astype(np.int64)
    step = np.where(np.isnan(returns), 1.0, 1.0 + returns)
    for k in range(len(run_starts)):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        out[lo:hi] = np.multiply.accumulate(step[lo:hi])
    return out
