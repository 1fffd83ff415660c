"""The short path for ``GET /bars/{symbol}`` answers exactly as FastAPI's route does.

Two servers over the same database, one with the fast lane and one without, are asked the
same requests over a real socket; status, content type, download name and body must be the
same bytes, for answers and for errors, with and without a bearer token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from data_nexus.serve import ServerThread, create_app, open_read_only
from data_nexus.serve.auth import bearer_matches
from data_nexus.serve.fastlane import INLINE_DAYS, FastLane, _small, parse_query
from tests.serve.conftest import fixed_clock

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def pair(demo_url: str) -> Iterator[tuple[httpx.Client, httpx.Client, str]]:
    """Clients of a server with the fast lane and of one without; a symbol with bars."""
    servers = [
        ServerThread(
            create_app(open_read_only(demo_url), clock=fixed_clock, close=True, fast_lane=fast)
        ).start()
        for fast in (True, False)
    ]
    try:
        with (
            httpx.Client(base_url=servers[0].url, timeout=60) as fast,
            httpx.Client(base_url=servers[1].url, timeout=60) as slow,
        ):
            symbol = fast.get("/assets").json()[-1]["symbol"]
            yield fast, slow, symbol
    finally:
        for server in servers:
            server.stop()


def same_answer(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.status_code == slow.status_code, (fast.text[:200], slow.text[:200])
    for header in ("content-type", "content-length", "content-disposition", "www-authenticate"):
        assert fast.headers.get(header) == slow.headers.get(header), header
    assert fast.content == slow.content


QUERIES = [
    "",
    "from=2026-01-01&to=2026-06-30",
    "from=2025-01-01&to=2026-12-31",
    "from=2025-06-01",
    "to=2025-06-30",
    "from=2025-03-01&to=2026-06-30&adjust=all&interval=1w",
    "from=2025-03-01&to=2026-06-30&adjust=splits&interval=1mo",
    "adjust=provider&interval=1q",
    "interval=1y&format=csv",
    "from=2026-01-01&to=2026-03-31&format=parquet",
    "from=2026-01-01&to=2026-03-31&format=arrow&adjust=all",
    "from=2030-01-01&to=2030-12-31",  # no bars in range
    "from=2026-01-01&to=2026-01-01",
]

DECLINED = [
    "from=2026-02-30",  # not a date: FastAPI's 400
    "from=2026-06-30&to=2026-01-01",  # after: the library's 400, from FastAPI
    "to=yesterday",
    "adjust=dividends",
    "format=xlsx",
    "from=2026-01-01&from=2026-02-01",  # repeated: FastAPI takes the last
    "from=2026-01-01&foo=bar",  # unknown parameters are ignored by FastAPI
    "start=2026-01-01",
    "from=",
    "from=20260101",
    "adjust=ALL",
    "from=2026-01-01&to=2026-01-31&",
]


@pytest.mark.parametrize("query", QUERIES + DECLINED)
def test_answers_equal_fastapis(pair: tuple[httpx.Client, httpx.Client, str], query: str) -> None:
    fast, slow, symbol = pair
    path = f"/bars/{symbol}?{query}" if query else f"/bars/{symbol}"
    same_answer(fast.get(path), slow.get(path))


@pytest.mark.parametrize(
    "path",
    [
        "/bars/NOPE.US?from=2026-01-01&to=2026-03-31",  # unknown symbol: 404 from FastAPI
        "/bars/nope.us",
        "/bars/not-a-symbol",
        "/bars/AAPL.US/",
        "/bars/AAPL.US/x",
    ],
)
def test_errors_equal_fastapis(pair: tuple[httpx.Client, httpx.Client, str], path: str) -> None:
    fast, slow, _symbol = pair
    answer = fast.get(path)
    same_answer(answer, slow.get(path))
    if answer.status_code >= 400:
        assert list(answer.json()) == ["error"]


def test_lower_case_symbol_is_the_same_asset(pair: tuple[httpx.Client, httpx.Client, str]) -> None:
    fast, slow, symbol = pair
    path = f"/bars/{symbol.lower()}?from=2026-01-01&to=2026-03-31"
    answer = fast.get(path)
    assert answer.status_code == 200
    assert answer.json()["symbol"] == symbol
    same_answer(answer, slow.get(path))


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        f"Bearer {TOKEN}",
        f"bearer {TOKEN}",
        f"BEARER  {TOKEN}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer",
    ],
)
def test_token_is_checked_as_fastapi_does(demo_sqlite: str, authorization: str | None) -> None:
    servers = [
        ServerThread(
            create_app(
                open_read_only(demo_sqlite),
                clock=fixed_clock,
                close=True,
                token=TOKEN,
                fast_lane=fast,
            )
        ).start()
        for fast in (True, False)
    ]
    try:
        headers = {} if authorization is None else {"Authorization": authorization}
        answers = [
            httpx.get(f"{s.url}/bars/AAPL.US?from=2026-01-01&to=2026-03-31", headers=headers)
            for s in servers
        ]
    finally:
        for server in servers:
            server.stop()
    same_answer(*answers)
    accepted = authorization is not None and bearer_matches(authorization, TOKEN.encode())
    assert answers[0].status_code == (200 if accepted else 401)


def test_parse_query_takes_only_the_plain_form() -> None:
    assert parse_query(b"") == {}
    assert parse_query(b"from=2024-01-01&to=2024-12-31&adjust=all&interval=1w&format=csv") == {
        "from": dt.date(2024, 1, 1),
        "to": dt.date(2024, 12, 31),
        "adjust": "all",
        "interval": "1w",
        "format": "csv",
    }
    assert parse_query(b"from=2024%2D01%2D01") == {"from": dt.date(2024, 1, 1)}
    for declined in (
        b"from=2024-02-30",
        b"from=2024-1-1",
        b"from=+2024-01-01",
        b"to=2024-01-01&to=2024-02-01",
        b"symbol=AAPL.US",
        b"adjust=None",
        b"interval=1D",
        b"format=",
        b"from",
    ):
        assert parse_query(declined) is None, declined


def test_bearer_matches() -> None:
    assert bearer_matches("Bearer abc", b"abc")
    assert bearer_matches("bEaReR abc ", b"abc")
    assert not bearer_matches(None, b"abc")
    assert not bearer_matches("Bearer", b"abc")
    assert not bearer_matches("Bearer abcd", b"abc")
    assert not bearer_matches("Token abc", b"abc")


def test_only_plain_bar_requests_take_the_short_path(demo_sqlite: str) -> None:
    warehouse = open_read_only(demo_sqlite)
    try:
        lane = FastLane(create_app(warehouse), warehouse=warehouse, token=None)

        def scope(path: str, query: bytes = b"", method: str = "GET") -> dict[str, object]:
            return {
                "type": "http",
                "method": method,
                "path": path,
                "query_string": query,
                "headers": [],
                "root_path": "",
            }

        assert lane._request(scope("/bars/AAPL.US", b"from=2024-01-01")) == (
            "AAPL.US",
            {"from": dt.date(2024, 1, 1)},
        )
        assert lane._request(scope("/bars/AAPL.US", method="HEAD")) is None
        assert lane._request(scope("/bars", b"symbols=AAPL.US")) is None
        assert lane._request(scope("/actions/AAPL.US")) is None
        assert lane._request(scope("/bars/AAPL.US/x")) is None
    finally:
        warehouse.close()


def test_only_short_sqlite_reads_run_on_the_event_loop(demo_sqlite: str) -> None:
    """On SQLite a read of at most INLINE_DAYS with both ends runs inline, others in a thread."""
    year = {"from": dt.date(2024, 1, 1), "to": dt.date(2024, 12, 31)}
    assert _small(year)
    assert _small(
        {"from": dt.date(2024, 1, 1), "to": dt.date(2024, 1, 1) + dt.timedelta(INLINE_DAYS)}
    )
    assert not _small({"from": dt.date(2020, 1, 1), "to": dt.date(2024, 12, 31)})
    assert not _small({"from": dt.date(2024, 1, 1)})
    assert not _small({"to": dt.date(2024, 12, 31)})
    assert not _small({})
    with open_read_only(demo_sqlite) as warehouse:
        assert FastLane(create_app(warehouse), warehouse=warehouse, token=None).inline
