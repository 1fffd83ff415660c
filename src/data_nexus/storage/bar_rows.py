"""What the bar validator makes of bars: rows of exact text, and the patterns that prove them.

A validated bar is a :data:`BarRow`: its ISO date, its five prices as exact decimal text
joined by tabs (:data:`MISSING` where absent), its volume. SQLite stores the texts as they
are; PostgreSQL's ``COPY`` reads them. The regular expressions here decide, over the text of
a row or of a whole chunk, whether prices are already what is stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

#: A missing price in a row's price text (also ``COPY``'s text-format NULL).
MISSING = "\\N"
PRICE_FIELDS = ("open", "high", "low", "close", "adjusted_close")
#: A validated bar: (ISO date, its five prices in :data:`PRICE_FIELDS` order as exact
#: decimal text joined by tabs, :data:`MISSING` where absent, volume or ``None``).
BarRow = tuple[str, str, int | None]


# The fast path checks a whole row's prices with one regular expression over their text:
# an optional sign, at most 15 digits before the point and 30 after is exactly "|x| < 10^15
# with at most 30 decimal places". The canonical variant also refuses trailing zeros and
# "-0", so what passes is already the text SQLite stores. Every price but the close may be
# missing ("None" in the text, then written as MISSING).
PLAIN = r"-?[0-9]{1,15}(?:\.[0-9]{1,30})?"
CANONICAL = r"(?:0|-?(?:[1-9][0-9]{0,14}(?:\.[0-9]{0,29}[1-9])?|0\.[0-9]{0,29}[1-9]))"


def _row_pattern(price: str) -> Callable[[str], re.Match[str] | None]:
    optional = f"(?:{price}|None)"
    return re.compile("\t".join([optional, optional, optional, price, optional])).fullmatch


ROW_OK = _row_pattern(PLAIN)
CANONICAL_ROW_OK = _row_pattern(CANONICAL)


def _rows_pattern(price: str) -> Callable[[str], re.Match[str] | None]:
    # Rows of five present prices, each row ended by a newline: a whole chunk at once. No
    # row holds a newline, so the possessive repeat never needs to give a row back.
    row = "\t".join([price] * 5)
    return re.compile(f"(?:{row}\n)*+").fullmatch


# The same sets of texts as PLAIN and CANONICAL without a sign (a row with one never
# takes this path), written so that nothing is ever tried twice: possessive digits, and
# "the last decimal is not 0" as a look-behind instead of backtracking.
ROWS_OK = _rows_pattern(r"[0-9]{1,15}+(?:\.[0-9]{1,30}+)?+")
CANONICAL_ROWS_OK = _rows_pattern(r"(?:0|[1-9][0-9]{0,14}+)(?:\.[0-9]{1,30}+(?<=[1-9]))?+")
TRAILING_ZEROS = re.compile(r"\.([0-9]*?)0+(?=\t|$)")
TRAILING_ZEROS_ROWS = re.compile(r"\.([0-9]*?)0+(?=[\t\n])")


def keep_digits(match: re.Match[str]) -> str:
    return "." + match.group(1) if match.group(1) else ""


#: ISO text of the dates seen lately: every symbol trades on the same few thousand days, and
#: a dictionary hit costs a tenth of ``date.isoformat()``.
ISO_MAX = 50_000


class _Isos(dict[dt.date, str]):
    def __missing__(self, day: dt.date) -> str:
        text = self[day] = day.isoformat()
        return text


ISO = _Isos()


def iso_of(day: dt.date) -> str:
    if len(ISO) >= ISO_MAX:
        ISO.clear()
    return ISO[day]


class JudgedRows(Sequence[BarRow]):
    """Bars already judged column by column (:mod:`data_nexus.storage.text_columns`), as
    :data:`BarRow` s: canonical prices that are all > 0 and in the sane range, a close in every
    row, volumes in ``[0, 2^63-1]`` or ``None``. Nothing in them is a finding; the validator
    still refuses a date sent twice and skips bars after ``today`` (see
    :meth:`BarValidator.chunk`). Slicing keeps the type, so the writer batches them as bars.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: list[BarRow]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> BarRow: ...
    @overload
    def __getitem__(self, index: slice) -> JudgedRows: ...
    def __getitem__(self, index: int | slice) -> BarRow | JudgedRows:
        if isinstance(index, slice):
            return JudgedRows(self.rows[index])
        return self.rows[index]


class ColumnRows(Sequence[BarRow]):
    """Validated rows still held as columns: ISO dates, the five price texts as stored,
    volumes. Read as :data:`BarRow` s (built once, on the first access); a sink that takes
    columns (SQLite's insert) uses them as they are, without joining and splitting texts."""

    __slots__ = ("_rows", "isos", "prices", "volumes")

    def __init__(
        self, isos: Sequence[str], prices: Sequence[Sequence[str]], volumes: Sequence[int]
    ) -> None:
        self.isos = isos
        self.prices = prices
        self.volumes = volumes
        self._rows: list[BarRow] | None = None

    def built(self) -> list[BarRow]:
        """The rows as :data:`BarRow` s."""
        if self._rows is None:
            texts = map("\t".join, zip(*self.prices, strict=True))
            self._rows = list(zip(self.isos, texts, self.volumes, strict=True))
        return self._rows

    def __len__(self) -> int:
        return len(self.isos)

    @overload
    def __getitem__(self, index: int) -> BarRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[BarRow]: ...
    def __getitem__(self, index: int | slice) -> BarRow | list[BarRow]:
        return self.built()[index]

    def __iter__(self) -> Iterator[BarRow]:
        return iter(self.built())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ColumnRows | list):
            return self.built() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value, as a list


@dataclass(frozen=True, slots=True)
class BarChunk:
    """Validated rows of one chunk of bars, with their smallest and largest ISO date."""

    rows: list[BarRow] | ColumnRows
    first: str | None
    last: str | None


# A whole price column at once, each price ended by a newline, for bars still in the
# provider's text (:class:`~data_nexus.bar_columns.BarColumns`): a plain positive number
# with at most 15 digits before the point and 29 after, and at least 1E-6, so that
# ``str(Decimal(text))`` is ``text`` itself (below 1E-6 it is written with an exponent and
# judged on its own). PostgreSQL's text is then the price as sent; SQLite's the same
# without trailing zeros, stripped by TRAILING_ZEROS_COLUMN exactly as the row path does.
COLUMN_OK = re.compile(
    r"(?:(?:[1-9][0-9]{0,14}+(?:\.[0-9]{1,29}+)?+|0\.(?=0{0,5}+[1-9])[0-9]{1,29}+)\n)*+"
).fullmatch
#: A price of a column text ending in a zero after its point (``1.50``, ``2.0``).
TRAILING_ZERO_COLUMN = re.compile(r"\.[0-9]*+(?<=0)\n")
TRAILING_ZEROS_COLUMN = re.compile(r"\.([0-9]*?)0+(?=\n)")
