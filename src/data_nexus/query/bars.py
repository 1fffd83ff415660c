"""Bars, wide prices and returns as pandas DataFrames or Arrow tables.

I/O at the edges: :mod:`data_nexus.storage.frames` reads the stored bars into Arrow, the
pure cores (:mod:`.adjust`, :mod:`.resample`, :mod:`.returns`) transform NumPy arrays, and
this module shapes the result. Every result says what it is: a DataFrame's ``attrs`` (and an
Arrow table's schema metadata) hold ``adjust``, ``interval`` and ``cutoff`` (the latest
stored bar date among the symbols read, ISO text), plus ``kind`` for returns.

Default dtypes of :func:`get_bars`: ``date`` ``datetime64[ns]``, ``symbol`` ``category``,
prices ``float64`` (NaN where missing), ``volume`` ``Int64`` (nullable). With
``exact=True`` prices are ``decimal256(76, 30)`` Arrow values (``pd.ArrowDtype``), exactly as
stored; adjusted prices are products of ratios and cannot be exact, so ``exact=True``
needs ``adjust="none"``.

Volume is as stored: EODHD sends it already adjusted for splits, so it is the same under
every ``adjust`` mode. ``adjusted_close`` is always the provider's stored value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from data_nexus.errors import UnknownSymbols, UsageError
from data_nexus.query import adjust as adj
from data_nexus.query import periods
from data_nexus.query import resample as rs
from data_nexus.query import returns as rt
from data_nexus.query.arguments import (
    DateLike,
    Source,
    date_problem,
    parse_day,
    parse_range,
    pick_source,
    reader_for,
    reader_from,
    symbol_list,
)
from data_nexus.query.frame import (
    Frame,
    frame_to_arrow,
    frame_to_pandas,
    nanoseconds,
    to_frame,
    with_categories,
)
from data_nexus.query.transforms import adjust_frame, place_dividends, resample_frame
from data_nexus.storage.frames import PRICE_COLUMNS, FrameReader

__all__ = [  # the read functions, and the parts other modules import from here
    "DateLike",
    "Frame",
    "Source",
    "check_known",
    "date_problem",
    "frame_to_arrow",
    "frame_to_pandas",
    "get_bars",
    "get_bars_arrow",
    "get_prices",
    "get_returns",
    "parse_day",
    "parse_range",
    "reader_for",
    "reader_from",
    "symbol_list",
]

#: The columns of bars as every reader gets them, in this order: ``get_bars``' DataFrame,
#: ``datanexus bars`` in each format, and ``datanexus serve``'s CSV, JSON, Parquet and
#: Arrow (which take it from here). The date leads, as in a time series.
BAR_FIELDS = ("date", "symbol", *PRICE_COLUMNS, "volume")


def check_known(reader: FrameReader, symbols: Sequence[str], known: set[str] | None = None) -> None:
    """Raise :class:`~data_nexus.errors.UnknownSymbols` (a ``UsageError``) naming the symbols
    that are not registered assets (``known``: those already looked up)."""
    if known is None:
        known = reader.known_symbols(symbols)
    missing = [s for s in symbols if s not in known]
    if missing:
        raise UnknownSymbols(missing)


# -- reading ---------------------------------------------------------------------------------


def _read(  # noqa: PLR0917 - the documented positional signature (issue 10)
    reader: FrameReader,
    symbols: str | Iterable[str],
    start: DateLike,
    end: DateLike,
    adjust: str,
    interval: str,
    exact: bool,
    *,
    small: bool = True,
) -> tuple[Frame, dict[str, str]]:
    """The bars as a :class:`Frame` and attrs; ``small=False``: never the one-symbol read
    (:func:`_one_symbol`; its tests compare both)."""
    adjust = adj.check_adjust(adjust)
    interval = rs.check_interval(interval)
    if exact and adjust != "none":
        raise UsageError(
            f"exact prices cannot be adjusted ({adjust!r}): adjusted prices are products of "
            "ratios; use adjust='none' with exact=True, or exact=False"
        )
    first, last = parse_range(start, end)
    names = symbol_list(symbols)
    if small and len(names) == 1 and interval == "1d":  # the small read (see _one_symbol)
        return _read_one(reader, names[0], first, last, adjust, exact)
    check_known(reader, names)
    aggregated = (
        None
        if exact
        else periods.period_table(reader, names, first, last, adjust=adjust, interval=interval)
    )
    if aggregated is not None:  # adjusted and aggregated by the database
        frame = with_categories(to_frame([aggregated]), sorted(names))
    else:
        table = [reader.bars(names, first, last, exact=exact)]
        frame = with_categories(to_frame(table, trim=reader.chunked_text), sorted(names))
        if adjust != "none":
            actions = reader.actions(names)
            adjust_frame(frame, reader, adjust, actions)
        frame = resample_frame(frame, interval)
    cut = reader.last_dates(names)
    attrs = {
        "adjust": adjust,
        "interval": interval,
        "cutoff": max(cut.values()).isoformat() if cut else "",
        "source": reader.url,
    }
    return frame, attrs


def _one_symbol(  # noqa: PLR0917 - _read's arguments
    reader: FrameReader,
    name: str,
    first: dt.date | None,
    last: dt.date | None,
    adjust: str,
    exact: bool,
) -> tuple[pa.Table, dict[str, str], dict[str, dt.date]]:
    """The daily bars of one symbol as the bar table, their attrs and cutoffs, in one query
    (:meth:`FrameReader.symbol_bars`: the known-symbol check, the bars and the last date).

    The hot read of ``GET /bars/{symbol}`` (a symbol-year, ~250 rows): the general path's
    three queries, per-column casts and NumPy round trip cost more than the rows. Same
    table, frame and attrs as the general path (``tests/query/test_small_read.py``).
    """
    read = reader.symbol_bars(name, first, last, exact=exact)
    if read is None:
        check_known(reader, [name], known=set())
        raise AssertionError("unreachable")  # pragma: no cover - check_known raised
    table, day = read
    attrs = {
        "adjust": adjust,
        "interval": "1d",
        "cutoff": day.isoformat() if day is not None else "",
        "source": reader.url,
    }
    return table, attrs, {} if day is None else {name: day}


def _read_one(  # noqa: PLR0917 - _read's arguments
    reader: FrameReader,
    name: str,
    first: dt.date | None,
    last: dt.date | None,
    adjust: str,
    exact: bool,
) -> tuple[Frame, dict[str, str]]:
    """:func:`_read` of one symbol's daily bars (:func:`_one_symbol`)."""
    table, attrs, cut = _one_symbol(reader, name, first, last, adjust, exact)
    holder = [table]
    del table  # _frame drops each Arrow column once copied
    frame = with_categories(to_frame(holder), [name])
    if adjust != "none":
        adjust_frame(frame, reader, adjust, reader.actions([name]), cut)
    return frame, attrs


