"""Hypothesis fuzzing of every EODHD parser: any body gives records or a typed BadResponse.

About 10,000 generated bodies in total (8 tests x 1,300 examples): near-valid rows with every
field drawn from what EODHD sends and what it should never send, then sometimes truncated,
garbled or wrapped in HTML, plus raw bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_nexus.errors import BadResponse
from data_nexus.providers.eodhd import (
    parse_bulk_dividends,
    parse_bulk_eod,
    parse_bulk_splits,
    parse_dividends,
    parse_eod,
    parse_exchanges,
    parse_splits,
    parse_symbol_list,
    parse_user,
    summarize_errors,
)
from data_nexus.records import FINDING_KINDS, ApiUsage, Bar, Dividend, Finding, Parsed, Split

SECRET = "FUZZSECRET42"
EXAMPLES = 1300
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Raw:
    """A JSON number written exactly as this text (``1e400``, ``-0``, ``330``)."""

    text: str


def encode(value: Any) -> str:
    """JSON text where :class:`Raw` values are emitted verbatim."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)


number_texts = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0", "-0", "1e400", "1E-50", "0.0000", "530131.7", "9" * 30, "1e18"]),
)
date_texts = st.one_of(
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)).map(dt.date.isoformat),
    st.sampled_from(["2022-02-30", "0000-00-00", "20220103", "2022-1-3", "", "yesterday"]),
)
scalars = st.one_of(
    number_texts.map(Raw),
    number_texts,  # numbers as strings
    date_texts,
    st.none(),
    st.booleans(),
    st.text(max_size=20),
    st.just(f"api_token={SECRET}"),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)


