"""``/_admin/stats`` has the documented shape and counts every API request exactly once."""

from __future__ import annotations

from decimal import Decimal

import httpx

from data_nexus.emulator import EmulatorServer
from tests.emulator.conftest import TODAY

ENDPOINTS = ["eod", "splits", "div", "eod-bulk-last-day", "exchange-symbol-list",
             "exchanges-list", "user", "other"]  # fmt: skip


def test_stats_shape_before_any_request(server: EmulatorServer) -> None:
    stats = httpx.get(f"{server.url}/_admin/stats").json()
    assert stats == {
        "requests": dict.fromkeys(ENDPOINTS, 0),
        "by_status": {},
        "calls_charged": 0,
        "by_symbol": {name: {} for name in ENDPOINTS[:5]},
        "today": TODAY.isoformat(),
    }
    assert list(stats["requests"]) == ENDPOINTS


def test_every_request_is_counted_by_endpoint_status_and_symbol(
    server: EmulatorServer, client: httpx.Client
) -> None:
    client.get("/eod/AAPL.US")
    client.get("/eod/aapl")  # no suffix means US; case does not matter
    client.get("/eod/MSFT.US", params={"api_token": "wrong"})
    client.get("/eod/NOPE.US")
    client.get("/splits/AAPL.US")
    client.get("/div/AAPL.US")
    client.get("/eod-bulk-last-day/US", params={"symbols": "AAPL,MSFT"})
    client.get("/exchange-symbol-list/US")
    client.get("/exchanges-list/")
    client.get("/user")
    client.get("/internal-user")
    client.get("/nowhere")
    httpx.get(f"{server.url}/_admin/stats")  # admin requests are not counted
    stats = server.stats()
    assert stats["requests"] == {
        "eod": 4, "splits": 1, "div": 1, "eod-bulk-last-day": 1, "exchange-symbol-list": 1,
        "exchanges-list": 1, "user": 2, "other": 1,
    }  # fmt: skip
    assert stats["by_status"] == {"200": 9, "401": 1, "404": 2}
    assert stats["calls_charged"] == 2 + 1 + 1 + 1 + 102 + 1 + 1 + 2
    assert stats["by_symbol"]["eod"] == {"AAPL.US": 2, "MSFT.US": 1, "NOPE.US": 1}
    assert stats["by_symbol"]["eod-bulk-last-day"] == {"US": 1}


def test_reset_stats_zeroes_the_counters_but_not_the_allowance(
    server: EmulatorServer, client: httpx.Client
) -> None:
    client.get("/eod/AAPL.US")
    server.reset_stats()
    assert server.stats()["requests"]["eod"] == 0
    assert client.get("/user").json()["apiRequests"] == 2


def test_admin_endpoints_over_http(server: EmulatorServer, client: httpx.Client) -> None:
    admin = f"{server.url}/_admin"
    assert httpx.post(f"{admin}/fault", params={"symbol": "AAPL.US", "kind": "502",
                                                "count": "1"}).status_code == 200  # fmt: skip
    assert httpx.get(f"{admin}/faults").json()[0]["kind"] == "502"
    assert client.get("/eod/AAPL.US").status_code == 502
    httpx.post(f"{admin}/fault", params={"symbol": "*", "kind": "500"})
    assert httpx.post(f"{admin}/clear-faults").json() == {"ok": True}
    assert client.get("/eod/AAPL.US").status_code == 200
    moved = httpx.post(f"{admin}/advance", params=[
        ("days", "1"), ("split", "AAPL.US:3/1"), ("dividend", "MSFT.US:0.5")
    ])  # fmt: skip
    assert moved.json() == {"today": "2025-07-01"}
    assert server.market.splits("AAPL.US")[-1].date.isoformat() == "2025-07-01"
    assert server.market.dividends("MSFT.US")[-1].unadjusted_value == 0.5
    # a symbol named twice gets two dividends on one ex-date (a regular and a special one)
    httpx.post(
        f"{admin}/advance", params=[("dividend", "MSFT.US:0.17"), ("dividend", "MSFT.US:0.34")]
    )
    paid = [(d.date.isoformat(), d.unadjusted_value) for d in server.market.dividends("MSFT.US")]
    assert paid[-2:] == [("2025-07-02", Decimal("0.17")), ("2025-07-02", Decimal("0.34"))]
    assert httpx.post(f"{admin}/reset-stats").json() == {"ok": True}
    assert server.stats()["requests"]["eod"] == 0
    assert httpx.get(f"{admin}/reset-stats").status_code == 405
    assert httpx.get(f"{admin}/nope").status_code == 404
    bad = httpx.post(f"{admin}/fault", params={"symbol": "AAPL.US", "kind": "boom"})
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]
    assert httpx.post(f"{admin}/advance", params={"split": "NOPE.US:2/1"}).status_code == 400
