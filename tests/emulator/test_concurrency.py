"""Concurrent clients are served in parallel: latency adds up per request, not in total."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from data_nexus.emulator import EmulatorServer
from tests.emulator.conftest import client_for


def test_latency_does_not_serialize_concurrent_requests(
    make_server: Callable[..., EmulatorServer],
) -> None:
    server = make_server(latency_ms=400)
    symbols = [s.symbol for s in server.market.symbols("US")]
    with client_for(server, limits=httpx.Limits(max_connections=20)) as client:
        client.get("/user")  # warm up
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda s: client.get(f"/eod/{s}").status_code, symbols * 2))
        elapsed = time.perf_counter() - started
    assert statuses == [200] * 16
    assert 0.4 <= elapsed < 1.6  # 16 x 0.4 s would be 6.4 s if serialized


def test_many_keep_alive_connections_stay_open_at_once(server: EmulatorServer) -> None:
    connections = [http.client.HTTPConnection("127.0.0.1", server.port) for _ in range(60)]
    try:
        for _ in range(3):  # every connection is reused for each round
            for connection in connections:
                connection.request("GET", f"/api/exchanges-list/?api_token={server.token}")
                response = connection.getresponse()
                assert response.status == 200 and response.read().startswith(b"[{")
                assert response.getheader("Content-Length") and not response.will_close
        assert server.stats()["requests"]["exchanges-list"] == 180
    finally:
        for connection in connections:
            connection.close()


def test_eod_for_a_25_year_symbol_is_fast_once_generated(
    make_server: Callable[..., EmulatorServer],
) -> None:
    import datetime as dt

    server = make_server(start=dt.date(2000, 1, 3))
    with client_for(server) as client:
        first = client.get("/eod/AAPL.US", params={"fmt": "json"})
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            again = client.get("/eod/AAPL.US", params={"fmt": "json"})
            timings.append(time.perf_counter() - started)
    assert again.content == first.content and len(first.json()) > 6000
    assert min(timings) < 0.1  # measured ~15 ms for 6,600 rows
