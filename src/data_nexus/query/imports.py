"""Import daily bars and corporate actions from CSV files, one file per symbol.

File names: ``CODE.EXCHANGE.csv`` (``aapl.us.csv`` works too), or ``CODE.csv`` with
``exchange=``. Header names are case-insensitive; ``date`` and ``close`` are required;
``open``, ``high``, ``low``, ``adjusted_close`` (also ``adj_close``, ``adj close``),
``volume`` are optional, and so are the action columns ``dividend`` (the cash amount as
declared), ``dividend_adjusted`` (split-adjusted, EODHD's ``value``), ``split`` (``4/1``,
``4:1`` or a number of new shares per old one; ``1`` means none), ``currency``,
``declaration_date``, ``record_date``, ``payment_date`` and ``period``. Other columns (e.g. a
``symbol`` column) are ignored. A row with a dividend or split but no close is an action-only
row; several of them may share a date (with each other and with the date's bar), so a
regular and a special dividend on one ex-date are two rows. This is the layout
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
import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data_nexus.decimals import canonical
from data_nexus.errors import DataNexusError, UsageError
from data_nexus.exchanges import exchange_today
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage.text_columns import judge_columns
from data_nexus.storage.validate import BarValidator, JudgedRows, validate_actions
from data_nexus.symbols import parse_exchange, parse_symbol
from data_nexus.types import AMOUNT_SCALE

ALIASES = {
    "adj_close": "adjusted_close",
    "adj close": "adjusted_close",
    "adjusted close": "adjusted_close",
    "adjclose": "adjusted_close",
    "timestamp": "date",
}
#: Files written per ``write_assets`` call (one transaction); the next batch is parsed
#: meanwhile.
BATCH = 8


@dataclass(slots=True)
class ParsedFile:
    """One file's bars (still to be judged by the store) and actions, its unreadable rows as
    ``file:line: message``, and the line of each bar's date."""

    symbol: str
    bars: list[Bar] = field(default_factory=list)
    actions: list[Split | Dividend] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lines: dict[dt.date | None, int] = field(default_factory=dict)
    #: The bars of a clean file, judged column-wise (then ``bars`` is empty).
    rows: JudgedRows | None = None
    #: The file as a whole cannot be read (empty, no date or close column).
    unusable: bool = False

    def to_write(self) -> list[Bar] | JudgedRows:
        """The bars to hand to the store."""
        return self.rows if self.rows is not None else self.bars


@dataclass(slots=True)
class ImportResult:
    """What an import did: files imported, bars and actions written, rows and files refused
    (``problems``, one line each: ``skipped_files`` + ``skipped_rows`` of them), findings the
    store recorded (those of the rows it refused, and flags on rows it stored)."""

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


