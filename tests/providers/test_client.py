"""The EODHD client over httpx.MockTransport: requests, every status class, retries, budget,
concurrency. Sleep, clock and randomness are injected: nothing really waits."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import httpx
import pytest

from data_nexus.errors import (
    AuthFailed,
    BadRequest,
    BadResponse,
    NotFound,
    NotInPlan,
    ProviderUnavailable,
    QuotaExhausted,
    RateLimited,
)
from data_nexus.providers import MarketDataProvider
from data_nexus.providers.eodhd import (
    BulkUnavailable,
    EodhdClient,
    InMemoryCallBudget,
    MalformedBody,
    ProviderWarning,
    RequestRetried,
    RetryPolicy,
)
from tests.providers.helpers import EOD_BODY, NOW, TOKEN, Harness, responses, run

OK = httpx.Response(200, content=EOD_BODY)


def test_eod_request_and_result() -> None:
    h = Harness()
    client = h.client(responses(OK))
    parsed = run(client, lambda c: c.eod("AAPL.US", start=dt.date(2022, 1, 1), end=NOW.date()))
    assert parsed.records[0].close == Decimal("182.01")
    (request,) = h.requests
    assert request.url.path == "/api/eod/AAPL.US"
    assert dict(request.url.params) == {
        "from": "2022-01-01",
        "to": "2024-05-01",
        "fmt": "json",
        "api_token": TOKEN,
    }
    assert (client.requests_sent, client.calls_spent) == (1, 1)
    assert isinstance(client, MarketDataProvider)


def test_every_endpoint_sends_fmt_json_and_its_parameters() -> None:
    bodies = {
        "/api/eod-bulk-last-day/US": b"[]",
        "/api/exchange-symbol-list/US": b'[{"Code":"AAPL"}]',
        "/api/exchanges-list": b'[{"Code":"US"}]',
        "/api/user": b'{"apiRequests":3,"dailyRateLimit":100000}',
    }
    h = Harness()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies.get(request.url.path, b"[]"))

    client = h.client(handler)
    day = dt.date(2024, 9, 5)

    async def calls(c: EodhdClient) -> None:
        await c.splits("M&M.NSE")
        await c.dividends("BRK-B.US", start=day)
        await c.bulk_eod("US", day=day, symbols=["AAPL", "MSFT"])
        await c.bulk_splits("US", day=day)
        await c.bulk_dividends("US")
        await c.symbol_list("US", asset_type="etf", delisted=True)
        await c.exchanges()
        usage = await c.user()
        assert usage.api_requests == 3

    run(client, calls)
    seen = [(r.url.raw_path.decode().split("?")[0], dict(r.url.params)) for r in h.requests]
    for _, params in seen:
        assert params.pop("fmt") == "json" and params.pop("api_token") == TOKEN
    assert seen == [
        ("/api/splits/M%26M.NSE", {}),
        ("/api/div/BRK-B.US", {"from": "2024-09-05"}),
        ("/api/eod-bulk-last-day/US", {"date": "2024-09-05", "symbols": "AAPL,MSFT"}),
        ("/api/eod-bulk-last-day/US", {"type": "splits", "date": "2024-09-05"}),
        ("/api/eod-bulk-last-day/US", {"type": "dividends"}),
        ("/api/exchange-symbol-list/US", {"type": "etf", "delisted": "1"}),
        ("/api/exchanges-list", {}),
        ("/api/user", {}),
    ]
    assert client.calls_spent == 1 + 1 + 102 + 100 + 100 + 1 + 1 + 1


def test_401_stops_the_run_without_retrying() -> None:
    h = Harness()
    client = h.client(responses(httpx.Response(401, text="Unauthenticated")))
    with pytest.raises(AuthFailed, match="HTTP 401: 'Unauthenticated'") as info:
        run(client, lambda c: c.eod("AAPL.US"))
    assert info.value.stops_run
    assert len(h.requests) == 1 and h.sleeps == []


def test_402_says_when_the_allowance_resets() -> None:
    h = Harness()
    text = "You exceeded your daily API requests limit.  Please contact support@eodhd.com"
    client = h.client(responses(httpx.Response(402, text=text)))
    with pytest.raises(QuotaExhausted) as info:
        run(client, lambda c: c.eod("AAPL.US"))
    assert info.value.resets_at == dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
    assert "next GMT midnight (2024-05-02 00:00 UTC)" in str(info.value)
    assert info.value.stops_run and len(h.requests) == 1


def test_403_is_not_in_plan_and_bulk_403_or_404_is_a_capability_answer() -> None:
    h = Harness()
    forbidden = httpx.Response(403, text="Forbidden. Please contact support@eodhistoricaldata.com")
    with pytest.raises(NotInPlan, match=r"HTTP 403 for eod LSE\.LSE"):
        run(h.client(responses(forbidden)), lambda c: c.eod("LSE.LSE"))
    for status in (403, 404):
        with pytest.raises(BulkUnavailable) as info:
            run(h.client(responses(httpx.Response(status))), lambda c: c.bulk_eod("US"))
        assert isinstance(info.value, NotInPlan) and isinstance(info.value, NotFound)
        assert "fetch symbol by symbol" in str(info.value)


def test_404_names_the_symbol_and_never_echoes_the_token() -> None:
    h = Harness()
    with pytest.raises(NotFound, match=r"does not know eod NOPE\.US \(HTTP 404: 'Ticker Not"):
        run(
            h.client(responses(httpx.Response(404, text="Ticker Not Found."))),
            lambda c: c.eod("NOPE.US"),
        )
    page = f"<html><p>The URL /api/eodd/X?api_token={TOKEN}&fmt=json was not found</p></html>"
    with pytest.raises(NotFound, match="HTML 404 page") as info:
        run(h.client(responses(httpx.Response(404, text=page))), lambda c: c.eod("X.US"))
    assert TOKEN not in str(info.value)


def test_422_summarises_the_provider_errors() -> None:
    h = Harness()
    body = b'{"errors":{"from":["The from field must be a valid date."]}}'
    with pytest.raises(BadRequest, match="HTTP 422\\): from: The from field must be a valid"):
        run(h.client(responses(httpx.Response(422, content=body))), lambda c: c.eod("A.US"))
    assert len(h.requests) == 1


def test_other_4xx_and_3xx() -> None:
    h = Harness()
    with pytest.raises(BadRequest, match="HTTP 400"):
        run(h.client(responses(httpx.Response(400))), lambda c: c.eod("A.US"))
    moved = httpx.Response(301, headers={"Location": "https://eodhd.com/api/eod/A.US"})
    with pytest.raises(BadResponse, match="unexpected HTTP 301"):
        run(h.client(responses(moved)), lambda c: c.eod("A.US"))


def test_429_is_retried_with_backoff_then_succeeds() -> None:
    h = Harness()
    client = h.client(responses(httpx.Response(429), httpx.Response(429), OK))
    parsed = run(client, lambda c: c.eod("AAPL.US"))
    assert len(parsed.records) == 1
    assert h.sleeps == [0.25, 0.5]  # random 0.5 x 0.5 x 2**(n-1)
    assert h.events == [
        RequestRetried("eod", "AAPL.US", 1, "HTTP 429", 0.25),
        RequestRetried("eod", "AAPL.US", 2, "HTTP 429", 0.5),
    ]
    assert (client.requests_sent, client.calls_spent) == (3, 1)  # 429s are not charged


@pytest.mark.parametrize("header", ["7", "Wed, 01 May 2024 12:00:07 GMT"])
def test_retry_after_seconds_or_http_date_is_honoured(header: str) -> None:
    h = Harness()
    limited = httpx.Response(429, headers={"Retry-After": header})
    run(h.client(responses(limited, OK)), lambda c: c.eod("AAPL.US"))
    assert h.sleeps == [7.0]


def test_retry_after_pauses_every_later_request_of_the_client() -> None:
    h = Harness()
    limited = httpx.Response(429, headers={"Retry-After": "5"})

    async def both(c: EodhdClient) -> None:
        await c.eod("A.US")
        await c.eod("B.US")

    # A frozen monotonic clock: the 5 s cool-down never passes, so each later request
    # (A's retry, then B) waits it out before acquiring the rate limiter.
    run(h.client(responses(limited, OK), clock=lambda: 100.0), both)
    assert h.sleeps == [5.0, 5.0, 5.0]


def test_retry_after_beyond_the_cap_gives_up_at_once() -> None:
    h = Harness()
    limited = httpx.Response(429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimited, match="Retry-After 3600s exceeds the 120s") as info:
        run(h.client(responses(limited)), lambda c: c.eod("AAPL.US"))
    assert info.value.retry_after == 3600.0
    assert len(h.requests) == 1 and h.sleeps == []
    unavailable = httpx.Response(503, headers={"Retry-After": "600"})
    with pytest.raises(ProviderUnavailable, match="Retry-After 600s"):
        run(h.client(responses(unavailable)), lambda c: c.eod("AAPL.US"))


def test_429_forever_ends_in_rate_limited() -> None:
    h = Harness()
    with pytest.raises(RateLimited, match="gave up after 4 tries"):
        run(h.client(responses(httpx.Response(429))), lambda c: c.eod("AAPL.US"))
    assert len(h.requests) == 4 and h.sleeps == [0.25, 0.5, 1.0]


def test_5xx_retried_then_provider_unavailable() -> None:
    h = Harness()
    ok = run(
        h.client(responses(httpx.Response(502), httpx.Response(503), OK)),
        lambda c: c.eod("AAPL.US"),
    )
    assert len(ok.records) == 1
    h = Harness()
    with pytest.raises(ProviderUnavailable, match=r"HTTP 500 .*gave up after 4 tries"):
        run(h.client(responses(httpx.Response(500, text="oops"))), lambda c: c.eod("AAPL.US"))
    assert [e.reason for e in h.events] == ["HTTP 500"] * 3


def test_backoff_is_capped() -> None:
    h = Harness()
    policy = RetryPolicy(max_attempts=8, base_delay=1.0, max_delay=5.0)
    client = h.client(responses(httpx.Response(503)), random=lambda: 0.999, retry=policy)
    with pytest.raises(ProviderUnavailable):
        run(client, lambda c: c.eod("AAPL.US"))
    assert h.sleeps == pytest.approx([1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0], abs=0.03)


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("timed out"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("x")],
)
def test_timeouts_and_connection_errors_are_retried(error: Exception) -> None:
    h = Harness()
    parsed = run(h.client(responses(error, OK)), lambda c: c.eod("AAPL.US"))
    assert len(parsed.records) == 1
    assert h.events[0].reason == type(error).__name__  # type: ignore[union-attr]
    h = Harness()
    with pytest.raises(ProviderUnavailable, match=type(error).__name__) as info:
        run(h.client(responses(error)), lambda c: c.eod("AAPL.US"))
    assert TOKEN not in str(info.value)


def test_malformed_200_bodies_are_retried_a_couple_of_times() -> None:
    h = Harness()
    truncated = httpx.Response(200, content=EOD_BODY[:40])
    html = httpx.Response(200, text="<html>Bad gateway</html>")
    parsed = run(h.client(responses(truncated, html, OK)), lambda c: c.eod("AAPL.US"))
    assert len(parsed.records) == 1
    assert [e.reason for e in h.events] == ["malformed body", "malformed body"]
    h = Harness()
    with pytest.raises(MalformedBody, match="invalid JSON"):
        run(h.client(responses(truncated)), lambda c: c.eod("AAPL.US"))
    assert len(h.requests) == 3  # 1 + malformed_retries (2)


def test_well_formed_bad_values_are_not_retried() -> None:
    h = Harness()
    wrong_shape = httpx.Response(200, content=b'{"date":"2022-01-03","close":1}')
    with pytest.raises(BadResponse, match="expected a JSON array of bars") as info:
        run(h.client(responses(wrong_shape)), lambda c: c.eod("AAPL.US"))
    assert not isinstance(info.value, MalformedBody)
    assert len(h.requests) == 1


def test_budget_refuses_before_sending() -> None:
    h = Harness()
    client = h.client(responses(OK), daily_budget=2)

    async def three(c: EodhdClient) -> None:
        await c.eod("A.US")
        await c.eod("B.US")
        with pytest.raises(QuotaExhausted, match="daily budget of 2 API calls") as info:
            await c.eod("C.US")
        assert info.value.resets_at == dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
        with pytest.raises(QuotaExhausted):
            await c.bulk_eod("US")

    run(client, three)
    assert len(h.requests) == 2


def test_refused_and_5xx_requests_are_refunded() -> None:
    h = Harness()
    budget = InMemoryCallBudget(1, now=lambda: NOW)
    client = h.client(
        responses(httpx.Response(503), httpx.ConnectError("x"), OK), call_budget=budget
    )
    run(client, lambda c: c.eod("A.US"))
    assert budget.spent == 1 and client.calls_spent == 1 and len(h.requests) == 3


def test_concurrency_is_bounded() -> None:
    h = Harness()
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, content=EOD_BODY)

    client = h.client(slow, concurrency=3)

    async def many(c: EodhdClient) -> None:
        await asyncio.gather(*(c.eod(f"S{i}.US") for i in range(12)))

    run(client, many)
    assert peak == 3 and len(h.requests) == 12


def test_warnings_become_events() -> None:
    h = Harness()
    body = (
        EOD_BODY[:-1]
        + b',{"warning":"Data is limited by one year as you have free subscription."}]'
    )
    run(h.client(responses(httpx.Response(200, content=body))), lambda c: c.eod("AAPL.US"))
    (event,) = h.events
    assert isinstance(event, ProviderWarning) and event.symbol == "AAPL.US"
    assert "Data is limited by one year" in event.text


def test_bad_arguments() -> None:
    h = Harness()
    with pytest.raises(ValueError, match="token"):
        EodhdClient("")
    with pytest.raises(ValueError, match="after end"):
        run(
            h.client(responses(OK)),
            lambda c: c.eod("A.US", start=NOW.date(), end=dt.date(2000, 1, 1)),
        )
    with pytest.raises(ValueError, match="empty symbol"):
        run(h.client(responses(OK)), lambda c: c.eod(" "))


def test_a_failing_shared_limiter_refunds_the_reserved_calls() -> None:
    class Broken:
        async def acquire(self) -> None:
            raise RuntimeError("database gone")

    h = Harness()
    budget = InMemoryCallBudget(10, now=lambda: NOW)
    client = h.client(responses(OK), rate_limiter=Broken(), call_budget=budget)
    with pytest.raises(RuntimeError, match="database gone"):
        run(client, lambda c: c.eod("A.US"))
    assert budget.spent == 0 and client.calls_spent == 0 and h.requests == []
