"""Price adjustment for splits and dividends (pure, vectorised over NumPy arrays).

Input is a block of daily bars of one or more symbols, sorted by (symbol, date), given as
arrays, plus the corporate actions of those symbols. Nothing here touches a database.

Conventions (the standard multiplicative back-adjustment, as CRSP's cumulative factors and
EODHD's ``adjusted_close`` use it):

- A split of ``numerator`` new shares for ``denominator`` old ones (``4/1`` forward,
  ``1/20`` reverse) divides every earlier price by ``numerator / denominator``.
- A cash dividend ``D`` on its ex-date multiplies every earlier price by ``1 - D / P``,
  where ``P`` is the raw close of the last bar before the ex-date. ``D`` is the amount as
  declared (``unadjusted_value``); when only the split-adjusted ``value`` is known, it is
  turned back into the declared amount with the ratios of later splits. If a split shares
  the dividend's ex-date, ``P`` is first expressed in post-split shares (``P * old/new``),
  because the dividend is declared per new share. A factor that would not be positive (a
  dividend at least the previous close) is ignored (factor 1), as EODHD does.
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from data_nexus.errors import UsageError
from data_nexus.records import Dividend, Split

Floats = npt.NDArray[np.float64]
Dates = npt.NDArray[np.datetime64]
Ints = npt.NDArray[np.int64]

#: The adjustment modes of the query API, in the order the docs list them.
ADJUST_MODES = ("none", "splits", "all", "provider")


def check_adjust(adjust: str) -> str:
    """``adjust`` if it is a known mode, else :class:`~data_nexus.errors.UsageError`."""
    if adjust not in ADJUST_MODES:
        raise UsageError(f"unknown adjust mode {adjust!r}: use one of {', '.join(ADJUST_MODES)}")
    return adjust


@dataclass(frozen=True, slots=True)
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


def _day(value: dt.date) -> np.datetime64:
    return np.datetime64(value.isoformat(), "D")


def split_ratio(split: Split) -> Fraction:
    """New shares per old share, exactly (``4/1`` → 4)."""
    return Fraction(split.numerator) / Fraction(split.denominator)


def declared_amount(dividend: Dividend, splits: Iterable[Split]) -> Fraction:
    """The dividend per share as declared on its ex-date.

    ``unadjusted_value`` when known, else ``value`` times the ratios of later splits
    (``value`` is divided by them by the provider).
    """
    if dividend.unadjusted_value is not None:
        return Fraction(dividend.unadjusted_value)
    amount = Fraction(dividend.value)
    for split in splits:
        if split.date > dividend.date:
            amount *= split_ratio(split)
    return amount


def dividend_factor(amount: Fraction, previous_close: Fraction, same_day_ratio: Fraction) -> float:
    """``1 - amount / (previous_close / same_day_ratio)``; 1 when that is not positive."""
    if previous_close <= 0:
        return 1.0
    factor = 1 - amount * same_day_ratio / previous_close
    return float(factor) if factor > 0 else 1.0


@dataclass(frozen=True, slots=True)
class Event:
    """One adjustment event: rows of ``symbol`` before ``date`` are multiplied by ``factor``."""

    symbol: str
    date: dt.date
    factor: float


def split_events(splits: Iterable[Split]) -> list[Event]:
    """Price factors of splits: ``denominator / numerator`` (a 4/1 split → 0.25)."""
    return [Event(s.symbol, s.date, float(1 / split_ratio(s))) for s in splits]


def dividend_events(
    dividends: Iterable[Dividend],
    splits: Sequence[Split],
    previous_close: dict[tuple[str, dt.date], Decimal | float | None],
) -> list[Event]:
    """Price factors of dividends: ``1 - D / P`` (conventions in the module docstring).

    ``previous_close[(symbol, ex_date)]`` is the raw close of the symbol's last bar before
    the ex-date (None or absent: no earlier bar, the dividend is not applied).
    """
    by_symbol: dict[str, list[Split]] = {}
    for split in splits:
        by_symbol.setdefault(split.symbol, []).append(split)
    out: list[Event] = []
    for dividend in dividends:
        close = previous_close.get((dividend.symbol, dividend.date))
        if close is None:
            continue
        own = by_symbol.get(dividend.symbol, [])
        same_day = Fraction(1)
        for split in own:
            if split.date == dividend.date:
                same_day *= split_ratio(split)
        amount = declared_amount(dividend, own)
        prev = Fraction(close) if isinstance(close, Decimal) else Fraction(str(close))
        out.append(Event(dividend.symbol, dividend.date, dividend_factor(amount, prev, same_day)))
    return out


def cumulative_factors(
    block: Block, events: Iterable[Event], cutoff: dict[str, dt.date] | None = None
) -> Floats:
    """Per row, the product of the factors of its symbol's events dated after the row.

    Events dated after the symbol's data cut-off (``cutoff[symbol]``, its last stored bar;
    by default its last row in ``block``) are not applied (see module docstring). Shape
    ``(len(block.dates),)``; 1.0 where no event applies.
    """
    cutoff = cutoff or {}
    n = len(block.dates)
    out = np.ones(n, dtype=np.float64)
    bounds = block.bounds()
    run = {symbol: k for k, symbol in enumerate(block.symbols)}
    grouped: dict[int, list[Event]] = {}
    for event in events:
        k = run.get(event.symbol)
        if k is not None and event.factor != 1.0:
            grouped.setdefault(k, []).append(event)
    for k, own in grouped.items():
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if hi <= lo:
            continue
        dates = block.dates[lo:hi]
        last = dates[-1]
        if block.symbols[k] in cutoff:
            last = max(last, _day(cutoff[block.symbols[k]]))
        # Multiply the factors from the latest event back, so a row's factor is the same
        # float whatever window of the history was read (the product order is fixed).
        dated = sorted((e for e in own if _day(e.date) <= last), key=lambda e: e.date)
        running = 1.0
        upper = hi - lo
        for event in reversed(dated):
            cut = int(np.searchsorted(dates, _day(event.date), side="left"))
            out[lo + cut : lo + upper] = running
            running *= event.factor
            upper = min(upper, cut)
        out[lo : lo + upper] = running
    return out


def previous_close_keys(
    block: Block, dividends: Iterable[Dividend]
) -> dict[tuple[str, dt.date], float | None]:
    """Previous closes of dividends taken from the block itself.

    For each dividend whose ex-date falls after the first row of its symbol's run and on or
    before its last row, the close of the last row before the ex-date. Others are absent
    (the caller looks them up, or they do not apply).
    """
    bounds = block.bounds()
    run = {symbol: k for k, symbol in enumerate(block.symbols)}
    out: dict[tuple[str, dt.date], float | None] = {}
    for dividend in dividends:
        k = run.get(dividend.symbol)
        if k is None:
            continue
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        dates = block.dates[lo:hi]
        day = _day(dividend.date)
        if hi <= lo or day > dates[-1]:
            continue
        cut = int(np.searchsorted(dates, day, side="left"))
        if cut > 0:
            out[(dividend.symbol, dividend.date)] = float(block.close[lo + cut - 1])
    return out


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
    events = split_events(splits)
    if mode == "all":
        closes: dict[tuple[str, dt.date], Decimal | float | None] = dict(
            previous_close_keys(block, dividends)
        )
        for key, value in (previous_close or {}).items():
            closes.setdefault(key, value)
        events.extend(dividend_events(dividends, splits, closes))
    return cumulative_factors(block, events, cutoff)
