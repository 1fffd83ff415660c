"""The back-adjustment rule for cash dividends, in one place (pure).

EODHD's convention, which every dividend factor of the project follows (``adjust="all"`` in
:mod:`data_nexus.query.adjust`, the SQL resampling factor steps built from it, and the
``adjustment`` check in :mod:`data_nexus.quality.checks`):

- The dividends of one symbol on one ex-date make **one** event, whatever their number (a
  regular and a special dividend, say). Its amount is their *total*, each counted as
  declared: ``unadjusted_value`` where given, else ``value`` times the ratios of the splits
  after the ex-date (the provider divides ``value`` by them).
- Its factor is ``1 - total / P``, ``P`` the raw close of the bar before the ex-date; when
  splits share the ex-date, ``P`` is first expressed in post-split shares (``P * old/new``),
  because the dividend is declared per new share. The event scales every bar before the
  ex-date; the split's own factor ``old/new`` is a separate event on the same date.
- The event is ignored (factor 1) when ``P`` is unknown or not positive, or when the total
  is not positive or at least ``P`` (the factor would not be in ``(0, 1)``).

So two dividends ``d1, d2`` on one day give ``1 - (d1 + d2) / P``, never
``(1 - d1/P)(1 - d2/P)``, which differs by ``d1·d2/P²`` (3.7e-5 for 0.17 and 0.34 on 16).

:func:`dividend_factor` is the exact rule (fractions); :func:`dividend_factors` is its
vectorised float twin for the query path, which applies the same tests to floats.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from data_nexus.records import Dividend, Split

Floats = npt.NDArray[np.float64]


def split_ratio(split: Split) -> Fraction:
    """New shares per old share, exactly (``4/1`` → 4)."""
    return Fraction(split.numerator) / Fraction(split.denominator)


def declared_amount(dividend: Dividend, splits: Iterable[Split]) -> Fraction:
    """The dividend per share as declared on its ex-date.

    ``unadjusted_value`` when known, else ``value`` times the ratios of the splits of its
    symbol after its ex-date (``splits`` may hold other symbols' splits; they are skipped).
    """
    if dividend.unadjusted_value is not None:
        return Fraction(dividend.unadjusted_value)
    amount = Fraction(dividend.value)
    for split in splits:
        if split.symbol == dividend.symbol and split.date > dividend.date:
            amount *= split_ratio(split)
    return amount


@dataclass(frozen=True, slots=True)
class ExDate:
    """The dividends of ``symbol`` on ``date`` as one event.

    ``total`` is the sum of their declared amounts, exact (a lone dividend's
    ``unadjusted_value`` as it is, else a fraction); ``split_ratio`` the product of the ratios
    (new/old) of the splits on the same date, 1 without one.
    """

    symbol: str
    date: dt.date
    total: Decimal | Fraction
    split_ratio: Fraction = Fraction(1)

    def factor(self, previous_close: Decimal | Fraction | float | None) -> Fraction:
        """This event's exact factor given the raw close of the bar before it."""
        return dividend_factor(self.total, previous_close, self.split_ratio)


def ex_dates(dividends: Iterable[Dividend], splits: Sequence[Split] = ()) -> list[ExDate]:
    """The dividends grouped by (symbol, ex-date), totals exact, in the order of each group's
    first dividend.

    ``splits`` (of any symbols) supply the ratios for declared amounts known only as
    ``value`` and the post-split share count of same-day splits.
    """
    groups: dict[tuple[str, dt.date], list[Dividend]] = {}
    for dividend in dividends:
        groups.setdefault((dividend.symbol, dividend.date), []).append(dividend)
    if not groups:
        return []
    later: dict[str, list[Split]] = {}
    same_day: dict[tuple[str, dt.date], Fraction] = {}
    for split in splits:
        later.setdefault(split.symbol, []).append(split)
        key = (split.symbol, split.date)
        same_day[key] = same_day.get(key, Fraction(1)) * split_ratio(split)
    out = []
    one = Fraction(1)
    for key, group in groups.items():
        total: Decimal | Fraction
        if len(group) == 1 and group[0].unadjusted_value is not None:
            total = group[0].unadjusted_value  # the common case, exact without arithmetic
        else:
            own = later.get(key[0], ())
            total = sum((declared_amount(d, own) for d in group), Fraction(0))
        out.append(ExDate(key[0], key[1], total, same_day.get(key, one)))
    return out


def dividend_factor(
    total: Decimal | Fraction,
    previous_close: Decimal | Fraction | float | None,
    same_day_ratio: Fraction = Fraction(1),
) -> Fraction:
    """``1 - total / (previous_close / same_day_ratio)`` exactly; 1 where it does not apply.

    1 when the previous close is unknown (None, NaN) or not positive, or the total is not
    in ``(0, P)`` with ``P`` the previous close in post-split shares.
    """
    if previous_close is None or (isinstance(previous_close, float) and math.isnan(previous_close)):
        return Fraction(1)
    close = Fraction(previous_close) / same_day_ratio
    paid = Fraction(total)
    if close <= 0 or not 0 < paid < close:
        return Fraction(1)
    return 1 - paid / close


def dividend_factors(totals: Floats, previous_closes: Floats, same_day_ratios: Floats) -> Floats:
    """:func:`dividend_factor` over float arrays (NaN closes give 1), element by element."""
    with np.errstate(divide="ignore", invalid="ignore"):
        close = previous_closes / same_day_ratios
        applies = (close > 0) & (totals > 0) & (totals < close)
        factors: Floats = np.where(applies, 1.0 - totals / close, 1.0)
    return factors
