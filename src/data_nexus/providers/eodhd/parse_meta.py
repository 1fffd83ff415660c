"""Pure parsers for EODHD's reference and account bodies: symbol lists, the exchanges list,
the user/quota object and the 422 validation-error object.

Like :mod:`~data_nexus.providers.eodhd.parse`, they return typed records or raise
:class:`~data_nexus.errors.BadResponse` (:class:`MalformedBody` for bodies that are not JSON).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from data_nexus.errors import BadResponse
from data_nexus.providers.eodhd._fields import (
    Fields,
    excerpt,
    expect_list,
    expect_object,
    load_json,
    value_text,
)
from data_nexus.records import ApiUsage, ExchangeInfo, ListedSymbol, Parsed
from data_nexus.redact import redact

_MAX_ERROR_SUMMARY = 200


def parse_symbol_list(
    body: bytes, exchange: str, *, delisted: bool = False, secrets: Iterable[str] = ()
) -> Parsed[ListedSymbol]:
    """Rows of ``/api/exchange-symbol-list/{EXCHANGE}``: ``Code``, ``Name``, ``Country``,
    ``Exchange`` (the venue), ``Currency``, ``Type``, ``Isin`` (string or ``null``).

    Every record's ``exchange`` is the exchange code queried, so ``record.symbol`` is the
    ``CODE.EXCHANGE`` key of the assets table; ``delisted`` is copied onto every record (the
    caller knows whether it asked for delisted tickers). A code listed twice keeps its first
    row and adds a warning. Records are sorted by code.
    """
    where = f"symbol list {exchange}"
    secrets = tuple(secrets)
    data = load_json(body, symbol=where, secrets=secrets)
    rows = expect_list(data, symbol=where, what="symbols", secrets=secrets)
    records: dict[str, ListedSymbol] = {}
    warnings: list[str] = []
    for row in rows:
        expect_object(row, symbol=where, what="symbol", secrets=secrets)
        fields = Fields(row, symbol=where, secrets=secrets)
        code = fields.code("Code")
        if code in records:
            warnings.append(f"{where}: code {excerpt(code, secrets)} listed twice; kept the first")
            continue
        records[code] = ListedSymbol(
            code=code,
            exchange=exchange,
            name=fields.text("Name"),
            venue=fields.text("Exchange"),
            country=fields.text("Country"),
            currency=fields.text("Currency"),
            asset_type=fields.text("Type"),
            isin=fields.text("Isin"),
            delisted=delisted,
        )
    return Parsed(sorted(records.values(), key=lambda r: r.code), warnings)


def parse_exchanges(body: bytes, *, secrets: Iterable[str] = ()) -> Parsed[ExchangeInfo]:
    """Rows of ``/api/exchanges-list/``; ``OperatingMIC`` (``"XNAS, XNYS, OTCM"`` or ``null``)
    becomes a tuple of MICs. Records are sorted by code.
    """
    where = "exchanges list"
    secrets = tuple(secrets)
    rows = expect_list(
        load_json(body, symbol=where, secrets=secrets),
        symbol=where,
        what="exchanges",
        secrets=secrets,
    )
    records: dict[str, ExchangeInfo] = {}
    warnings: list[str] = []
    for row in rows:
        expect_object(row, symbol=where, what="exchange", secrets=secrets)
        fields = Fields(row, symbol=where, secrets=secrets)
        code = fields.code("Code")
        if code in records:
            warnings.append(f"{where}: code {excerpt(code, secrets)} listed twice; kept the first")
            continue
        mics = fields.text("OperatingMIC") or ""
        records[code] = ExchangeInfo(
            code=code,
            name=fields.text("Name"),
            operating_mics=tuple(m.strip() for m in mics.split(",") if m.strip()),
            country=fields.text("Country"),
            currency=fields.text("Currency"),
            country_iso2=fields.text("CountryISO2"),
            country_iso3=fields.text("CountryISO3"),
        )
    return Parsed(sorted(records.values(), key=lambda r: r.code), warnings)


def parse_user(body: bytes, *, secrets: Iterable[str] = ()) -> ApiUsage:
    """The quota part of ``/api/user``: ``apiRequests`` (calls used on ``apiRequestsDate``),
    ``dailyRateLimit``, ``extraLimit`` (``null``/absent → 0), subscription type and mode.

    The object also carries the account's name and e-mail; they are not kept.
    """
    where = "user"
    secrets = tuple(secrets)
    data = load_json(body, symbol=where, secrets=secrets)
    if not isinstance(data, dict):
        raise BadResponse(
            "expected a JSON object for the user",
            symbol=where,
            excerpt=excerpt(value_text(data), secrets),
        )
    fields = Fields(data, symbol=where, secrets=secrets)
    return ApiUsage(
        api_requests=fields.integer("apiRequests"),
        api_requests_date=fields.optional_date("apiRequestsDate"),
        daily_rate_limit=fields.integer("dailyRateLimit"),
        extra_limit=fields.integer("extraLimit", default=0),
        subscription_type=fields.text("subscriptionType"),
        subscription_mode=fields.text("subscriptionMode"),
    )


def summarize_errors(body: bytes, *, secrets: Iterable[str] = ()) -> str:
    """A one-line summary of an error body, for messages; never raises.

    ``{"errors":{"from":["The from must be a date."]}}`` → ``from: The from must be a date.``;
    a ``message`` key is included too; anything else (plain text, HTML) becomes a short
    redacted excerpt.
    """
    secrets = tuple(secrets)
    try:
        data = load_json(body, symbol=None, secrets=secrets)
    except BadResponse:
        return excerpt(body.decode("utf-8", "replace"), secrets)
    parts: list[str] = []
    if isinstance(data, dict):
        message = data.get("message")
        if isinstance(message, str) and message.strip():
            parts.append(message.strip())
        errors = data.get("errors")
        if isinstance(errors, dict):
            for param, messages in errors.items():
                parts.append(f"{param}: {_messages(messages)}")
        elif errors is not None:
            parts.append(_messages(errors))
    if not parts:
        return excerpt(value_text(data), secrets)
    summary = " ".join(_one_line(p, secrets) for p in parts)
    if len(summary) > _MAX_ERROR_SUMMARY:
        summary = summary[: _MAX_ERROR_SUMMARY - 1] + "…"
    return summary


def _messages(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v).strip() for v in value)
    return str(value).strip()


def _one_line(text: str, secrets: tuple[str, ...]) -> str:
    return " ".join(redact(text, secrets).split())
