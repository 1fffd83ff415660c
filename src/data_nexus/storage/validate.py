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
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Any, overload

from data_nexus.collector import paused
from data_nexus.decimals import canonical, decimal_places
from data_nexus.errors import DataValidationError
from data_nexus.models import ACTION_TYPES
from data_nexus.records import Bar, Dividend, Finding, Split
from data_nexus.types import AMOUNT_SCALE

_ZERO = Decimal(0)
#: The sane range of a price or an amount: ``|x| < 10^15``, at most 30 decimal places. The
#: columns hold far more; beyond this a value is garbage, not a quote.
VALUE_LIMIT = Decimal(10) ** 15
MAX_PLACES = 30
BIGINT_MAX = 2**63 - 1
#: Longest texts of the ``corporate_actions`` columns (PostgreSQL would raise on more).
TEXT_LIMITS = {"currency": 8, "period": 32}
#: Asset types (``assets.asset_type``, compared case-insensitively) on which a price <= 0
#: is a finding: a share or a fund cannot trade for nothing; futures, spreads and some
#: indices can and do go negative.
POSITIVE_TYPES = frozenset({"common stock", "etf"})

#: A missing price in a row's price text (also ``COPY``'s text-format NULL).
MISSING = "\\N"
PRICE_FIELDS = ("open", "high", "low", "close", "adjusted_close")
#: A validated bar: (ISO date, its five prices in :data:`PRICE_FIELDS` order as exact
#: decimal text joined by tabs, :data:`MISSING` where absent, volume or ``None``).
BarRow = tuple[str, str, int | None]


class Skip(Exception):
    """A value that cannot be stored: its record is skipped with a finding of ``kind``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def _fail(symbol: str, day: object, field: str, message: str) -> DataValidationError:
    return DataValidationError(f"{symbol} {day} {field}: {message}")


def decimal_text(value: object, *, symbol: str, day: object, field: str) -> str:
    """The canonical text of an exact ``value`` in the sane range.

    Raises :class:`DataValidationError` for floats and other non-decimals (a bug of the
    caller) and :class:`Skip` (kind ``out_of_range``) for a non-finite value, ``|x| >=
    10^15`` or more than 30 decimal places.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise _fail(
            symbol, day, field, f"{value!r} is a {type(value).__name__}, not an exact Decimal"
        )
    if not value.is_finite():
        raise Skip("out_of_range", f"{field}: {value} is not a finite number")
    if abs(value) >= VALUE_LIMIT:
        raise Skip("out_of_range", f"{field}: {value} is outside the sane range |x| < 10^15")
    places = decimal_places(value)
    if places > MAX_PLACES:
        raise Skip("out_of_range", f"{field}: {value} has {places} decimal places (more than 30)")
    return canonical(value)