def rows(keys: list[str], valid: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A row: expected keys with plausible or hostile values, some dropped, some extra."""
    plausible = {k: st.one_of(valid.get(k, values), values) for k in keys}
    base = st.fixed_dictionaries({}, optional=plausible)
    extra = st.dictionaries(st.sampled_from(["warning", "name", "x", *keys]), values, max_size=2)
    return st.tuples(base, extra).map(lambda pair: {**pair[0], **pair[1]})


price = number_texts.map(Raw)
good_date = st.dates(dt.date(1980, 1, 1), dt.date(2030, 1, 1)).map(dt.date.isoformat)
ratio = st.tuples(number_texts, number_texts).map(lambda p: f"{p[0]}/{p[1]}")
EOD_KEYS = ["date", "open", "high", "low", "close", "adjusted_close", "volume"]
EOD_ROW = rows(EOD_KEYS, {"date": good_date, **dict.fromkeys(EOD_KEYS[1:], price)})
SPLIT_ROW = rows(["date", "split"], {"date": good_date, "split": ratio})
DIV_KEYS = ["date", "value", "unadjustedValue", "currency", "declarationDate", "period"]
DIV_ROW = rows(DIV_KEYS, {"date": good_date, "value": price, "declarationDate": good_date})
BULK = {"code": st.sampled_from(["AAPL", "MSFT", "BRK-B"]), "exchange_short_name": st.just("US")}
BULK_ROW = rows(["code", "exchange_short_name", *EOD_KEYS], {"date": good_date, **BULK})
BULK_SPLIT_ROW = rows(["code", "exchange", "date", "split"], {"split": ratio, **BULK})
BULK_DIV_ROW = rows(["code", "exchange", "date", "dividend", "currency"], {"dividend": price})
SYMBOL_ROW = rows(["Code", "Name", "Exchange", "Type", "Isin"], {"Code": st.text(max_size=6)})
EXCHANGE_ROW = rows(["Code", "Name", "OperatingMIC", "CountryISO2"], {})
USER = rows(["apiRequests", "apiRequestsDate", "dailyRateLimit", "extraLimit"], {})


MANGLE = st.tuples(
    st.sampled_from(["as sent", "as sent", "truncated", "garbled", "html"]),
    st.integers(0, 10_000),
    st.binary(min_size=1, max_size=4),
)


def mangle(text: str, how: tuple[str, int, bytes]) -> bytes:
    """The body as sent, or truncated, garbled, wrapped in HTML."""
    raw = text.encode()
    mode, at, noise = how
    at %= len(raw) + 1
    if mode == "truncated":
        return raw[:at]
    if mode == "garbled":
        return raw[:at] + noise + raw[at:]
    if mode == "html":
        return b"<html><body>" + raw[:50] + b"</body></html>"
    return raw


def json_bodies(row: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    document = st.one_of(
        st.lists(row, max_size=6),
        st.lists(row, max_size=3).map(lambda r: [*r, {"warning": "Data is limited"}]),
        row,  # an object where an array belongs
        values,
    )
    mangled = st.builds(mangle, document.map(encode), MANGLE)
    return st.one_of(mangled, st.binary(max_size=80))


def csv_cell(value: Any) -> str:
    return value.text if isinstance(value, Raw) else "" if value is None else str(value)


def csv_bodies(keys: list[str], row: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    header = ",".join(k.capitalize() for k in keys)

    def render(rows_: list[dict[str, Any]], footer: str) -> str:
        lines = [",".join(csv_cell(r.get(k)) for k in keys) for r in rows_]
        return "\n".join([header, *lines, footer])

    text = st.builds(render, st.lists(row, max_size=5), st.sampled_from(["", "Data by EODHD"]))
    return st.one_of(st.builds(mangle, text, MANGLE), st.text(max_size=80).map(str.encode))


def check_records(result: Parsed[Any], kind: type) -> None:
    assert isinstance(result, Parsed)
    for record in result.records:
        assert isinstance(record, kind)
    dates = [r.date for r in result.records if hasattr(r, "date")]
    assert dates == sorted(dates)
    for record in result.records:
        if isinstance(record, Bar):
            prices = [record.open, record.high, record.low, record.close, record.adjusted_close]
            assert all(p is None or (isinstance(p, Decimal) and p.is_finite()) for p in prices)
            assert isinstance(record.close, Decimal)  # a bar without a close is a finding
            assert record.volume is None or 0 <= record.volume < 2**63
        if isinstance(record, Split):
            assert record.ratio > 0
        if isinstance(record, Dividend):
            assert record.value >= 0
    for warning in result.warnings:
        assert SECRET not in warning and "\n" not in warning
    for finding in result.findings:
        assert isinstance(finding, Finding) and finding.kind in FINDING_KINDS
        assert SECRET not in finding.detail and "\n" not in finding.detail


def outcome(parse: Callable[[], Any], kind: type) -> None:
    """``parse()`` returns well-typed records or raises a clean BadResponse; nothing else."""
    try:
        result = parse()
    except BadResponse as error:
        text = str(error)
        assert SECRET not in text and "\n" not in text
        assert error.excerpt is None or len(error.excerpt) <= 60
        return
    if kind is ApiUsage:
        assert isinstance(result, ApiUsage)
    else:
        check_records(result, kind)


S = [SECRET]


@FUZZ
@given(json_bodies(EOD_ROW))
def test_fuzz_eod_json(body: bytes) -> None:
    outcome(lambda: parse_eod(body, "X.US", secrets=S), Bar)


@FUZZ
@given(csv_bodies(EOD_KEYS, EOD_ROW))
def test_fuzz_eod_csv(body: bytes) -> None:
    outcome(lambda: parse_eod(body, "X.US", fmt="csv", secrets=S), Bar)


@FUZZ
@given(st.one_of(json_bodies(SPLIT_ROW), csv_bodies(["date", "split"], SPLIT_ROW)))
def test_fuzz_splits(body: bytes) -> None:
    fmt = "csv" if not body.lstrip().startswith((b"[", b"{")) else "json"
    outcome(lambda: parse_splits(body, "X.US", fmt=fmt, secrets=S), Split)


@FUZZ
@given(st.one_of(json_bodies(DIV_ROW), csv_bodies(["date", "value"], DIV_ROW)))
def test_fuzz_dividends(body: bytes) -> None:
    fmt = "csv" if not body.lstrip().startswith((b"[", b"{")) else "json"
    outcome(lambda: parse_dividends(body, "X.US", fmt=fmt, secrets=S), Dividend)


@FUZZ
@given(json_bodies(BULK_ROW))
def test_fuzz_bulk_eod(body: bytes) -> None:
    outcome(lambda: parse_bulk_eod(body, "US", secrets=S), Bar)


@FUZZ
@given(st.one_of(json_bodies(BULK_SPLIT_ROW), json_bodies(BULK_DIV_ROW)))
def test_fuzz_bulk_actions(body: bytes) -> None:
    outcome(lambda: parse_bulk_splits(body, "US", secrets=S), Split)
    outcome(lambda: parse_bulk_dividends(body, "US", secrets=S), Dividend)


@FUZZ
@given(st.one_of(json_bodies(SYMBOL_ROW), json_bodies(EXCHANGE_ROW)))
def test_fuzz_lists(body: bytes) -> None:
    outcome(lambda: parse_symbol_list(body, "US", secrets=S), object)
    outcome(lambda: parse_exchanges(body, secrets=S), object)


@FUZZ
@given(st.one_of(st.builds(mangle, USER.map(encode), MANGLE), json_bodies(USER)))
def test_fuzz_user_and_error_bodies(body: bytes) -> None:
    outcome(lambda: parse_user(body, secrets=S), ApiUsage)
    summary = summarize_errors(body, secrets=S)  # never raises
    assert SECRET not in summary and "\n" not in summary
