"""Export the warehouse to files the tools quants use, streaming one batch of symbols at a time.

Layouts (``DIR`` is the target directory; a ``manifest.json`` beside the data says what was
exported: format, layout, adjust mode, interval, data cut-off, symbols, rows):

- ``hive`` (Parquet only, the default for ``parquet``): one hive-partitioned dataset
  ``DIR/bars/symbol=CODE.EX/*.parquet`` (``pyarrow.dataset``,
  ``duckdb.read_parquet('DIR/bars/**/*.parquet', hive_partitioning=1)``, ``polars.scan_parquet``,
  ``pandas.read_parquet('DIR/bars')`` all read it). Each file's
  key-value metadata holds ``adjust``, ``interval`` and ``cutoff``. Corporate actions go to
  ``DIR/actions.parquet``.
- ``files`` (CSV only, the default for ``csv``): one file per symbol ``DIR/CODE.EXCHANGE.csv``
  (a flat directory, not a partitioned dataset: ``hive`` is Parquet only) with the columns
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

``start``/``end`` limit the bars (and, in ``hive`` and ``files``, the actions) to a date range,
parsed and checked as :func:`~data_nexus.query.bars.get_bars` does; zipline and qlib still
apply every split up to the cut-off to their volumes and factors, as a full export does.

Memory stays flat in the size of the warehouse: ``batch`` symbols are read, written and
dropped at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from data_nexus.errors import UsageError
from data_nexus.query import adjust as adj
from data_nexus.query import resample as rs
from data_nexus.query.arguments import DateLike, Source, parse_range, reader_from, symbol_list
from data_nexus.query.bars import _read
from data_nexus.query.export_csv import (
    OWN_COLUMNS,
    write_own_csv,
    write_text_csv,
)
from data_nexus.query.export_layouts import write_qlib, write_zipline
from data_nexus.query.frame import frame_to_arrow, symbol_runs
from data_nexus.records import Dividend, Split
from data_nexus.storage.frames import FrameReader

FORMATS = ("parquet", "csv")
AMOUNTS = ("value", "numerator", "denominator", "unadjusted_value")
LAYOUTS = ("hive", "files", "zipline", "qlib")
#: The layout of each format when none is named.
DEFAULT_LAYOUT = {"parquet": "hive", "csv": "files"}
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
    start: str = ""  # the range asked for (ISO dates; "" for open)
    end: str = ""
    symbols: int = 0
    rows: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # symbols without bars


def check_export(fmt: str, layout: str | None, adjust: str | None) -> tuple[str, str, str]:
    """``(format, layout, adjust)`` checked and in canonical spelling (any case; ``layout``
    and ``adjust`` default by format and layout), or :class:`UsageError` for values that
    cannot work together."""
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: use parquet or csv")
    layout = DEFAULT_LAYOUT[fmt] if layout is None else layout.strip().lower()
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    mode = adj.check_adjust(adjust) if adjust is not None else "none"
    if adjust is None and layout == "qlib":
        mode = "all"
    if layout == "hive" and fmt != "parquet":
        raise UsageError(
            "the hive layout is Parquet (DIR/bars/symbol=…): use --format parquet, "
            "or --layout files for one CSV file per symbol"
        )
    if layout in ("files", "zipline", "qlib") and fmt != "csv":
        raise UsageError(f"the {layout} layout is CSV: use --format csv")
    if layout == "zipline" and mode != "none":
        raise UsageError("the zipline layout needs unadjusted prices (zipline adjusts itself)")
    return fmt, layout, mode


def _actions_by_symbol(actions: Sequence[Split | Dividend]) -> dict[str, list[Split | Dividend]]:
    out: dict[str, list[Split | Dividend]] = {}
    for action in actions:
        out.setdefault(action.symbol, []).append(action)
    return out


# -- the export ----------------------------------------------------------------------------------


def export_data(
    directory: str | Path,
    *,
    fmt: str = "parquet",
    layout: str | None = None,
    symbols: Sequence[str] | None = None,
    adjust: str | None = None,
    interval: str = "1d",
    start: DateLike = None,
    end: DateLike = None,
    batch: int = BATCH,
    now: dt.datetime,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
    on_batch: Callable[[int, int], object] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Export bars (and actions) of ``symbols`` (default, ``None``: every asset) in
    [``start``, ``end``] to ``directory``.

    ``layout`` defaults to ``hive`` for Parquet and ``files`` for CSV; ``adjust`` to ``none``
    (``all`` for qlib). ``now`` stamps the manifest (the clock is passed in).
    ``on_batch(done, total)`` reports progress; ``cancelled()`` is asked after each batch
    and before the manifest is written: when true the export stops as if interrupted
    (a signal whose ``KeyboardInterrupt`` was lost in a C callback still stops it).

    Raises :class:`~data_nexus.errors.UsageError` for a bad combination (see
    :func:`check_export`), a bad date or range, a ``directory`` that exists and is not
    empty, or one that is a file; ``KeyboardInterrupt`` when cancelled. On any failure or
    interruption the export's files are removed again (and ``directory`` too if this call
    created it): no half-written export.
    """
    fmt, layout, mode = check_export(fmt, layout, adjust)
    interval = rs.check_interval(interval)
    first, last = parse_range(start, end)
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
        result = ExportResult(
            str(target),
            fmt,
            layout,
            mode,
            interval,
            "",
            first.isoformat() if first else "",
            last.isoformat() if last else "",
        )
        return _export(target, result, symbols, batch, now, chosen[0], on_batch, cancelled)
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
    result: ExportResult,
    symbols: Sequence[str] | None,
    batch: int,
    now: dt.datetime,
    source: Source,
    on_batch: Callable[[int, int], object] | None,
    cancelled: Callable[[], bool] | None,
) -> ExportResult:
    fmt, layout = result.format, result.layout

    def check_cancelled() -> None:
        if cancelled is not None and cancelled():
            raise KeyboardInterrupt

    with reader_from(source) as reader:
        names = symbol_list(symbols) if symbols is not None else reader.all_symbols()
        if layout == "zipline":
            codes = [n.split(".")[0] for n in names]
            if len(set(codes)) != len(codes):
                raise UsageError(
                    "the zipline layout names files by code and two exchanges share one: "
                    "export one exchange at a time with --symbols"
                )
        target.mkdir(parents=True, exist_ok=True)
        cutoff = reader.last_dates(names)
        result.cutoff = max(cutoff.values()).isoformat() if cutoff else ""
        for first in range(0, len(names), max(1, batch)):
            group = names[first : first + batch]
            _export_batch(reader, target, group, result, cutoff, first=first)
            if on_batch is not None:
                on_batch(min(first + batch, len(names)), len(names))
            check_cancelled()
        if fmt == "parquet":
            _export_actions_parquet(reader, target, names, result)
            result.files += 1
    check_cancelled()
    manifest = {
        **asdict(result),
        "created_at": now.isoformat(),
        "source": reader.url,
        "columns": _columns(fmt, layout),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    check_cancelled()  # a signal while the manifest was written: still interrupted
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
    exact = result.layout == "files" and result.adjust == "none"
    if exact and result.interval == "1d" and _export_texts(reader, target, group, result, cutoff):
        return
    span = (result.start or None, result.end or None)
    frame, attrs = _read(reader, group, *span, result.adjust, result.interval, exact)
    present = {name for name, _, _ in symbol_runs(frame)}
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
    everything = reader.actions(group)  # zipline and qlib: every split counts for volumes
    actions = _actions_by_symbol(everything)
    if result.layout == "files":
        actions = _actions_by_symbol(_in_range(everything, result))
        for name in group:  # action-only symbols too
            if name not in present and name not in actions:
                continue
            lo, hi = next(((lo, hi) for n, lo, hi in symbol_runs(frame) if n == name), (0, 0))
            write_own_csv(target / f"{name}.csv", frame, lo, hi, actions.get(name, []))
            result.files += 1
        return
    if result.layout == "zipline":
        (target / "daily").mkdir(exist_ok=True)
        for name, lo, hi in symbol_runs(frame):
            path = target / "daily" / f"{name.split('.')[0]}.csv"
            write_zipline(path, frame, (lo, hi), actions.get(name, []), cutoff)
            result.files += 1
        return
    raw, _ = _read(reader, group, *span, "none", result.interval, False)
    for name, lo, hi in symbol_runs(frame):
        write_qlib(
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
    if result.start or result.end:  # the texts are of every date: keep the range's
        days = table.column("date")
        keep = pc.and_(
            pc.greater_equal(days, pa.scalar(dt.date.fromisoformat(result.start or "0001-01-01"))),
            pc.less_equal(days, pa.scalar(dt.date.fromisoformat(result.end or "9999-12-31"))),
        )
        table = table.filter(keep)
    symbols = table.column("symbol").combine_chunks()
    bounds = np.flatnonzero(np.asarray(pc.not_equal(symbols[1:], symbols[:-1]))) + 1
    starts = [0, *bounds.tolist()]
    runs = {
        symbols[lo].as_py(): (lo, hi)
        for lo, hi in zip(starts, [*starts[1:], len(table)], strict=True)
        if hi > lo
    }
    actions = _actions_by_symbol(_in_range(reader.actions(group), result))
    if any(name not in runs for name in actions):  # action-only files: the row-wise writer
        return False
    written: list[Path] = []
    for name, (lo, hi) in runs.items():
        path = target / f"{name}.csv"
        if not write_text_csv(path, table.slice(lo, hi - lo), actions.get(name, [])):
            for done in written:
                done.unlink()
            return False
        written.append(path)
    result.skipped.extend(s for s in group if s not in runs and s not in cutoff)
    result.symbols += len(runs)
    result.rows += len(table)
    result.files += len(runs)
    return True


def _in_range(actions: Sequence[Split | Dividend], result: ExportResult) -> list[Split | Dividend]:
    """The actions dated in the export's range."""
    first = dt.date.fromisoformat(result.start) if result.start else dt.date.min
    last = dt.date.fromisoformat(result.end) if result.end else dt.date.max
    return [a for a in actions if first <= a.date <= last]


#: ``DIR/actions.parquet``: one row per action; a split has ``numerator``/``denominator``, a
#: dividend ``value`` (split-adjusted), ``unadjusted_value`` (as declared) and ``currency``.
ACTIONS_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("date", pa.date32()),
        ("action", pa.string()),
        *((name, pa.decimal128(24, 12)) for name in AMOUNTS),
        ("currency", pa.string()),
    ]
)


def _export_actions_parquet(
    reader: FrameReader, target: Path, names: list[str], result: ExportResult
) -> None:
    rows: list[dict[str, Any]] = []
    for first in range(0, len(names), 500):
        for a in _in_range(reader.actions(names[first : first + 500]), result):
            if isinstance(a, Split):
                values: tuple[Any, ...] = (None, a.numerator, a.denominator, None, None)
            else:
                values = (a.value, None, None, a.unadjusted_value, a.currency)
            fixed = {"symbol": a.symbol, "date": a.date, "action": a.action_type}
            rows.append(fixed | dict(zip((*AMOUNTS, "currency"), values, strict=True)))
    table = pa.Table.from_pylist(rows, schema=ACTIONS_SCHEMA)
    pq.write_table(table, target / "actions.parquet")