# -- the public functions ----------------------------------------------------------------------


def get_bars(  # noqa: PLR0917 - the documented positional signature (issue 10)
    symbols: str | Iterable[str],
    start: DateLike = None,
    end: DateLike = None,
    adjust: str = "none",
    interval: str = "1d",
    exact: bool = False,
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Bars of ``symbols`` in [start, end] as a tidy DataFrame, sorted by (symbol, date).

    Columns ``date, symbol, open, high, low, close, adjusted_close, volume`` (dtypes in the
    module docstring). ``adjust``: ``none``, ``splits``, ``all`` or ``provider``
    (:mod:`data_nexus.query.adjust`); ``interval``: ``1d``, ``1w``, ``1mo``, ``1q``, ``1y``
    (:mod:`data_nexus.query.resample`; adjusted first, then aggregated). Read from exactly one
    of ``url`` (a database URL or SQLite path), ``store`` or ``settings``; read-only.

    Raises :class:`~data_nexus.errors.UsageError` for an unknown mode, interval or symbol, a
    bad date or an empty range order; storage errors as :func:`open_reader` does.
    """
    with reader_from(pick_source(url, store, settings)) as reader:
        frame, attrs = _read(reader, symbols, start, end, adjust, interval, exact)
    return frame_to_pandas(frame, attrs)


def get_bars_arrow(  # noqa: PLR0917 - the documented positional signature (issue 10)
    symbols: str | Iterable[str],
    start: DateLike = None,
    end: DateLike = None,
    adjust: str = "none",
    interval: str = "1d",
    exact: bool = False,
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pa.Table:
    """:func:`get_bars` as an Arrow table (for Polars, DuckDB): ``symbol`` dictionary,
    ``date`` date32, prices float64 or decimal256(76, 30), ``volume`` int64; ``adjust``,
    ``interval`` and ``cutoff`` in the schema metadata."""
    with reader_from(pick_source(url, store, settings)) as reader:
        if adjust == "none" and interval == "1d":  # one symbol: the small read is the answer
            first, last = parse_range(start, end)
            names = symbol_list(symbols)
            if len(names) == 1:
                table, attrs, _ = _one_symbol(reader, names[0], first, last, adjust, exact)
                return table.replace_schema_metadata(attrs)
        frame, attrs = _read(reader, symbols, start, end, adjust, interval, exact)
    return frame_to_arrow(frame, attrs)


def get_prices(  # noqa: PLR0917 - the documented positional signature (issue 10)
    symbols: str | Iterable[str],
    field: str = "close",
    adjust: str = "all",
    start: DateLike = None,
    end: DateLike = None,
    interval: str = "1d",
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """One field as a wide DataFrame: a ``DatetimeIndex`` of dates × one column per symbol.

    ``field`` is one of ``open, high, low, close, adjusted_close, volume``; a symbol without
    a bar on a date has NaN there (gaps stay gaps). Columns are in the order given.
    """
    if field not in (*PRICE_COLUMNS, "volume"):
        raise UsageError(
            f"unknown field {field!r}: use one of {', '.join((*PRICE_COLUMNS, 'volume'))}"
        )
    names = symbol_list(symbols)
    tidy = get_bars(names, start, end, adjust, interval, url=url, store=store, settings=settings)
    wide = tidy.pivot(index="date", columns="symbol", values=field)
    wide.columns = pd.Index([str(c) for c in wide.columns], name="symbol")
    wide = wide.reindex(columns=names)
    wide.attrs.update(tidy.attrs)
    wide.attrs["field"] = field
    return wide


def get_returns(
    symbols: str | Iterable[str],
    start: DateLike = None,
    end: DateLike = None,
    kind: str = "total",
    interval: str = "1d",
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Returns per symbol and period as a tidy DataFrame ``date, symbol, return, growth``.

    ``kind="price"`` or ``"total"`` (dividends reinvested at the ex-date's close; conventions
    in :mod:`data_nexus.query.returns`). ``growth`` is the value of 1 invested at each
    symbol's first bar in the range. A period's return compounds its daily returns; the first
    period of each symbol has none (NaN).
    """
    rt.check_kind(kind)
    interval = rs.check_interval(interval)
    with reader_from(pick_source(url, store, settings)) as reader:
        frame, attrs = _read(reader, symbols, start, end, "splits", "1d", False)
        dividend = np.zeros(len(frame))
        if kind == "total" and len(frame):
            place_dividends(frame, reader, dividend)
    daily = rt.daily_returns(frame.prices["close"], dividend, frame.starts, kind)
    index = rt.growth(daily, frame.starts)
    days, codes, starts = frame.days, frame.codes, frame.starts
    if interval != "1d":
        group, days, last_index, _, _ = rs.resample(
            starts,
            days,
            {"close": index},
            np.zeros(len(days), np.int64),
            np.zeros(len(days), bool),
            interval=interval,
        )
        index = last_index["close"]
        codes = codes[group]
        change = np.ones(len(codes), dtype=bool)
        change[1:] = codes[1:] != codes[:-1]
        starts = np.flatnonzero(change).astype(np.int64)
    period = np.full(len(index), np.nan)
    if len(index) > 1:
        period[1:] = index[1:] / index[:-1] - 1.0
    period[starts] = np.nan
    if interval == "1d":
        period = daily
    out = pd.DataFrame(
        {
            "date": nanoseconds(days),
            "symbol": pd.Categorical.from_codes(
                codes, categories=pd.Index(frame.names, dtype=object)
            ),
            "return": period,
            "growth": index,
        }
    )
    out.attrs.update(attrs)
    out.attrs.update({"adjust": "splits", "kind": kind, "interval": interval})
    return out
