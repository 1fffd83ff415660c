"""The single-symbol and list endpoints: ``/eod``, ``/splits``, ``/div``, the lists.

Handlers read the market and return a :class:`~data_nexus.emulator.messages.Response` plus
the calls to charge; authentication, limits and faults are the service's business. An
unknown symbol is a 404 ``Ticker Not Found.`` on ``/eod`` and ``Symbol not found`` on
``/splits`` and ``/div`` (charged, as the real API charges invalid symbols); an unknown
exchange gets an empty list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from data_nexus.emulator.adjustment import SymbolView
from data_nexus.emulator.bulk import bulk_response
from data_nexus.emulator.dirt import DirtBook
from data_nexus.emulator.dirt_serving import PLAN_WARNING
from data_nexus.emulator.dirty_rows import csv_row, json_row
from data_nexus.emulator.formats import (
    DIVIDENDS_CSV_HEADER,
    EOD_CSV_HEADER,
    SPLITS_CSV_HEADER,
    SYMBOLS_CSV_HEADER,
    Columns,
    RowCache,
    csv_quoted,
    csv_table,
    dumps,
    iso,
    json_array,
    split_text,
)
from data_nexus.emulator.market import Market
from data_nexus.emulator.messages import (
    SYMBOL_NOT_FOUND,
    TEXT,
    TICKER_NOT_FOUND,
    Request,
    Response,
    csv_response,
    json_response,
    text,
)
from data_nexus.emulator.routing import Route, duplicate_middle, fmt_of, ordinal_of
from data_nexus.records import Dividend, Split

_LAST = ("last_open", "last_high", "last_low", "last_close", "last_volume", "last_date")
_TYPES = {
    "common_stock": ("Common Stock",),
    "preferred_stock": ("Preferred Stock",),
    "stock": ("Common Stock", "Preferred Stock"),
    "etf": ("ETF",),
    "fund": ("FUND", "Mutual Fund"),
}


class Api:
    """The endpoint handlers over one market."""

    def __init__(self, market: Market, dirt: DirtBook | None = None) -> None:
        self.market = market
        self.dirt = dirt or DirtBook(market)
        self._cache = RowCache()

    def respond(
        self, found: Route, request: Request, mutation: str | None = None
    ) -> tuple[Response, int]:
        """The answer to an authorised request, and the API calls it costs."""
        target = found.target or ""
        match found.endpoint:
            case "eod":
                return self._eod(target, request, mutation)
            case "splits" | "div":
                return self._actions(found.endpoint, target, request, mutation)
            case "eod-bulk-last-day":
                return bulk_response(self.market, target, request, mutation, self.dirt)
            case "exchange-symbol-list":
                return self._symbol_list(target, request), 1
            case "exchanges-list":
                return self._exchanges(request), 1
        raise ValueError(f"no handler for {found.endpoint}")

    def warm(self, exchanges: Sequence[str]) -> int:
        """Render the whole daily history of every symbol of ``exchanges`` (JSON) and keep
        all of them; how many. Answers are the same, only computed before they are asked."""
        views = [
            self.market.view(listed.symbol)
            for exchange in exchanges
            for listed in self.market.symbols(exchange, include_delisted=True)
        ]
        self._cache.grow(len(views))
        for view in views:
            self._cache.rows(view, "json")
        return len(views)

    # --- /eod ---------------------------------------------------------------------------------

    def _eod(self, symbol: str, request: Request, mutation: str | None) -> tuple[Response, int]:
        try:
            view = self.market.view(symbol)
        except KeyError:
            return text(404, TICKER_NOT_FOUND), 1
        fmt = fmt_of(request, "eod")
        lo, hi = view.rows_between(
            ordinal_of(request.param("from")), ordinal_of(request.param("to"))
        )
        period = (request.param("period") or "d").lower()
        wanted = request.param("filter")
        if self.dirt.kind_of(view.symbol) and period not in ("w", "m") and wanted not in _LAST:
            return self._dirty_eod(view, request, fmt), 1
        columns: Columns | None = None
        if period in ("w", "m"):
            columns = _aggregate(view, lo, hi, period)
        elif mutation in ("negative_price", "duplicate_date") or wanted in _LAST:
            columns = Columns.of(view, lo, hi)
        if wanted in _LAST:
            assert columns is not None
            return self._last(columns, wanted or "", fmt), 1
        descending = (request.param("order") or "a").lower() == "d"
        if columns is None and not descending:  # the common case: one slice of cached text
            joined = self._cache.rows(view, fmt).joined(lo, hi)
            if fmt == "json":
                return json_response(f"[{joined}]"), 1
            return csv_response(
                f"{EOD_CSV_HEADER}\n{joined}\n" if joined else f"{EOD_CSV_HEADER}\n"
            ), 1
        if columns is None:
            rows = self._cache.rows(view, fmt).rows(lo, hi)
        else:
            columns.tamper(mutation)
            rows = columns.json_rows() if fmt == "json" else columns.csv_rows()
        if descending:
            rows = rows[::-1]
        if fmt == "json":
            return json_response(json_array(rows)), 1
        return csv_response(csv_table(EOD_CSV_HEADER, rows)), 1

    def _dirty_eod(self, view: SymbolView, request: Request, fmt: str) -> Response:
        """A daily ``/eod`` answer with the symbol's dirt (see :mod:`.dirt`)."""
        rows, warn = self.dirt.eod_rows(view)
        first, last = request.param("from"), request.param("to")
        first = iso(ordinal_of(first)) if ordinal_of(first) is not None else None
        last = iso(ordinal_of(last)) if ordinal_of(last) is not None else None
        rows = [r for r in rows if (not first or r[0] >= first) and (not last or r[0] <= last)]
        if (request.param("order") or "a").lower() == "d":
            rows.reverse()
        if fmt == "csv":
            return csv_response(csv_table(EOD_CSV_HEADER, [csv_row(row) for row in rows]))
        objects = [json_row(row) for row in rows]
        if warn and objects:
            objects[-1] = json_row(rows[-1], warning=PLAN_WARNING)
        return json_response(json_array(objects))

    @staticmethod
    def _last(columns: Columns, wanted: str, fmt: str) -> Response:
        """``filter=last_close`` and friends: the bare value of the last row in range."""
        if not len(columns):
            return json_response("[]")
        day, opened, high, low, close, _, volume = columns.values(len(columns) - 1)
        body = {
            "last_open": opened,
            "last_high": high,
            "last_low": low,
            "last_close": close,
            "last_volume": str(volume),
            "last_date": day,
        }[wanted]
        if fmt == "json":
            return json_response(json.dumps(body) if wanted == "last_date" else body)
        return Response(200, body.encode(), TEXT)

    # --- /splits, /div --------------------------------------------------------------------

    def _actions(
        self, endpoint: str, symbol: str, request: Request, mutation: str | None
    ) -> tuple[Response, int]:
        try:
            view = self.market.view(symbol)
        except KeyError:
            return text(404, SYMBOL_NOT_FOUND), 1
        first, last = ordinal_of(request.param("from")), ordinal_of(request.param("to"))
        rows = [_action_row(a) for a in (view.splits if endpoint == "splits" else view.dividends)]
        if self.dirt.kind_of(view.symbol):
            add = self.dirt.split_rows if endpoint == "splits" else self.dirt.dividend_rows
            add(view, rows)

        def wanted(row: dict[str, object]) -> bool:
            ordinal = ordinal_of(str(row["date"]))
            if ordinal is None:  # a date written as zeros: the real API sends those too
                return True
            return (first is None or ordinal >= first) and (last is None or ordinal <= last)

        rows = [row for row in rows if wanted(row)]
        if mutation == "duplicate_date":
            duplicate_middle(rows)
        elif mutation == "negative_price" and rows and "value" in rows[0]:
            row = dict(rows[len(rows) // 2])
            row["value"] = -abs(Decimal(str(row["value"])))
            rows[len(rows) // 2] = row
        if fmt_of(request, endpoint) == "json":
            return json_response(dumps(rows)), 1
        if endpoint == "splits":
            lines = [f"{r['date']},{r['split']}" for r in rows]
            return csv_response(csv_table(SPLITS_CSV_HEADER, lines)), 1
        lines = [f"{r['date']},{'' if r['value'] is None else dumps(r['value'])}" for r in rows]
        return csv_response(csv_table(DIVIDENDS_CSV_HEADER, lines)), 1

    # --- lists ------------------------------------------------------------------------------

    def _symbol_list(self, exchange: str, request: Request) -> Response:
        if request.param("delisted") in ("1", "true"):
            listed = self.market.delisted_symbols(exchange)
        else:
            listed = self.market.symbols(exchange)
        wanted = _TYPES.get((request.param("type") or "").lower())
        rows = [
            {
                "Code": self.dirt.listed_code(s.symbol, s.code),
                "Name": s.name,
                "Country": s.country,
                "Exchange": s.venue,
                "Currency": s.currency,
                "Type": s.asset_type,
                "Isin": s.isin,
            }
            for s in listed
            if wanted is None or s.asset_type in wanted
        ]
        if fmt_of(request, "exchange-symbol-list") == "json":
            return json_response(dumps(rows))
        lines = [",".join(csv_quoted(v) for v in row.values()) for row in rows]
        return csv_response(csv_table(SYMBOLS_CSV_HEADER, lines))

    def _exchanges(self, request: Request) -> Response:
        rows = [
            {
                "Name": e.name,
                "Code": e.code,
                "OperatingMIC": ", ".join(e.operating_mics) or None,
                "Country": e.country,
                "Currency": e.currency,
                "CountryISO2": e.country_iso2,
                "CountryISO3": e.country_iso3,
            }
            for e in self.market.exchanges()
        ]
        if fmt_of(request, "exchanges-list") == "json":
            return json_response(dumps(rows))
        lines = [",".join(csv_quoted(v) for v in row.values()) for row in rows]
        return csv_response(csv_table(",".join(rows[0]) if rows else "", lines))


def _action_row(action: Split | Dividend) -> dict[str, object]:
    """A ``/splits`` or ``/div`` JSON object, keys in EODHD's order."""
    if isinstance(action, Split):
        return {"date": action.date, "split": split_text(action.numerator, action.denominator)}
    return {
        "date": action.date,
        "declarationDate": action.declaration_date,
        "recordDate": action.record_date,
        "paymentDate": action.payment_date,
        "period": action.period,
        "value": action.value,
        "unadjustedValue": action.unadjusted_value,
        "currency": action.currency,
    }


def _aggregate(view: SymbolView, lo: int, hi: int, period: str) -> Columns:
    """Weekly or monthly bars, dated on the last session of each period."""
    ordinals = view.ordinals[lo:hi].astype(np.int64)
    if not len(ordinals):
        return Columns.of(view, lo, lo)
    if period == "w":
        keys = (ordinals - 1) // 7  # ordinal 1 was a Monday
    else:
        keys = np.array([(d.year * 12 + d.month) for d in map(dt.date.fromordinal, ordinals)])
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(ordinals)] - 1
    return Columns(
        dates=[dt.date.fromordinal(int(o)).isoformat() for o in ordinals[ends]],
        open=view.open[lo:hi][starts].tolist(),
        high=np.maximum.reduceat(view.high[lo:hi], starts).tolist(),
        low=np.minimum.reduceat(view.low[lo:hi], starts).tolist(),
        close=view.close[lo:hi][ends].tolist(),
        adjusted_close=view.adjusted_close[lo:hi][ends].tolist(),
        volume=np.add.reduceat(view.volume[lo:hi].astype(np.int64), starts).tolist(),
        price_digits=view.price_digits,
        adjusted_digits=view.adjusted_digits,
    )
