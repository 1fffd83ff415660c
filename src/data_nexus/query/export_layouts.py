"""The zipline (``csvdir`` bundle) and qlib (``dump_bin`` input) export files of one symbol.

Conventions (prices and volumes as traded, factors, exact integer volumes) are described in
:mod:`data_nexus.query.exports`.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from data_nexus.decimals import canonical
from data_nexus.exdates import split_ratio
from data_nexus.query import adjust as adj
from data_nexus.query.frame import Frame
from data_nexus.records import Split
from data_nexus.types import AMOUNT_SCALE


def _split_multipliers(days: np.ndarray, actions: list[Any], last: dt.date) -> list[Fraction]:
    """Per row, exactly, the product of ``old/new`` of the splits dated after the row and not
    after ``last`` (the symbol's data cut-off): ``adjust="splits"``'s price factor.

    The stored volume is split-adjusted (EODHD's ``volume``, in today's shares), so the
    volume as traded is the stored one times this, and the stored one is the traded one
    divided by it.
    """
    splits = sorted(
        (a for a in actions if isinstance(a, Split) and a.date <= last), key=lambda a: a.date
    )
    suffix = [Fraction(1)]  # suffix[j]: the product over the splits from the j-th on
    for split in reversed(splits):
        suffix.append(suffix[-1] / split_ratio(split))
    suffix.reverse()
    split_days = np.array([a.date.isoformat() for a in splits], "datetime64[D]")
    index = np.searchsorted(split_days, days.astype("datetime64[D]"), side="right")
    return [suffix[j] for j in index.tolist()]


def _last_day(frame: Frame, hi: int, symbol: str, cutoff: dict[str, dt.date]) -> dt.date:
    """The day after which a symbol's events are not applied (as :mod:`.adjust` rules)."""
    last = dt.date.fromisoformat(str(frame.days[hi - 1].astype("datetime64[D]")))
    return max(last, cutoff.get(symbol, last))


def _amount_text(amount: Fraction) -> str:
    """A cash amount as exact decimal text, rounded to the schema's 12 places if it needs more."""
    return canonical(Decimal(round(amount * 10**AMOUNT_SCALE)).scaleb(-AMOUNT_SCALE))


def write_zipline(
    path: Path, frame: Frame, rows: tuple[int, int], actions: list[Any], cutoff: dict[str, dt.date]
) -> int:
    """zipline's csvdir file: prices and volumes as traded, the day's ``dividend`` (declared
    cash per share, every dividend of the day summed) and ``split`` (new per old shares, the
    product of the day's splits), which zipline turns into its own adjustments."""
    lo, hi = rows
    symbol = frame.names[int(frame.codes[lo])]
    splits = [a for a in actions if isinstance(a, Split)]
    dividend: dict[str, Fraction] = {}
    split: dict[str, Fraction] = {}
    for action in actions:
        day = action.date.isoformat()
        if isinstance(action, Split):
            split[day] = split.get(day, Fraction(1)) * split_ratio(action)
        else:
            dividend[day] = dividend.get(day, Fraction(0)) + adj.declared_amount(action, splits)
    multipliers = _split_multipliers(
        frame.days[lo:hi], actions, _last_day(frame, hi, symbol, cutoff)
    )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["date", "open", "high", "low", "close", "volume", "dividend", "split"])
        for i, day in enumerate(frame.days[lo:hi].astype(str).tolist()):
            p = [frame.prices[n][lo + i] for n in ("open", "high", "low", "close")]
            # as traded = stored (split-adjusted) × the later splits' old/new, exactly
            traded = (
                "" if frame.volume_missing[lo + i] else _times(frame.volume[lo + i], multipliers[i])
            )
            writer.writerow(
                [
                    day,
                    *["" if np.isnan(v) else repr(float(v)) for v in p],
                    traded,
                    _amount_text(dividend[day]) if day in dividend else "0.0",
                    repr(float(split[day])) if day in split else "1.0",
                ]
            )
    return hi - lo


def _times(volume: np.int64, ratio: Fraction) -> str:
    """``volume × ratio`` rounded to whole shares (half to even), in exact integer arithmetic."""
    value = int(volume)
    return str(value if ratio == 1 else round(value * ratio))


def write_qlib(
    path: Path,
    frame: Frame,
    raw: Frame,
    rows: tuple[int, int],
    *,
    actions: list[Any],
    cutoff: dict[str, dt.date],
) -> int:
    """qlib's dump_bin input: adjusted prices, ``factor`` = adjusted / as-traded price, and
    the volume as traded divided by ``factor`` (so price × volume is the day's turnover as
    traded, and ``$volume * $factor`` gives the traded volume back, as qlib's collectors do).
    """
    lo, hi = rows
    symbol = frame.names[int(frame.codes[lo])]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = frame.prices["close"][lo:hi] / raw.prices["close"][lo:hi]
    multipliers = _split_multipliers(
        frame.days[lo:hi], actions, _last_day(frame, hi, symbol, cutoff)
    )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["symbol", "date", "open", "high", "low", "close", "volume", "factor"])
        for i, day in enumerate(frame.days[lo:hi].astype(str).tolist()):
            p = [frame.prices[n][lo + i] for n in ("open", "high", "low", "close")]
            f = factor[i]
            if frame.volume_missing[lo + i] or not np.isfinite(f) or f == 0:
                volume = ""
            else:  # traded / factor = stored × splits' old/new / factor, exact but for factor
                volume = _times(frame.volume[lo + i], multipliers[i] / Fraction(float(f)))
            writer.writerow(
                [symbol, day, *["" if np.isnan(v) else repr(float(v)) for v in p], volume, f]
            )
    return hi - lo