def _volume(value: object, symbol: str, day: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(symbol, day, "volume", f"{value!r} is not an integer")
    if value < 0:
        raise Skip("out_of_range", f"volume: {value} is negative")
    if value > BIGINT_MAX:
        raise Skip("out_of_range", f"volume: {value} is above BIGINT's 2^63-1")
    return value


# The fast path checks a whole row's prices with one regular expression over their text:
# an optional sign, at most 15 digits before the point and 30 after is exactly "|x| < 10^15
# with at most 30 decimal places". The canonical variant also refuses trailing zeros and
# "-0", so what passes is already the text SQLite stores. Every price but the close may be
# missing ("None" in the text, then written as MISSING).
_PLAIN = r"-?[0-9]{1,15}(?:\.[0-9]{1,30})?"
_CANONICAL = r"(?:0|-?(?:[1-9][0-9]{0,14}(?:\.[0-9]{0,29}[1-9])?|0\.[0-9]{0,29}[1-9]))"


def _row_pattern(price: str) -> Callable[[str], re.Match[str] | None]:
    optional = f"(?:{price}|None)"
    return re.compile("\t".join([optional, optional, optional, price, optional])).fullmatch


_ROW_OK = _row_pattern(_PLAIN)
_CANONICAL_ROW_OK = _row_pattern(_CANONICAL)


def _rows_pattern(price: str) -> Callable[[str], re.Match[str] | None]:
    # Rows of five present prices, each row ended by a newline: a whole chunk at once. No
    # row holds a newline, so the possessive repeat never needs to give a row back.
    row = "\t".join([price] * 5)
    return re.compile(f"(?:{row}\n)*+").fullmatch


# The same sets of texts as _PLAIN and _CANONICAL without a sign (a row with one never
# takes this path), written so that nothing is ever tried twice: possessive digits, and
# "the last decimal is not 0" as a look-behind instead of backtracking.
_ROWS_OK = _rows_pattern(r"[0-9]{1,15}+(?:\.[0-9]{1,30}+)?+")
_CANONICAL_ROWS_OK = _rows_pattern(r"(?:0|[1-9][0-9]{0,14}+)(?:\.[0-9]{1,30}+(?<=[1-9]))?+")
_TRAILING_ZEROS = re.compile(r"\.([0-9]*?)0+(?=\t|$)")
_TRAILING_ZEROS_ROWS = re.compile(r"\.([0-9]*?)0+(?=[\t\n])")


def _keep_digits(match: re.Match[str]) -> str:
    return "." + match.group(1) if match.group(1) else ""


#: ISO text of the dates seen lately: every symbol trades on the same few thousand days, and
#: a dictionary hit costs a tenth of ``date.isoformat()``.
_ISO_MAX = 50_000


class _Isos(dict[dt.date, str]):
    def __missing__(self, day: dt.date) -> str:
        text = self[day] = day.isoformat()
        return text


_ISO = _Isos()


def _iso(day: dt.date) -> str:
    if len(_ISO) >= _ISO_MAX:
        _ISO.clear()
    return _ISO[day]


#: A bar's fields in the order the column-wise check takes them apart.
_FIELDS = attrgetter("symbol", "date", "open", "high", "low", "close", "adjusted_close", "volume")


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


@dataclass(frozen=True, slots=True)
class BarChunk:
    """Validated rows of one chunk of bars, with their smallest and largest ISO date."""

    rows: list[BarRow]
    first: str | None
    last: str | None


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
        self._row_ok = _CANONICAL_ROW_OK if canonical else _ROW_OK
        self._rows_ok = _CANONICAL_ROWS_OK if canonical else _ROWS_OK
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
        if self.canonical and "-" not in text and _ROW_OK(text):
            return _TRAILING_ZEROS.sub(_keep_digits, text).replace("None", MISSING)
        return _prices_text(bar, self.symbol, iso)

    def _skip(self, iso: str, kind: str, detail: str) -> None:
        self.findings.append(Finding(self.symbol, dt.date.fromisoformat(iso), kind, detail))

    def chunk(self, bars: Iterable[Bar] | JudgedRows) -> BarChunk:
        """Judge ``bars``: the rows to store (nothing rounded); skipped ones become findings.

        Raises :class:`DataValidationError` only for a bug of the caller (see the module).
        The common chunk (every bar of this symbol, a new date up to today, five positive
        prices that are already what is stored, a volume in range) is judged column by
        column (:meth:`_by_columns`); any other goes row by row (:meth:`_by_rows`, the
        reference). Both give the same rows.
        """
        if isinstance(bars, JudgedRows):
            return self._judged(bars.rows)
        if not isinstance(bars, list | tuple):
            bars = list(bars)
        with paused():  # rows and their texts hold no cycles (see data_nexus.collector)
            if bars:
                done = self._by_columns(bars)
                if done is not None:
                    return done
            return self._by_rows(bars)

    def _by_columns(self, bars: Sequence[Bar]) -> BarChunk | None:
        """The rows of ``bars`` when every bar passes without a question, checked a column
        at a time (C loops and one regular expression over the chunk's price text); ``None``
        (nothing recorded) when any bar needs a closer look."""
        symbols, days, o, h, lo, c, a, volumes = zip(*map(_FIELDS, bars), strict=True)
        if set(map(type, days)) != {dt.date} or set(symbols) != {self.symbol}:
            return None
        prices = (o, h, lo, c, a)
        decimal = {Decimal}
        if any(set(map(type, column)) != decimal or not all(column) for column in prices):
            return None  # a missing, zero or inexact price (all(): no zero)
        if set(map(type, volumes)) != {int} or min(volumes) < 0 or max(volumes) > BIGINT_MAX:
            return None
        if len(_ISO) >= _ISO_MAX:
            _ISO.clear()
        isos = list(map(_ISO.__getitem__, days))
        first, last = min(isos), max(isos)
        unique = set(isos)
        if last > self._after or len(unique) != len(isos) or not self.dates.isdisjoint(unique):
            return None
        texts = list(map("\t".join, zip(*(map(str, column) for column in prices), strict=True)))
        text = "\n".join(texts) + "\n"
        if "-" in text:
            return None  # a sign: a closer look
        if not self._rows_ok(text):
            if not (self.canonical and _ROWS_OK(text)):
                return None  # a price to skip, or to judge on its own
            # as _mend does row by row: only trailing zeros stand between these and canonical
            texts = _TRAILING_ZEROS_ROWS.sub(_keep_digits, text).split("\n")
            texts.pop()  # after the last newline
        self.dates |= unique
        return BarChunk(list(zip(isos, texts, volumes, strict=True)), first, last)

    def _by_rows(self, bars: Iterable[Bar]) -> BarChunk:
        """The reference: each bar judged on its own."""
        symbol, seen, row_ok, D, after = (
            self.symbol, self.dates, self._row_ok, Decimal, self._after
        )  # fmt: skip
        iso_of = _ISO
        out: list[BarRow] = []
        isos: list[str] = []
        for bar in bars:
            day = bar.date
            if type(day) is not dt.date:
                raise _fail(symbol, day, "date", f"{day!r} is not a date")
            iso = iso_of.get(day) or _iso(day)
            if bar.symbol != symbol:
                raise _fail(symbol, iso, "symbol", f"the bar belongs to {bar.symbol!r}")
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

    def rows(self, bars: Iterable[Bar] | JudgedRows) -> list[BarRow]:
        """Judge ``bars`` and return the rows to store."""
        return self.chunk(bars).rows


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


# --- corporate actions ----------------------------------------------------------------------

#: Columns of ``corporate_actions`` in the order of an action row; the first four are the key.
ACTION_COLUMNS = (
    "symbol",
    "date",
    "action_type",
    "seq",
    "value",
    "numerator",
    "denominator",
    "unadjusted_value",
    "currency",
    "declaration_date",
    "record_date",
    "payment_date",
    "period",
)
ACTION_KEY = ACTION_COLUMNS[:4]
ACTION_VALUES = ACTION_COLUMNS[4:]


def split_value(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded half-even to 12 places, computed exactly."""
    scaled = Fraction(numerator) / Fraction(denominator) * 10**AMOUNT_SCALE
    return Decimal(round(scaled)).scaleb(-AMOUNT_SCALE)


def _amount(value: object, symbol: str, day: object, field: str, kind: str) -> Decimal:
    try:
        text = decimal_text(value, symbol=symbol, day=day, field=field)
    except Skip as skip:
        raise Skip(kind, skip.detail) from None
    number = Decimal(text)
    if number < _ZERO:
        raise Skip(kind, f"{field}: {value} is negative")
    return number


def action_row(symbol: str, action: Split | Dividend) -> dict[str, Any]:
    """Judge one corporate action and map it to a ``corporate_actions`` row (``seq`` 0).

    Raises :class:`Skip` for an action that cannot be stored, :class:`DataValidationError`
    for a bug of the caller.
    """
    day = action.date
    if type(day) is not dt.date:
        raise _fail(symbol, day, "date", f"{day!r} is not a date")
    if action.symbol != symbol:
        raise _fail(symbol, day, "symbol", f"the action belongs to {action.symbol!r}")
    if action.action_type not in ACTION_TYPES:
        kind = action.action_type
        raise _fail(symbol, day, "action_type", f"{kind!r} is not one of {ACTION_TYPES}")
    row: dict[str, Any] = dict.fromkeys(ACTION_COLUMNS)
    row.update(symbol=symbol, date=day, action_type=action.action_type, seq=0)
    if isinstance(action, Split):
        numerator = _amount(action.numerator, symbol, day, "numerator", "bad_split")
        denominator = _amount(action.denominator, symbol, day, "denominator", "bad_split")
        ratio = f"{action.numerator}/{action.denominator}"  # as sent
        if numerator == 0 or denominator == 0:
            raise Skip("bad_split", f"split: {ratio} is not a ratio")
        value = split_value(numerator, denominator)
        if value == 0 or value >= VALUE_LIMIT:
            raise Skip("bad_split", f"split: {ratio} is outside any sane ratio")
        row.update(numerator=numerator, denominator=denominator, value=value)
        return row
    if action.value is None:
        raise Skip("bad_action", "value: missing amount")
    row["value"] = _amount(action.value, symbol, day, "value", "bad_action")
    if action.unadjusted_value is not None:
        row["unadjusted_value"] = _amount(
            action.unadjusted_value, symbol, day, "unadjusted_value", "bad_action"
        )
    for name in ("declaration_date", "record_date", "payment_date"):
        when = getattr(action, name)
        if when is not None and type(when) is not dt.date:
            raise _fail(symbol, day, name, f"{when!r} is not a date")
        row[name] = when
    for name, limit in TEXT_LIMITS.items():
        text = getattr(action, name)
        if text is not None and len(text) > limit:
            raise Skip("bad_action", f"{name}: {text!r} is longer than {limit} characters")
        row[name] = text
    return row


def _sort_key(row: dict[str, Any]) -> tuple[str, ...]:
    """A stable order of the actions of one (date, type): by their values as text."""
    return tuple("" if row[c] is None else str(row[c]) for c in ACTION_VALUES)


def judge_actions(
    symbol: str, actions: Sequence[Split | Dividend]
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Judge ``symbol``'s corporate actions: the rows to store and the findings.

    Exact duplicates are stored once (a ``duplicate_action`` finding); different actions of
    one type on one ex-date are all stored, numbered ``seq`` 0, 1, … in the order of their
    values (so the numbering does not depend on the provider's order), and two different
    splits on one day are also a ``conflicting_splits`` finding.
    """
    findings: list[Finding] = []
    groups: dict[tuple[dt.date, str], dict[tuple[str, ...], dict[str, Any]]] = {}
    for action in actions:
        try:
            row = action_row(symbol, action)
        except Skip as skip:
            findings.append(Finding(symbol, action.date, skip.kind, skip.detail))
            continue
        group = groups.setdefault((row["date"], row["action_type"]), {})
        key = _sort_key(row)
        if key in group:
            detail = f"{row['action_type']} sent twice: stored once"
            findings.append(Finding(symbol, row["date"], "duplicate_action", detail))
            continue
        group[key] = row
    rows: list[dict[str, Any]] = []
    for (day, kind), group in sorted(groups.items()):
        ordered = [group[key] for key in sorted(group)]
        for seq, row in enumerate(ordered):
            row["seq"] = seq
            rows.append(row)
        if kind == "split" and len(ordered) > 1:
            ratios = ", ".join(f"{r['numerator']}/{r['denominator']}" for r in ordered)
            detail = f"{len(ordered)} different splits on one ex-date, all stored: {ratios}"
            findings.append(Finding(symbol, day, "conflicting_splits", detail))
    return rows, findings


def validate_actions(symbol: str, actions: Sequence[Split | Dividend]) -> list[dict[str, Any]]:
    """The rows :func:`judge_actions` would store (findings dropped)."""
    return judge_actions(symbol, actions)[0]
