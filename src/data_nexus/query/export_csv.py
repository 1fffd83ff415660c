"""Our own CSV layout (``export --format csv``, layout ``files``; what ``import csv`` reads back):
one symbol's bars with its corporate actions on their ex-date rows.

Columns :data:`OWN_COLUMNS`; the layout is described in :mod:`data_nexus.query.exports`.
Exact prices are written as the shortest exact decimal text; a column-wise Arrow writer does
the common case and the csv module the rest (actions off a bar, text that needs quoting).
"""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data_nexus.decimals import canonical
from data_nexus.query.frame import Frame
from data_nexus.query.import_rows import KNOWN_COLUMNS
from data_nexus.records import Dividend, Split

#: The columns of a ``files``-layout CSV, in order: exactly those ``import csv`` reads
#: (:data:`~data_nexus.query.import_rows.KNOWN_COLUMNS`), so an export always imports.
OWN_COLUMNS = list(KNOWN_COLUMNS)


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


def write_exact_csv(path: Path, frame: Frame, lo: int, hi: int, actions: list[Any]) -> bool:
    """:func:`write_own_csv` for exact prices, column-wise through Arrow's CSV writer.

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


def write_text_csv(path: Path, table: pa.Table, actions: list[Any]) -> bool:
    """:func:`write_exact_csv` from :meth:`FrameReader.bar_texts` (one symbol's rows)."""
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


def write_own_csv(path: Path, frame: Frame, lo: int, hi: int, actions: list[Any]) -> int:
    """Our CSV layout: exact prices (floats if adjusted), actions on their ex-date rows
    (action-only rows too)."""
    if frame.exact is None or not write_exact_csv(path, frame, lo, hi, actions):
        _write_rows_csv(path, frame, lo, hi, actions)
    return hi - lo


def _write_rows_csv(path: Path, frame: Frame, lo: int, hi: int, actions: list[Any]) -> None:
    """:func:`write_own_csv` row by row through the csv module (any frame, any actions)."""
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
