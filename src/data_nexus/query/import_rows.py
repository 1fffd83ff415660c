"""One import CSV file read row by row (:func:`parse_file`): the cell parsers, the header
aliases and the dividend amounts after later splits.

The file layout is described in :mod:`data_nexus.query.imports`. Pure: no database; a row
that cannot be read is a ``file:line: message`` problem of the :class:`ParsedFile`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from data_nexus.decimals import canonical
from data_nexus.errors import DataNexusError
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage.validate import JudgedRows, validate_actions
from data_nexus.types import AMOUNT_SCALE

ALIASES = {
    "adj_close": "adjusted_close",
    "adj close": "adjusted_close",
    "adjusted close": "adjusted_close",
    "adjclose": "adjusted_close",
    "timestamp": "date",
}

#: Every column the importer reads (canonical names; :data:`ALIASES` map onto them): the
#: columns ``datanexus export --format csv --layout files`` writes. Any other column is
#: refused, never silently dropped.
KNOWN_COLUMNS = (
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
)


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


def header_columns(row: Sequence[str]) -> dict[str, int]:
    """The position of each column by its canonical name (lower case, :data:`ALIASES`
    applied; the first of two same names wins)."""
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
    columns = header_columns(header)
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


def _after_splits(declared: Decimal | None, day: dt.date, splits: list[Split]) -> Decimal:
    """The declared amount divided by the ratios of later splits, to the schema's 12 places."""
    amount = Fraction(declared or 0)
    for split in splits:
        if split.date > day:
            amount /= Fraction(split.numerator) / Fraction(split.denominator)
    scaled = round(amount * 10**AMOUNT_SCALE)
    return Decimal(canonical(Decimal(scaled).scaleb(-AMOUNT_SCALE)))
