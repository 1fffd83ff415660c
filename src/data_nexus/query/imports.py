"""Import daily bars and corporate actions from CSV files, one file per symbol.

File names: ``CODE.EXCHANGE.csv`` (``aapl.us.csv`` works too), or ``CODE.csv`` with
``exchange=``. Header names are case-insensitive; ``date`` and ``close`` are required;
``open``, ``high``, ``low``, ``adjusted_close`` (also ``adj_close``, ``adj close``),
``volume`` are optional, and so are the action columns ``dividend`` (the cash amount as
declared), ``dividend_adjusted`` (split-adjusted, EODHD's ``value``), ``split`` (``4/1``,
``4:1`` or a number of new shares per old one; ``1`` means none), ``currency``,
``declaration_date``, ``record_date``, ``payment_date`` and ``period``; a ``symbol`` column
(as ``bars --format csv`` writes) is allowed when every value is the file name's symbol. Any
other column (e.g. qlib's ``factor``), a column given twice or a ``symbol`` column naming
another symbol refuses the whole import before
anything is written: data is never silently dropped. So does a directory (or its parent)
whose export ``manifest.json`` says it is not the exact ``files`` layout (zipline, qlib,
adjusted prices or another interval): those files hold transformed data. A row with a
dividend or split but no close is an action-only row; several of them may share a date
(with each other and with the date's bar), so a regular and a special dividend on one
ex-date are two rows. This is the layout
``datanexus export --format csv`` writes, so export → import reproduces a database exactly.

Every bar is judged exactly like provider data, by the store's write path
(:mod:`data_nexus.storage.validate`), which records its findings in the ``findings`` table:
a row without a close (and without an action) → skipped, ``no_prices``; dated after the
exchange's today → skipped, ``future_bar``; a price ``|x| >= 10^15``, with more than 30
decimals, or a volume outside ``[0, 2^63-1]`` → skipped, ``out_of_range``; a price ``<= 0``
→ stored, and a ``non_positive_price`` finding for common stock and ETFs; low above high →
stored as sent, like the sync (``datanexus check`` looks at such bars). Each skipped row is
reported as ``file:line: kind: detail``. Rows that cannot be read at all (a date or a
number that does not parse, a second bar for a date) are reported the same way and never
reach the store. A file that cannot be used (a name that is not a symbol, text that is not
UTF-8, a second file for a symbol) is one ``file: message`` problem and the other files are
imported. Writes are idempotent upserts through the store (``COPY`` on PostgreSQL for first
loads): importing the same files again changes nothing. Parsing (:func:`parse_file`) is
pure; :func:`import_csv` does the I/O.

A clean file (every bar one that no judgement would refuse or flag; see
:mod:`data_nexus.storage.text_columns`) is read by Arrow and judged a column at a time
(:func:`parse_columns`), and its bars reach the store as pre-judged text rows, with no
``Decimal`` or ``Bar`` per row; only its rows with an action are read row by row. Any other
file is read row by row, so its findings and line numbers are the same as ever.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_nexus.errors import DataNexusError, UsageError
from data_nexus.exchanges import exchange_today
from data_nexus.query.import_columns import ACTION_CELLS, parse_columns, read_file
from data_nexus.query.import_rows import (
    ALIASES,
    KNOWN_COLUMNS,
    ParsedFile,
    canonical_pair,
    parse_file,
)
from data_nexus.storage.validate import BarValidator
from data_nexus.symbols import parse_exchange, parse_symbol

__all__ = [  # the import, and the parsers other modules and tests import from here
    "ACTION_CELLS",
    "ALIASES",
    "ImportResult",
    "ParsedFile",
    "canonical_pair",
    "check_header",
    "check_manifest",
    "csv_files",
    "import_csv",
    "parse_columns",
    "parse_file",
    "read_file",
    "symbol_for",
]

#: Files written per ``write_assets`` call (one transaction); the next batch is parsed
#: meanwhile.
BATCH = 8


@dataclass(slots=True)
class ImportResult:
    """What an import did: files imported, bars and actions written, rows and files refused
    (``problems``, one line each: ``skipped_files`` + ``skipped_rows`` of them), and the
    findings open for the imported symbols after the import (``findings``).

    Of the skipped rows, ``refused_rows`` were judged by the store's validation and recorded
    as findings (``no_prices``, ``future_bar``, ``out_of_range``); the others could not be
    read at all (a bad date or number, a second bar for a date, an invalid action) and are
    only reported, never stored.
    """

    files: int = 0
    symbols: list[str] = field(default_factory=list)
    bars: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    actions: int = 0
    findings: int = 0
    problems: list[str] = field(default_factory=list)
    skipped_files: int = 0
    skipped_rows: int = 0
    refused_rows: int = 0


def symbol_for(path: Path, exchange: str | None) -> str:
    """The symbol a file holds, from its name (see the module docstring)."""
    stem = path.name[: -len(".csv")] if path.name.lower().endswith(".csv") else path.stem
    if "." in stem:
        return str(parse_symbol(stem))
    if exchange is None:
        raise UsageError(
            f"{path.name}: no exchange in the file name; name it CODE.EXCHANGE.csv "
            "or pass --exchange"
        )
    return str(parse_symbol(f"{stem}.{parse_exchange(exchange)}"))


def csv_files(directory: Path) -> list[Path]:
    """The ``*.csv`` files of ``directory`` (case-insensitive suffix), sorted."""
    if not directory.is_dir():
        raise UsageError(f"{str(directory)!r} is not a directory")
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


#: What to say about a refused file or directory: the one layout import reads back.
_ONLY = "import csv reads only what `datanexus export --format csv --layout files` writes"


def check_manifest(directory: Path) -> None:
    """Raise :class:`UsageError` when ``directory`` or its parent holds an export
    ``manifest.json`` for anything but the exact ``files`` layout (``adjust`` none, daily):
    zipline, qlib, adjusted or resampled files would be stored as if they were raw bars."""
    for place in (directory, directory.parent):
        try:
            manifest = json.loads((place / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(manifest, dict) or "layout" not in manifest:
            continue  # not an export's manifest
        got = {k: manifest.get(k) for k in ("layout", "adjust", "interval")}
        if got != {"layout": "files", "adjust": "none", "interval": "1d"}:
            what = ", ".join(f"{k} {v}" for k, v in got.items())
            raise UsageError(
                f"{place / 'manifest.json'}: an export with {what}; {_ONLY} "
                "(adjust none, interval 1d); nothing imported"
            )


def check_header(path: Path, symbol: str) -> None:
    """Raise :class:`UsageError` when the header of ``path`` has a column the importer does
    not read (see :data:`KNOWN_COLUMNS`), a column twice, or a ``symbol`` column naming
    another symbol than ``symbol`` (the file name's); a file that cannot be read, or
    has no ``date`` or ``close`` column, is left to the import, which skips it and says why."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return
    keys = [name.strip().lower().lstrip("\ufeff") for name in header]
    keys = [ALIASES.get(key, key) for key in keys]
    if "date" not in keys or "close" not in keys:
        return  # not a file of bars: the import skips it and says why
    seen: set[str] = set()
    for name, key in zip(header, keys, strict=True):
        if key not in KNOWN_COLUMNS and key != "symbol":
            raise UsageError(
                f"{path.name}: unknown column {name!r}; {_ONLY} ({', '.join(KNOWN_COLUMNS)}); "
                "nothing imported"
            )
        if key in seen:
            raise UsageError(f"{path.name}: column {key!r} given twice; nothing imported")
        seen.add(key)
    if "symbol" in keys:
        _check_symbols(path, header[keys.index("symbol")], symbol)


def _check_symbols(path: Path, name: str, symbol: str) -> None:
    """Raise :class:`UsageError` unless every non-empty cell of the ``name`` column is
    ``symbol`` (any case): only then does dropping the column lose nothing."""
    import pyarrow as pa  # noqa: PLC0415 - lazy: only files with a symbol column
    import pyarrow.compute as pc  # noqa: PLC0415
    import pyarrow.csv as pacsv  # noqa: PLC0415

    try:
        cells = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                include_columns=[name], column_types={name: pa.string()}
            ),
        ).column(0)
    except (pa.ArrowInvalid, OSError):
        return  # the import reads the file row by row and reports what is wrong
    for value in pc.unique(pc.utf8_upper(pc.utf8_trim_whitespace(cells))).to_pylist():
        if value and value != symbol.upper():
            raise UsageError(
                f"{path.name}: symbol column holds {value!r}, not {symbol} (the file name's); "
                "nothing imported"
            )


