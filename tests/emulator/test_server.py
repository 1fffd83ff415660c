"""The server's lifecycle and helpers: ports, restarts, served history after ``advance``."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.emulator.testing import TEST_TODAY, emulator_env, running_emulator
from data_nexus.errors import ConfigError
from tests.emulator.conftest import client_for


def test_running_emulator_gives_a_ready_server_and_its_environment() -> None:
    with running_emulator(symbols=3) as server:
        env = emulator_env(server)
        assert env == {"EODHD_BASE_URL": server.base_url, "EODHD_API_TOKEN": "test-token"}
        params = {"api_token": env["EODHD_API_TOKEN"], "fmt": "json"}
        response = httpx.get(f"{env['EODHD_BASE_URL']}/eod/AAPL.US", params=params)
        assert response.json()[-1]["date"] == TEST_TODAY.isoformat()


def test_a_busy_port_is_a_config_error_and_close_is_idempotent() -> None:
    with running_emulator() as first:
        second = EmulatorServer(EmulatorConfig(port=first.port, today=TEST_TODAY))
        with pytest.raises(ConfigError, match="cannot listen"):
            second.start()
    first.close()
    with pytest.raises(RuntimeError, match="not running"):
        _ = first.port


def test_served_history_follows_advance(server: EmulatorServer, client: httpx.Client) -> None:
    params = {"fmt": "json", "from": "2025-06-27"}
    before = client.get("/eod/AAPL.US", params=params).json()
    new_day = server.advance(1, splits={"AAPL.US": "2/1"})
    after = client.get("/eod/AAPL.US", params=params).json()
    assert new_day == dt.date(2025, 7, 1) and after[-1]["date"] == "2025-07-01"
    assert after[0]["close"] == before[0]["close"]
    assert after[0]["volume"] == before[0]["volume"] * 2
    assert after[0]["adjusted_close"] < before[0]["adjusted_close"]
    bulk = client.get("/eod-bulk-last-day/US", params={"fmt": "json"}).json()
    assert {row["date"] for row in bulk} == {"2025-07-01"}
    assert client.get("/splits/AAPL.US", params={"fmt": "json"}).json()[-1] == {
        "date": "2025-07-01", "split": "2.000000/1.000000"
    }  # fmt: skip


def test_head_requests_get_headers_only(server: EmulatorServer) -> None:
    with client_for(server) as client:
        response = client.head("/eod/AAPL.US")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_a_warm_emulator_answers_byte_for_byte_as_a_cold_one() -> None:
    """``warm`` renders every history before listening and keeps them all (more symbols
    than the default cache holds); the answers are exactly those of a cold emulator."""
    symbols = 70  # plus delisted ones: more than the 64 renderings kept by default
    with (
        running_emulator(symbols=symbols, warm=True) as warm,
        running_emulator(symbols=symbols) as cold,
        client_for(warm) as warm_client,
        client_for(cold) as cold_client,
    ):
        listed = warm.market.symbols("US", include_delisted=True)
        assert len(listed) > 64
        assert len(warm.service.api._cache._rows) == len(listed)
        for symbol in [listed[0].symbol, listed[33].symbol, listed[-1].symbol]:
            for path, params in [
                (f"/eod/{symbol}", {"fmt": "json"}),
                (f"/eod/{symbol}", {"fmt": "json", "from": "2025-01-02", "to": "2025-03-31"}),
                (f"/eod/{symbol}", {"fmt": "csv"}),
                (f"/div/{symbol}", {"fmt": "json"}),
            ]:
                got = warm_client.get(path, params=params)
                want = cold_client.get(path, params=params)
                assert (got.status_code, got.content) == (want.status_code, want.content)
