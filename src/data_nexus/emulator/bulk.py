"""``/eod-bulk-last-day/{EXCHANGE}``: one day of a whole exchange.

Prices by default (keys ``code``, ``exchange_short_name``, ``date``, OHLC,
``adjusted_close``, ``volume``), ``type=splits`` or ``type=dividends`` for that day's
corporate actions (dividend amounts as strings, as in the live capture). ``date`` defaults
to the last trading day up to today; a malformed one is a 422 with Laravel's validation
body. ``symbols=`` filters prices; the US venues (NYSE, NASDAQ, BATS, AMEX) select part of US.
"""

from __future__ import annotations

import datetime as dt
import json

from data_nexus.emulator.adjustment import SymbolView
from data_nexus.emulator.dirt import DirtBook
from data_nexus.emulator.dirty_rows import csv_row, json_row
from data_nexus.emulator.exchanges import US_VENUES
from data_nexus.emulator.formats import (
    BULK_CSV_HEADER,
    BULK_DIVIDENDS_CSV_HEADER,
    BULK_SPLITS_CSV_HEADER,
    Columns,
    csv_table,
    dumps,
    json_array,
    split_text,
)
from data_nexus.emulator.market import Market
from data_nexus.emulator.messages import Request, Response, csv_response, json_response
from data_nexus.emulator.routing import Route, bulk_codes, duplicate_middle, fmt_of, weight


def bulk_response(
    market: Market,
    exchange: str,
    request: Request,
    mutation: str | None = None,
    dirt: DirtBook | None = None,
) -> tuple[Response, int]:
    """The answer to ``/eod-bulk-last-day/{exchange}``, and the calls it costs.

    Symbols with dirt (:mod:`.dirt`) show the same price row and splits as their ``/eod``
    and ``/splits`` answers do on that day (their dividends stay clean here).
    """
    dirt = dirt or DirtBook(market)
    date_text = request.param("date")
    day: dt.date | None = None
    if date_text:
        try:
            day = dt.date.fromisoformat(date_text.strip())
        except ValueError:
            errors = {"errors": {"date": ["The date does not match the format Y-m-d."]}}
            return json_response(dumps(errors), status=422), 0
    venue = US_VENUES.get(exchange) if "US" in market.exchange_codes else None
    code = "US" if venue else exchange
    kind = (request.param("type") or "").lower()
    fmt = fmt_of(request, "eod-bulk-last-day")
    rows: list[str] = []
    if code in market.exchange_codes:
        day = day or market.last_trading_day(code)
        profiles = market.traded_on(code, day)
        views = [
            market.view(p.symbol) for p in profiles if venue is None or p.listed.venue == venue
        ]
        if kind in ("splits", "dividends"):
            rows = _bulk_actions(views, code, day, kind, fmt, dirt=dirt)
        else:
            codes = set(bulk_codes(request))
            rows = _bulk_prices(views, code, day, codes=codes, fmt=fmt, mutation=mutation)
            rows = _dirty_prices(rows, views, code, day, codes=codes, fmt=fmt, dirt=dirt)
    if mutation == "duplicate_date":
        duplicate_middle(rows)
    if fmt == "json":
        body = json_response(json_array(rows))
    else:
        header = {"splits": BULK_SPLITS_CSV_HEADER, "dividends": BULK_DIVIDENDS_CSV_HEADER}
        body = csv_response(csv_table(header.get(kind, BULK_CSV_HEADER), rows))
    return body, weight(Route("eod-bulk-last-day", exchange), request)


def _bulk_prices(
    views: list[SymbolView],
    exchange: str,
    day: dt.date,
    *,
    codes: set[str],
    fmt: str,
    mutation: str | None,
) -> list[str]:
    found: list[tuple[str, Columns]] = []
    for view in views:
        code = view.symbol.rpartition(".")[0]
        row = view.row_on(day.toordinal())
        if row is not None and (not codes or code in codes):
            found.append((code, Columns.of(view, row, row + 1)))
    if mutation == "negative_price" and found:
        found[len(found) // 2][1].tamper(mutation)
    rows: list[str] = []
    for code, columns in found:
        if fmt == "json":
            prefix = f'"code":{json.dumps(code)},"exchange_short_name":"{exchange}",'
            rows += columns.json_rows(prefix)
        else:
            rows += columns.csv_rows(f"{code},{exchange},")
    return rows


def _dirty_prices(
    rows: list[str],
    views: list[SymbolView],
    exchange: str,
    day: dt.date,
    *,
    codes: set[str],
    fmt: str,
    dirt: DirtBook,
) -> list[str]:
    """``rows`` with each dirty symbol's row replaced by (or set to) its dirty row of ``day``."""
    dirty = [v for v in views if dirt.kind_of(v.symbol)]
    if not dirty:
        return rows
    keyed = {}
    for line in rows:
        # rows start with {"code":"CODE", (JSON) or CODE, (CSV); codes need no escaping
        code = line[9 : line.index('"', 9)] if fmt == "json" else line.partition(",")[0]
        keyed[code] = line
    for view in dirty:
        code = view.symbol.rpartition(".")[0]
        if codes and code not in codes:
            continue
        served, _ = dirt.eod_rows(view)
        found = [row for row in served if row[0] == day.isoformat()]
        keyed.pop(code, None)
        if found:
            if fmt == "json":
                prefix = f'"code":{json.dumps(code)},"exchange_short_name":"{exchange}",'
                keyed[code] = json_row(found[0], prefix)
            else:
                keyed[code] = csv_row(found[0], f"{code},{exchange},")
    return [keyed[code] for code in sorted(keyed)]


def _bulk_actions(
    views: list[SymbolView], exchange: str, day: dt.date, kind: str, fmt: str, *, dirt: DirtBook
) -> list[str]:
    rows: list[str] = []
    for view in views:
        code = view.symbol.rpartition(".")[0]
        if kind == "splits":
            served = [{"date": s.date, "split": split_text(s.numerator, s.denominator)}
                      for s in view.splits]  # fmt: skip
            if dirt.kind_of(view.symbol):
                dirt.split_rows(view, served)
            for split in (s for s in served if str(s["date"]) == day.isoformat()):
                ratio = str(split["split"])
                rows.append(
                    dumps({"code": code, "exchange": exchange, "date": day, "split": ratio})
                    if fmt == "json"
                    else f"{code},{exchange},{day},{ratio}"
                )
            continue
        for d in (d for d in view.dividends if d.date == day):
            amount = f"{d.value:.5f}" if d.value == round(d.value, 5) else str(d.value)
            unadjusted = f"{d.unadjusted_value or d.value:.10f}"
            record = {
                "code": code,
                "exchange": exchange,
                "date": day,
                "dividend": amount,
                "currency": d.currency,
                "declarationDate": d.declaration_date,
                "recordDate": d.record_date,
                "paymentDate": d.payment_date,
                "period": d.period,
                "unadjustedValue": unadjusted,
            }
            if fmt == "json":
                rows.append(dumps(record))
            else:
                rows.append(",".join("" if v is None else str(v) for v in record.values()))
    return rows