def _readable(path: Path, exchange: str | None) -> tuple[str | None, str | None]:
    """``(symbol, None)`` for a file that can be imported, else ``(None, problem)``."""
    try:
        symbol = symbol_for(path, exchange)
    except DataNexusError as error:
        text = str(error).removeprefix(f"{path.name}: ")
        return None, f"{path.name}: {text}; file skipped"
    try:
        with path.open(encoding="utf-8-sig") as handle:
            while handle.read(1 << 20):
                pass
    except UnicodeDecodeError as error:
        return None, (
            f"{path.name}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start} of a block); file skipped"
        )
    except OSError as error:
        return None, f"{path.name}: cannot be read ({error.strerror or error}); file skipped"
    return symbol, None


def _skipped_rows(parsed: ParsedFile, name: str, today: dt.date) -> list[str]:
    """The rows the store's judgement will skip (each becomes a finding there), as lines."""
    validator = BarValidator(parsed.symbol, today=today)
    validator.rows(parsed.bars)
    return [
        f"{name}:{parsed.lines.get(f.date, '?')}: {f.kind}: {f.detail}" for f in validator.findings
    ]


@dataclass(slots=True)
class _Read:
    """One file parsed: its name, the exchange's today, what it holds, refused rows."""

    name: str
    today: dt.date
    parsed: ParsedFile
    problems: list[str]
    refused: int  # of ``problems``: rows the store's judgement skips (recorded as findings)


