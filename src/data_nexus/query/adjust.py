"""Price adjustment for splits and dividends (pure, vectorised over NumPy arrays).

Input is a block of daily bars of one or more symbols, sorted by (symbol, date), given as
arrays, plus the corporate actions of those symbols. Nothing here touches a database.

Conventions (the standard multiplicative back-adjustment, as CRSP's cumulative factors and
EODHD's ``adjusted_close`` use it):

- A split of ``numerator`` new shares for ``denominator`` old ones (``4/1`` forward,
  ``1/20`` reverse) divides every earlier price by ``numerator / denominator``.
- Cash dividends follow the one rule of :mod:`data_nexus.exdates` (EODHD's): the dividends
  of a symbol on one ex-date multiply every earlier price by ``1 - D / P``, ``D`` their
  total as declared (``unadjusted_value``, else ``value`` times the ratios of later splits),
  ``P`` the raw close of the last bar before the ex-date, in post-split shares
  (``P * old/new``) when a split shares the date. Two dividends on a day are one factor,
  not a product of two. A factor that would not be in ``(0, 1)`` is ignored (factor 1).
- An event whose date is after a symbol's last bar in the block is not applied (the
  provider adjusts once the ex-date has traded); an event on or before the first bar has no
  earlier bar to scale.
- Volume: EODHD already sends volume adjusted for splits, so the stored volume is left as
  it is. :func:`apply_splits_to_volume` multiplies raw volumes by the cumulative split
  factor for data whose volume is as traded.

Where providers differ: Yahoo adjusts dividends the same way but rounds adjusted prices to
2 decimals; some vendors (and CRSP's ``cfacpr``) adjust only for splits in their "adjusted
price" and leave dividends to a separate total-return series (see :mod:`.returns`);
additive (``P - D``) back-adjustment, used for some futures series, is not offered.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from data_nexus import exdates
from data_nexus.errors import UsageError
from data_nexus.exdates import dividend_factors, ex_dates, split_ratio
from data_nexus.records import Dividend, Split

Floats = npt.NDArray[np.float64]
Dates = npt.NDArray[np.datetime64]
Ints = npt.NDArray[np.int64]

#: The declared amount of a dividend (kept here for the callers of this module).
declared_amount = exdates.declared_amount

#: The adjustment modes of the query API, in the order the docs list them.
ADJUST_MODES = ("none", "splits", "all", "provider")


def check_adjust(adjust: str) -> str:
    """The mode ``adjust`` names, in any case (``ALL`` → ``all``), else
    :class:`~data_nexus.errors.UsageError`."""
    mode = adjust.strip().lower() if isinstance(adjust, str) else adjust
    if mode not in ADJUST_MODES:
        raise UsageError(f"unknown adjust mode {adjust!r}: use one of {', '.join(ADJUST_MODES)}")
    return mode


@dataclass(frozen=True)
class Block:
    """Bars of one or more symbols, sorted by (symbol, date), as parallel arrays.

    ``starts`` holds the first row of each symbol's run and ``symbols`` its name, so rows
    ``starts[k]:starts[k+1]`` (or to the end) belong to ``symbols[k]``. ``dates`` are
    ``datetime64[D]``; prices are float64 (NaN where missing).
    """

    symbols: Sequence[str]
    starts: Ints
    dates: Dates
    close: Floats

    def bounds(self) -> Ints:
        """Row bounds of the runs: ``[starts..., len]``."""
        return np.append(self.starts, len(self.dates)).astype(np.int64)

    @functools.cached_property
    def row_keys(self) -> tuple[Ints, Ints, Ints]:
        """(sortable key per row, first row per run, end row per run): run·2³² + day."""
        bounds = self.bounds()
        run_of_row = np.repeat(np.arange(len(self.starts), dtype=np.int64), np.diff(bounds))
        keys = (run_of_row << 32) + self.dates.astype("datetime64[D]").astype(np.int64)
        return keys, bounds[:-1], bounds[1:]


def _day(value: dt.date) -> np.datetime64:
    return np.datetime64(value.isoformat(), "D")


@dataclass(frozen=True, slots=True)
class Event:
    """One adjustment event: rows of ``symbol`` before ``date`` are multiplied by ``factor``."""

    symbol: str
    date: dt.date
    factor: float


@dataclass(frozen=True, slots=True)
class Events:
    """Events as parallel arrays: the run (symbol) index in a block, the day, the factor."""

    run: Ints
    day: Dates
    factor: Floats

    @classmethod
    def empty(cls) -> Events:
        return cls(np.zeros(0, np.int64), np.zeros(0, "datetime64[D]"), np.zeros(0))

    def __add__(self, other: Events) -> Events:
        return Events(
            np.concatenate([self.run, other.run]),
            np.concatenate([self.day, other.day]),
            np.concatenate([self.factor, other.factor]),
        )


def split_events(splits: Iterable[Split]) -> list[Event]:
    """Price factors of splits: ``denominator / numerator`` (a 4/1 split → 0.25)."""
    return [Event(s.symbol, s.date, float(1 / split_ratio(s))) for s in splits]


def _runs(block: Block) -> dict[str, int]:
    return {symbol: k for k, symbol in enumerate(block.symbols)}


def events_of(block: Block, events: Iterable[Event]) -> Events:
    """:class:`Event` records of the block's symbols as :class:`Events` arrays."""
    run = _runs(block)
    kept = [(run[e.symbol], e.date, e.factor) for e in events if e.symbol in run]
    if not kept:
        return Events.empty()
    runs, days, factors = zip(*kept, strict=True)
    return Events(
        np.array(runs, np.int64),
        np.array([d.isoformat() for d in days], "datetime64[D]"),
        np.array(factors, np.float64),
    )


