"""Judgement at the write boundary: each bar and each action on its own.

Pure functions over :mod:`data_nexus.records`. Prices and amounts are unconstrained
``NUMERIC`` (exact text on SQLite), so any exact decimal the provider sends is kept digit for
digit: negative prices (WTI settled at -37.63 on 2020-04-20), crypto far below 1E-8
(``8.4401E-06``, ``1E-12``). What cannot be stored correctly is *skipped* with a
:class:`~data_nexus.records.Finding`, and the rest of the asset is written:

- a bar without a close → ``no_prices``; dated after the caller's ``today`` →
  ``future_bar``; a price outside any sane range (``|x| >= 10^15`` or more than 30 decimal
  places, or not finite) or a volume outside ``[0, 2^63-1]`` → ``out_of_range``;
- a price ``<= 0`` is stored, and on common stock and ETFs it is also a
  ``non_positive_price`` finding (:meth:`BarValidator.non_positive`);
- an impossible split ratio → ``bad_split``; a dividend with a missing or negative amount
  or an unstorable text → ``bad_action``; the same action twice → stored once and a
  ``duplicate_action``; two different dividends on one ex-date are both kept (``seq``).

What is a bug of the caller, not of the provider's data, still raises
:class:`DataValidationError` naming symbol, date and field: a float where a ``Decimal``
belongs, a date that is not a ``date``, a record of another symbol, a date sent twice.

Judged values come out as their canonical text (:func:`data_nexus.decimals.canonical`),
which is what SQLite stores and what PostgreSQL's ``COPY`` reads, so a bar is checked and
formatted in one pass. :class:`BarValidator` works chunk by chunk, so a stream of bars is
judged without holding it all in memory (it keeps only the dates seen, to refuse a second
bar for the same date).

Around it: one value's judgement (:mod:`.values`), the rows and the patterns that prove
them (:mod:`.bar_rows`), the column-wise fast paths (:mod:`.clean_chunks`) and the
corporate actions' rules (:mod:`.action_rows`, re-exported here).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from data_nexus.bar_columns import BarColumns
from data_nexus.collector import paused
from data_nexus.errors import DataValidationError
from data_nexus.records import Bar, Finding

# The actions' rules are re-exported (see __all__): callers import them from here.
from data_nexus.storage.action_rows import (
    ACTION_KEY,
    ACTION_VALUES,
    judge_actions,
    split_value,
    validate_actions,
)
from data_nexus.storage.bar_rows import (
    CANONICAL_ROW_OK,
    ISO,
    MISSING,
    PRICE_FIELDS,
    ROW_OK,
    TRAILING_ZEROS,
    BarChunk,
    BarRow,
    ColumnRows,
    JudgedRows,
    iso_of,
    keep_digits,
)
from data_nexus.storage.clean_chunks import by_columns, by_texts
from data_nexus.storage.values import BIGINT_MAX, Skip, caller_bug, decimal_text

_ZERO = Decimal(0)
#: Asset types (``assets.asset_type``, compared case-insensitively) on which a price <= 0
#: is a finding: a share or a fund cannot trade for nothing; futures, spreads and some
#: indices can and do go negative.
POSITIVE_TYPES = frozenset({"common stock", "etf"})
__all__ = [
    "ACTION_KEY",
    "ACTION_VALUES",
    "MISSING",
    "PRICE_FIELDS",
    "BarChunk",
    "BarRow",
    "BarValidator",
    "JudgedRows",
    "Skip",
    "judge_actions",
    "split_prices",
    "split_value",
    "validate_actions",
    "validate_bars",
]


def _volume(value: object, symbol: str, day: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise caller_bug(symbol, day, "volume", f"{value!r} is not an integer")
    if value < 0:
        raise Skip("out_of_range", f"volume: {value} is negative")
    if value > BIGINT_MAX:
        raise Skip("out_of_range", f"volume: {value} is above BIGINT's 2^63-1")
    return value


class BarValidator:
    """Judges one symbol's bars chunk by chunk and turns them into :data:`BarRow` rows.

    Keeps the set of dates seen (ISO text, skipped bars included, so a window never deletes
    a stored bar because the provider now sends it broken), refusing a date sent twice,
    even in different chunks. With ``canonical`` (SQLite), prices come out as canonical
    text; without it (PostgreSQL, which parses any exact decimal text), as the shortest
    exact text at hand. ``today`` (the exchange's date, from the caller) skips later bars.

    ``findings`` collects the skipped bars; :meth:`non_positive` the stored bars with a
    price ``<= 0``, which are findings only for some asset types.
    """

    def __init__(
        self, symbol: str, *, canonical: bool = True, today: dt.date | None = None
    ) -> None:
        self.symbol = symbol
        self.dates: set[str] = set()
        self.canonical = canonical
        self.today = today
        self.findings: list[Finding] = []
        self._non_positive: list[tuple[str, str]] = []
        self._row_ok = CANONICAL_ROW_OK if canonical else ROW_OK
        self._after = "9999-12-31" if today is None else today.isoformat()

    def non_positive(self, asset_type: str | None) -> list[Finding]:
        """``non_positive_price`` findings of the stored bars, if ``asset_type`` needs them."""
        if asset_type is None or asset_type.strip().lower() not in POSITIVE_TYPES:
            return []
        return [
            Finding(self.symbol, dt.date.fromisoformat(iso), "non_positive_price", detail)
            for iso, detail in self._non_positive
        ]

    def _flag_non_positive(self, iso: str, text: str) -> None:
        values = zip(PRICE_FIELDS, text.split("\t"), strict=True)  # after _non_positive
        bad = [f"{name} {p}" for name, p in values if p != MISSING and Decimal(p) <= _ZERO]
        self._non_positive.append((iso, "price <= 0 stored as sent: " + ", ".join(bad)))

    def _mend(self, text: str, bar: Bar, iso: str) -> str:
        """Prices that failed the fast check: strip trailing zeros, or judge one by one."""
        if self.canonical and "-" not in text and ROW_OK(text):
            return TRAILING_ZEROS.sub(keep_digits, text).replace("None", MISSING)
        return _prices_text(bar, self.symbol, iso)

    def _skip(self, iso: str, kind: str, detail: str) -> None:
        self.findings.append(Finding(self.symbol, dt.date.fromisoformat(iso), kind, detail))

    def chunk(self, bars: Iterable[Bar] | JudgedRows | BarColumns) -> BarChunk:
        """Judge ``bars``: the rows to store (nothing rounded); skipped ones become findings.

        Raises :class:`DataValidationError` only for a bug of the caller (see the module).
        The common chunk (every bar of this symbol, a new date up to today, five positive
        prices that are already what is stored, a volume in range) is judged column by
        column (:mod:`~data_nexus.storage.clean_chunks`; the prices of
        :class:`~data_nexus.bar_columns.BarColumns` as the provider's text, without
        building a ``Decimal``); any other goes row by row (:meth:`_by_rows`, the
        reference). All give the same rows.
        """
        if isinstance(bars, JudgedRows):
            return self._judged(bars.rows)
        symbol, dates, after, canonical = self.symbol, self.dates, self._after, self.canonical
        with paused():  # rows and their texts hold no cycles (see data_nexus.collector)
            if isinstance(bars, BarColumns):
                done = by_texts(bars, symbol, dates, after, canonical=canonical)
                if done is not None:
                    return done
                bars = bars.bars()
            elif not isinstance(bars, list | tuple):
                bars = list(bars)
            if bars:
                done = by_columns(bars, symbol, dates, after, canonical=canonical)
                if done is not None:
                    return done
            return self._by_rows(bars)

    def _by_rows(self, bars: Iterable[Bar]) -> BarChunk:
        """The reference: each bar judged on its own."""
        symbol, seen, row_ok, D, after = (
            self.symbol, self.dates, self._row_ok, Decimal, self._after
        )  # fmt: skip
        known = ISO
        out: list[BarRow] = []
        isos: list[str] = []
        for bar in bars:
            day = bar.date
            if type(day) is not dt.date:
                raise caller_bug(symbol, day, "date", f"{day!r} is not a date")
            iso = known.get(day) or iso_of(day)
            if bar.symbol != symbol:
                raise caller_bug(symbol, iso, "symbol", f"the bar belongs to {bar.symbol!r}")
            if iso in seen:
                raise DataValidationError(f"{symbol} {iso}: more than one bar for this date")
            seen.add(iso)
            if iso > after:
                self._skip(iso, "future_bar", f"dated after the exchange's today {after}")
                continue
            o, h, lo, c, a, v = (
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.adjusted_close,
                bar.volume,
            )
            try:
                if (
                    type(c) is D
                    and (type(o) is D or o is None)
                    and (type(h) is D or h is None)
                    and (type(lo) is D or lo is None)
                    and (type(a) is D or a is None)
                ):
                    text = f"{o!s}\t{h!s}\t{lo!s}\t{c!s}\t{a!s}"
                    if not row_ok(text):
                        text = self._mend(text, bar, iso)
                    elif "N" in text:
                        text = text.replace("None", MISSING)
                else:
                    text = _prices_text(bar, symbol, iso)
                if not (type(v) is int and 0 <= v <= BIGINT_MAX):
                    v = _volume(v, symbol, iso)
            except Skip as skip:
                self._skip(iso, skip.kind, skip.detail)
                continue
            # A sign, a zero or a missing price: look closer (rare, so cheap on the whole).
            if ("-" in text or not (c and o and h and lo and a)) and _non_positive(text):
                self._flag_non_positive(iso, text)
            isos.append(iso)
            out.append((iso, text, v))
        return BarChunk(out, min(isos, default=None), max(isos, default=None))

    def _judged(self, rows: list[BarRow]) -> BarChunk:
        """Rows judged column-wise already: only dates sent twice and future bars to check."""
        isos = [row[0] for row in rows]
        fresh, seen = set(isos), self.dates
        if len(fresh) != len(isos) or not fresh.isdisjoint(seen):
            twice = next(iso for iso, n in Counter(isos).items() if n > 1 or iso in seen)
            raise DataValidationError(f"{self.symbol} {twice}: more than one bar for this date")
        seen |= fresh
        if isos and max(isos) > self._after:
            for iso in isos:
                if iso > self._after:
                    self._skip(iso, "future_bar", f"dated after the exchange's today {self._after}")
            rows = [row for row in rows if row[0] <= self._after]
            isos = [row[0] for row in rows]
        return BarChunk(rows, min(isos, default=None), max(isos, default=None))

    def rows(self, bars: Iterable[Bar] | JudgedRows | BarColumns) -> list[BarRow]:
        """Judge ``bars`` and return the rows to store."""
        rows = self.chunk(bars).rows
        return rows.built() if isinstance(rows, ColumnRows) else rows


def _non_positive(text: str) -> bool:
    """Whether a row's price text holds a price <= 0 (a missing one does not count)."""
    return any(p != MISSING and Decimal(p) <= _ZERO for p in text.split("\t"))


def _prices_text(bar: Bar, symbol: str, iso: str) -> str:
    """The slow path: each price on its own, canonical, :data:`MISSING` where absent."""
    close: object = bar.close  # typed Decimal, but a caller may build a bar without one
    if close is None:
        present = [name for name in PRICE_FIELDS if getattr(bar, name) is not None]
        raise Skip(
            "no_prices",
            "close: missing" + (f" ({', '.join(present)} sent)" if present else ", no prices"),
        )
    parts = []
    for name in PRICE_FIELDS:
        value = getattr(bar, name)
        parts.append(
            MISSING if value is None else decimal_text(value, symbol=symbol, day=iso, field=name)
        )
    return "\t".join(parts)


def split_prices(text: str) -> tuple[str | None, ...]:
    """A row's price text back into the five values (``None`` where missing)."""
    return tuple(None if p == MISSING else p for p in text.split("\t"))


def validate_bars(
    symbol: str, bars: Iterable[Bar], *, today: dt.date | None = None
) -> list[BarRow]:
    """Judge all of ``symbol``'s ``bars``; return the rows to store (see :data:`BarRow`)."""
    return BarValidator(symbol, today=today).rows(bars)
