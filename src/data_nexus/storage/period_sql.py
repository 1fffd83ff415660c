"""The text of the aggregate SELECT behind SQL resampling (pure: no connection, no I/O).

:func:`period_sql` writes one statement that aggregates daily bars into weekly, monthly,
quarterly or yearly ones; :mod:`data_nexus.storage.aggregates` runs it. Each backend buckets
dates its own way, chosen by its :class:`~data_nexus.storage.capabilities.Capabilities`:

- **TimescaleDB**: ``time_bucket('1 week' | '1 month' | '3 months' | '1 year', time)``. Its
  default origins (2000-01-03, a Monday, for weeks; 2000-01-01 for months and years) give ISO
  weeks and calendar months, quarters and years, as the reference does.
- **PostgreSQL**: ``date_trunc('week' | 'month' | 'quarter' | 'year', time::timestamp)`` (ISO
  weeks start on Monday). Both servers then run one pass (:func:`_postgres_sql`): a window
  gives each row its period's first and last date, ``FILTER`` picks the first open and the
  last close.
- **SQLite** (dates are ``YYYY-MM-DD`` text): a week is the Julian day number divided by 7
  (day numbers ``0 mod 7`` are Mondays); months, quarters and years are prefixes of the
  text; the first open and last close are joined back by date. SQLite resamples in NumPy
  by default (:attr:`Capabilities.resample_in_sql
  <data_nexus.storage.capabilities.Capabilities.resample_in_sql>`); this path is forced by
  ``data_nexus.query.periods.USE_SQL = True``.

Aggregation as the reference: first open, highest high, lowest low (NULLs skipped), last
close and adjusted close (NULL if that bar has none), summed volume (NULL if all are), the
period's last trading date as its date.

**Adjust first, then aggregate.** Each daily price is multiplied by its adjustment factor
before it is aggregated, so a weekly high of adjusted prices is the highest adjusted daily
high even across a split inside the week. The factor is either :class:`FactorSteps` (the
piecewise constant cumulative factor of splits and dividends, computed by
:mod:`data_nexus.query.adjust` from the stored actions and bound as parameters: PostgreSQL
finds a row's step by ``width_bucket`` over the step dates, SQLite reads each constant range
in its own ``UNION ALL`` branch; see :func:`period_sql`), or
``provider`` (``adjusted_close / close`` of the row itself). Prices are converted to binary
floats (``float8`` / ``REAL``) and multiplied by the same factors as in the reference, so the
results are the reference's floats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from data_nexus.storage.capabilities import Capabilities
from data_nexus.storage.statement import Statement

#: Intervals aggregated here (``1d`` is the daily read itself).
PERIODS = ("1w", "1mo", "1q", "1y")
#: A period whose summed volume exceeds this has a missing volume (as in the NumPy path).
INT64_MAX = 2**63 - 1
#: Branches per compound SELECT (SQLite's limit is 500).
COMPOUND = 400

_TIMESCALE_BUCKET = {"1w": "1 week", "1mo": "1 month", "1q": "3 months", "1y": "1 year"}
_TRUNC_UNIT = {"1w": "week", "1mo": "month", "1q": "quarter", "1y": "year"}
_SQLITE_BUCKET = {
    "1w": "CAST(julianday(time) + 0.5 AS INTEGER) / 7",  # day numbers; 0 mod 7 is a Monday
    "1mo": "substr(time, 1, 7)",
    "1q": "substr(time, 1, 4) || ((CAST(substr(time, 6, 2) AS INTEGER) + 2) / 3)",
    "1y": "substr(time, 1, 4)",
}


@dataclass(frozen=True, slots=True)
class FactorSteps:
    """A piecewise constant price factor over dates.

    ``factors[0]`` applies before ``bounds[0]``, ``factors[i]`` from ``bounds[i - 1]``
    (inclusive) to ``bounds[i]`` (exclusive), ``factors[-1]`` from the last bound on:
    ``len(factors) == len(bounds) + 1``, bounds strictly increasing.
    """

    bounds: tuple[dt.date, ...]
    factors: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.factors) != len(self.bounds) + 1:
            raise ValueError("FactorSteps needs one more factor than bounds")


def _provider_factor(sql: Statement, q: str = "") -> str:
    """``adjusted_close / close`` of a row of ``market_data`` (alias ``q``); NULL where the
    close is 0 or either is missing (the reference's NaN)."""
    close = sql.number(f"{q}close")
    adjusted = sql.number(f"{q}adjusted_close")
    return f"CASE WHEN {close} <> 0 THEN {adjusted} / {close} END"


def _stepped_factor(
    sql: Statement, symbols: Sequence[str], steps: Mapping[str, FactorSteps]
) -> str:
    """PostgreSQL: each row's factor from its symbol's steps by ``width_bucket`` (a binary
    search of the date in the sorted bounds) and an array subscript."""
    arms = []
    for symbol in symbols:
        step = steps.get(symbol)
        if step is None:
            continue
        when = sql.bind(symbol)
        factors = sql.bind([float(f) for f in step.factors])
        bounds = sql.bind(list(step.bounds))
        arms.append(
            f"WHEN {when} THEN ({factors}::float8[])[width_bucket(time, {bounds}::date[]) + 1]"
        )
    if not arms:
        return "1.0::float8"
    return f"CASE symbol {' '.join(arms)} ELSE 1.0::float8 END"


def _where(
    sql: Statement, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
) -> str:
    marks = ", ".join(sql.bind(s) for s in symbols)
    parts = [f"symbol IN ({marks})"]
    if start is not None:
        parts.append(f"time >= {sql.bind(start)}")
    if end is not None:
        parts.append(f"time <= {sql.bind(end)}")
    return " AND ".join(parts)


def _bucket(caps: Capabilities, interval: str) -> str:
    if caps.is_timescale:
        return f"time_bucket(INTERVAL '{_TIMESCALE_BUCKET[interval]}', time)"
    if caps.is_postgres:
        return f"date_trunc('{_TRUNC_UNIT[interval]}', time::timestamp)"
    return _SQLITE_BUCKET[interval]


def _row_at(alias: str, day: str) -> str:
    """SQLite: a join to the stored bar of ``g.symbol`` on ``day`` (a period's first or last
    trading date), by the (symbol, time) index."""
    return f"JOIN market_data AS {alias} ON {alias}.symbol = g.symbol AND {alias}.time = {day}"


def _segments(
    symbols: Sequence[str], steps: Mapping[str, FactorSteps] | None
) -> list[tuple[list[str], dt.date | None, dt.date | None, float]]:
    """(symbols, from, before, factor): the date ranges over which a factor is constant.

    Symbols without steps share one unbounded range with factor 1.
    """
    plain = [s for s in symbols if steps is None or s not in steps]
    out: list[tuple[list[str], dt.date | None, dt.date | None, float]] = []
    if plain:
        out.append((plain, None, None, 1.0))
    for symbol in symbols:
        if steps is None or symbol not in steps:
            continue
        step = steps[symbol]
        edges: list[dt.date | None] = [None, *step.bounds, None]
        for k, factor in enumerate(step.factors):
            out.append(([symbol], edges[k], edges[k + 1], float(factor)))
    return out


def _piece_branch(
    sql: Statement,
    bucket: str,
    segment: tuple[list[str], dt.date | None, dt.date | None, float],
    start: dt.date | None,
    end: dt.date | None,
) -> str | None:
    """SQLite: the pieces of one constant-factor range (None if it misses [start, end])."""
    names, lo, hi, factor = segment
    if (hi is not None and start is not None and hi <= start) or (
        lo is not None and end is not None and lo > end
    ):
        return None
    low = lo if start is None or (lo is not None and lo > start) else start
    f = sql.bind(factor)  # first: parameters are bound in the order they appear in the text
    parts = [f"symbol IN ({', '.join(sql.bind(n) for n in names)})"]
    if low is not None:
        parts.append(f"time >= {sql.bind(low)}")
    if hi is not None:
        parts.append(f"time < {sql.bind(hi)}")
    if end is not None:
        parts.append(f"time <= {sql.bind(end)}")
    return (
        f"SELECT symbol, {bucket} AS b, {f} AS f, min(time) AS t0, max(time) AS t1, "
        "max(CAST(high AS REAL)) AS high, min(CAST(low AS REAL)) AS low, "
        f"sum(volume) AS volume FROM market_data WHERE {' AND '.join(parts)} GROUP BY symbol, b"
    )


def period_sql(
    caps: Capabilities,
    symbols: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    interval: str,
    *,
    steps: Mapping[str, FactorSteps] | None = None,
    provider: bool = False,
    compound: int = COMPOUND,
) -> tuple[str, list[Any]]:
    """The aggregate SELECT (and its parameters) of ``symbols`` in [start, end] by ``interval``.

    Columns ``symbol, date, open, high, low, close, adjusted_close, volume``, ordered by
    (symbol, date). The pure twin of
    :func:`~data_nexus.storage.aggregates.period_bars`.

    Two levels. ``p`` holds *pieces*: the rows of a period that share one factor (a period
    crossed by a split has two), with their extremes as stored (exact ``NUMERIC`` on
    PostgreSQL), so stored values become floats per piece, not per row (per-row casts were
    most of the query's time). ``g`` combines the pieces of a period as floats times their
    factor; for a positive factor the float of the largest stored high times it is the
    largest of the rows' products, so this is the row-by-row result. ``provider`` factors
    vary by row, so its pieces are rows. With :class:`FactorSteps`, PostgreSQL finds each
    row's factor by ``width_bucket`` over the step dates (a binary search); SQLite reads each
    constant-factor date range in its own ``UNION ALL`` branch with the factor a constant,
    nested in groups of ``compound`` branches.
    """
    if interval not in PERIODS:
        raise ValueError(f"interval {interval!r} is not aggregated in SQL")
    if steps is not None and any(f <= 0 for s in steps.values() for f in s.factors):
        raise ValueError("factor steps must be positive")
    sql = Statement(caps.is_postgres, [])
    num = sql.number
    bucket = _bucket(caps, interval)
    if caps.is_postgres:
        return _postgres_sql(sql, symbols, start, end, bucket, steps, provider), sql.params
    if provider:  # the factor varies by row: pieces are rows
        factor = _provider_factor(sql)
        where = _where(sql, symbols, start, end)
        pieces = (
            "SELECT symbol, b, f, min(time) AS t0, max(time) AS t1, max(high) AS high, "
            "min(low) AS low, sum(volume) AS volume FROM (SELECT symbol, time, "
            "CAST(high AS REAL) AS high, CAST(low AS REAL) AS low, volume, "
            f"{bucket} AS b, {factor} AS f FROM market_data WHERE {where}) r "
            "GROUP BY symbol, b, f, time"
        )
        first, last, joins = _provider_factor(sql, "o."), _provider_factor(sql, "c."), ""
    else:
        branches = [
            b
            for seg in _segments(sorted(symbols), steps)
            if (b := _piece_branch(sql, bucket, seg, start, end)) is not None
        ]
        # SQLite allows 500 terms in one compound SELECT: nest groups of them
        groups = [branches[i : i + compound] for i in range(0, len(branches), compound)]
        if len(groups) == 1:
            pieces = " UNION ALL ".join(groups[0])
        else:
            pieces = " UNION ALL ".join(
                f"SELECT * FROM ({' UNION ALL '.join(g)}) u{k}" for k, g in enumerate(groups)
            )
        first, last = "fo.f", "fc.f"
        joins = (
            "JOIN p AS fo ON fo.symbol = g.symbol AND fo.t0 = g.t0 "
            "JOIN p AS fc ON fc.symbol = g.symbol AND fc.t1 = g.t1 "
        )
    text = (
        f"WITH p AS ({pieces}), "
        "g AS (SELECT symbol, min(t0) AS t0, max(t1) AS t1, "
        f"max({num('high')} * f) AS high, min({num('low')} * f) AS low, sum(volume) AS volume "
        "FROM p GROUP BY symbol, b) "
        f"SELECT g.symbol, g.t1, {num('o.open')} * {first}, g.high, g.low, "
        f"{num('c.close')} * {last}, {num('c.adjusted_close')}, g.volume FROM g {joins}"
        f"{_row_at('o', 'g.t0')} {_row_at('c', 'g.t1')} ORDER BY g.symbol, g.t1"
    )
    return text, sql.params


def _postgres_sql(  # noqa: PLR0917
    sql: Statement,
    symbols: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    bucket: str,
    steps: Mapping[str, FactorSteps] | None,
    provider: bool,
) -> str:
    """PostgreSQL: one pass, no lookups. Each row knows its period's first and last date (a
    window over the period, on the order the grouping sorts by anyway); pieces keep the
    stored open of the first row and close of the last, ``FILTER`` picks them per period
    (a NULL open stays NULL: ``max`` of that one value). Probing the index for the first
    and last bar of each period cost ~10 µs each: 40,000 probes for 20 symbols' weeks."""
    num = sql.number
    if provider:
        factor = _provider_factor(sql)
    elif steps:
        factor = _stepped_factor(sql, symbols, steps)
    else:
        factor = "1.0::float8"
    where = _where(sql, symbols, start, end)
    rows = (
        "SELECT *, min(time) OVER w AS ft, max(time) OVER w AS lt FROM (SELECT symbol, time, "
        f"open, high, low, close, adjusted_close, volume, {bucket} AS b, {factor} AS f "
        f"FROM market_data WHERE {where}) x WINDOW w AS (PARTITION BY symbol, b)"
    )
    pieces = (
        "SELECT symbol, b, f, max(time) AS t1, bool_or(time = ft) AS has_first, "
        "bool_or(time = lt) AS has_last, max(open) FILTER (WHERE time = ft) AS open, "
        "max(high) AS high, min(low) AS low, max(close) FILTER (WHERE time = lt) AS close, "
        "max(adjusted_close) FILTER (WHERE time = lt) AS adjusted_close, "
        f"sum(volume) AS volume FROM ({rows}) r GROUP BY symbol, b, f{', time' if provider else ''}"
    )
    return (
        f"SELECT symbol, max(t1) AS day, max({num('open')} * f) FILTER (WHERE has_first), "
        f"max({num('high')} * f), min({num('low')} * f), "
        f"max({num('close')} * f) FILTER (WHERE has_last), "
        f"max({num('adjusted_close')}) FILTER (WHERE has_last), "
        f"CASE WHEN sum(volume) <= {INT64_MAX} THEN sum(volume) END "
        f"FROM ({pieces}) p GROUP BY symbol, b ORDER BY symbol, day"
    )
