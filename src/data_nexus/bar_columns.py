"""One symbol's bars held as columns of the provider's own text, read as bars on demand.

A first sync stores tens of thousands of bars per asset, and every one of them used to
become five :class:`~decimal.Decimal` objects and a :class:`~data_nexus.records.Bar`, only
for the validator to turn the ``Decimal`` s back into the text SQLite stores and PostgreSQL's
``COPY`` reads (about half the CPU of a first sync besides the insert itself; see
docs/benchmarks.md, "Fourth pass"). :class:`BarColumns` keeps what the parser matched
instead: ISO date texts, each price as the exact decimal text the provider sent, volumes.

It is a ``Sequence[Bar]``: indexing or iterating builds the bars (once; they are kept), each
exactly the ``Bar`` the parser would have built from the same text, ``Decimal(text)``, never
through a binary float. The validator (:mod:`data_nexus.storage.validate`) reads the text
columns directly and judges them column by column; whatever it cannot prove clean from the
text goes through the bars, so findings and stored rows are the same either way.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import repeat
from operator import lt
from typing import Any, overload

from data_nexus.collector import paused
from data_nexus.records import Bar

#: Price texts in the order of :class:`Bar`'s fields: open, high, low, close, adjusted close.
PriceColumns = tuple[Sequence[str], Sequence[str], Sequence[str], Sequence[str], Sequence[str]]

# Bars are built column by column through the slots' descriptors (what ``Bar.__init__``
# does one attribute at a time, through ``object.__setattr__``): same objects, a C loop.
_SLOTS = ("symbol", "date", "open", "high", "low", "close", "adjusted_close", "volume")
_SETTERS: tuple[Callable[[Bar, Any], None], ...] = tuple(
    getattr(Bar, name).__set__ for name in _SLOTS
)
_new = object.__new__

#: ``date`` objects of the ISO texts seen lately: every symbol trades on the same few
#: thousand days, and a dictionary hit costs a fraction of ``date.fromisoformat``.
_DAYS_MAX = 50_000


class _Days(dict[str, dt.date]):
    def __missing__(self, text: str) -> dt.date:
        day = self[text] = dt.date.fromisoformat(text)  # ValueError: not a real day
        return day


_DAYS = _Days()


def days_of(isos: Sequence[str]) -> list[dt.date]:
    """The dates of ISO texts (``ValueError`` for a text that is not a real day)."""
    if len(_DAYS) > _DAYS_MAX:
        _DAYS.clear()
    return list(map(_DAYS.__getitem__, isos))


def build_bars(
    symbols: Sequence[str] | repeat[str],
    days: Sequence[dt.date],
    prices: Sequence[Sequence[Decimal]],
    volumes: Sequence[int | None],
) -> list[Bar]:
    """Bars from columns (five price columns of ``Decimal`` s), built a column at a time."""
    bars: list[Bar] = list(map(_new, repeat(Bar, len(days))))
    values = (symbols, days, *prices, volumes)
    for setter, column in zip(_SETTERS, values, strict=True):
        deque(map(setter, bars, column), maxlen=0)
    return bars


class BarColumns(Sequence[Bar]):
    """Bars of ``symbol`` as text columns, in strictly increasing date order.

    ``isos`` are ``YYYY-MM-DD`` texts of real days, strictly increasing (checked here:
    ``ValueError`` otherwise); ``prices`` five columns (open, high, low, close, adjusted
    close) of texts that ``Decimal`` reads as finite numbers, each a price as sent (the
    parser passes only plain JSON numbers); ``volumes`` whole numbers or ``None``. The
    columns are not copied: the caller hands them over.
    """

    __slots__ = ("_bars", "days", "isos", "prices", "symbol", "volumes")

    def __init__(
        self,
        symbol: str,
        isos: Sequence[str],
        prices: PriceColumns,
        volumes: Sequence[int | None],
    ) -> None:
        n = len(isos)
        if len(prices) != 5 or any(len(c) != n for c in prices) or len(volumes) != n:
            raise ValueError("BarColumns needs five price columns and volumes as long as isos")
        if not all(map(lt, isos, isos[1:])):
            raise ValueError("BarColumns needs strictly increasing dates")
        self.symbol = symbol
        self.isos = isos
        self.days = days_of(isos)
        self.prices = prices
        self.volumes = volumes
        self._bars: list[Bar] | None = None

    @classmethod
    def _slice(cls, whole: BarColumns, index: slice) -> BarColumns:
        part = cls.__new__(cls)
        part.symbol = whole.symbol
        part.isos = whole.isos[index]
        part.days = whole.days[index]
        o, h, lo, c, a = whole.prices
        part.prices = (o[index], h[index], lo[index], c[index], a[index])
        part.volumes = whole.volumes[index]
        part._bars = None if whole._bars is None else whole._bars[index]
        return part

    def bars(self) -> list[Bar]:
        """The bars (built on the first call, then kept)."""
        if self._bars is None:
            with paused():  # bars hold no cycles (see data_nexus.collector), as in the parser
                self._bars = build_bars(
                    repeat(self.symbol),
                    self.days,
                    [list(map(Decimal, column)) for column in self.prices],
                    self.volumes,
                )
        return self._bars

    def __len__(self) -> int:
        return len(self.isos)

    @overload
    def __getitem__(self, index: int) -> Bar: ...
    @overload
    def __getitem__(self, index: slice) -> BarColumns: ...
    def __getitem__(self, index: int | slice) -> Bar | BarColumns:
        if isinstance(index, slice):
            return BarColumns._slice(self, index)
        return self.bars()[index]

    def __iter__(self) -> Iterator[Bar]:
        return iter(self.bars())

    def __eq__(self, other: object) -> bool:
        """Equal to any list, tuple or ``BarColumns`` of the same bars (as a list is)."""
        if isinstance(other, BarColumns | list | tuple):
            return len(self) == len(other) and self.bars() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable cache, compared by value: as a list

    def __repr__(self) -> str:
        return f"BarColumns({self.symbol!r}, {len(self)} bars)"
