"""The API token never shows: not in any log record (httpx, httpcore, root, at DEBUG), not in
exception texts or tracebacks, not in reprs or events."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Iterator

import httpx
import pytest

from data_nexus.errors import DataNexusError
from data_nexus.providers.eodhd import EodhdClient
from tests.providers.helpers import EOD_BODY, TOKEN, Harness


class Capture(logging.Handler):
    """Every record, formatted with its arguments and any exception info."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Capture all logging at DEBUG (root, httpx, httpcore), restoring levels afterwards."""
    capture = Capture()
    loggers = [logging.getLogger(), logging.getLogger("httpx"), logging.getLogger("httpcore")]
    saved = [lg.level for lg in loggers]
    root = loggers[0]
    root.addHandler(capture)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), *traceback.format_exception(error)]


def leak_free_run(client: EodhdClient, harness: Harness) -> list[str]:
    """Call every endpoint; collect every text a user or a log could see."""
    seen: list[str] = [repr(client)]

    async def main() -> None:
        async with client:
            calls = [
                lambda: client.eod("AAPL.US"),
                lambda: client.eod("NOPE.US"),
                lambda: client.eod("HTML.US"),
                lambda: client.splits("AUTH.US"),
                lambda: client.dividends("QUOTA.US"),
                lambda: client.eod("SLOW.US"),
                lambda: client.eod("BROKEN.US"),
                lambda: client.eod("GARBLED.US"),
                lambda: client.bulk_eod("US"),
                client.user,
            ]
            for call in calls:
                try:
                    result = await call()
                    seen.append(repr(result))
                except DataNexusError as error:
                    seen.extend(texts_of(error))

    asyncio.run(main())
    seen.extend(repr(event) for event in harness.events)
    return seen


def mock_handler(request: httpx.Request) -> httpx.Response:
    assert request.url.params["api_token"] == TOKEN  # the provider does get it
    echo = str(request.url)  # what a careless server echoes back, token included
    path = request.url.path
    if path.endswith("/NOPE.US"):
        return httpx.Response(404, text=f"Ticker Not Found. {echo}")
    if path.endswith("/HTML.US"):
        return httpx.Response(404, text=f"<html><p>The URL {echo} was not found</p></html>")
    if path.endswith("/AUTH.US"):
        return httpx.Response(401, text=f"Unauthenticated {TOKEN}")
    if path.endswith("/QUOTA.US"):
        return httpx.Response(402, text="You exceeded your daily API requests limit.")
    if path.endswith("/SLOW.US"):
        raise httpx.ReadTimeout(f"timed out reading {echo}", request=request)
    if path.endswith("/BROKEN.US"):
        return httpx.Response(503, text=f"down: {echo}")
    if path.endswith("/GARBLED.US"):
        return httpx.Response(200, text=f"<html>{echo}</html>")
    if "bulk" in path:
        return httpx.Response(403, text=f"Forbidden {echo}")
    if path.endswith("/user"):
        return httpx.Response(422, json={"errors": {"api_token": [f"bad {TOKEN}"]}})
    return httpx.Response(200, content=EOD_BODY)


def test_no_token_anywhere_with_a_mock_transport(captured: Capture) -> None:
    harness = Harness()
    client = harness.client(mock_handler)
    seen = leak_free_run(client, harness)
    assert any(
        "HTTP Request: GET https://eodhd.test/api/eod/AAPL.US" in line for line in captured.lines
    ), "httpx's request log line was not captured"
    assert len(seen) > 20
    everything = "\n".join(seen + captured.lines)
    assert TOKEN not in everything
    assert "api_token=***" in everything or "***" in everything  # redacted, not dropped


def test_reprs_hide_the_token() -> None:
    client = EodhdClient(TOKEN, transport=httpx.MockTransport(mock_handler))
    try:
        assert TOKEN not in repr(client)
        assert TOKEN not in repr(client._http._transport)
    finally:
        asyncio.run(client.aclose())
