"""The EODHD client against the emulator over a real socket: every endpoint, every status
class, injected faults, and the token kept out of every client-side log line."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.errors import (
    AuthFailed,
    BadRequest,
    BadResponse,
    DataNexusError,
    NotFound,
    NotInPlan,
    ProviderUnavailable,
    QuotaExhausted,
)
from data_nexus.providers.eodhd import (
    BulkUnavailable,
    EodhdClient,
    MalformedBody,
    ProviderEvent,
    RequestRetried,
    RetryPolicy,
    Unlimited,
)

TODAY = dt.date(2024, 6, 28)
CONFIG = EmulatorConfig(
    seed=7, symbols=5, start=dt.date(2024, 1, 1), today=TODAY, timeout_seconds=1.0
)
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(CONFIG) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> None:
    if "emu" in request.fixturenames:
        server: EmulatorServer = request.getfixturevalue("emu")
        server.clear_faults()
        server.reset_stats()


def client_for(server: EmulatorServer, **options: Any) -> EodhdClient:
    token = options.pop("token", server.token)
    settings: dict[str, Any] = {
        "base_url": server.base_url,
        "rate_limiter": Unlimited(),
        "retry": FAST_RETRY,
        "timeout": httpx.Timeout(5.0, read=0.5),
    }
    settings.update(options)
    return EodhdClient(token, **settings)


def run(client: EodhdClient, call: Callable[[EodhdClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with client:
            return await call(client)

    return asyncio.run(main())


def test_every_endpoint_round_trips_the_emulators_market(emu: EmulatorServer) -> None:
    market = emu.market

    async def calls(c: EodhdClient) -> dict[str, Any]:
        return {
            "eod": await c.eod("AAPL.US"),
            "range": await c.eod("AAPL.US", start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31)),
            "splits": await c.splits("TSLA.US"),
            "div": await c.dividends("AAPL.US"),
            "bulk": await c.bulk_eod("US", day=dt.date(2024, 6, 27)),
            "bulk_some": await c.bulk_eod("US", symbols=["AAPL", "MSFT"]),
            "bulk_splits": await c.bulk_splits("US"),
            "bulk_div": await c.bulk_dividends("US"),
            "symbols": await c.symbol_list("US"),
            "delisted": await c.symbol_list("US", delisted=True),
            "exchanges": await c.exchanges(),
            "user": await c.user(),
        }

    client = client_for(emu)
    got = run(client, calls)
    assert got["eod"].records == market.bars("AAPL.US")
    assert got["range"].records == market.bars("AAPL.US", dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert got["splits"].records == market.splits("TSLA.US")
    assert got["div"].records == market.dividends("AAPL.US")
    assert got["bulk"].records == [
        b for b in market.bulk_bars("US", dt.date(2024, 6, 27)) if b.close != 0
    ]
    assert {b.symbol for b in got["bulk_some"].records} <= {"AAPL.US", "MSFT.US"}
    assert got["symbols"].records == sorted(market.symbols("US"), key=lambda s: s.code)
    assert all(s.delisted for s in got["delisted"].records)
    assert "US" in {e.code for e in got["exchanges"].records}
    assert got["user"].api_requests == emu.stats()["calls_charged"]
    assert client.calls_spent == emu.stats()["calls_charged"]


def test_401_wrong_token(emu: EmulatorServer) -> None:
    with pytest.raises(AuthFailed, match="Unauthenticated"):
        run(client_for(emu, token="wrong-token-123"), lambda c: c.eod("AAPL.US"))
    assert emu.stats()["requests"]["eod"] == 1


def test_402_daily_allowance() -> None:
    with EmulatorServer(CONFIG, daily_limit=2) as server:

        async def three(c: EodhdClient) -> None:
            await c.eod("AAPL.US")
            await c.eod("MSFT.US")
            await c.eod("TSLA.US")

        with pytest.raises(QuotaExhausted) as info:
            run(client_for(server), three)
    assert info.value.resets_at is not None and info.value.resets_at.tzinfo is not None
    assert info.value.resets_at.time() == dt.time(0, 0)


@pytest.mark.parametrize("status", [403, 404])
def test_bulk_off_is_a_capability_answer(status: int) -> None:
    with EmulatorServer(CONFIG, bulk_enabled=False, bulk_status=status) as server:
        with pytest.raises(BulkUnavailable) as info:
            run(client_for(server), lambda c: c.bulk_eod("US"))
        assert isinstance(info.value, NotInPlan)
        assert server.stats()["requests"]["eod-bulk-last-day"] == 1  # not retried


def test_404_unknown_symbol_and_unknown_path(emu: EmulatorServer) -> None:
    with pytest.raises(NotFound, match=r"NOPE\.US"):
        run(client_for(emu), lambda c: c.eod("NOPE.US"))
    wrong = client_for(emu, base_url=emu.url + "/apii")
    with pytest.raises(NotFound, match="HTML 404 page") as info:
        run(wrong, lambda c: c.eod("AAPL.US"))
    assert emu.token not in str(info.value)


class BadDay(dt.date):
    """A date whose ISO text is invalid, to make the emulator answer 422."""

    def isoformat(self) -> str:
        return "2024-13-45"


def test_422_validation_errors(emu: EmulatorServer) -> None:
    with pytest.raises(BadRequest, match="HTTP 422\\): date: The date does not match"):
        run(client_for(emu), lambda c: c.bulk_eod("US", day=BadDay(2024, 1, 1)))


@pytest.mark.parametrize(
    "kind", ["500", "502", "503", "429", "truncated", "garbled", "html", "disconnect", "timeout"]
)
def test_transient_faults_are_retried_until_success(emu: EmulatorServer, kind: str) -> None:
    emu.set_fault("AAPL.US", kind, count=1)
    events: list[ProviderEvent] = []
    parsed = run(client_for(emu, on_event=events.append), lambda c: c.eod("AAPL.US"))
    assert parsed.records == emu.market.bars("AAPL.US")
    (retried,) = events
    assert isinstance(retried, RequestRetried) and retried.attempt == 1
    deadline = time.monotonic() + 3  # a held-back request is counted when it is answered
    while emu.stats()["requests"]["eod"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emu.stats()["requests"]["eod"] == 2


def test_5xx_forever_gives_up(emu: EmulatorServer) -> None:
    emu.set_fault("AAPL.US", "503")
    with pytest.raises(ProviderUnavailable, match="gave up after 4 tries"):
        run(client_for(emu), lambda c: c.eod("AAPL.US"))
    assert emu.stats()["requests"]["eod"] == 4


def test_malformed_forever_gives_up_after_two_retries(emu: EmulatorServer) -> None:
    emu.set_fault("AAPL.US", "truncated")
    with pytest.raises(MalformedBody):
        run(client_for(emu), lambda c: c.eod("AAPL.US"))
    assert emu.stats()["requests"]["eod"] == 3


@pytest.mark.parametrize("kind", ["truncated", "503"])
def test_one_retry_budget_for_every_kind_of_failure(emu: EmulatorServer, kind: str) -> None:
    # EODHD_MAX_RETRIES=1 means two tries in all, a malformed body included
    emu.set_fault("AAPL.US", kind)
    events: list[ProviderEvent] = []
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)
    client = client_for(emu, retry=policy, on_event=events.append)
    with pytest.raises((MalformedBody, ProviderUnavailable)) as info:
        run(client, lambda c: c.eod("AAPL.US"))
    assert emu.stats()["requests"]["eod"] == 2
    assert [e.attempt for e in events if isinstance(e, RequestRetried)] == [1]
    if kind == "503":
        assert "gave up after 2 tries" in str(info.value)


def test_malformed_then_5xx_share_the_budget(emu: EmulatorServer) -> None:
    emu.set_fault("AAPL.US", "truncated", count=1)
    emu.set_fault("AAPL.US", "503")
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)
    with pytest.raises((MalformedBody, ProviderUnavailable)) as info:
        run(client_for(emu, retry=policy), lambda c: c.eod("AAPL.US"))
    assert emu.stats()["requests"]["eod"] == 2
    assert "gave up after 3" not in str(info.value)


def test_bad_values_are_not_retried(emu: EmulatorServer) -> None:
    emu.set_fault("AAPL.US", "duplicate_date", count=1)
    with pytest.raises(BadResponse, match="duplicate date") as info:
        run(client_for(emu), lambda c: c.eod("AAPL.US"))
    assert not isinstance(info.value, MalformedBody)
    assert info.value.symbol == "AAPL.US"
    assert emu.stats()["requests"]["eod"] == 1


def test_a_negative_price_is_data_not_an_error(emu: EmulatorServer) -> None:
    """Negative prices are legitimate (oil futures, spreads): parsed exactly, not retried."""
    emu.set_fault("AAPL.US", "negative_price", count=1)
    parsed = run(client_for(emu), lambda c: c.eod("AAPL.US"))
    assert [b.close for b in parsed.records if b.close < 0] != []
    assert parsed.findings == []
    assert emu.stats()["requests"]["eod"] == 1


# --- secrecy over a real socket ----------------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_no_token_in_client_logs_errors_or_events_over_a_socket(emu: EmulatorServer) -> None:
    capture = Capture()
    loggers = [logging.getLogger(n) for n in ("", "httpx", "httpcore")]
    saved = [lg.level for lg in loggers]
    loggers[0].addHandler(capture)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    seen: list[str] = []
    events: list[ProviderEvent] = []
    emu.set_fault("AAPL.US", "503", count=1)
    emu.set_fault("MSFT.US", "html", count=1)
    emu.set_fault("TSLA.US", "timeout", count=1)
    try:
        for base, symbol in [
            (emu.base_url, "AAPL.US"),
            (emu.base_url, "MSFT.US"),
            (emu.base_url, "TSLA.US"),
            (emu.base_url, "NOPE.US"),
            (emu.url + "/apii", "AAPL.US"),
        ]:
            client = client_for(emu, base_url=base, on_event=events.append)
            seen.append(repr(client))
            try:
                seen.append(repr(run(client, lambda c, s=symbol: c.eod(s))))
            except DataNexusError as error:
                seen.extend([str(error), repr(error), *traceback.format_exception(error)])
    finally:
        loggers[0].removeHandler(capture)
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)
    # The emulator is the server: like any access log, its own DEBUG lines show the key.
    client_side = [r for r in capture.records if not r.name.startswith("data_nexus.emulator")]
    lines = [logging.Formatter("%(name)s %(message)s").format(r) for r in client_side]
    assert any(line.startswith("httpx HTTP Request: GET") for line in lines)
    assert any(line.startswith("httpcore") for line in lines)
    seen += lines + [repr(e) for e in events]
    assert emu.token not in "\n".join(seen)
