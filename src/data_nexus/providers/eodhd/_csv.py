"""Read an EODHD CSV body into rows keyed like the JSON ones (pure).

The CSV parsers then share the JSON parsers' per-row validation. Rows that are blank or whose
date cell is not a date at all (a footer such as the one older official code dropped with
``skipfooter=1``) are skipped; a date row with the wrong number of cells looks like a
truncated body and raises :class:`MalformedBody`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from data_nexus.errors import MalformedBody
from data_nexus.providers.eodhd._fields import excerpt

#: CSV header (lower-cased) → JSON key.
_HEADER_KEYS = {
    "date": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adjusted_close": "adjusted_close",
    "adj_close": "adjusted_close",
    "adjusted close": "adjusted_close",
    "volume": "volume",
    "code": "code",
    "ex": "exchange_short_name",
    "exchange_short_name": "exchange_short_name",
    "exchange": "exchange",
    "dividends": "value",
    "dividend": "value",
    "value": "value",
    "unadjustedvalue": "unadjustedValue",
    "unadjusted_value": "unadjustedValue",
    "currency": "currency",
    "declarationdate": "declarationDate",
    "recorddate": "recordDate",
    "paymentdate": "paymentDate",
    "period": "period",
    "split": "split",
    "splits": "split",
    "stock splits": "split",
    "stock_splits": "split",
}

# Something shaped like a date (maybe an invalid one, which the row parser then rejects).
_DATE_LIKE = re.compile(r"\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\s*")


def read_rows(
    body: bytes,
    *,
    symbol: str | None,
    default_columns: Sequence[str],
    secrets: Iterable[str] = (),
) -> list[dict[str, str | None]]:
    """Rows of a CSV body as dicts with JSON keys; empty cells become ``None``.

    A first line whose first cell is a date means the body has no header; the cells are then
    read as ``default_columns``.
    """
    secrets = tuple(secrets)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedBody("body is not UTF-8 text", symbol=symbol, excerpt="") from None
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "<[{":
        kind = "HTML" if stripped[0] == "<" else "JSON"
        raise MalformedBody(
            f"{kind} where CSV was expected", symbol=symbol, excerpt=excerpt(stripped, secrets)
        )
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise MalformedBody(
            "unreadable CSV", symbol=symbol, excerpt=excerpt(stripped, secrets)
        ) from None
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if not lines:
        return []
    first = lines[0]
    if _DATE_LIKE.fullmatch(first[0]):
        columns = list(default_columns)
    else:
        columns = [_HEADER_KEYS.get(cell.strip().lower(), cell.strip().lower()) for cell in first]
        lines = lines[1:]
        if "date" not in columns:
            raise MalformedBody(
                "CSV without a Date column", symbol=symbol, excerpt=excerpt(stripped, secrets)
            )
    date_at = columns.index("date")
    rows: list[dict[str, str | None]] = []
    for line in lines:
        if date_at >= len(line) or not _DATE_LIKE.fullmatch(line[date_at]):
            continue  # a footer or other non-data line
        if len(line) != len(columns):
            raise MalformedBody(
                f"CSV row has {len(line)} cells, header has {len(columns)} (truncated body?)",
                symbol=symbol,
                excerpt=excerpt(",".join(line), secrets),
            )
        rows.append({key: (cell.strip() or None) for key, cell in zip(columns, line, strict=True)})
    return rows
