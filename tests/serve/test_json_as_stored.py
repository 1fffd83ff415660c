"""``GET /bars/{symbol}`` as JSON, unadjusted and daily, is the document SQLite writes
(:func:`~data_nexus.query.bars_json.get_bars_json`) on both paths (fast lane and FastAPI),
and it equals the Arrow path's answer value for value: tiny crypto prices, volumes near
2^63, negative prices, missing adjusted closes, an asset without bars, an empty range, and
the 404 of an unknown symbol. Adjusted and resampled answers still come from Arrow.
"""

from __future__ import annotations

import json

import httpx
import pytest

from data_nexus.query import bars_json
from data_nexus.serve import open_read_only
from tests.query.test_bars_json import BARE, BARS, edge_warehouse, parse
from tests.serve.conftest import Serve

QUERIES = [
    {},
    {"from": "2024-01-03"},
    {"to": "2024-01-03", "from": "2024-01-01"},
    {"from": "2030-01-01", "to": "2030-12-31"},
]


@pytest.fixture(scope="module")
def edge_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('edge') / 'edge.db'}"
    edge_warehouse(url)
    return url


def get(server_url: str, symbol: str, params: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{server_url}/bars/{symbol}", params=params, timeout=30)


@pytest.mark.parametrize("fast_lane", [True, False])
def test_as_stored_equals_the_arrow_path(
    edge_url: str, serve: Serve, monkeypatch: pytest.MonkeyPatch, fast_lane: bool
) -> None:
    server = serve(edge_url, fast_lane=fast_lane)
    answers: dict[tuple[str, int], httpx.Response] = {}
    for symbol in [*BARS, BARE]:
        for k, params in enumerate(QUERIES):
            answers[symbol, k] = get(server.url, symbol, params)
            assert answers[symbol, k].status_code == 200
            assert answers[symbol, k].headers["content-type"] == "application/json"
    tiny = json.loads(answers["TINY.CC", 0].content, parse_float=str)["bars"][0]
    assert tiny["open"] == "0.00000123"  # the stored text, not 1.23e-06
    assert tiny["adjusted_close"] is None
    assert tiny["volume"] == 9_000_000_000_000_000_000
    assert b'"close":123456789.123456789123,' in get(server.url, "LONG.US", {}).content
    # the Arrow path, as before: the same server with the database's JSON turned off
    monkeypatch.setattr("data_nexus.serve.data.get_bars_json", lambda *_a, **_k: None)
    for (symbol, k), answer in answers.items():
        arrow = get(server.url, symbol, QUERIES[k])
        assert arrow.status_code == 200
        assert parse(answer.content) == parse(arrow.content), (symbol, QUERIES[k])
    # (it was the Arrow path: a float64 does not hold 21 digits)
    assert b'"close":123456789.12345679,' in get(server.url, "LONG.US", {}).content


def test_unknown_symbol_is_404_and_adjusted_is_arrow(edge_url: str, serve: Serve) -> None:
    server = serve(edge_url)
    gone = get(server.url, "NOPE.US", {})
    assert gone.status_code == 404
    assert gone.json() == {"error": "unknown symbol(s) NOPE.US: not in this warehouse"}
    split = get(server.url, "LONG.US", {"adjust": "splits"})
    assert split.status_code == 200
    assert b'"close":123456789.12345679,' in split.content  # float64: adjusted, not stored
    weekly = parse(get(server.url, "NEG.US", {"interval": "1w"}).content)
    assert dict(weekly)["interval"] == "1w"


def test_postgresql_has_no_such_path(demo_pg: str) -> None:
    """On PostgreSQL the library says so (None) and serve encodes from Arrow."""
    warehouse = open_read_only(demo_pg)
    try:
        with warehouse.readers.reader() as reader:
            assert bars_json.get_bars_json("AAPL.US", store=reader) is None
    finally:
        warehouse.close()
