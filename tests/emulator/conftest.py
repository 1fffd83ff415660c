"""Fixtures for the emulator tests: small markets, running servers and httpx clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from data_nexus.emulator import EmulatorConfig, EmulatorServer, Market

TODAY = dt.date(2025, 6, 30)  # a Monday
START = dt.date(2015, 1, 2)


@pytest.fixture(scope="session")
def market() -> Market:
    """A 25-year market with enough symbols to contain every kind of event."""
    return Market(today=TODAY, seed=42, symbols=200, exchanges=("US", "LSE", "FOREX", "CC"))


@pytest.fixture
def make_server() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators (small, ten years of history) that are closed after the test."""
    started: list[EmulatorServer] = []

    def make(**overrides: Any) -> EmulatorServer:
        config = EmulatorConfig(seed=11, symbols=8, start=START, today=TODAY)
        server = EmulatorServer(config, **overrides).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., EmulatorServer]) -> EmulatorServer:
    """A running emulator with default settings."""
    return make_server()


def client_for(server: EmulatorServer, **kwargs: Any) -> httpx.Client:
    """An httpx client on ``server``'s API that sends its token."""
    kwargs.setdefault("timeout", 10)
    return httpx.Client(base_url=server.base_url, params={"api_token": server.token}, **kwargs)


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    """A client of :func:`server`."""
    with client_for(server) as http:
        yield http
