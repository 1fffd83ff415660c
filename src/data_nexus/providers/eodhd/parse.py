"""Pure parsers: EODHD price and corporate-action bodies (bytes) → typed records.

No I/O here. Every parser returns a :class:`~data_nexus.records.Parsed` (records sorted by
date ascending, plus one-line warnings) or raises :class:`~data_nexus.errors.BadResponse`
naming the symbol, the field and a short redacted excerpt. :class:`MalformedBody` (a
``BadResponse``) marks bodies that are not the format asked for at all (truncated or garbled
JSON, HTML, plain text): the client retries those as transport corruption, but never a
well-formed body with bad values.

What is tolerated, following ``eodhd-api.md``:

- numbers exactly as sent (``Decimal`` from the text, never through ``float``), whole numbers
  without a decimal point, numbers sent as strings, ``null``/``""`` for missing values;
- all-zero rows (every price field 0, listed but not traded): skipped, with one warning
  counting them;
- **fractional volume** (six rows in a US bulk file had e.g. ``530131.7``): ``volume`` is
  stored as a BIGINT, so it is rounded half-even to a whole share and a warning names the
  symbol, the date and the value as sent; ``null`` volume stays ``None``;
- the free plan's ``warning`` (a separate last array element, or a ``warning`` key on the
  last data row): surfaced in ``Parsed.warnings``;
- CSV bodies with or without a trailing non-data line.

- **negative prices** (WTI settled at -37.63 on 2020-04-20; spreads, some indices) and
  prices far below 1E-8 (crypto): kept exactly as sent;
- volumes up to BIGINT's 2^63-1.

Rows and actions are judged one by one: a row of a well-formed body that cannot become a
record is skipped with a :class:`~data_nexus.records.Finding` in ``Parsed.findings``, and
the rest of the body is used. Such rows: no close (``no_prices``), a number outside any sane
range (``out_of_range``: ``|x| >= 1E16``, more than 30 decimal places), an unparseable
number, a missing or invalid date (``0000-00-00``), a negative volume (``bad_bar``); an
impossible split ratio (``1/0``, ``0/1``, negative, empty: ``bad_split``); a dividend with a
missing or negative amount or a bad date (``bad_action``). Several actions on one date are
all returned (exact duplicates too): :func:`data_nexus.storage.validate.judge_actions`
stores duplicates once and keeps two different dividends of one ex-date.

What rejects the whole body: a body that is not the format asked for (:class:`MalformedBody`),
a JSON shape that is not an array of objects, and two bars of one symbol on one date (which
of them is right cannot be judged).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeVar

from data_nexus.errors import BadResponse, MalformedBody
from data_nexus.providers.eodhd._bars import bulk_bars, eod_bars
from data_nexus.providers.eodhd._compact import compact_bulk, compact_eod
from data_nexus.providers.eodhd._csv import read_rows
from data_nexus.providers.eodhd._fields import (
    Fields,
    duplicate,
    expect_list,
    expect_object,
    load_json,
    value_text,
)
from data_nexus.records import Bar, Dividend, Finding, Parsed, Split
from data_nexus.redact import redact

Format = Literal["json", "csv"]
R = TypeVar("R", Bar, Split, Dividend)

_PRICE_KEYS = ("open", "high", "low", "close", "adjusted_close")
_EOD_COLUMNS = ("date", "open", "high", "low", "close", "adjusted_close", "volume")
_NUM = r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))"
_RATIO = re.compile(rf"\s*{_NUM}\s*[/:]\s*{_NUM}\s*")
_WARNING_KEY = "warning"
_MAX_NAMED = 5


def parse_eod(
    body: bytes, symbol: str, *, fmt: Format = "json", secrets: Iterable[str] = ()
) -> Parsed[Bar]:
    """Daily bars of ``symbol`` from a ``/api/eod/{SYMBOL}`` body (JSON or CSV).

    ``secrets`` are masked in any excerpt an error quotes (the client passes its token).
    A body in EODHD's compact JSON is read by :mod:`._compact`; plain rows of any other
    body by :mod:`._bars`; every other row by the careful code below. All three give the
    same records, warnings and errors.
    """
    acc = _Acc(secrets)
    bars: Sequence[Bar] | None = None
    if fmt == "json":
        bars = compact_eod(body, symbol, zero_rows=acc.zero_rows, secrets=acc.secrets)
    if bars is None:
        rows = _rows(body, symbol, fmt, _EOD_COLUMNS, "bars", secrets=acc.secrets)

        def careful(row: Mapping[str, Any]) -> tuple[Bar, str] | None:
            return _careful(symbol, row, acc, lambda f, _row: _bar(f, symbol, acc))

        bars = eod_bars(rows, symbol, careful, zero_rows=acc.zero_rows, secrets=acc.secrets)
    return Parsed(bars, acc.finish(symbol), acc.findings)


def parse_splits(
    body: bytes, symbol: str, *, fmt: Format = "json", secrets: Iterable[str] = ()
) -> Parsed[Split]:
    """Splits of ``symbol`` from a ``/api/splits/{SYMBOL}`` body (JSON or CSV).

    ``"4.000000/1.000000"`` becomes numerator ``4.000000`` and denominator ``1.000000``
    exactly as sent; reverse (``1.000000/20.000000``) and odd ratios are kept as they are.
    """
    rows = _rows(body, symbol, fmt, ("date", "split"), "splits", secrets=secrets)
    acc = _Acc(secrets, kind="bad_split")
    splits = _unique(symbol, rows, acc, lambda f, _row: _split(f, symbol), _by_date, many=True)
    return Parsed(splits, acc.finish(symbol), acc.findings)


def parse_dividends(
    body: bytes, symbol: str, *, fmt: Format = "json", secrets: Iterable[str] = ()
) -> Parsed[Dividend]:
    """Dividends of ``symbol`` from a ``/api/div/{SYMBOL}`` body (JSON or CSV).

    Old rows without declaration/record/payment dates or period (``null``, ``""`` or absent)
    are fine; amounts may be numbers or strings. The two-column CSV (``Date,Dividends``) maps
    its amount to ``value``.
    """
    rows = _rows(body, symbol, fmt, ("date", "value"), "dividends", secrets=secrets)
    acc = _Acc(secrets, kind="bad_action")
    dividends = _unique(
        symbol, rows, acc, lambda f, _row: _dividend(f, symbol), _by_date, many=True
    )
    return Parsed(dividends, acc.finish(symbol), acc.findings)


def parse_bulk_eod(
    body: bytes, exchange: str, *, fmt: Format = "json", secrets: Iterable[str] = ()
) -> Parsed[Bar]:
    """One day of bars for a whole exchange from ``/api/eod-bulk-last-day/{EXCHANGE}``.

    Each bar's symbol is ``CODE.EXCHANGE``, the exchange taken from the row's
    ``exchange_short_name`` (CSV ``Ex``) or else ``exchange``. Extra keys (``filter=extended``,
    ``Prev_close`` …) are ignored. Records are sorted by date, then symbol.
    """
    acc = _Acc(secrets)
    bars = None
    if fmt == "json":
        bars = compact_bulk(body, exchange, zero_rows=acc.zero_rows, secrets=acc.secrets)
    if bars is None:
        columns = ("code", "exchange_short_name", *_EOD_COLUMNS)
        rows = _rows(body, exchange, fmt, columns, "bars", secrets=acc.secrets)

        def build(fields: Fields, _row: Mapping[str, Any]) -> Bar | None:
            return _bar(fields, _bulk_symbol(fields, exchange, "exchange_short_name"), acc)

        def careful(row: Mapping[str, Any]) -> tuple[Bar, str] | None:
            return _careful(exchange, row, acc, build)

        bars = bulk_bars(rows, exchange, careful, zero_rows=acc.zero_rows, secrets=acc.secrets)
    return Parsed(bars, acc.finish(f"bulk {exchange}"), acc.findings)


def parse_bulk_splits(
    body: bytes, exchange: str, *, fmt: Format = "json", secrets: Iterable[str] = ()
) -> Parsed[Split]:
    """One day of splits for an exchange (``type=splits``): rows ``code, exchange, date, split``."""
    columns = ("code", "exchange", "date", "split")
    rows = _rows(body, exchange, fmt, columns, "splits", secrets=secrets)
    acc = _Acc(secrets, kind="bad_split")
    splits = _unique(
        exchange,
        rows,
        acc,
        lambda f, _row: _split(f, _bulk_symbol(f, exchange, "exchange")),
        _by_date_symbol,
        many=True,
    )
    return Parsed(splits, acc.finish(f"bulk {exchange}"), acc.findings)


def parse_bulk_dividends(
    body: bytes, exchange: str, *, fmt: Format = "json", secrets: Iterable[str] = ()
) -> Parsed[Dividend]:
    """One day of dividends for an exchange (``type=dividends``).

    The amount key is ``dividend`` (``value`` is accepted too); amounts arrive as strings
    (``"0.27000"``) or numbers; missing dates as ``null`` or ``""``.
    """
    columns = ("code", "exchange", "date", "value")
    rows = _rows(body, exchange, fmt, columns, "dividends", secrets=secrets)
    acc = _Acc(secrets, kind="bad_action")
    dividends = _unique(
        exchange,
        rows,
        acc,
        lambda f, _row: _dividend(f, _bulk_symbol(f, exchange, "exchange")),
        _by_date_symbol,
        many=True,
    )
    return Parsed(dividends, acc.finish(f"bulk {exchange}"), acc.findings)


# --- internals ------------------------------------------------------------------------------


class _Acc:
    """Warnings and findings gathered while parsing one body.

    ``kind`` is the finding kind of a row that cannot be read (``bad_bar``, ``bad_split``,
    ``bad_action``); a bar without a close is ``no_prices``, a number out of range
    ``out_of_range``.
    """

    def __init__(self, secrets: Iterable[str], *, kind: str = "bad_bar") -> None:
        self.secrets = tuple(secrets)
        self.kind = kind
        self.warnings: list[str] = []
        self.zero_rows: list[str] = []
        self.findings: list[Finding] = []

    def skip(self, where: str, fields: Fields, error: BadResponse) -> None:
        """Record the row ``fields`` as skipped for ``error`` (one finding)."""
        reason = str(error).split(" (", 1)[0]
        kind = self.kind
        if self.kind == "bad_bar" and reason.startswith("missing close"):
            kind = "no_prices"
        elif self.kind == "bad_bar" and reason.startswith("number out of range"):
            kind = "out_of_range"
        detail = f"{error.field}: {reason}, sent {error.excerpt}"
        self.findings.append(Finding(fields.symbol or where, fields.day, kind, detail))

    def finish(self, where: str) -> list[str]:
        """The warnings, with one line counting the skipped all-zero rows."""
        if self.zero_rows:
            named = ", ".join(self.zero_rows[:_MAX_NAMED])
            more = len(self.zero_rows) - _MAX_NAMED
            tail = f" (+{more} more)" if more > 0 else ""
            self.warnings.append(
                f"{where}: skipped {len(self.zero_rows)} all-zero row(s) "
                f"(listed but not traded): {named}{tail}"
            )
        return self.warnings


def _rows(
    body: bytes,
    where: str,
    fmt: Format,
    columns: tuple[str, ...],
    what: str,
    *,
    secrets: Iterable[str],
) -> list[dict[str, Any]]:
    secrets = tuple(secrets)
    if fmt == "csv":
        return list(read_rows(body, symbol=where, default_columns=columns, secrets=secrets))
    data = expect_list(
        load_json(body, symbol=where, secrets=secrets), symbol=where, what=what, secrets=secrets
    )
    for row in data:
        expect_object(row, symbol=where, what=what[:-1], secrets=secrets)
    return data


def _warning_only(where: str, row: Mapping[str, Any], acc: _Acc) -> bool:
    """Record a free-plan ``warning`` on ``row``; true if the row carries nothing else."""
    text = row.get(_WARNING_KEY)
    if text is not None:
        shown = text if isinstance(text, str) else value_text(text)
        acc.warnings.append(f"{where}: provider warning: {_one_line(shown, acc.secrets)}")
    return _WARNING_KEY in row and "date" not in row


def _by_date(record: Bar | Split | Dividend) -> Any:
    return record.date


def _by_date_symbol(record: Bar | Split | Dividend) -> Any:
    return (record.date, record.symbol)


def _unique(
    where: str,
    rows: Sequence[Mapping[str, Any]],
    acc: _Acc,
    build: Callable[[Fields, Mapping[str, Any]], R | None],
    key: Callable[[R], Any],
    *,
    many: bool = False,
) -> list[R]:
    """Build a record per row (skipping warning-only rows and ``None``); a second record
    with the same ``key`` is rejected, unless ``many`` (actions: judged at the write)."""
    records: list[R] = []
    seen: set[Any] = set()
    for row in rows:
        picked = _careful(where, row, acc, build)
        if picked is None:
            continue
        record, symbol = picked
        k = key(record)
        if k in seen and not many:
            raise duplicate(symbol, row, acc.secrets)
        seen.add(k)
        records.append(record)
    records.sort(key=key)
    return records


def _careful(
    where: str,
    row: Mapping[str, Any],
    acc: _Acc,
    build: Callable[[Fields, Mapping[str, Any]], R | None],
) -> tuple[R, str] | None:
    """The record of one row and the symbol that names it; ``None`` for a skipped row
    (warning-only, ``build`` said so, or a value of the row is bad: then a finding)."""
    if _warning_only(where, row, acc):
        return None
    fields = Fields(row, symbol=where, secrets=acc.secrets)
    try:
        record = build(fields, row)
    except MalformedBody:  # pragma: no cover - rows are parsed already; never per row
        raise
    except BadResponse as error:
        acc.skip(where, fields, error)
        return None
    if record is None:
        return None
    return record, fields.symbol or where


def _one_line(text: str, secrets: tuple[str, ...]) -> str:
    """Provider text for a warning: redacted, one line, at most 200 characters."""
    line = " ".join(redact(text, secrets).split())
    return line if len(line) <= 200 else line[:199] + "…"


def _bulk_symbol(fields: Fields, exchange: str, exchange_key: str) -> str:
    code = fields.code("code")
    suffix = fields.code(exchange_key) if fields.text(exchange_key) else exchange
    fields.symbol = f"{code}.{suffix}"
    return fields.symbol


def _bar(fields: Fields, symbol: str, acc: _Acc) -> Bar | None:
    fields.symbol = symbol
    day = fields.date()
    prices = {key: fields.number(key) for key in _PRICE_KEYS}  # negative ones are real
    close = prices["close"]
    if close is None:
        raise fields.fail("missing close", "close", fields.row.get("close"))
    volume, fraction = fields.volume()
    if all(p is None or p == 0 for p in prices.values()):
        acc.zero_rows.append(f"{symbol} {day.isoformat()}")
        return None
    if fraction is not None:
        acc.warnings.append(
            f"{symbol} {day.isoformat()}: fractional volume {fraction} rounded to {volume}"
        )
    return Bar(
        symbol=symbol,
        date=day,
        open=prices["open"],
        high=prices["high"],
        low=prices["low"],
        close=close,
        adjusted_close=prices["adjusted_close"],
        volume=volume,
    )


def _split(fields: Fields, symbol: str) -> Split:
    fields.symbol = symbol
    day = fields.date()
    raw = fields.row.get("split")
    numerator: Decimal | None
    denominator: Decimal | None
    if isinstance(raw, Decimal):  # a bare number n means n/1
        numerator, denominator = fields.number("split"), Decimal(1)
    else:
        match = _RATIO.fullmatch(raw) if isinstance(raw, str) else None
        if match is None:
            raise fields.fail("unparseable split ratio", "split", raw)
        numerator = _ratio_part(fields, match[1])
        denominator = _ratio_part(fields, match[2])
    if numerator is None or denominator is None or numerator <= 0 or denominator <= 0:
        raise fields.fail("split ratio must be positive", "split", raw)
    return Split(symbol=symbol, date=day, numerator=numerator, denominator=denominator)


def _ratio_part(fields: Fields, text: str) -> Decimal | None:
    part = Fields({"split": text}, symbol=fields.symbol, secrets=fields.secrets)
    part.when = fields.when
    return part.number("split")


def _dividend(fields: Fields, symbol: str) -> Dividend:
    fields.symbol = symbol
    day = fields.date()
    key = "dividend" if "dividend" in fields.row and "value" not in fields.row else "value"
    return Dividend(
        symbol=symbol,
        date=day,
        value=fields.required(key, "amount"),
        unadjusted_value=fields.non_negative("unadjustedValue", "amount"),
        currency=fields.text("currency"),
        declaration_date=fields.optional_date("declarationDate"),
        record_date=fields.optional_date("recordDate"),
        payment_date=fields.optional_date("paymentDate"),
        period=fields.text("period"),
    )