def _row_keys(block: Block) -> tuple[Ints, Ints, Ints]:
    return block.row_keys


def _event_keys(events: Events) -> Ints:
    keys: Ints = (events.run << 32) + events.day.astype(np.int64)
    return keys


def _last_days(block: Block, cutoff: dict[str, dt.date] | None) -> Dates:
    """Per run, the day after which events are not applied: its cut-off or last row."""
    ends = block.bounds()[1:] - 1
    last = block.dates[np.maximum(ends, 0)].astype("datetime64[D]").copy()
    for k, symbol in enumerate(block.symbols):
        if cutoff and symbol in cutoff:
            last[k] = max(last[k], _day(cutoff[symbol]))
    return last


def _ex_date_arrays(
    run: dict[str, int], dividends: Sequence[Dividend], splits: Sequence[Split]
) -> tuple[list[Dividend], Ints, Dates, Floats, Floats] | None:
    """The ex-dates of the block's dividends (:func:`data_nexus.exdates.ex_dates`) as arrays:
    a dividend of each, run, day, float total, same-day split ratio; sorted by (run, day).

    Grouped with NumPy: a lone dividend with its ``unadjusted_value`` (the common case) is its
    own total; the other ex-dates (several dividends, or ``value`` only) take their exact total
    from :func:`~data_nexus.exdates.ex_dates`. None without a dividend of the block's symbols.
    """
    chosen = [d for d in dividends if d.symbol in run]
    if not chosen:
        return None
    runs = np.array([run[d.symbol] for d in chosen], np.int64)
    days = np.array([d.date.isoformat() for d in chosen], "datetime64[D]")
    keys = (runs << 32) + days.astype(np.int64)
    unique, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    heads = [chosen[i] for i in first.tolist()]
    totals = np.array(
        [float(d.unadjusted_value) if d.unadjusted_value is not None else np.nan for d in heads]
    )
    exact = (counts > 1) | np.isnan(totals)
    if exact.any():
        members = [chosen[i] for i in np.flatnonzero(exact[inverse]).tolist()]
        group = {(heads[g].symbol, heads[g].date): g for g in np.flatnonzero(exact).tolist()}
        for event in ex_dates(members, splits):
            totals[group[(event.symbol, event.date)]] = float(event.total)
    ratios = np.ones(len(unique))
    same_day: dict[int, Fraction] = {}
    for split in splits:
        if split.symbol in run:
            key = (run[split.symbol] << 32) + int(_day(split.date).astype(np.int64))
            g = int(np.searchsorted(unique, key))
            if g < len(unique) and unique[g] == key:
                same_day[g] = same_day.get(g, Fraction(1)) * split_ratio(split)
    for g, ratio in same_day.items():
        ratios[g] = float(ratio)
    return heads, runs[first], days[first], totals, ratios


def dividend_events(
    block: Block,
    dividends: Sequence[Dividend],
    splits: Sequence[Split],
    previous_close: dict[tuple[str, dt.date], Decimal | float | None] | None = None,
) -> tuple[Events, list[tuple[str, dt.date]]]:
    """Price factors of ex-dates, ``1 - total / P`` (:mod:`data_nexus.exdates`), one per
    (symbol, ex-date) however many dividends share it.

    ``P`` is the close of the row before the ex-date in ``block``; for a dividend after the
    run's last row it comes from ``previous_close[(symbol, ex_date)]``. Returns the events and
    the (symbol, ex-date) keys whose previous close was needed but not given (those
    dividends are left out).
    """
    run = _runs(block)
    grouped = _ex_date_arrays(run, dividends, splits)
    if grouped is None:
        return Events.empty(), []
    chosen, runs, days, totals, ratios = grouped
    keys, firsts, ends = _row_keys(block)
    position = np.searchsorted(keys, _event_keys(Events(runs, days, totals)), side="left")
    previous = position - 1
    inside = (previous >= firsts[runs]) & (position < ends[runs])
    closes = np.full(len(chosen), np.nan)
    closes[inside] = block.close[previous[inside]]
    after = position >= ends[runs]  # past the block's last row of the symbol
    missing: list[tuple[str, dt.date]] = []
    for i in np.flatnonzero(after).tolist():
        key = (chosen[i].symbol, chosen[i].date)
        value = (previous_close or {}).get(key)
        if value is None:
            missing.append(key)
        else:
            closes[i] = float(value)
    factors = dividend_factors(totals, closes, ratios)
    usable = ~np.isnan(closes)
    return Events(runs[usable], days[usable], factors[usable]), missing


