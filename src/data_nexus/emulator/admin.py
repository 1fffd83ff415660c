"""``/_admin``: stats, time travel and faults over HTTP (no token, never counted).

- ``GET /_admin/stats``: request counters (see :class:`~data_nexus.emulator.stats.Stats`);
- ``POST /_admin/reset-stats``: zero them;
- ``POST /_admin/advance?days=N[&split=SYM:NEW/OLD][&dividend=SYM:AMOUNT...]``: move today on
  (a symbol given in two ``dividend`` parameters gets two dividends on one ex-date);
- ``POST /_admin/fault?symbol=SYM&kind=KIND[&count=N][&endpoint=eod]``: set a fault;
- ``POST /_admin/clear-faults``: remove all faults; ``GET /_admin/faults`` lists them;
- ``POST /_admin/dirt?symbol=SYM&kind=KIND``: serve one kind of real-world dirt for a symbol
  (kinds in :data:`~data_nexus.emulator.dirt.DIRT_KINDS`); ``GET /_admin/truth`` lists every
  injected fault (symbol, date, kind, variant, detail, finding, phase);
  ``POST /_admin/clear-dirt`` serves clean data again.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from data_nexus.emulator.formats import dumps
from data_nexus.emulator.messages import Request, Response, json_response

if TYPE_CHECKING:
    from data_nexus.emulator.service import EmulatorService

_POST = ("reset-stats", "advance", "fault", "clear-faults", "dirt", "clear-dirt")
_GET = ("stats", "faults", "truth")


def handle_admin(service: EmulatorService, request: Request) -> Response:
    """The answer to an ``/_admin`` request."""
    action = request.path.removeprefix("/_admin").strip("/")
    if action not in _POST + _GET:
        return _error(404, f"unknown admin action {action!r}")
    wanted = "POST" if action in _POST else "GET"
    if request.method != wanted:
        return _error(405, f"use {wanted} for /_admin/{action}")
    try:
        return _act(service, action, request)
    except ValueError as error:
        return _error(400, str(error))


def _act(service: EmulatorService, action: str, request: Request) -> Response:
    if action == "stats":
        return json_response(dumps(service.stats_snapshot()))
    if action == "faults":
        return json_response(dumps(service.faults.snapshot()))
    if action == "truth":
        return json_response(dumps(service.dirt.snapshot()))
    if action == "dirt":
        added = service.dirt.add(_required(request, "symbol"), _required(request, "kind"))
        return json_response(dumps({"ok": True, "injected": [asdict(item) for item in added]}))
    if action == "clear-dirt":
        service.dirt.clear()
    elif action == "reset-stats":
        service.stats.reset()
    elif action == "clear-faults":
        service.faults.clear()
    elif action == "fault":
        count = request.param("count")
        service.faults.add(
            _required(request, "symbol"),
            _required(request, "kind"),
            int(count) if count else None,
            request.param("endpoint"),
        )
        return json_response(dumps({"ok": True, "faults": service.faults.snapshot()}))
    elif action == "advance":
        splits = dict(_pair(item, "split") for item in request.params("split"))
        dividends: dict[str, list[Decimal]] = {}  # a symbol given twice: two dividends
        for symbol, amount in (_pair(item, "dividend") for item in request.params("dividend")):
            dividends.setdefault(symbol, []).append(_decimal(amount))
        days = int(request.param("days") or "1")
        today = service.advance(days, splits=splits, dividends=dividends)
        return json_response(dumps({"today": today}))
    return json_response(dumps({"ok": True}))


def _required(request: Request, name: str) -> str:
    value = request.param(name)
    if not value:
        raise ValueError(f"missing query parameter {name!r}")
    return value


def _pair(item: str, name: str) -> tuple[str, str]:
    symbol, colon, value = item.rpartition(":")
    if not colon or not symbol or not value:
        raise ValueError(f"invalid {name} {item!r}: expected SYMBOL:VALUE")
    return symbol, value


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"invalid amount {text!r}") from None


def _error(status: int, message: str) -> Response:
    return json_response(dumps({"error": message}), status=status)
