"""Bodies follow eodhd-api.md: compact JSON, whole numbers bare, CSV headers, key order."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_nexus.decimals import canonical
from data_nexus.emulator import EmulatorServer, Market
from data_nexus.emulator.formats import dumps, scaled
from tests.emulator.conftest import TODAY, client_for

EOD_KEYS = ["date", "open", "high", "low", "close", "adjusted_close", "volume"]
DIV_KEYS = ["date", "declarationDate", "recordDate", "paymentDate", "period", "value",
            "unadjustedValue", "currency"]  # fmt: skip


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(0, 8))
def test_scaled_integers_print_like_canonical_decimals(value: int, digits: int) -> None:
    assert scaled(value, digits) == canonical(Decimal(value).scaleb(-digits))


def test_dumps_is_compact_and_writes_decimals_bare() -> None:
    body = dumps({"a": [Decimal("330.00"), Decimal("0.10"), None], "d": dt.date(2024, 1, 2)})
    assert body == '{"a":[330,0.1,null],"d":"2024-01-02"}'


def parse(response: httpx.Response) -> object:
    return json.loads(response.text, parse_float=Decimal)


def test_eod_json_is_exactly_the_markets_bars_and_compact(
    server: EmulatorServer, client: httpx.Client
) -> None:
    response = client.get("/eod/AAPL.US", params={"fmt": "json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert " " not in response.text and ".0," not in response.text
    rows = parse(response)
    assert isinstance(rows, list)
    assert list(rows[0]) == EOD_KEYS
    bars = server.market.bars("AAPL.US")
    assert [
        (r["date"], r["open"], r["high"], r["low"], r["close"], r["adjusted_close"], r["volume"])
        for r in rows
    ] == [
        (b.date.isoformat(), b.open, b.high, b.low, b.close, b.adjusted_close, b.volume)
        for b in bars
    ]


def test_whole_prices_are_written_without_a_decimal_point(
    server: EmulatorServer, client: httpx.Client
) -> None:
    whole = next(
        (listed.symbol, bar)
        for listed in server.market.symbols("US")
        for bar in server.market.bars(listed.symbol)
        if bar.close == bar.close.to_integral_value() and bar.close > 1
    )
    symbol, bar = whole
    day = bar.date.isoformat()
    response = client.get(f"/eod/{symbol}", params={"fmt": "json", "from": day, "to": day})
    assert f'"close":{int(bar.close)},' in response.text


def test_eod_csv_is_the_default_with_the_documented_header(client: httpx.Client) -> None:
    response = client.get("/eod/MSFT.US", params={"from": "2025-06-26"})
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "Date,Open,High,Low,Close,Adjusted_close,Volume"
    assert [line.split(",")[0] for line in lines[1:]] == ["2025-06-26", "2025-06-27", "2025-06-30"]
    descending = client.get("/eod/MSFT.US", params={"from": "2025-06-26", "order": "d"}).text
    assert descending.splitlines()[1:] == lines[:0:-1]
    empty = client.get("/eod/MSFT.US", params={"from": "2030-01-01"}).text
    assert empty == "Date,Open,High,Low,Close,Adjusted_close,Volume\n"


def test_eod_parameters_range_order_filter_and_lenient_input(client: httpx.Client) -> None:
    def dates(**params: str) -> list[str]:
        rows = parse(client.get("/eod/MSFT.US", params={"fmt": "json", **params}))
        assert isinstance(rows, list)
        return [row["date"] for row in rows]

    assert dates(**{"from": "2025-06-23", "to": "2025-06-25"}) == [
        "2025-06-23", "2025-06-24", "2025-06-25"
    ]  # fmt: skip
    assert dates(**{"from": "2025-06-27", "order": "d"}) == ["2025-06-30", "2025-06-27"]
    assert dates(**{"from": "junk"})[0] == "2015-01-02"  # unparseable from: ignored
    assert dates(**{"from": "2025-06-27", "period": "x"}) == ["2025-06-27", "2025-06-30"]
    assert dates(**{"from": "2030-01-01"}) == []
    last = client.get("/eod/MSFT.US", params={"fmt": "json", "filter": "last_close"})
    assert isinstance(parse(last), Decimal)


def test_weekly_and_monthly_bars_end_on_the_last_session(
    server: EmulatorServer, client: httpx.Client
) -> None:
    params = {"fmt": "json", "from": "2025-06-02", "to": "2025-06-30"}
    weeks = parse(client.get("/eod/AAPL.US", params={**params, "period": "w"}))
    months = parse(client.get("/eod/AAPL.US", params={**params, "period": "m"}))
    assert isinstance(weeks, list) and isinstance(months, list)
    assert [w["date"] for w in weeks] == [
        "2025-06-06", "2025-06-13", "2025-06-20", "2025-06-27", "2025-06-30"
    ]  # fmt: skip
    june = server.market.bars("AAPL.US", dt.date(2025, 6, 2), dt.date(2025, 6, 30))
    assert months == [{
        "date": "2025-06-30", "open": june[0].open, "high": max(b.high for b in june),
        "low": min(b.low for b in june), "close": june[-1].close,
        "adjusted_close": june[-1].adjusted_close, "volume": sum(b.volume or 0 for b in june),
    }]  # fmt: skip


def test_splits_and_dividends_formats(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(start=dt.date(2000, 1, 3))
    with client_for(server) as client:
        splits = parse(client.get("/splits/AAPL.US", params={"fmt": "json"}))
        assert {"date": "2020-08-31", "split": "4.000000/1.000000"} in splits
        dividends = parse(client.get("/div/VTI.US", params={"fmt": "json"}))
        assert isinstance(dividends, list)
        assert list(dividends[0]) == DIV_KEYS
        old = dividends[0]
        assert old["declarationDate"] is None and old["period"] is None
        assert old["value"] < old["unadjustedValue"]  # VTI split 2/1 in 2008
        recent = dividends[-1]
        assert recent["period"] == "Quarterly" and recent["currency"] == "USD"
        assert all(recent[key] for key in DIV_KEYS)
        csv_text = client.get("/div/MSFT.US", params={"from": "2025-01-01"}).text
        assert csv_text.splitlines()[0] == "Date,Dividends"
        assert client.get("/splits/AAPL.US").text.startswith("Date,Stock Splits\n")


def test_bulk_prices_splits_and_dividends(server: EmulatorServer, client: httpx.Client) -> None:
    prices = parse(client.get("/eod-bulk-last-day/US", params={"fmt": "json"}))
    assert isinstance(prices, list)
    assert list(prices[0]) == ["code", "exchange_short_name", *EOD_KEYS]
    assert {p["date"] for p in prices} == {TODAY.isoformat()}
    assert len(prices) == len(server.market.bulk_bars("US"))
    some = parse(client.get("/eod-bulk-last-day/US",
                            params={"fmt": "json", "symbols": "AAPL,MSFT.US"}))  # fmt: skip
    assert [p["code"] for p in some] == ["AAPL", "MSFT"]
    csv_lines = client.get("/eod-bulk-last-day/US").text.splitlines()
    assert csv_lines[0] == "Code,Ex,Date,Open,High,Low,Close,Adjusted_close,Volume"
    assert client.get("/eod-bulk-last-day/US", params={"date": "2025-06-29"}).text.count("\n") == 1

    day = server.market.dividends("MSFT.US")[-1].date.isoformat()
    dividends = parse(
        client.get(
            "/eod-bulk-last-day/US", params={"fmt": "json", "type": "dividends", "date": day}
        )
    )
    row = next(r for r in dividends if r["code"] == "MSFT")
    assert list(row) == ["code", "exchange", "date", "dividend", "currency", "declarationDate",
                         "recordDate", "paymentDate", "period", "unadjustedValue"]  # fmt: skip
    assert isinstance(row["dividend"], str) and len(row["dividend"].split(".")[1]) >= 5
    assert isinstance(row["unadjustedValue"], str)

    split = server.market.splits("AAPL.US")[-1]
    splits = parse(client.get("/eod-bulk-last-day/US", params={
        "fmt": "json", "type": "splits", "date": split.date.isoformat()}))  # fmt: skip
    assert {"code": "AAPL", "exchange": "US", "date": split.date.isoformat(),
            "split": "4.000000/1.000000"} in splits  # fmt: skip


def test_symbol_lists(server: EmulatorServer, client: httpx.Client) -> None:
    listed = parse(client.get("/exchange-symbol-list/US", params={"fmt": "json"}))
    assert isinstance(listed, list)
    assert list(listed[0]) == ["Code", "Name", "Country", "Exchange", "Currency", "Type", "Isin"]
    assert len(listed) == 8
    gone = parse(client.get("/exchange-symbol-list/US", params={"fmt": "json", "delisted": "1"}))
    assert gone and not {r["Code"] for r in gone} & {r["Code"] for r in listed}
    etfs = parse(client.get("/exchange-symbol-list/US", params={"fmt": "json", "type": "etf"}))
    assert {r["Type"] for r in etfs} == {"ETF"}
    csv_lines = client.get("/exchange-symbol-list/US").text.splitlines()
    assert csv_lines[0] == "Code,Name,Country,Exchange,Currency,Type,Isin"
    assert csv_lines[1].startswith('"AAPL","Apple Inc","USA","NASDAQ","USD","Common Stock"')
    exchanges = parse(client.get("/exchanges-list/"))
    assert exchanges == [{
        "Name": "USA Stocks", "Code": "US", "OperatingMIC": "XNAS, XNYS, OTCM",
        "Country": "USA", "Currency": "USD", "CountryISO2": "US", "CountryISO3": "USA",
    }]  # fmt: skip


def test_user_reports_the_calls_charged_today(client: httpx.Client) -> None:
    client.get("/eod/AAPL.US")
    client.get("/eod-bulk-last-day/US", params={"symbols": "AAPL"})
    user = parse(client.get("/internal-user"))
    assert isinstance(user, dict)
    assert user["apiRequests"] == 1 + 101 + 1 and user["apiRequestsDate"] == TODAY.isoformat()
    for key in (
        "name",
        "email",
        "subscriptionType",
        "paymentMethod",
        "dailyRateLimit",
        "extraLimit",
        "subscriptionMode",
        "inviteToken",
        "availableDataFeeds",
    ):
        assert key in user
    assert parse(client.get("/user"))["apiRequests"] == 104


@pytest.mark.parametrize("symbol", ["EURUSD.FOREX", "BTC-USD.CC"])
def test_forex_and_crypto_rows_carry_their_decimals(
    make_server: Callable[..., EmulatorServer], symbol: str
) -> None:
    server = make_server(exchanges=("US", "FOREX", "CC"))
    with client_for(server) as client:
        rows = parse(client.get(f"/eod/{symbol}", params={"fmt": "json", "from": "2025-06-01"}))
    assert isinstance(rows, list) and rows
    assert rows == [
        {"date": b.date.isoformat(), "open": b.open, "high": b.high, "low": b.low,
         "close": b.close, "adjusted_close": b.adjusted_close, "volume": b.volume}
        for b in server.market.bars(symbol, dt.date(2025, 6, 1))
    ]  # fmt: skip


def test_market_is_usable_without_a_server(market: Market) -> None:
    assert market.bars("AAPL.US", TODAY, TODAY)[0].date == TODAY