def _parse_batch(batch: list[tuple[Path, str]], now: dt.datetime) -> list[_Read]:
    """Parse these files (pure: no database), each with its refused rows."""
    out = []
    for path, symbol in batch:
        today = exchange_today(symbol.rsplit(".", 1)[-1], now)
        parsed = read_file(path, symbol, today)
        refused = _skipped_rows(parsed, path.name, today)
        out.append(_Read(path.name, today, parsed, [*parsed.problems, *refused], len(refused)))
    return out


def _write_batch(
    target: Any,
    batch: list[_Read],
    result: ImportResult,
    now: dt.datetime,
    on_file: Callable[[str], object] | None,
) -> None:
    """Register and write one parsed batch through the store; count it in ``result``."""
    from data_nexus.assets import add_assets  # noqa: PLC0415 - the write side, only here
    from data_nexus.storage.store import AssetUpdate  # noqa: PLC0415

    updates, names, sizes, refused = [], {}, {}, {}
    for read in batch:
        result.problems.extend(read.problems)
        if on_file is not None:
            on_file(read.name)
        parsed = read.parsed
        if parsed.unusable:  # its one problem says why
            result.skipped_files += 1
            continue
        result.skipped_rows += len(read.problems)
        bars = parsed.to_write()
        if not (bars or parsed.actions):  # nothing readable: the file registers no asset
            result.skipped_files += 1
            result.problems.append(f"{read.name}: no bar or action to import; file skipped")
            continue
        updates.append(AssetUpdate(parsed.symbol, bars, actions=parsed.actions, today=read.today))
        names[parsed.symbol] = read.name
        refused[parsed.symbol] = read.refused
        sizes[parsed.symbol] = (len(bars), len(parsed.actions))
    if updates:
        add_assets(target, [u.symbol for u in updates], clock=lambda: now)
    for update, outcome in zip(updates, target.write_assets(updates), strict=True):
        if isinstance(outcome, Exception):  # the whole file was rolled back
            result.skipped_files += 1
            result.problems.append(f"{names[update.symbol]}: {outcome}; file not imported")
            continue
        result.files += 1
        result.bars += sizes[update.symbol][0]
        result.actions += sizes[update.symbol][1]
        result.symbols.append(update.symbol)
        result.inserted += outcome.inserted
        result.updated += outcome.updated
        result.unchanged += outcome.unchanged
        result.findings += outcome.findings
        result.refused_rows += refused[update.symbol]


def import_csv(
    directory: str | Path,
    *,
    exchange: str | None = None,
    settings: Any = None,
    store: Any = None,
    now: dt.datetime,
    on_file: Callable[[str], object] | None = None,
) -> ImportResult:
    """Import every ``*.csv`` of ``directory`` (see the module docstring) into the database.

    Assets are registered when new (``now`` stamps them; bars after the exchange's date at
    ``now`` are skipped). A file that cannot be used is a problem of its own and the rest
    are imported. Raises :class:`~data_nexus.errors.UsageError` for an invalid ``exchange``
    (checked even when every file names its own), a missing directory, a directory without
    CSV files, an export manifest or a CSV column it cannot store exactly (see the module
    docstring), or one where no file can be imported (then the database is not opened, so
    nothing is created).
    """
    from data_nexus.storage.store import Store  # noqa: PLC0415 - the write side, only here

    if (settings is None) == (store is None):
        raise UsageError("pass exactly one of settings=… or store=…")
    if exchange is not None:
        exchange = parse_exchange(exchange)
    found = csv_files(Path(directory))
    if not found:
        raise UsageError(f"no .csv files in {str(directory)!r}")
    check_manifest(Path(directory).resolve())
    result = ImportResult()
    files: list[Path] = []
    symbols: list[str] = []
    for path in found:
        symbol, problem = _readable(path, exchange)
        if symbol is not None and symbol in symbols:
            earlier = files[symbols.index(symbol)].name
            problem = f"{path.name}: holds {symbol} like {earlier}; file skipped"
        if problem is not None or symbol is None:
            result.problems.append(problem or f"{path.name}: file skipped")
            result.skipped_files += 1
            continue
        check_header(path, symbol)
        files.append(path)
        symbols.append(symbol)
    if not files:
        raise UsageError(
            f"no file in {str(directory)!r} can be imported (first: {result.problems[0]})"
        )
    own = store is None
    target = store if store is not None else Store.open(settings)
    batches = [
        list(zip(files[i : i + BATCH], symbols[i : i + BATCH], strict=True))
        for i in range(0, len(files), BATCH)
    ]
    try:
        # The next batch is parsed on a worker thread while this one is written: Arrow
        # releases the GIL while it reads and judges, and so does the driver while the
        # server ingests a COPY. Two batches are alive at most.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_parse_batch, batches[0], now)
            for k in range(len(batches)):
                parsed_batch = pending.result()
                if k + 1 < len(batches):
                    pending = pool.submit(_parse_batch, batches[k + 1], now)
                _write_batch(target, parsed_batch, result, now, on_file)
                del parsed_batch
    finally:
        if own:
            target.close()
    return result
