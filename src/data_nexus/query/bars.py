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
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data_nexus.errors import UnknownSymbols, UsageError
from data_nexus.query import adjust as adj
from data_nexus.query import periods
from data_nexus.query import resample as rs
from data_nexus.query import returns as rt
from data_nexus.records import Dividend, Split
from data_nexus.storage.frames import (
    PRICE_COLUMNS,
    FrameReader,
    bar_schema,
    open_reader,
    release_freed,
)
from data_nexus.symbols import parse_symbol

DateLike = str | dt.date | dt.datetime | pd.Timestamp | None
Source = str | FrameReader | Any  # a URL, an open reader, or a Store / Settings


# -- arguments --------------------------------------------------------------------------------


def parse_day(value: DateLike, name: str = "date") -> dt.date | None:
    """A date from ISO text (``YYYY-MM-DD``), a date, a datetime or a Timestamp."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UsageError(f"invalid {name} {value!r}: {date_problem(str(value))}") from None


_ISO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date_problem(text: str) -> str:
    """Why ``text`` is not a date: ``not a real date`` when it is written ``YYYY-MM-DD``
    (``2024-02-30``), else ``expected a date as YYYY-MM-DD``."""
    if _ISO_SHAPE.match(text.strip()):
        return "not a real date (the month has no such day, or there is no such month)"
    return "expected a date as YYYY-MM-DD"


def parse_range(start: DateLike, end: DateLike) -> tuple[dt.date | None, dt.date | None]:
    """``(start, end)`` parsed; :class:`UsageError` if start is after end."""
    first, last = parse_day(start, "start date"), parse_day(end, "end date")
    if first is not None and last is not None and first > last:
        raise UsageError(f"start date {first} is after end date {last}")
    return first, last


def symbol_list(symbols: str | Iterable[str]) -> list[str]:
    """Symbols as ``CODE.EXCHANGE`` (case-insensitive input), duplicates dropped, in order."""
    items = [symbols] if isinstance(symbols, str) else list(symbols)
    if not items:
        raise UsageError("no symbols given: name at least one, e.g. AAPL.US")
    return list(dict.fromkeys(str(parse_symbol(s)) for s in items))


def reader_for(source: Source) -> tuple[FrameReader, bool]:
    """An open reader for ``source`` and whether the caller must close it."""
    if isinstance(source, FrameReader):
        return source, False
    if isinstance(source, str):
        return open_reader(source), True
    engine = getattr(source, "engine", None)
    if engine is not None:  # a Store
        return open_reader(engine.url), True
    url = getattr(source, "database_url", None)
    if isinstance(url, str):  # Settings
        return open_reader(url), True
    raise UsageError("pass url=… (a database URL) or store=… to read from")


@contextmanager
def reader_from(source: Source) -> Iterator[FrameReader]:
    """:func:`reader_for` as a context manager: closes the reader only if it opened it."""
    reader, owned = reader_for(source)
    try:
        yield reader
    finally:
        if owned:
            reader.close()


def _source(url: str | None, store: Any, settings: Any = None) -> Source:
    chosen = [s for s in (url, store, settings) if s is not None]
    if len(chosen) != 1:
        raise UsageError("pass exactly one of url=…, store=… or settings=…")
    return chosen[0]


def check_known(reader: FrameReader, symbols: Sequence[str], known: set[str] | None = None) -> None:
    """Raise :class:`~data_nexus.errors.UnknownSymbols` (a ``UsageError``) naming the symbols
    that are not registered assets (``known``: those already looked up)."""
    if known is None:
        known = reader.known_symbols(symbols)
    missing = [s for s in symbols if s not in known]
    if missing:
        raise UnknownSymbols(missing)


# -- the adjusted, resampled block -------------------------------------------------------------


@dataclass(slots=True)
class Frame:
    """Bars as NumPy columns, sorted by (symbol, date), with their symbol runs.

    ``codes`` index ``names`` (the symbol of each row); ``starts`` are the first rows of each
    symbol's run; ``days`` are ``datetime64[D]``; prices float64 or, when exact, an Arrow
    table holds them instead (``exact``).
    """

    names: list[str]
    codes: npt.NDArray[np.int32]
    starts: npt.NDArray[np.int64]
    days: npt.NDArray[np.datetime64]
    prices: dict[str, npt.NDArray[np.float64]]
    volume: npt.NDArray[np.int64]
    volume_missing: npt.NDArray[np.bool_]
    exact: pa.Table | None = None

    def __len__(self) -> int:
        return len(self.days)


def _fill(column: pa.ChunkedArray, out: npt.NDArray[Any], null: Any) -> None:
    """Copy ``column`` into ``out`` chunk by chunk (nulls as ``null``): no whole-column
    temporary."""
    offset = 0
    for chunk in column.chunks:
        size = len(chunk)
        filled = chunk.fill_null(null) if chunk.null_count else chunk
        out[offset : offset + size] = filled.to_numpy(zero_copy_only=False)
        offset += size


def _frame(holder: list[pa.Table], *, trim: bool = False) -> Frame:
    """NumPy columns of the bar table in ``holder`` (prices float64 unless exact).

    The table is taken out of ``holder`` and each Arrow column dropped once copied, so the
    peak holds the NumPy columns plus one Arrow column, not two copies of the data. ``trim``:
    hand each dropped column's pages back (see :func:`release_freed`).
    """
    table = holder.pop()
    n = table.num_rows
    exact = table if pa.types.is_decimal(table.schema.field("close").type) else None
    symbol = table.column("symbol").combine_chunks()
    table = table.drop_columns(["symbol"])
    names = [str(s) for s in symbol.dictionary.to_pylist()]
    codes = symbol.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    del symbol
    change = np.ones(n, dtype=bool)
    if n:
        change[1:] = codes[1:] != codes[:-1]
    starts = np.flatnonzero(change).astype(np.int64)
    del change
    days = np.empty(n, dtype="datetime64[D]")
    _fill(table.column("date"), days, 0)
    table = table.drop_columns(["date"])
    prices = {}
    if exact is None:  # exact prices stay in the (whole) Arrow table
        for name in PRICE_COLUMNS:
            column = table.column(name)
            table = table.drop_columns([name])  # free each Arrow column once converted
            values = np.empty(n, dtype=np.float64)
            _fill(column, values, np.nan)
            del column
            if trim:  # the freed column's pages, before the next one is allocated
                release_freed(n)
            prices[name] = values
    vol = table.column("volume")
    missing = np.empty(n, dtype=bool)
    _fill(pc.is_null(vol), missing, False)
    volume = np.empty(n, dtype=np.int64)
    _fill(vol, volume, 0)
    del vol, table
    return Frame(names, codes, starts, days, prices, volume, missing, exact)


def _with_categories(frame: Frame, names: list[str]) -> Frame:
    """The frame with ``names`` (every symbol asked for, sorted) as its symbol categories,
    so the same request over another range has the same categories."""
    position = {name: i for i, name in enumerate(names)}
    remap = np.array([position[name] for name in frame.names], dtype=np.int32)
    frame.codes = remap[frame.codes] if len(remap) else frame.codes
    frame.names = names
    if frame.exact is not None:
        symbol = pa.DictionaryArray.from_arrays(
            pa.array(frame.codes, pa.int32()), pa.array(names, pa.string())
        )
        frame.exact = frame.exact.set_column(0, "symbol", symbol)
    return frame


def _row_symbols(frame: Frame) -> list[str]:
    return [frame.names[int(c)] for c in frame.codes[frame.starts]]


def _adjust(
    frame: Frame,
    reader: FrameReader,
    mode: str,
    actions: list[Split | Dividend],
    cutoff: dict[str, dt.date] | None = None,
) -> None:
    """Adjust ``frame``'s prices in place; ``cutoff``: the symbols' last dates, if read."""
    if mode == "none" or len(frame) == 0:
        return
    symbols = _row_symbols(frame)
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


def _resample(frame: Frame, interval: str) -> Frame:
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
    adj.check_adjust(adjust)
    rs.check_interval(interval)
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
        frame = _with_categories(_frame([aggregated]), sorted(names))
    else:
        table = [reader.bars(names, first, last, exact=exact)]
        frame = _with_categories(_frame(table, trim=reader.chunked_text), sorted(names))
        if adjust != "none":
            actions = reader.actions(names)
            _adjust(frame, reader, adjust, actions)
        frame = _resample(frame, interval)
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
    frame = _with_categories(_frame(holder), [name])
    if adjust != "none":
        _adjust(frame, reader, adjust, reader.actions([name]), cut)
    return frame, attrs


# -- shaping -----------------------------------------------------------------------------------


def _nanoseconds(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64]:
    out: npt.NDArray[np.datetime64] = days.astype("datetime64[ns]")
    return out


def _days_to_ns(frame: Frame) -> npt.NDArray[np.datetime64]:
    """``frame.days`` as ``datetime64[ns]``, converted in place (the frame gives them up)."""
    ticks = frame.days.view(np.int64)
    ticks *= 86_400 * 10**9
    frame.days = np.empty(0, dtype="datetime64[D]")
    return ticks.view("datetime64[ns]")


def frame_to_pandas(frame: Frame, attrs: dict[str, str]) -> pd.DataFrame:
    """The tidy DataFrame of :func:`get_bars` (dtypes in the module docstring).

    Consumes ``frame``: its arrays become the DataFrame's columns without copies (dates are
    converted to nanoseconds in place)."""
    symbol = pd.Categorical.from_codes(frame.codes, categories=pd.Index(frame.names, dtype=object))
    data: dict[str, Any] = {"date": _days_to_ns(frame), "symbol": symbol}
    if frame.exact is not None:
        for name in PRICE_COLUMNS:
            column = frame.exact.column(name)
            data[name] = pd.array(column.combine_chunks(), dtype=pd.ArrowDtype(column.type))
    else:
        data.update(frame.prices)
    data["volume"] = pd.arrays.IntegerArray(frame.volume, frame.volume_missing)
    out = pd.DataFrame(data, copy=False)
    out.attrs.update(attrs)
    return out


def frame_to_arrow(frame: Frame, attrs: dict[str, str]) -> pa.Table:
    """An Arrow table of the same columns, with ``attrs`` as schema metadata."""
    if frame.exact is not None and "symbol" in frame.exact.column_names:
        table = frame.exact
        if frame.exact.num_rows != len(frame):  # pragma: no cover - defensive
            raise AssertionError("exact table out of step")
    else:
        symbol = pa.DictionaryArray.from_arrays(
            pa.array(frame.codes, pa.int32()), pa.array(frame.names, pa.string())
        )
        columns: dict[str, Any] = {"symbol": symbol, "date": pa.array(frame.days, pa.date32())}
        if frame.exact is not None:
            for name in PRICE_COLUMNS:
                columns[name] = frame.exact.column(name)
        else:
            for name in PRICE_COLUMNS:
                values = frame.prices[name]
                columns[name] = pa.array(values, pa.float64(), mask=np.isnan(values))
        columns["volume"] = pa.array(frame.volume, pa.int64(), mask=frame.volume_missing)
        table = pa.table(columns)
    schema = bar_schema(frame.exact is not None)
    return table.cast(schema).replace_schema_metadata(attrs)


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
    with reader_from(_source(url, store, settings)) as reader:
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
    with reader_from(_source(url, store, settings)) as reader:
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
    rs.check_interval(interval)
    with reader_from(_source(url, store, settings)) as reader:
        frame, attrs = _read(reader, symbols, start, end, "splits", "1d", False)
        dividend = np.zeros(len(frame))
        if kind == "total" and len(frame):
            _place_dividends(frame, reader, dividend)
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
            "date": _nanoseconds(days),
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


def _place_dividends(frame: Frame, reader: FrameReader, dividend: npt.NDArray[np.float64]) -> None:
    """Split-adjusted cash amounts on their ex-date rows (dividends off a bar are skipped)."""
    symbols = _row_symbols(frame)
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
