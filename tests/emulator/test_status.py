"""Every status code the reference documents, with its body and whether it is charged."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

import httpx
import pytest

from data_nexus.emulator import EmulatorServer
from data_nexus.emulator.config import EmulatorConfig
from data_nexus.emulator.messages import PAYMENT_REQUIRED
from data_nexus.exchanges import exchange_today
from tests.emulator.conftest import client_for

Make = Callable[..., EmulatorServer]


def is_json(body: str) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def test_bad_or_missing_token_is_401_unauthenticated_and_free(
    server: EmulatorServer, client: httpx.Client
) -> None:
    for params in ({"api_token": "wrong"}, {"api_token": ""}):
        response = client.get("/eod/AAPL.US", params=params)
        assert (response.status_code, response.text) == (401, "Unauthenticated")
        assert response.headers["content-type"].startswith("text/plain")
    assert httpx.get(f"{server.base_url}/eod/AAPL.US").status_code == 401
    assert server.stats()["calls_charged"] == 0


def test_demo_token_works_only_for_the_demo_symbols(
    server: EmulatorServer, client: httpx.Client
) -> None:
    demo = {"api_token": "demo", "fmt": "json"}
    assert client.get("/eod/AAPL.US", params=demo).status_code == 200
    assert client.get("/div/MSFT.US", params=demo).status_code == 200
    other = "BRK-B.US"  # listed, but not a demo symbol
    assert server.market.listing(other) is not None
    refused = client.get(f"/eod/{other}", params=demo)
    assert (refused.status_code, refused.text) == (401, "Unauthenticated")
    assert client.get("/eod-bulk-last-day/US", params=demo).status_code == 401
    assert client.get("/user", params=demo).json()["subscriptionMode"] == "demo"


def test_daily_allowance_runs_out_with_402_and_refills_on_a_new_day(make_server: Make) -> None:
    server = make_server(daily_limit=103)
    with client_for(server) as client:
        assert client.get("/eod/AAPL.US").status_code == 200
        assert client.get("/eod-bulk-last-day/US", params={"symbols": "AAPL"}).status_code == 200
        refused = client.get("/eod-bulk-last-day/US")  # 100 more would not fit: 102 used
        assert (refused.status_code, refused.text) == (402, PAYMENT_REQUIRED)
        assert "limit.  Please" in refused.text
        assert client.get("/eod/NOPE.US").status_code == 404  # invalid symbols still cost 1
        assert client.get("/eod/AAPL.US").status_code == 402
        assert client.get("/user").status_code == 402
        assert server.stats()["calls_charged"] == 103
        server.advance(1)
        assert client.get("/user").json()["apiRequests"] == 1


@pytest.mark.parametrize(("status", "body"), [
    (403, "Forbidden. Please contact support@eodhistoricaldata.com"), (404, "Not Found")
])  # fmt: skip
def test_bulk_refused_when_the_plan_lacks_it(make_server: Make, status: int, body: str) -> None:
    server = make_server(bulk_enabled=False, bulk_status=status)
    with client_for(server) as client:
        response = client.get("/eod-bulk-last-day/US")
        assert (response.status_code, response.text) == (status, body)
        assert client.get("/eod/AAPL.US").status_code == 200
    assert server.stats()["calls_charged"] == 1


def test_unknown_ticker_is_404_text_and_charged(
    server: EmulatorServer, client: httpx.Client
) -> None:
    response = client.get("/eod/NOPE.US", params={"fmt": "json"})
    assert (response.status_code, response.text) == (404, "Ticker Not Found.")
    assert client.get("/splits/NOPE.US").text == "Symbol not found"
    assert server.stats()["calls_charged"] == 2


def test_wrong_path_is_an_html_404_echoing_the_url_with_the_token(client: httpx.Client) -> None:
    response = client.get("/eodd/AAPL.US", params={"fmt": "json"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/eodd/AAPL.US?" in response.text and "api_token=test-token" in response.text


def test_malformed_bulk_date_is_422_json(client: httpx.Client) -> None:
    response = client.get("/eod-bulk-last-day/US", params={"date": "30-06-2025"})
    assert response.status_code == 422
    assert response.text == '{"errors":{"date":["The date does not match the format Y-m-d."]}}'


def test_rate_limit_answers_429_with_retry_after_until_the_window_slides(
    make_server: Make,
) -> None:
    server = make_server(rate_limit=3, rate_window=1.5)
    with client_for(server) as client:
        accepted = [client.get("/eod/AAPL.US", params={"from": "2025-06-30"}) for _ in range(3)]
        assert [r.headers["X-RateLimit-Remaining"] for r in accepted] == ["2", "1", "0"]
        limited = client.get("/eod/AAPL.US")
        assert limited.status_code == 429 and limited.text == "Too Many Requests"
        assert limited.headers["X-RateLimit-Limit"] == "3"
        wait = int(limited.headers["Retry-After"])
        assert 1 <= wait <= 2
        assert client.get("/eod/AAPL.US").status_code == 429  # refused ones do not count...
        time.sleep(1.6)
        assert client.get("/eod/AAPL.US").status_code == 200  # ...so the window frees on time
    assert server.stats()["by_status"] == {"200": 4, "429": 2}
    assert server.stats()["calls_charged"] == 4


def test_retry_after_can_be_switched_off(make_server: Make) -> None:
    server = make_server(rate_limit=1, retry_after=False, rate_limit_headers=False)
    with client_for(server) as client:
        client.get("/user")
        limited = client.get("/user")
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert "X-RateLimit-Limit" not in limited.headers


def test_injected_server_errors_are_plain_text_and_free(
    server: EmulatorServer, client: httpx.Client
) -> None:
    server.set_fault("AAPL.US", "502", count=1)
    server.set_fault("AAPL.US", "503", count=1)
    server.set_fault("AAPL.US", "500", count=1)
    statuses = [client.get("/eod/AAPL.US").status_code for _ in range(4)]
    assert statuses == [502, 503, 500, 200]
    assert server.stats()["calls_charged"] == 1


def test_random_failures_follow_the_fail_rate_and_the_seed(make_server: Make) -> None:
    runs = []
    for _ in range(2):
        server = make_server(fail_rate=0.5)
        with client_for(server) as client:
            runs.append([client.get("/user").status_code for _ in range(40)])
    assert runs[0] == runs[1]  # same seed, same sequence
    assert {500, 502, 503, 200} == set(runs[0])
    failing = make_server(fail_rate=1.0)
    with client_for(failing) as client:
        assert client.get("/eod/AAPL.US").status_code in (500, 502, 503)
    assert failing.stats()["calls_charged"] == 0


def test_malformed_rate_breaks_json_bodies_only(make_server: Make) -> None:
    server = make_server(malformed_rate=1.0)
    with client_for(server) as client:
        for path in ("/eod/AAPL.US", "/div/AAPL.US", "/exchange-symbol-list/US", "/user"):
            response = client.get(path, params={"fmt": "json"})
            assert response.status_code == 200 and not is_json(response.text), path
        csv_text = client.get("/eod/AAPL.US").text
        assert csv_text.startswith("Date,Open")


@pytest.mark.parametrize("kind", ["truncated", "garbled", "html"])
def test_targeted_body_faults_are_200_but_not_json(
    server: EmulatorServer, client: httpx.Client, kind: str
) -> None:
    server.set_fault("AAPL.US", kind, count=1, endpoint="eod")
    broken = client.get("/eod/AAPL.US", params={"fmt": "json"})
    assert broken.status_code == 200 and not is_json(broken.text)
    assert int(broken.headers["content-length"]) == len(broken.content)
    if kind == "html":
        assert broken.text.lstrip().startswith("<!DOCTYPE html>")
    assert is_json(client.get("/eod/AAPL.US", params={"fmt": "json"}).text)


def test_bad_rows_are_valid_json_with_a_negative_price_or_a_repeated_date(
    server: EmulatorServer, client: httpx.Client
) -> None:
    server.set_fault("AAPL.US", "negative_price", count=1)
    server.set_fault("AAPL.US", "duplicate_date", count=1)
    negative = client.get("/eod/AAPL.US", params={"fmt": "json"}).json()
    assert any(row["close"] < 0 for row in negative)
    repeated = client.get("/eod/AAPL.US", params={"fmt": "json"}).json()
    dates = [row["date"] for row in repeated]
    assert len(dates) == len(set(dates)) + 1


def test_429_and_404_faults(server: EmulatorServer, client: httpx.Client) -> None:
    server.set_fault("*", "429", count=1)
    server.set_fault("MSFT.US", "404")  # until cleared
    limited = client.get("/eod/AAPL.US")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert client.get("/eod/MSFT.US").status_code == 404
    assert client.get("/eod/MSFT.US").status_code == 404
    server.clear_faults()
    assert client.get("/eod/MSFT.US").status_code == 200


def test_timeout_fault_outlasts_the_client_and_close_does_not_wait(make_server: Make) -> None:
    server = make_server(timeout_seconds=30)
    server.set_fault("AAPL.US", "timeout", count=1)
    with client_for(server, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/eod/AAPL.US")
    started = time.perf_counter()
    server.close()
    assert time.perf_counter() - started < 5


def test_disconnect_fault_drops_the_connection_mid_body(
    server: EmulatorServer, client: httpx.Client
) -> None:
    server.set_fault("AAPL.US", "disconnect", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/eod/AAPL.US", params={"fmt": "json"})
    assert client.get("/eod/AAPL.US", params={"fmt": "json"}).status_code == 200


def test_faults_can_target_an_exchange_for_bulk(
    server: EmulatorServer, client: httpx.Client
) -> None:
    server.set_fault("US", "503", count=1)
    assert client.get("/eod-bulk-last-day/US").status_code == 503
    assert client.get("/eod-bulk-last-day/US", params={"date": "2025-06-27"}).status_code == 200


def test_unknown_fault_kinds_are_refused(server: EmulatorServer) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        server.set_fault("AAPL.US", "explode")
    with pytest.raises(ValueError, match="count"):
        server.set_fault("AAPL.US", "500", count=0)


def test_today_defaults_to_the_exchange_date_not_utc(make_server: Make) -> None:
    """Between midnight UTC and midnight in New York, US has no bar for the UTC date yet."""
    before = dt.datetime.now(dt.UTC)
    server = make_server(today=None)
    after = dt.datetime.now(dt.UTC)
    assert server.market.today in {exchange_today("US", before), exchange_today("US", after)}


def test_today_is_the_earliest_date_among_the_emulated_exchanges() -> None:
    config = EmulatorConfig(exchanges=("US", "LSE"), today=None)
    # 02:00 UTC: already the 25th in London, still the 24th in New York.
    assert config.resolved_today(dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)) == dt.date(
        2026, 11, 24
    )
    assert config.resolved_today(dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)) == dt.date(
        2026, 11, 25
    )
    assert EmulatorConfig(exchanges=("LSE",), today=None).resolved_today(
        dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
    ) == dt.date(2026, 11, 25)
