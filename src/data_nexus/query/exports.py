"""Export the warehouse to files the tools quants use, streaming one batch of symbols at a time.

Layouts (``DIR`` is the target directory; a ``manifest.json`` beside the data says what was
exported: format, layout, adjust mode, interval, data cut-off, symbols, rows):

- ``hive`` + ``parquet``: one hive-partitioned dataset ``DIR/bars/symbol=CODE.EX/*.parquet``
  (``pyarrow.dataset``, ``duckdb.read_parquet('DIR/bars/**/*.parquet', hive_partitioning=1)``,
  ``polars.scan_parquet``, ``pandas.read_parquet('DIR/bars')`` all read it). Each file's
  key-value metadata holds ``adjust``, ``interval`` and ``cutoff``. Corporate actions go to
  ``DIR/actions.parquet``.
- ``hive`` + ``csv``: one file per symbol ``DIR/CODE.EXCHANGE.csv`` with the columns
  ``date,open,high,low,close,adjusted_close,volume`` plus the symbol's corporate actions on
  their ex-date rows (``dividend`` as declared, ``dividend_adjusted`` (the provider's
  split-adjusted value), ``split`` as ``new/old``, and the dividend's ``currency``,
  ``declaration_date``, ``record_date``, ``payment_date``, ``period``). A date's second (third,
  …) dividend or split goes on an action-only row (date and action cells, no prices) right
  after the bar's row, so several dividends on one ex-date all come through. Prices are the
  exact stored decimals with ``adjust="none"``. This is what ``datanexus import csv`` reads
  back: the round trip reproduces the database exactly, bars and actions.
- ``zipline``: zipline-reloaded's ``csvdir`` bundle, ``DIR/daily/CODE.csv`` with
  ``date,open,high,low,close,volume,dividend,split``: unadjusted prices and volumes as
  traded (zipline adjusts itself), ``dividend`` the day's declared cash per share (all its
  dividends summed; 0 elsewhere), ``split`` new shares per old share (the product of the
  day's splits; 1 elsewhere). Needs unique codes across exchanges.
- ``qlib``: input for qlib's ``scripts/dump_bin.py dump_all``: ``DIR/CODE.EXCHANGE.csv`` with
  ``symbol,date,open,high,low,close,volume,factor``; prices adjusted (``adjust``, default
  ``all``), ``factor`` = adjusted / as-traded price, and ``volume`` = volume as traded ÷
  ``factor`` (whole shares), qlib's convention: close × volume is the turnover as traded.

The stored volume is EODHD's, already in post-split shares, so "as traded" is the stored
volume times the exact ``old/new`` of the later splits (those up to the symbol's cut-off, as
:mod:`.adjust` applies them); with ``adjust="splits"`` the qlib volume is the stored one.
Volumes are exact integers in every layout and format (never cast through a float).

Memory stays flat in the size of the warehouse: ``batch`` symbols are read, written and
dropped at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from data_nexus.decimals import canonical
from data_nexus.errors import UsageError
from data_nexus.exdates import split_ratio
from data_nexus.query import adjust as adj
from data_nexus.query.bars import (
    Frame,
    Source,
    _read,
    frame_to_arrow,
    reader_from,
    symbol_list,
)
from data_nexus.records import Dividend, Split
from data_nexus.storage.frames import FrameReader
from data_nexus.types import AMOUNT_SCALE

FORMATS = ("parquet", "csv")
LAYOUTS = ("hive", "zipline", "qlib")
BATCH = 50


@dataclass(slots=True)
class ExportResult:
    """What an export wrote."""

    directory: str
    format: str
    layout: str
    adjust: str
    interval: str
    cutoff: str
    symbols: int = 0
    rows: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # symbols without bars


def check_export(fmt: str, layout: str, adjust: str) -> None:
    """:class:`UsageError` for a format, layout or adjust mode that cannot work together."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: use parquet or csv")
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    adj.check_adjust(adjust)
    if layout in ("zipline", "qlib") and fmt != "csv":
        raise UsageError(f"the {layout} layout is CSV: use --format csv")
    if layout == "zipline" and adjust != "none":
        raise UsageError("the zipline layout needs unadjusted prices (zipline adjusts itself)")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return canonical(value)
    return str(value)


