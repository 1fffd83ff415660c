"""Bodies in EODHD's formats: compact JSON (whole numbers without a decimal point), CSV.

Prices travel as integers in units of ``10**-digits`` and become text here, without going
through ``float`` or :class:`~decimal.Decimal` on the hot path.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from data_nexus.decimals import canonical
from data_nexus.emulator.adjustment import SymbolView

EOD_CSV_HEADER = "Date,Open,High,Low,Close,Adjusted_close,Volume"
BULK_CSV_HEADER = "Code,Ex,Date,Open,High,Low,Close,Adjusted_close,Volume"
BULK_SPLITS_CSV_HEADER = "Code,Ex,Date,Split"
BULK_DIVIDENDS_CSV_HEADER = (
    "Code,Ex,Date,Dividend,Currency,DeclarationDate,RecordDate,PaymentDate,Period,UnadjustedValue"
)
SPLITS_CSV_HEADER = "Date,Stock Splits"
DIVIDENDS_CSV_HEADER = "Date,Dividends"
SYMBOLS_CSV_HEADER = "Code,Name,Country,Exchange,Currency,Type,Isin"


def scaled(value: int, digits: int) -> str:
    """The compact text of ``value * 10**-digits``: ``scaled(1778300, 4) == "177.83"``."""
    if digits == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    whole, part = divmod(-value if sign else value, 10**digits)
    if part == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:0{digits}d}".rstrip("0")


@lru_cache(maxsize=65536)
def iso(ordinal: int) -> str:
    """``YYYY-MM-DD`` of a ``date.toordinal()`` value."""
    return dt.date.fromordinal(ordinal).isoformat()


def split_text(new: Decimal, old: Decimal) -> str:
    """A split as EODHD writes it: ``"4.000000/1.000000"``."""
    return f"{new:.6f}/{old:.6f}"


def dumps(value: object) -> str:
    """Compact JSON; :class:`Decimal` as a bare number in its shortest form, dates as text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return canonical(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.date):
        return f'"{value.isoformat()}"'
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Iterable):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def json_array(rows: Sequence[str]) -> str:
    """A JSON array of already encoded rows."""
    return "[" + ",".join(rows) + "]"


def csv_table(header: str, rows: Sequence[str]) -> str:
    """A CSV body: the header, one line per row, a final newline."""
    return header + "\n" + "".join(row + "\n" for row in rows)


def csv_quoted(value: object) -> str:
    """A CSV field quoted as EODHD quotes text (empty for None)."""
    if value is None:
        return ""
    return '"' + str(value).replace('"', '""') + '"'


@dataclass(slots=True)
class Columns:
    """Rows of bars as plain Python values, ready to render (or to be tampered with)."""

    dates: list[str]
    open: list[int]
    high: list[int]
    low: list[int]
    close: list[int]
    adjusted_close: list[int]
    volume: list[int]
    price_digits: int
    adjusted_digits: int

    @classmethod
    def of(cls, view: SymbolView, lo: int = 0, hi: int | None = None) -> Columns:
        """Rows ``lo:hi`` of ``view``."""
        hi = len(view) if hi is None else hi
        return cls(
            dates=[iso(o) for o in view.ordinals[lo:hi].tolist()],
            open=view.open[lo:hi].tolist(),
            high=view.high[lo:hi].tolist(),
            low=view.low[lo:hi].tolist(),
            close=view.close[lo:hi].tolist(),
            adjusted_close=view.adjusted_close[lo:hi].tolist(),
            volume=view.volume[lo:hi].tolist(),
            price_digits=view.price_digits,
            adjusted_digits=view.adjusted_digits,
        )

    def __len__(self) -> int:
        return len(self.dates)

    def values(self, row: int) -> tuple[str, str, str, str, str, str, int]:
        """Row ``row`` as (date, open, high, low, close, adjusted_close, volume) texts."""
        p, a = self.price_digits, self.adjusted_digits
        return (
            self.dates[row],
            scaled(self.open[row], p),
            scaled(self.high[row], p),
            scaled(self.low[row], p),
            scaled(self.close[row], p),
            scaled(self.adjusted_close[row], a),
            self.volume[row],
        )

    def tamper(self, mutation: str | None) -> None:
        """Apply a row fault: ``negative_price`` or ``duplicate_date`` on the middle row."""
        if not len(self):
            return
        middle = len(self) // 2
        if mutation == "negative_price":
            self.close[middle] = -abs(self.close[middle])
        elif mutation == "duplicate_date":
            self.dates.insert(middle, self.dates[middle])
            for values in (self.open, self.high, self.low, self.close, self.adjusted_close):
                values.insert(middle, values[middle])
            self.volume.insert(middle, self.volume[middle])

    def json_rows(self, prefix: str = "") -> list[str]:
        """One JSON object per row, keys in EODHD's order; ``prefix`` opens each object."""
        out = []
        for i in range(len(self.dates)):
            d, o, h, lo, c, a, v = self.values(i)
            out.append(
                f'{{{prefix}"date":"{d}","open":{o},"high":{h},"low":{lo},"close":{c},'
                f'"adjusted_close":{a},"volume":{v}}}'
            )
        return out

    def csv_rows(self, prefix: str = "") -> list[str]:
        """One CSV line per row; ``prefix`` starts each line (bulk ``Code,Ex,``)."""
        return [prefix + ",".join(str(x) for x in self.values(i)) for i in range(len(self))]


@dataclass(frozen=True, slots=True)
class RenderedRows:
    """Every row of a symbol as one text, each row followed by ``separator``.

    One string plus an array of row offsets takes far less memory than a list of row
    strings, and a date range is a single slice.
    """

    text: str
    starts: npt.NDArray[np.int64]  # offset of each row, plus the end of the text
    separator: str

    @classmethod
    def of(cls, rows: list[str], separator: str) -> RenderedRows:
        """Join ``rows``, remembering where each one starts."""
        lengths = np.fromiter((len(row) + len(separator) for row in rows), np.int64, len(rows))
        starts = np.concatenate(([0], np.cumsum(lengths)))
        return cls("".join(row + separator for row in rows), starts, separator)

    def joined(self, lo: int, hi: int) -> str:
        """Rows ``lo:hi`` joined by the separator, without a trailing one."""
        if hi <= lo:
            return ""
        return self.text[int(self.starts[lo]) : int(self.starts[hi]) - len(self.separator)]

    def rows(self, lo: int, hi: int) -> list[str]:
        """Rows ``lo:hi`` as separate strings."""
        bounds = self.starts[lo : max(lo, hi) + 1].tolist()
        cut = len(self.separator)
        return [self.text[a : b - cut] for a, b in pairwise(bounds)]


class RowCache:
    """Rendered daily rows of recently served symbols (the whole history, either format)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._rows: OrderedDict[tuple[str, str, int], RenderedRows] = OrderedDict()
        self._lock = threading.Lock()

    def grow(self, size: int) -> None:
        """Keep at least ``size`` renderings (one per symbol and format)."""
        with self._lock:
            self._size = max(self._size, size)

    def rows(self, view: SymbolView, fmt: str) -> RenderedRows:
        """All rows of ``view`` rendered as ``fmt`` (``json`` or ``csv``), cached."""
        key = (view.symbol, fmt, view.version)
        with self._lock:
            if key in self._rows:
                self._rows.move_to_end(key)
                return self._rows[key]
        columns = Columns.of(view)
        if fmt == "json":
            rendered = RenderedRows.of(columns.json_rows(), ",")
        else:
            rendered = RenderedRows.of(columns.csv_rows(), "\n")
        with self._lock:
            self._rows[key] = rendered
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)
        return rendered