def _decimal(text: str, name: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{name}: {text!r} is not a finite number")
    return value


def _date(text: str, name: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def _split(text: str) -> tuple[Decimal, Decimal] | None:
    text = text.strip()
    if not text:
        return None
    for sep in ("/", ":"):
        if sep in text:
            new, old = (_decimal(part, "split") for part in text.split(sep, 1))
            if new is None or old is None or new <= 0 or old <= 0:
                raise ValueError(f"split: {text!r} is not a ratio such as 4/1")
            return (new, old) if new != old else None
    ratio = _decimal(text, "split")
    if ratio is None or ratio in {0, 1}:  # zipline writes 1.0 (or 0) for none
        return None
    if ratio < 0:
        raise ValueError(f"split: {text!r} is negative")
    return canonical_pair(Fraction(ratio))


def canonical_pair(ratio: Fraction) -> tuple[Decimal, Decimal]:
    """A ratio as (new, old) integers when exact (``1.5`` → 3/2)."""
    return Decimal(ratio.numerator), Decimal(ratio.denominator)


def _header(row: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, name in enumerate(row):
        key = name.strip().lower().lstrip("\ufeff")
        key = ALIASES.get(key, key)
        out.setdefault(key, i)
    return out


def parse_file(
    path: Path,
    symbol: str,
    lines: Sequence[str] | None = None,
    numbers: Sequence[int] | None = None,
) -> ParsedFile:
    """Parse one CSV file (or ``lines`` of it) into validated bars and actions, row by row.

    ``numbers``, given with ``lines``, are the file's line numbers of the rows after the
    header (else they count from 2).
    """
    parsed = ParsedFile(symbol)
    text = lines if lines is not None else path.read_text(encoding="utf-8-sig").splitlines()
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        parsed.problems.append(f"{path.name}:1: empty file; file skipped")
        parsed.unusable = True
        return parsed
    columns = _header(header)
    missing = [c for c in ("date", "close") if c not in columns]
    if missing:
        parsed.problems.append(f"{path.name}:1: no {' or '.join(missing)} column; file skipped")
        parsed.unusable = True
        return parsed

    def cell(row: list[str], name: str) -> str:
        i = columns.get(name)
        return row[i] if i is not None and i < len(row) else ""

    seen: set[dt.date] = set()
    dividends: list[tuple[int, Decimal | None, Decimal | None, Dividend]] = []
    for index, row in enumerate(reader):
        number = numbers[index] if numbers is not None else index + 2
        if not any(c.strip() for c in row):
            continue
        try:
            day = _date(cell(row, "date"), "date")
            if day is None:
                raise ValueError("date: missing")
            close = _decimal(cell(row, "close"), "close")
            split = _split(cell(row, "split"))
            declared = _decimal(cell(row, "dividend"), "dividend")
            adjusted = _decimal(cell(row, "dividend_adjusted"), "dividend_adjusted")
            if close is not None or (split is None and declared is None and adjusted is None):
                # a bar; one without a close (and no action) goes to the store, which skips
                # it with a no_prices finding, as for provider data
                if day in seen:
                    raise ValueError(f"a second bar for {day}")
                volume_text = cell(row, "volume").strip()
                volume = _decimal(volume_text, "volume") if volume_text else None
                if volume is not None and volume != volume.to_integral_value():
                    raise ValueError(f"volume: {volume_text!r} is not a whole number")
                bar = Bar(
                    symbol,
                    day,
                    _decimal(cell(row, "open"), "open"),
                    _decimal(cell(row, "high"), "high"),
                    _decimal(cell(row, "low"), "low"),
                    close,  # type: ignore[arg-type]  # None: judged by the store
                    _decimal(cell(row, "adjusted_close"), "adjusted_close"),
                    None if volume is None else int(volume),
                )
                seen.add(day)
                parsed.lines[day] = number
                parsed.bars.append(bar)
            if split is not None:
                action = Split(symbol, day, *split)
                validate_actions(symbol, [action])
                parsed.actions.append(action)
            if (declared or 0) > 0 or (adjusted or 0) > 0:
                details = Dividend(
                    symbol,
                    day,
                    Decimal(0),
                    currency=cell(row, "currency").strip() or None,
                    declaration_date=_date(cell(row, "declaration_date"), "declaration_date"),
                    record_date=_date(cell(row, "record_date"), "record_date"),
                    payment_date=_date(cell(row, "payment_date"), "payment_date"),
                    period=cell(row, "period").strip() or None,
                )
                dividends.append((number, declared, adjusted, details))
        except (ValueError, DataNexusError) as error:
            message = str(error).removeprefix(f"{symbol} ")
            parsed.problems.append(f"{path.name}:{number}: {message}")
    splits = [a for a in parsed.actions if isinstance(a, Split)]
    for number, declared, adjusted, details in dividends:
        day = details.date
        value = adjusted if adjusted is not None else _after_splits(declared, day, splits)
        dividend = dataclasses.replace(details, value=value, unadjusted_value=declared)
        try:
            validate_actions(symbol, [dividend])
        except DataNexusError as error:
            message = str(error).removeprefix(f"{symbol} ")
            parsed.problems.append(f"{path.name}:{number}: {message}")
            continue
        parsed.actions.append(dividend)
    parsed.actions.sort(key=lambda a: (a.date, a.action_type))
    return parsed


def read_file(path: Path, symbol: str, today: dt.date) -> ParsedFile:
    """Parse one CSV file: column-wise when it is clean (:func:`parse_columns`), else row by
    row (:func:`parse_file`), which reports each refused row."""
    fast = parse_columns(path, symbol, today)
    return fast if fast is not None else parse_file(path, symbol)


#: Columns that make a row carry a corporate action.
ACTION_CELLS = ("dividend", "dividend_adjusted", "split")


def parse_columns(path: Path, symbol: str, today: dt.date) -> ParsedFile | None:
    """A clean file read by Arrow and judged a column at a time; ``None`` when it is not
    clean (then :func:`parse_file` reads it and says what is wrong, row by row).

    Clean: every line one row of the header's width (no quoted line breaks, no blank
    lines), every bar clean by :func:`~data_nexus.storage.text_columns.judge_columns` (so
    none would be a finding), and the rows with a dividend or split read without a problem
    by :func:`parse_file` (only those rows are read row by row).
    """
    data = path.read_bytes()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    lines = data[start:].decode("utf-8").splitlines()
    if len(lines) < 2:
        return None
    names = next(csv.reader(lines[:1]))
    columns = _header(names)
    if "date" not in columns or "close" not in columns:
        return None
    auto = [f"c{i}" for i in range(len(names))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data[start:]),
            read_options=pacsv.ReadOptions(column_names=auto, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(auto, pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(lines) - 1:
        return None

    def column(name: str) -> pa.Array | None:
        i = columns.get(name)
        return None if i is None else table.column(i).combine_chunks()

    parsed = ParsedFile(symbol)
    cells = [c for c in map(column, ACTION_CELLS) if c is not None]
    close = column("close")
    bar_rows = None
    if cells:
        has_action = pc.not_equal(cells[0], "")
        for more in cells[1:]:
            has_action = pc.or_(has_action, pc.not_equal(more, ""))
        picked = pc.indices_nonzero(has_action).to_pylist()
        if picked:
            rows = parse_file(
                path, symbol, [lines[0], *(lines[i + 1] for i in picked)], [i + 2 for i in picked]
            )
            if rows.problems or any(bar.close is None for bar in rows.bars):
                return None
            parsed.actions = rows.actions
            bar_rows = pc.invert(pc.and_(has_action, pc.equal(close, "")))
    names_ = ("open", "high", "low", "close", "adjusted_close")
    prices, dates, volumes = [column(n) for n in names_], column("date"), column("volume")
    if bar_rows is not None:
        prices = [None if p is None else p.filter(bar_rows) for p in prices]
        dates = dates.filter(bar_rows) if dates is not None else None
        volumes = volumes.filter(bar_rows) if volumes is not None else None
    if dates is None:  # pragma: no cover - checked with the header
        return None
    judged = judge_columns(dates, prices, volumes, today=today)
    if judged is None:
        return None
    parsed.rows = judged
    return parsed


def _after_splits(declared: Decimal | None, day: dt.date, splits: list[Split]) -> Decimal:
    """The declared amount divided by the ratios of later splits, to the schema's 12 places."""
    amount = Fraction(declared or 0)
    for split in splits:
        if split.date > day:
            amount /= Fraction(split.numerator) / Fraction(split.denominator)
    scaled = round(amount * 10**AMOUNT_SCALE)
    return Decimal(canonical(Decimal(scaled).scaleb(-AMOUNT_SCALE)))


def csv_files(directory: Path) -> list[Path]:
    """The ``*.csv`` files of ``directory`` (case-insensitive suffix), sorted."""
    if not directory.is_dir():
        raise UsageError(f"{str(directory)!r} is not a directory")
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


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


def _parse_batch(batch: list[tuple[Path, str]], now: dt.datetime) -> list[_Read]:
    """Parse these files (pure: no database), each with its refused rows."""
    out = []
    for path, symbol in batch:
        today = exchange_today(symbol.rsplit(".", 1)[-1], now)
        parsed = read_file(path, symbol, today)
        problems = [*parsed.problems, *_skipped_rows(parsed, path.name, today)]
        out.append(_Read(path.name, today, parsed, problems))
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

    updates, names, sizes = [], {}, {}
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
    are imported. Raises :class:`~data_nexus.errors.UsageError` for a missing directory, a
    directory without CSV files, or one where no file can be imported (then the database
    is not opened, so nothing is created).
    """
    from data_nexus.storage.store import Store  # noqa: PLC0415 - the write side, only here

    if (settings is None) == (store is None):
        raise UsageError("pass exactly one of settings=… or store=…")
    found = csv_files(Path(directory))
    if not found:
        raise UsageError(f"no .csv files in {str(directory)!r}")
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