def _price_arrow(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Exact, shortest decimal text of a decimal column (null where missing).

    The column is :data:`~data_nexus.storage.frames.EXACT_PRICE` (or any decimal type).
    """
    # Decimal text always has all its scale's decimals ("1.500…0"), so trimming zeros and
    # then the point from the right stops at the point: "100.000…0" -> "100".
    # Arrow writes values below 1e-6 in exponent form ("0E-30", "1.2000E-8"): those few are
    # rewritten by Decimal.
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    raw = column.cast(pa.string())
    # the exponent test comes first: trimming "1.0E-30" would turn it into "1.0E-3"
    exponent = pc.fill_null(pc.match_substring(raw, "E"), False)
    text = pc.utf8_rtrim(pc.utf8_rtrim(raw, characters="0"), characters=".")
    if pc.any(exponent).as_py():
        fixed = [canonical(Decimal(t)) for t in raw.filter(exponent).to_pylist()]
        text = pc.replace_with_mask(text, exponent, pa.array(fixed, pa.string()))
    return text


def _price_text(column: pa.ChunkedArray | pa.Array) -> list[str]:
    """Exact, shortest decimal text of a decimal column (empty where missing)."""
    return _price_arrow(column).fill_null("").to_pylist()  # type: ignore[no-any-return]


def _action_cells(action: Split | Dividend) -> dict[str, str]:
    """The action columns of one action's row (only the non-empty ones)."""
    if isinstance(action, Split):
        return {"split": f"{_text(action.numerator)}/{_text(action.denominator)}"}
    details = {
        "dividend": action.unadjusted_value,
        "dividend_adjusted": action.value,
        "currency": action.currency,
        "declaration_date": action.declaration_date,
        "record_date": action.record_date,
        "payment_date": action.payment_date,
        "period": action.period,
    }
    return {name: _text(value) for name, value in details.items() if value is not None}


_NEEDS_QUOTES = frozenset(',"\n\r')
_PLAIN_CSV = pacsv.WriteOptions(include_header=False, quoting_style="none")


def _write_exact_csv(path: Path, frame: Frame, lo: int, hi: int, actions: list[Any]) -> bool:
    """:func:`_write_own_csv` for exact prices, column-wise through Arrow's CSV writer.

    Returns False (and writes nothing) when an action falls on a date without a bar or a
    text needs quoting; the row-wise writer handles those.
    """
    assert frame.exact is not None
    table = frame.exact.slice(lo, hi - lo)
    days = pa.array(frame.days[lo:hi], pa.date32())
    prices = {name: _price_arrow(table.column(name)) for name in OWN_COLUMNS[1:6]}
    volume = pa.array(frame.volume[lo:hi], pa.int64(), mask=frame.volume_missing[lo:hi])
    return _write_columns(path, days, prices, volume.cast(pa.string()), actions)


def _trimmed(text: pa.Array) -> pa.Array:
    """Exact decimal text (the server's ``NUMERIC`` output) without trailing zeros."""
    dotted = pc.match_substring(text, ".")
    if not pc.any(dotted).as_py():
        return text
    trimmed = pc.utf8_rtrim(pc.utf8_rtrim(text, characters="0"), characters=".")
    return pc.if_else(dotted, trimmed, text)


def _write_text_csv(path: Path, table: pa.Table, actions: list[Any]) -> bool:
    """:func:`_write_exact_csv` from :meth:`FrameReader.bar_texts` (one symbol's rows)."""
    prices = {name: _trimmed(table.column(name).combine_chunks()) for name in OWN_COLUMNS[1:6]}
    days = table.column("date").combine_chunks()
    return _write_columns(path, days, prices, table.column("volume").combine_chunks(), actions)


def _write_columns(
    path: Path, days: pa.Array, prices: dict[str, pa.Array], volume: pa.Array, actions: list[Any]
) -> bool:
    """Our CSV layout from text columns, actions on their ex-date rows; False (nothing
    written) when an action falls on a date without a bar, a date has two actions of one
    type, or a text needs quoting."""
    n = len(days)
    position = {day: i for i, day in enumerate(days.to_pylist())} if actions else {}
    cells: dict[str, dict[int, str]] = {}
    kinds: set[tuple[int, str]] = set()
    for action in actions:
        i = position.get(action.date)
        if i is None or (i, action.action_type) in kinds:
            return False  # no bar that day, or a second action of its type: rows of its own
        kinds.add((i, action.action_type))
        for name, text in _action_cells(action).items():
            if _NEEDS_QUOTES & set(text):
                return False
            cells.setdefault(name, {})[i] = text
    columns: dict[str, Any] = {"date": days.cast(pa.string()), **prices, "volume": volume}
    for name in OWN_COLUMNS[7:]:
        if name not in cells:
            columns[name] = pa.nulls(n, pa.string())
            continue
        values: list[str | None] = [None] * n
        for i, text in cells[name].items():
            values[i] = text
        columns[name] = pa.array(values, pa.string())
    with path.open("wb") as handle:
        handle.write((",".join(OWN_COLUMNS) + "\n").encode())
        pacsv.write_csv(pa.table(columns), handle, _PLAIN_CSV)
    return True


def _runs(frame: Frame) -> list[tuple[str, int, int]]:
    bounds = [*frame.starts.tolist(), len(frame)]
    return [(frame.names[int(frame.codes[lo])], lo, hi) for lo, hi in itertools.pairwise(bounds)]


def _actions_by_symbol(actions: Sequence[Split | Dividend]) -> dict[str, list[Split | Dividend]]:
    out: dict[str, list[Split | Dividend]] = {}
    for action in actions:
        out.setdefault(action.symbol, []).append(action)
    return out


# -- CSV writers -------------------------------------------------------------------------------

OWN_COLUMNS = [
    "date",
    "open",
    "high",
    "low",
    "close",
    "adjusted_close",
    "volume",
    "dividend",
    "dividend_adjusted",
    "split",
    "currency",
    "declaration_date",
    "record_date",
    "payment_date",
    "period",
]


def _write_own_csv(path: Path, frame: Frame, lo: int, hi: int, actions: list[Any]) -> int:
    """Our CSV layout: exact prices (floats if adjusted), actions on their ex-date rows
    (action-only rows too)."""
    if frame.exact is None or not _write_exact_csv(path, frame, lo, hi, actions):
        _write_rows_csv(path, frame, lo, hi, actions)
    return hi - lo


def _write_rows_csv(path: Path, frame: Frame, lo: int, hi: int, actions: list[Any]) -> None:
    """:func:`_write_own_csv` row by row through the csv module (any frame, any actions)."""
    n = hi - lo
    columns: dict[str, list[str]] = {"date": frame.days[lo:hi].astype(str).tolist()}
    if frame.exact is not None:
        table = frame.exact.slice(lo, n)
        for name in OWN_COLUMNS[1:6]:
            columns[name] = _price_text(table.column(name))
    else:
        for name in OWN_COLUMNS[1:6]:
            values = frame.prices[name][lo:hi].tolist()
            columns[name] = ["" if math.isnan(v) else repr(v) for v in values]
    volumes = frame.volume[lo:hi].astype(str).tolist()
    columns["volume"] = [
        "" if gone else v
        for v, gone in zip(volumes, frame.volume_missing[lo:hi].tolist(), strict=True)
    ]
    for name in OWN_COLUMNS[7:]:
        columns[name] = [""] * n
    # The k-th split and the k-th dividend of a date share the date's k-th row: the bar's row
    # first, then action-only rows (no prices) right after it, so several dividends on one
    # ex-date (a regular and a special one), two splits, or a split and dividends all come
    # back on import.
    row_of = {(day, 0): i for i, day in enumerate(columns["date"])}
    seen: dict[tuple[str, str], int] = {}
    for action in sorted(actions, key=lambda a: a.date):  # stable: the store's seq order
        day = action.date.isoformat()
        k = seen.get((day, action.action_type), 0)
        seen[day, action.action_type] = k + 1
        i = row_of.get((day, k))
        if i is None:  # no bar that day, or the day's k-th action: a row of its own
            i = row_of[day, k] = len(columns["date"])
            for name in OWN_COLUMNS:
                columns[name].append(day if name == "date" else "")
        for name, text in _action_cells(action).items():
            columns[name][i] = text
    rows = list(zip(*(columns[name] for name in OWN_COLUMNS), strict=True))
    rows.sort(key=lambda row: row[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(OWN_COLUMNS)
        writer.writerows(rows)


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


def _write_zipline(
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


def _write_qlib(
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


# -- the export ----------------------------------------------------------------------------------


def export_data(
    directory: str | Path,
    *,
    fmt: str = "parquet",
    layout: str = "hive",
    symbols: Sequence[str] | None = None,
    adjust: str | None = None,
    interval: str = "1d",
    batch: int = BATCH,
    now: dt.datetime,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
    on_batch: Callable[[int, int], object] | None = None,
) -> ExportResult:
    """Export bars (and actions) of ``symbols`` (default: every asset) to ``directory``.

    ``adjust`` defaults to ``none`` (``all`` for qlib). ``now`` stamps the manifest (the clock
    is passed in). ``on_batch(done, total)`` reports progress. Raises
    :class:`~data_nexus.errors.UsageError` for a bad combination (see :func:`check_export`),
    a ``directory`` that exists and is not empty, or one that is a file. On any failure the
    export's files are removed again (and ``directory`` too if this call created it): no
    half-written export.
    """
    mode = adjust or ("all" if layout == "qlib" else "none")
    check_export(fmt, layout, mode)
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise UsageError(
            f"export target {str(target)!r} is a file, not a directory: "
            "give a new or empty directory"
        )
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"export directory {str(target)!r} exists and is not empty")
    chosen = [s for s in (url, store, settings) if s is not None]
    if len(chosen) != 1:
        raise UsageError("pass exactly one of url=…, store=… or settings=…")
    created = not target.exists()
    try:
        return _export(
            target, fmt, layout, symbols, mode, interval, batch, now, chosen[0], on_batch
        )
    except BaseException:
        # never leave a half-written export: what this call wrote goes again
        if created:
            shutil.rmtree(target, ignore_errors=True)
        elif target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def _export(  # noqa: PLR0917 - the checked arguments of export_data, passed on
    target: Path,
    fmt: str,
    layout: str,
    symbols: Sequence[str] | None,
    mode: str,
    interval: str,
    batch: int,
    now: dt.datetime,
    source: Source,
    on_batch: Callable[[int, int], object] | None,
) -> ExportResult:
    with reader_from(source) as reader:
        names = symbol_list(symbols) if symbols else reader.all_symbols()
        if layout == "zipline":
            codes = [n.split(".")[0] for n in names]
            if len(set(codes)) != len(codes):
                raise UsageError(
                    "the zipline layout names files by code and two exchanges share one: "
                    "export one exchange at a time with --symbols"
                )
        target.mkdir(parents=True, exist_ok=True)
        cutoff = reader.last_dates(names)
        result = ExportResult(
            str(target),
            fmt,
            layout,
            mode,
            interval,
            max(cutoff.values()).isoformat() if cutoff else "",
        )
        for first in range(0, len(names), max(1, batch)):
            group = names[first : first + batch]
            _export_batch(reader, target, group, result, cutoff, first=first)
            if on_batch is not None:
                on_batch(min(first + batch, len(names)), len(names))
        if fmt == "parquet":
            _export_actions_parquet(reader, target, names)
            result.files += 1
    manifest = {
        **asdict(result),
        "created_at": now.isoformat(),
        "source": reader.url,
        "columns": _columns(fmt, layout),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return result


def _columns(fmt: str, layout: str) -> list[str]:
    if layout == "zipline":
        return ["date", "open", "high", "low", "close", "volume", "dividend", "split"]
    if layout == "qlib":
        return ["symbol", "date", "open", "high", "low", "close", "volume", "factor"]
    if fmt == "csv":
        return OWN_COLUMNS
    return ["symbol", "date", "open", "high", "low", "close", "adjusted_close", "volume"]


def _export_batch(
    reader: FrameReader,
    target: Path,
    group: list[str],
    result: ExportResult,
    cutoff: dict[str, dt.date],
    *,
    first: int,
) -> None:
    exact = result.format == "csv" and result.layout == "hive" and result.adjust == "none"
    if exact and result.interval == "1d" and _export_texts(reader, target, group, result, cutoff):
        return
    frame, attrs = _read(reader, group, None, None, result.adjust, result.interval, exact)
    present = {name for name, _, _ in _runs(frame)}
    result.skipped.extend(s for s in group if s not in present and s not in cutoff)
    result.symbols += len(present)
    result.rows += len(frame)
    if result.format == "parquet":
        table = frame_to_arrow(frame, attrs)
        table = table.cast(
            table.schema.set(0, pa.field("symbol", pa.string()))
        ).replace_schema_metadata(attrs)
        pads.write_dataset(
            table,
            target / "bars",
            format="parquet",
            partitioning=pads.partitioning(pa.schema([("symbol", pa.string())]), flavor="hive"),
            basename_template=f"part-{first}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        result.files += len(present)
        return
    actions = _actions_by_symbol(reader.actions(group))
    if result.layout == "hive":
        for name in group:  # action-only symbols too
            if name not in present and name not in actions:
                continue
            lo, hi = next(((lo, hi) for n, lo, hi in _runs(frame) if n == name), (0, 0))
            _write_own_csv(target / f"{name}.csv", frame, lo, hi, actions.get(name, []))
            result.files += 1
        return
    if result.layout == "zipline":
        (target / "daily").mkdir(exist_ok=True)
        for name, lo, hi in _runs(frame):
            path = target / "daily" / f"{name.split('.')[0]}.csv"
            _write_zipline(path, frame, (lo, hi), actions.get(name, []), cutoff)
            result.files += 1
        return
    raw, _ = _read(reader, group, None, None, "none", result.interval, False)
    for name, lo, hi in _runs(frame):
        _write_qlib(
            target / f"{name}.csv",
            frame,
            raw,
            (lo, hi),
            actions=actions.get(name, []),
            cutoff=cutoff,
        )
        result.files += 1


def _export_texts(
    reader: FrameReader,
    target: Path,
    group: list[str],
    result: ExportResult,
    cutoff: dict[str, dt.date],
) -> bool:
    """The exact CSV export of ``group`` from the stored text (PostgreSQL); False (nothing
    written) where the reader has no text path or a file needs the row-wise writer."""
    table = reader.bar_texts(group)
    if table is None:
        return False
    symbols = table.column("symbol").combine_chunks()
    bounds = np.flatnonzero(np.asarray(pc.not_equal(symbols[1:], symbols[:-1]))) + 1
    starts = [0, *bounds.tolist()]
    runs = {
        symbols[lo].as_py(): (lo, hi)
        for lo, hi in zip(starts, [*starts[1:], len(table)], strict=True)
        if hi > lo
    }
    actions = _actions_by_symbol(reader.actions(group))
    if any(name not in runs for name in actions):  # action-only files: the row-wise writer
        return False
    written: list[Path] = []
    for name, (lo, hi) in runs.items():
        path = target / f"{name}.csv"
        if not _write_text_csv(path, table.slice(lo, hi - lo), actions.get(name, [])):
            for done in written:
                done.unlink()
            return False
        written.append(path)
    result.skipped.extend(s for s in group if s not in runs and s not in cutoff)
    result.symbols += len(runs)
    result.rows += len(table)
    result.files += len(runs)
    return True


def _export_actions_parquet(reader: FrameReader, target: Path, names: list[str]) -> None:
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "symbol",
            "date",
            "action",
            "value",
            "numerator",
            "denominator",
            "unadjusted_value",
            "currency",
        )
    }
    for first in range(0, len(names), 500):
        for a in reader.actions(names[first : first + 500]):
            rows["symbol"].append(a.symbol)
            rows["date"].append(a.date)
            rows["action"].append(a.action_type)
            values: list[Any]
            if isinstance(a, Split):
                values = [None, a.numerator, a.denominator, None, None]
            else:
                values = [a.value, None, None, a.unadjusted_value, a.currency]
            for key, value in zip(
                ("value", "numerator", "denominator", "unadjusted_value", "currency"),
                values,
                strict=True,
            ):
                rows[key].append(value)
    amount = pa.decimal128(24, 12)
    table = pa.table(
        {
            "symbol": pa.array(rows["symbol"], pa.string()),
            "date": pa.array(rows["date"], pa.date32()),
            "action": pa.array(rows["action"], pa.string()),
            **{
                k: pa.array(rows[k], amount)
                for k in ("value", "numerator", "denominator", "unadjusted_value")
            },
            "currency": pa.array(rows["currency"], pa.string()),
        }
    )
    pq.write_table(table, target / "actions.parquet")
