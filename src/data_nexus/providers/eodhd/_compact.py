"""The fastest path of the end-of-day parsers: bodies in EODHD's own compact JSON.

EODHD (and the emulator) write ``/eod`` and bulk bodies in one exact shape::

    [{"date":"2022-01-03","open":177.83,"high":182.88,"low":177.71,"close":182.01,
      "adjusted_close":179.2736,"volume":104487900},{...}]

(bulk rows start with ``"code":"AAPL","exchange_short_name":"US",``). Such a body is read
here with one regular expression per row instead of ``json.loads`` plus a check per value:
the body must be ``[{`` + rows joined by ``},{`` + ``}]`` with every row matching the
pattern in full, or nothing is read and the caller takes the general path. The pattern
admits only values the careful parser accepts unchanged, so the records are the same:

- numbers are plain JSON numbers without sign or exponent, at most 16 digits before the
  point and 29 after (so finite, non-negative, below ``1E16``, exponent ≥ -29); the careful
  loader builds the same ``Decimal`` from the same text, and zero is ``Decimal(0)`` as there;
- a volume is a whole number of at most 16 digits or ``null``;
- a date is ``[0-9]{4}-[0-9]{2}-[0-9]{2}`` (a day that does not exist sends the body to the
  general path, which reports it);
- codes are printable ASCII without space, quote, backslash, ``*``, ``:`` or ``=`` (nothing
  a JSON escape or redaction could change), and a code containing a secret is not read here.

Every row is matched before any is built, so a duplicate date (the one error raised here)
is only reported for a body that the careful path would also have read up to that row.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from operator import attrgetter

from data_nexus.providers.eodhd._fields import duplicate
from data_nexus.records import Bar

_NUMBER = r"((?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,29})?)"
_PRICES = (
    r'"date":"([0-9]{4}-[0-9]{2}-[0-9]{2})",'
    rf'"open":{_NUMBER},"high":{_NUMBER},"low":{_NUMBER},"close":{_NUMBER},'
    rf'"adjusted_close":{_NUMBER},"volume":(0|[1-9][0-9]{{0,15}}|null)'
)
_CODE = r"[\x21\x23-\x29\x2b-\x39\x3b\x3c\x3e-\x5b\x5d-\x7e]"
_EOD_ROW = re.compile(_PRICES)
_BULK_ROW = re.compile(
    rf'"code":"({_CODE}{{1,40}})","exchange_short_name":"({_CODE}{{0,40}})",' + _PRICES
)
_ZERO = Decimal(0)
_by_date = attrgetter("date")
_by_date_symbol = attrgetter("date", "symbol")


def compact_eod(
    body: bytes, symbol: str, *, zero_rows: list[str], secrets: tuple[str, ...]
) -> list[Bar] | None:
    """Bars of one symbol from a compact ``/eod`` body, sorted by date; ``None`` when the
    body is not in that shape (or names a day that does not exist)."""
    rows = _rows(body, _EOD_ROW)
    if rows is None:
        return None
    bars: list[Bar] = []
    skipped: list[str] = []
    seen: set[dt.date] = set()
    d = Decimal
    for day_text, o, h, lo, c, a, v in rows:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            return None
        bar = Bar(
            symbol,
            day,
            d(o) or _ZERO,
            d(h) or _ZERO,
            d(lo) or _ZERO,
            d(c) or _ZERO,
            d(a) or _ZERO,
            None if v == "null" else int(v),
        )
        if not (bar.close or bar.open or bar.high or bar.low or bar.adjusted_close):
            skipped.append(f"{symbol} {day_text}")
            continue
        if day in seen:
            raise duplicate(symbol, {"date": day_text}, secrets)
        seen.add(day)
        bars.append(bar)
    bars.sort(key=_by_date)
    zero_rows += skipped
    return bars


def compact_bulk(
    body: bytes, exchange: str, *, zero_rows: list[str], secrets: tuple[str, ...]
) -> list[Bar] | None:
    """Bars of an exchange from a compact ``/eod-bulk-last-day`` body, sorted by date then
    symbol; ``None`` when the body is not in that shape."""
    rows = _rows(body, _BULK_ROW)
    if rows is None:
        return None
    masks = tuple(s for s in secrets if s and len(s) >= 4)  # what redaction would replace
    if masks and any(mask in row[0] or mask in row[1] for row in rows for mask in masks):
        return None
    bars: list[Bar] = []
    skipped: list[str] = []
    seen: set[tuple[dt.date, str]] = set()
    d = Decimal
    for code, suffix, day_text, o, h, lo, c, a, v in rows:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            return None
        symbol = f"{code}.{suffix or exchange}"
        bar = Bar(
            symbol,
            day,
            d(o) or _ZERO,
            d(h) or _ZERO,
            d(lo) or _ZERO,
            d(c) or _ZERO,
            d(a) or _ZERO,
            None if v == "null" else int(v),
        )
        if not (bar.close or bar.open or bar.high or bar.low or bar.adjusted_close):
            skipped.append(f"{symbol} {day_text}")
            continue
        key = (day, symbol)
        if key in seen:
            raise duplicate(symbol, {"date": day_text}, secrets)
        seen.add(key)
        bars.append(bar)
    bars.sort(key=_by_date_symbol)
    zero_rows += skipped
    return bars


def _rows(body: bytes, row: re.Pattern[str]) -> list[tuple[str, ...]] | None:
    """The captured fields of every row, or ``None`` unless the whole body is compact."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not (text.startswith("[{") and text.endswith("}]")):
        return None
    out: list[tuple[str, ...]] = []
    match = row.fullmatch
    for part in text[2:-2].split("},{"):
        found = match(part)
        if found is None:
            return None
        out.append(found.groups())
    return out
