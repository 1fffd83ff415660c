"""Back-adjustment exactly as EODHD describes it (pure).

Every row before an event's ex-date is multiplied by the event's factor, cumulatively:

- a split of ``new/old`` has factor ``old/new`` (a 4/1 split divides earlier prices by 4);
- the dividends of one ex-date have one factor ``1 - D / P``, ``D`` their total as declared
  (two dividends 0.17 and 0.34 make ``1 - 0.51 / P``, not a product of two factors) and
  ``P`` the raw close of the previous row. When a split shares the ex-date, ``P`` is first
  expressed in post-split shares (``P * old / new``), since dividends are declared per new
  share.

``adjusted_close`` is the raw close times the cumulative factor, computed exactly (rational
arithmetic) and rounded half-even to the exchange's adjusted decimals (4, or 6 for FX and
crypto). ``volume`` is adjusted for splits only: earlier volumes times ``new/old``, rounded
half-even to an integer. A dividend's ``value`` is its declared amount divided by the ratios
of later splits, rounded half-even to 6 decimals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from data_nexus.decimals import canonical
from data_nexus.emulator.prices import RawSeries, SplitEvent
from data_nexus.records import Dividend, Split

Ints = npt.NDArray[np.int64]
Prices = npt.NDArray[np.int32] | npt.NDArray[np.int64]
DIVIDEND_DECIMALS = 6


@dataclass(slots=True)
class SymbolView:
    """One symbol as the API serves it today: raw OHLC, adjusted close and volume, actions.

    Prices are integers in units of ``10**-price_digits`` (``adjusted_close`` in
    ``10**-adjusted_digits``); ``ordinals`` are ``date.toordinal()`` values.
    """

    symbol: str
    price_digits: int
    adjusted_digits: int
    ordinals: npt.NDArray[np.int32]
    open: Prices
    high: Prices
    low: Prices
    close: Prices
    adjusted_close: Prices
    volume: Prices
    splits: list[Split]
    dividends: list[Dividend]
    version: int = 0  # the market's version when built: keys caches of rendered rows

    def __len__(self) -> int:
        return len(self.ordinals)

    def row_on(self, ordinal: int) -> int | None:
        """The row index of the day with ``ordinal``, or None if the symbol has no row."""
        row = int(np.searchsorted(self.ordinals, ordinal))
        return row if row < len(self.ordinals) and self.ordinals[row] == ordinal else None

    def rows_between(self, first: int | None, last: int | None) -> tuple[int, int]:
        """The half-open row range of ordinals in ``[first, last]`` (None = unbounded)."""
        lo = 0 if first is None else int(np.searchsorted(self.ordinals, first, side="left"))
        hi = len(self) if last is None else int(np.searchsorted(self.ordinals, last, "right"))
        return lo, max(lo, hi)


def round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, ties to even."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def split_factor(new: Decimal, old: Decimal) -> Fraction:
    """The factor a split applies to earlier prices: ``old / new``."""
    return Fraction(old) / Fraction(new)


def dividend_factor(
    amount: Decimal, previous_close: Fraction, same_day_splits: Iterable[SplitEvent] = ()
) -> Fraction:
    """The factor a dividend applies to earlier prices: ``1 - amount / previous_close``."""
    for split in same_day_splits:
        previous_close *= split_factor(split.new, split.old)
    paid_num, paid_den = amount.as_integer_ratio()
    close_num, close_den = previous_close.numerator, previous_close.denominator
    # 1 - (paid_num / paid_den) / (close_num / close_den), on integers
    numerator = close_num * paid_den - paid_num * close_den
    if close_num <= 0 or numerator <= 0:
        return Fraction(1)
    return Fraction(numerator, close_num * paid_den)


def _apply_backwards(values: Ints, factors: dict[int, Fraction], base: Fraction) -> Ints:
    """``values[r] * base * prod(factors[e] for e > r)``, rounded half-even, per row ``r``.

    Rows between two events share one exact factor. All rows are scaled at once in
    floating point; a row whose product lands within rounding error of a half (or beyond
    2**52) is recomputed exactly with integers, so the result is always the exact one.
    """
    n = len(values)
    cuts = sorted(row for row in factors if 0 < row < n)
    bounds = [0, *cuts, n]
    segment_factors = [base]
    for row in reversed(cuts):
        segment_factors.append(segment_factors[-1] * factors[row])
    segment_factors.reverse()  # segment k covers rows bounds[k]:bounds[k + 1]
    per_row = np.repeat([float(f) for f in segment_factors], np.diff(bounds))
    approx = values.astype(np.float64) * per_row
    out = np.rint(approx)
    tolerance = 1e-9 + np.abs(approx) * 1e-13
    unsure = np.flatnonzero(
        (np.abs(approx - np.floor(approx) - 0.5) < tolerance) | (np.abs(approx) > 2.0**52)
    )
    if len(unsure):
        segments = np.searchsorted(bounds, unsure, side="right") - 1
        for row, segment in zip(unsure.tolist(), segments.tolist(), strict=True):
            factor = segment_factors[segment]
            out[row] = round_half_even(int(values[row]) * factor.numerator, factor.denominator)
    result: Ints = out.astype(np.int64)
    return result


def adjusted_closes(raw: RawSeries, adjusted_digits: int) -> Ints:
    """The adjusted close of every row of ``raw``, in units of ``10**-adjusted_digits``."""
    factors: dict[int, Fraction] = defaultdict(lambda: Fraction(1))
    same_day: dict[int, list[SplitEvent]] = defaultdict(list)
    for split in raw.splits:
        factors[split.row] *= split_factor(split.new, split.old)
        same_day[split.row].append(split)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for dividend in raw.dividends:  # the dividends of one ex-date are one event
        totals[dividend.row] += dividend.amount
    for row, total in totals.items():
        if row < 1:
            continue
        previous = Fraction(int(raw.close[row - 1]), 10**raw.price_digits)
        factors[row] *= dividend_factor(total, previous, same_day.get(row, ()))
    base = Fraction(10**adjusted_digits, 10**raw.price_digits)
    return _apply_backwards(raw.close.astype(np.int64), dict(factors), base)


def adjusted_volumes(raw: RawSeries) -> Ints:
    """Volumes adjusted for splits only (earlier rows times ``new/old``)."""
    factors: dict[int, Fraction] = defaultdict(lambda: Fraction(1))
    for split in raw.splits:
        factors[split.row] *= 1 / split_factor(split.new, split.old)
    return _apply_backwards(raw.volume, dict(factors), Fraction(1))


def dividend_value(amount: Decimal, later_splits: Iterable[SplitEvent]) -> Decimal:
    """A declared dividend divided by the ratios of later splits, 6 decimals at most."""
    ratios = list(later_splits)
    if not ratios and -amount.as_tuple().exponent <= DIVIDEND_DECIMALS:  # type: ignore[operator]
        return tidy(amount)
    value = Fraction(amount)
    for split in ratios:
        value *= split_factor(split.new, split.old)
    scaled = round(value * 10**DIVIDEND_DECIMALS)
    return tidy(Decimal(scaled).scaleb(-DIVIDEND_DECIMALS))


def tidy(value: Decimal) -> Decimal:
    """``value`` with its shortest exponent-free form (``4.000000`` becomes ``4``)."""
    return Decimal(canonical(value))


def _compact(values: Ints) -> Prices:
    if len(values) and (int(values.max()) >= 2**31 or int(values.min()) < -(2**31)):
        return values
    return values.astype(np.int32)


def build_view(symbol: str, raw: RawSeries, adjusted_digits: int, currency: str) -> SymbolView:
    """The served form of ``raw``: adjusted close and volume, split and dividend records."""
    splits = [Split(symbol, s.date, tidy(s.new), tidy(s.old)) for s in raw.splits]
    dividends = [
        Dividend(
            symbol=symbol,
            date=d.date,
            value=dividend_value(d.amount, (s for s in raw.splits if s.row > d.row)),
            unadjusted_value=d.amount,
            currency=currency,
            declaration_date=d.declaration,
            record_date=d.record,
            payment_date=d.payment,
            period=d.period,
        )
        for d in raw.dividends
    ]
    return SymbolView(
        symbol=symbol,
        price_digits=raw.price_digits,
        adjusted_digits=adjusted_digits,
        ordinals=raw.ordinals,
        open=_compact(raw.open),
        high=_compact(raw.high),
        low=_compact(raw.low),
        close=_compact(raw.close),
        adjusted_close=_compact(adjusted_closes(raw, adjusted_digits)),
        volume=_compact(adjusted_volumes(raw)),
        splits=splits,
        dividends=dividends,
    )
