"""Symbol list, exchanges list, user and 422 error bodies from ``eodhd-api.md``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data_nexus.errors import BadResponse
from data_nexus.providers.eodhd import (
    MalformedBody,
    parse_exchanges,
    parse_symbol_list,
    parse_user,
    summarize_errors,
)

FIXTURES = Path(__file__).parent / "fixtures"


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_symbol_list_with_null_and_empty_isin() -> None:
    parsed = parse_symbol_list(body("symbols.json"), "US")
    by_code = {s.code: s for s in parsed.records}
    assert [s.code for s in parsed.records] == ["AAPL", "BRK-B", "SPY", "VFIAX"]
    aapl = by_code["AAPL"]
    assert aapl.symbol == "AAPL.US"
    assert (aapl.venue, aapl.asset_type, aapl.isin) == ("NASDAQ", "Common Stock", "US0378331005")
    assert by_code["VFIAX"].isin is None
    assert by_code["BRK-B"].isin is None
    assert by_code["SPY"].venue == "NYSE ARCA"
    assert not any(s.delisted for s in parsed.records)


def test_symbol_list_marks_delisted_and_warns_on_repeats() -> None:
    text = b'[{"Code":"OLD","Name":"Old"},{"Code":"OLD","Name":"Again"}]'
    parsed = parse_symbol_list(text, "US", delisted=True)
    (old,) = parsed.records
    assert old.delisted and old.name == "Old"
    assert "listed twice" in parsed.warnings[0]


def test_symbol_list_rejects_rows_without_code() -> None:
    with pytest.raises(BadResponse, match="missing Code") as info:
        parse_symbol_list(b'[{"Name":"No code"}]', "US")
    assert info.value.field == "Code"


def test_exchanges_operating_mics() -> None:
    parsed = parse_exchanges(body("exchanges.json"))
    by_code = {e.code: e for e in parsed.records}
    assert by_code["US"].operating_mics == ("XNAS", "XNYS", "OTCM")
    assert by_code["LSE"].operating_mics == ("XLON",)
    assert by_code["CC"].operating_mics == ()
    assert by_code["CC"].country_iso2 is None
    assert by_code["LSE"].country_iso3 == "GBR"


def test_user_quota() -> None:
    usage = parse_user(body("user.json"))
    assert usage.api_requests == 1781
    assert usage.api_requests_date == dt.date(2026, 9, 5)
    assert usage.daily_rate_limit == 100000
    assert usage.remaining == 100000 - 1781
    assert usage.subscription_mode == "paid"


def test_user_lenient_and_strict_fields() -> None:
    usage = parse_user(b'{"apiRequests":"5","dailyRateLimit":20,"extraLimit":null}')
    assert (usage.api_requests, usage.extra_limit, usage.api_requests_date) == (5, 0, None)
    with pytest.raises(BadResponse, match="missing dailyRateLimit"):
        parse_user(b'{"apiRequests":5}')
    with pytest.raises(BadResponse, match="whole non-negative"):
        parse_user(b'{"apiRequests":1.5,"dailyRateLimit":20}')
    with pytest.raises(BadResponse, match="expected a JSON object"):
        parse_user(b"[]")
    with pytest.raises(MalformedBody):
        parse_user(b"Unauthenticated")


def test_summarize_422_errors() -> None:
    summary = summarize_errors(body("error_422.json"))
    assert summary == (
        "from: The from field must be a valid date. "
        "interval: The 1m interval is limited to 120 days."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            b'{"message":"The given data was invalid.","errors":{"to":["bad"]}}',
            "The given data was invalid. to: bad",
        ),
        (b'{"errors":["one","two"]}', "one two"),
        (b"Forbidden", "Forbidden"),
        (b'{"other":1}', '{"other":1}'),
    ],
)
def test_summarize_other_error_shapes(text: bytes, expected: str) -> None:
    assert summarize_errors(text) == expected


def test_summarize_redacts_the_html_404_page() -> None:
    summary = summarize_errors(body("not_found.html"), secrets=["TOPSECRET-TOKEN-123"])
    assert "TOPSECRET" not in summary
    assert len(summary) <= 60


def test_provider_text_never_carries_the_token_into_records() -> None:
    text = (
        b'[{"Code":"AAPL","Name":"see ?api_token=SECRET123456"},{"Code":"B","Name":"SECRET123456"}]'
    )
    parsed = parse_symbol_list(text, "US", secrets=["SECRET123456"])
    assert all("SECRET" not in (s.name or "") for s in parsed.records)
    with pytest.raises(BadResponse, match="implausible Code") as info:
        parse_symbol_list(b'[{"Code":"api_token=SECRET123456"}]', "US", secrets=["SECRET123456"])
    assert "SECRET" not in str(info.value)