def _cumulative(block: Block, events: Events, cutoff: dict[str, dt.date] | None) -> Floats:
    out = np.ones(len(block.dates), dtype=np.float64)
    if len(events.run) == 0 or len(out) == 0:
        return out
    last = _last_days(block, cutoff)
    keep = (events.day <= last[events.run]) & (events.factor != 1.0)
    run, day, factor = events.run[keep], events.day[keep], events.factor[keep]
    if len(run) == 0:
        return out
    keys, _, _ = _row_keys(block)
    cuts = np.searchsorted(keys, (run << 32) + day.astype(np.int64), side="left")
    order = np.lexsort((day, run))  # by run, then day; ties keep their input order
    run, cuts, factor = run[order], cuts[order], factor[order]
    bounds = block.bounds()
    edges = np.flatnonzero(np.diff(run)) + 1
    for lo_e, hi_e in zip(np.r_[0, edges].tolist(), np.r_[edges, len(run)].tolist(), strict=True):
        k = int(run[lo_e])
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        # Multiply from the latest event back, so a row's factor is the same float whatever
        # window of the history was read (the product order is fixed).
        backwards = factor[lo_e:hi_e][::-1]
        products = np.multiply.accumulate(backwards)
        marks = np.clip(cuts[lo_e:hi_e][::-1], lo, hi)  # non-increasing row positions
        values = np.r_[1.0, products]
        upper = np.r_[hi, marks]
        lower = np.r_[marks, lo]
        out[lo:hi] = np.repeat(values[::-1], (upper - lower)[::-1])
    return out


def cumulative_factors(
    block: Block, events: Iterable[Event], cutoff: dict[str, dt.date] | None = None
) -> Floats:
    """Per row, the product of the factors of its symbol's events dated after the row.

    Events dated after the symbol's data cut-off (``cutoff[symbol]``, its last stored bar;
    by default its last row in ``block``) are not applied (see module docstring). Shape
    ``(len(block.dates),)``; 1.0 where no event applies.
    """
    return _cumulative(block, events_of(block, events), cutoff)


def needed_closes(
    block: Block, dividends: Sequence[Dividend], cutoff: dict[str, dt.date] | None
) -> list[tuple[str, dt.date]]:
    """(symbol, ex-date) of dividends after their run's last row but not after the cut-off:
    their previous close is outside the block and must be looked up."""
    _, missing = dividend_events(block, dividends, ())
    if not missing:
        return []
    last = _last_days(block, cutoff)
    run = _runs(block)
    return [(s, d) for s, d in missing if _day(d) <= last[run[s]]]


def apply_splits_to_volume(volume: Floats, split_factors: Floats) -> Floats:
    """Raw volumes in post-split shares: ``volume / split_factor`` (a 4/1 split → ×4)."""
    return volume / split_factors


def price_factors(
    mode: str,
    block: Block,
    splits: Sequence[Split],
    dividends: Sequence[Dividend],
    *,
    previous_close: dict[tuple[str, dt.date], Decimal | float | None] | None = None,
    adjusted_close: Floats | None = None,
    cutoff: dict[str, dt.date] | None = None,
) -> Floats | None:
    """The factor every price of each row is multiplied by, for adjust ``mode``.

    ``none`` → None (nothing to do). ``splits`` → the cumulative split factor.
    ``all`` → split factor times dividend factor; ``previous_close`` supplies the previous
    closes the block does not hold (dividends after a run's last row, when the block ends
    before the symbol's ``cutoff``, its last stored bar). ``provider`` →
    ``adjusted_close / close`` per row (NaN where either is missing or close is 0).
    """
    check_adjust(mode)
    if mode == "none":
        return None
    if mode == "provider":
        if adjusted_close is None:
            raise ValueError("adjust='provider' needs the adjusted_close column")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio: Floats = np.where(block.close != 0, adjusted_close / block.close, np.nan)
        return ratio
    events = events_of(block, split_events(splits))
    if mode == "all":
        dividend, _ = dividend_events(block, dividends, splits, previous_close)
        events = events + dividend
    return _cumulative(block, events, cutoff)
