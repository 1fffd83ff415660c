"""What the read side does to a :class:`~data_nexus.query.frame.Frame` between reading and
shaping: adjust its prices, resample it to an interval, place dividends on ex-date rows.

The arithmetic is in the pure cores (:mod:`.adjust`, :mod:`.resample`); these functions feed
them the frame's arrays and the stored actions and closes they need from the reader.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from data_nexus.query import adjust as adj
from data_nexus.query import resample as rs
from data_nexus.query.frame import Frame, row_symbols
from data_nexus.records import Dividend, Split
from data_nexus.storage.frames import PRICE_COLUMNS, FrameReader


def adjust_frame(
    frame: Frame,
    reader: FrameReader,
    mode: str,
    actions: list[Split | Dividend],
    cutoff: dict[str, dt.date] | None = None,
) -> None:
    """Adjust ``frame``'s prices in place; ``cutoff``: the symbols' last dates, if read."""
    if mode == "none" or len(frame) == 0:
        return
    symbols = row_symbols(frame)
    block = adj.Block(symbols, frame.starts, frame.days, frame.prices["close"])
    splits = [a for a in actions if isinstance(a, Split)]
    dividends = [a for a in actions if isinstance(a, Dividend)]
    if cutoff is None:
        cutoff = reader.last_dates(symbols)
    lookups: dict[tuple[str, dt.date], Any] = {}
    if mode == "all":
        lookups = dict(reader.closes_before(adj.needed_closes(block, dividends, cutoff)))
    factors = adj.price_factors(
        mode,
        block,
        splits,
        dividends,
        previous_close=lookups,
        adjusted_close=frame.prices["adjusted_close"],
        cutoff=cutoff,
    )
    if factors is None:
        return
    for name in ("open", "high", "low", "close"):
        frame.prices[name] = frame.prices[name] * factors


def resample_frame(frame: Frame, interval: str) -> Frame:
    if interval == "1d" or len(frame) == 0:
        return frame
    if frame.exact is not None:
        return _resample_exact(frame, interval)
    starts, days, prices, volume, missing = rs.resample(
        frame.starts,
        frame.days,
        frame.prices,
        frame.volume,
        frame.volume_missing,
        interval=interval,
    )
    codes = frame.codes[starts]
    change = np.ones(len(codes), dtype=bool)
    change[1:] = codes[1:] != codes[:-1]
    runs = np.flatnonzero(change).astype(np.int64)
    return Frame(frame.names, codes, runs, days, prices, volume, missing)


def _resample_exact(frame: Frame, interval: str) -> Frame:
    """Exact decimals: the same groups, values taken by index (first/last) or compared."""
    assert frame.exact is not None
    keys = rs.period_keys(frame.days, interval)
    starts = rs.group_starts(frame.starts, keys)
    ends = np.append(starts[1:], len(frame)) - 1
    table = frame.exact
    columns: dict[str, pa.Array] = {}
    for name in PRICE_COLUMNS:
        values = table.column(name).combine_chunks()
        if name == "open":
            columns[name] = values.take(pa.array(starts))
        elif name in ("close", "adjusted_close"):
            columns[name] = values.take(pa.array(ends))
        else:
            picks = []
            floats = values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
            for lo, hi in zip(starts.tolist(), (ends + 1).tolist(), strict=True):
                window = floats[lo:hi]
                if np.all(np.isnan(window)):
                    picks.append(lo)
                    continue
                pick = np.nanargmax(window) if name == "high" else np.nanargmin(window)
                picks.append(lo + int(pick))
            columns[name] = values.take(pa.array(picks, pa.int64()))
    sums, missing = rs.total(frame.volume, frame.volume_missing, starts)
    codes = frame.codes[starts]
    change = np.ones(len(codes), dtype=bool)
    change[1:] = codes[1:] != codes[:-1]
    days = frame.days[ends]
    out = pa.table(
        {
            "symbol": pa.DictionaryArray.from_arrays(
                pa.array(codes, pa.int32()), pa.array(frame.names, pa.string())
            ),
            "date": pa.array(days, pa.date32()),
            **columns,
            "volume": pa.array(sums, pa.int64(), mask=missing),
        }
    )
    return Frame(
        frame.names,
        codes,
        np.flatnonzero(change).astype(np.int64),
        days,
        {},
        sums,
        missing,
        out,
    )


def place_dividends(frame: Frame, reader: FrameReader, dividend: npt.NDArray[np.float64]) -> None:
    """Split-adjusted cash amounts on their ex-date rows (dividends off a bar are skipped)."""
    symbols = row_symbols(frame)
    actions = reader.actions(symbols)
    splits = [a for a in actions if isinstance(a, Split)]
    bounds = np.append(frame.starts, len(frame))
    run = {s: k for k, s in enumerate(symbols)}
    raw_close = frame.prices["close"]
    block = adj.Block(symbols, frame.starts, frame.days, raw_close)
    factors = adj.cumulative_factors(block, adj.split_events(splits), reader.last_dates(symbols))
    for action in actions:
        if not isinstance(action, Dividend) or action.symbol not in run:
            continue
        k = run[action.symbol]
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        day = np.datetime64(action.date.isoformat(), "D")
        row = lo + int(np.searchsorted(frame.days[lo:hi], day))
        if row < hi and frame.days[row] == day:
            amount = float(
                adj.declared_amount(action, [s for s in splits if s.symbol == action.symbol])
            )
            dividend[row] += amount * factors[row]
