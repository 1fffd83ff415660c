"""Resampled bars computed by the database, adjusted first (the SQL twin of :mod:`.resample`).

:func:`period_table` reads ``1w``/``1mo``/``1q``/``1y`` bars through
:func:`data_nexus.storage.aggregates.period_bars` (``time_bucket`` on TimescaleDB,
``date_trunc`` on PostgreSQL, day numbers and date text on SQLite), so only aggregated rows
leave the database. By default only servers do (SQLite is in-process: see
:attr:`~data_nexus.storage.capabilities.Capabilities.resample_in_sql`); :data:`USE_SQL`
overrides that. Adjustment happens before aggregation: for ``splits`` and ``all`` the cumulative
factor of each symbol is piecewise constant between its event dates, so it is computed here by
the pure functions of :mod:`.adjust` from the stored actions (:func:`factor_steps`) and
multiplied into every daily price inside the query; ``provider`` scales each row by its own
``adjusted_close / close``.

The factors are the reference's floats (the same events, multiplied in the same order), so the
result equals the NumPy path (:mod:`.resample` over the adjusted daily frame), which stays the
reference and the fallback: exact prices (decimals), and a database whose ``assets.last_date``
(the data cut-off) is behind its stored bars, are resampled in NumPy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_nexus.query import adjust as adj
from data_nexus.records import Dividend, Split
from data_nexus.storage.frames import FrameReader
from data_nexus.storage.period_sql import PERIODS, FactorSteps

#: Where to resample: None (default) as the backend's capabilities say
#: (:attr:`~data_nexus.storage.capabilities.Capabilities.resample_in_sql`), True in the
#: database whatever the backend, False in NumPy (tests and benchmarks compare the two).
USE_SQL: bool | None = None


def _in_range(day: dt.date, start: dt.date | None, cutoff: dt.date | None) -> bool:
    """Whether an event on ``day`` can scale a row in [start, …] up to the cut-off: it scales
    rows dated before it, and is applied once the cut-off has reached it."""
    return cutoff is not None and day <= cutoff and (start is None or day > start)


def factor_steps(
    mode: str,
    symbols: Sequence[str],
    actions: Sequence[Split | Dividend],
    *,
    cutoff: dict[str, dt.date],
    previous_close: dict[tuple[str, dt.date], Decimal],
    start: dt.date | None = None,
) -> dict[str, FactorSteps]:
    """The cumulative price factor of each symbol as steps between its event dates (pure).

    ``mode`` ``splits`` or ``all``; ``previous_close`` holds the close before each dividend's
    ex-date (:func:`needed_previous_closes`). The factor of a row is the one
    :func:`~data_nexus.query.adjust.price_factors` gives it: computed on a block holding one
    row per event date (plus one before them all), by the same functions, from the same
    events in the same order.
    """
    names = sorted(set(symbols))
    splits = [a for a in actions if isinstance(a, Split)]
    events = adj.split_events(s for s in splits if _in_range(s.date, start, cutoff.get(s.symbol)))
    if mode == "all":
        dividends = [
            a
            for a in actions
            if isinstance(a, Dividend) and _in_range(a.date, start, cutoff.get(a.symbol))
        ]
        empty = adj.Block(
            names, np.zeros(len(names), np.int64), np.zeros(0, "datetime64[D]"), np.zeros(0)
        )
        found, _ = adj.dividend_events(empty, dividends, splits, dict(previous_close))
        events += [
            adj.Event(names[int(r)], dt.date.fromisoformat(str(d)), float(f))
            for r, d, f in zip(found.run, found.day, found.factor, strict=True)
        ]
    dates: dict[str, set[dt.date]] = {}
    for event in events:
        if event.factor != 1.0:
            dates.setdefault(event.symbol, set()).add(event.date)
    if not dates:
        return {}
    runs = sorted(dates)
    bounds = {s: sorted(dates[s]) for s in runs}
    days: list[str] = []
    starts: list[int] = []
    for symbol in runs:
        starts.append(len(days))
        first = bounds[symbol][0] - dt.timedelta(days=1)
        days.extend(d.isoformat() for d in [first, *bounds[symbol]])
    block = adj.Block(
        runs, np.array(starts, np.int64), np.array(days, "datetime64[D]"), np.ones(len(days))
    )
    factors = adj.cumulative_factors(block, events, {s: cutoff[s] for s in runs})
    out = {}
    for k, symbol in enumerate(runs):
        lo = starts[k]
        hi = lo + len(bounds[symbol]) + 1
        out[symbol] = FactorSteps(tuple(bounds[symbol]), tuple(float(f) for f in factors[lo:hi]))
    return out


def needed_previous_closes(
    actions: Sequence[Split | Dividend], cutoff: dict[str, dt.date], start: dt.date | None
) -> list[tuple[str, dt.date]]:
    """(symbol, ex-date) of the dividends :func:`factor_steps` needs a previous close for."""
    return [
        (a.symbol, a.date)
        for a in actions
        if isinstance(a, Dividend) and _in_range(a.date, start, cutoff.get(a.symbol))
    ]


def period_table(
    reader: FrameReader,
    symbols: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    *,
    adjust: str,
    interval: str,
) -> pa.Table | None:
    """Adjusted bars of ``interval`` aggregated by the database (float prices), or None when
    this request is resampled in NumPy instead (see the module docstring)."""
    if USE_SQL is False or interval not in PERIODS:
        return None
    if USE_SQL is None and not reader.capabilities.resample_in_sql:
        return None
    if adjust in ("none", "provider"):
        return reader.period_bars(symbols, start, end, interval, provider=adjust == "provider")
    cutoff = reader.last_dates(symbols)
    actions = reader.actions(symbols)
    closes = {}
    if adjust == "all":
        closes = reader.closes_before(needed_previous_closes(actions, cutoff, start))
    steps = factor_steps(
        adjust, symbols, actions, cutoff=cutoff, previous_close=closes, start=start
    )
    table = reader.period_bars(symbols, start, end, interval, steps=steps)
    if _behind(table, cutoff, actions):
        return None
    return table


def _behind(
    table: pa.Table, cutoff: dict[str, dt.date], actions: Sequence[Split | Dividend]
) -> bool:
    """Whether a symbol has bars after its recorded cut-off and an action in between: the
    NumPy path then applies that action (its cut-off is the last bar read), so it decides."""
    if table.num_rows == 0 or not actions:
        return False
    grouped = table.group_by("symbol").aggregate([("date", "max")])
    symbol = pc.cast(grouped.column("symbol"), pa.string()).to_pylist()
    last = grouped.column("date_max").to_pylist()
    for name, day in zip(symbol, last, strict=True):
        known = cutoff.get(name)
        if known is not None and day <= known:
            continue
        if any(
            a.symbol == name and (known is None or a.date > known) and a.date <= day
            for a in actions
        ):
            return True
    return False
