"""Deterministic synthetic daily bars, generated one symbol at a time.

Every symbol gets a geometric random walk of closes (4-decimal prices, as a US exchange
sends them), an open near the previous close, a high and low around both, an adjusted close
that steps down by a small dividend factor every quarter going back in time, and integer
volumes. The same ``Dataset`` always yields the same bars (the seed includes the symbol's
index), so baselines and our code see exactly the same rows, generated again instead of
held in memory.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from data_nexus.records import Bar

#: Bars end here (a fixed date, so runs are comparable and nothing reads the clock).
END_DATE = dt.date(2025, 12, 31)
SEED = 20261124
#: Quarterly dividend yield used to build adjusted closes.
QUARTERLY_DIVIDEND = 0.004
MAX_PRICE_TICKS = 10**12  # 10^8 in price units; far below NUMERIC(18, 8)'s 10^10

#: Column order of ``market_data`` used by every raw baseline.
BAR_COLUMNS = ("time", "symbol", "open", "high", "low", "close", "adjusted_close", "volume")


def trading_days(years: int, end: dt.date = END_DATE) -> list[dt.date]:
    """Weekdays in the ``years`` years ending on ``end`` (holidays are not modelled)."""
    start = end.replace(year=end.year - years) + dt.timedelta(days=1)
    days = []
    day = start
    one = dt.timedelta(days=1)
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += one
    return days


def _ticks_to_decimals(values: np.ndarray) -> list[Decimal]:
    """Integer ten-thousandths to exact 4-decimal :class:`Decimal` values."""
    return [Decimal(v).scaleb(-4) for v in values.tolist()]


@dataclass(frozen=True, slots=True)
class Dataset:
    """``symbols`` symbols with ``years`` years of daily bars each, ending on ``end``."""

    symbols: int
    years: int
    end: dt.date = END_DATE
    seed: int = SEED
    exchange: str = "US"

    # -- shape ---------------------------------------------------------------------------

    def symbol(self, index: int) -> str:
        """The ``CODE.EXCHANGE`` symbol of the ``index``-th asset."""
        return f"S{index:05d}.{self.exchange}"

    def symbol_names(self) -> list[str]:
        """All symbols, in generation order (also sorted order)."""
        return [self.symbol(i) for i in range(self.symbols)]

    def days(self) -> list[dt.date]:
        """The trading days every symbol has a bar on."""
        return trading_days(self.years, self.end)

    @property
    def rows_per_symbol(self) -> int:
        """Bars per symbol."""
        return len(self.days())

    @property
    def total_rows(self) -> int:
        """Bars in the whole data set."""
        return self.rows_per_symbol * self.symbols

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary."""
        days = self.days()
        return {
            "symbols": self.symbols,
            "years": self.years,
            "rows_per_symbol": len(days),
            "total_rows": len(days) * self.symbols,
            "first_date": days[0].isoformat(),
            "last_date": days[-1].isoformat(),
            "seed": self.seed,
        }

    # -- rows ----------------------------------------------------------------------------

    def asset_rows(self) -> list[dict[str, object]]:
        """Rows for the ``assets`` table (they must exist before bars: foreign key)."""
        return [
            {
                "symbol": self.symbol(i),
                "code": self.symbol(i).split(".")[0],
                "exchange": self.exchange,
                "name": f"Synthetic company {i}",
                "asset_type": "Common Stock",
                "currency": "USD",
            }
            for i in range(self.symbols)
        ]

    def _arrays(self, index: int, n: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng([self.seed, index])
        start = math.exp(rng.uniform(math.log(5.0), math.log(500.0)))
        closes = start * np.exp(np.cumsum(rng.normal(0.0002, 0.02, n)))
        close = np.clip(np.rint(closes * 1e4), 100, MAX_PRICE_TICKS).astype(np.int64)
        previous = np.concatenate(([close[0]], close[:-1]))
        open_ = np.clip(
            np.rint(previous * (1.0 + rng.normal(0.0, 0.005, n))), 100, MAX_PRICE_TICKS
        ).astype(np.int64)
        top = np.maximum(open_, close)
        bottom = np.minimum(open_, close)
        high = np.rint(top * (1.0 + np.abs(rng.normal(0.0, 0.01, n)))).astype(np.int64)
        low = np.maximum(np.rint(bottom * (1.0 - np.abs(rng.normal(0.0, 0.01, n)))), 1)
        quarters_to_end = (n - 1 - np.arange(n)) // 63
        adjusted = np.maximum(np.rint(close * (1.0 - QUARTERLY_DIVIDEND) ** quarters_to_end), 1)
        volume = rng.lognormal(13.0, 1.2, n).astype(np.int64)
        return open_, high, low.astype(np.int64), close, adjusted.astype(np.int64), volume

    def iter_bars(self, index: int) -> Iterator[Bar]:
        """The bars of one symbol, oldest first, built lazily (for streaming writers)."""
        days = self.days()
        symbol = self.symbol(index)
        o, h, lo, c, a, v = self._arrays(index, len(days))
        for day, *values in zip(
            days,
            o.tolist(),
            h.tolist(),
            lo.tolist(),
            c.tolist(),
            a.tolist(),
            v.tolist(),
            strict=True,
        ):
            op, hi, low, cl, adj, vol = values
            yield Bar(
                symbol,
                day,
                Decimal(op).scaleb(-4),
                Decimal(hi).scaleb(-4),
                Decimal(low).scaleb(-4),
                Decimal(cl).scaleb(-4),
                Decimal(adj).scaleb(-4),
                vol,
            )

    def bars(self, index: int, days: Sequence[dt.date] | None = None) -> list[Bar]:
        """The bars of one symbol as a list (``days`` may pass a cached ``self.days()``)."""
        days = self.days() if days is None else days
        symbol = self.symbol(index)
        o, h, lo, c, a, v = self._arrays(index, len(days))
        return [
            Bar(symbol, *row)
            for row in zip(
                days,
                _ticks_to_decimals(o),
                _ticks_to_decimals(h),
                _ticks_to_decimals(lo),
                _ticks_to_decimals(c),
                _ticks_to_decimals(a),
                v.tolist(),
                strict=True,
            )
        ]

    def batches(
        self, size: int, *, first: int = 0, count: int | None = None
    ) -> Iterator[list[list[Bar]]]:
        """Lists of ``size`` symbols' bars (the last may be shorter), one batch in memory.

        ``first``/``count`` select the symbols ``first … first + count - 1`` (default: all).
        """
        days = self.days()
        stop = self.symbols if count is None else min(first + count, self.symbols)
        for start in range(first, stop, size):
            yield [self.bars(i, days) for i in range(start, min(start + size, stop))]


def revise(bars: list[Bar], fraction: float, salt: int = 0) -> tuple[list[Bar], int]:
    """A copy of ``bars`` where about ``fraction`` of them carry a revised adjusted close.

    Chosen deterministically (every ``1/fraction``-th bar, offset by ``salt``), the way a
    provider revises a few values between two syncs. Returns the bars and how many changed.
    """
    if fraction <= 0:
        return bars, 0
    step = max(1, round(1 / fraction))
    out = list(bars)
    changed = 0
    for i in range(salt % step, len(out), step):
        bar = out[i]
        adjusted = (bar.adjusted_close or bar.close) + Decimal("0.0001")
        out[i] = Bar(
            bar.symbol, bar.date, bar.open, bar.high, bar.low, bar.close, adjusted, bar.volume
        )
        changed += 1
    return out, changed


def bar_tuple(bar: Bar) -> tuple[object, ...]:
    """A bar as a row of :data:`BAR_COLUMNS`."""
    return (
        bar.date,
        bar.symbol,
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.adjusted_close,
        bar.volume,
    )
