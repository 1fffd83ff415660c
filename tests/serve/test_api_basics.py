"""Health, assets, the page shells and JSON errors over a real socket, on each backend."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from data_nexus.assets import add_assets, list_assets
from data_nexus.serve import ServerThread
from data_nexus.storage.migrate import head_revision, upgrade_db
from tests.conftest import make_settings
from tests.pgcluster import DatabaseFactory
from tests.serve.conftest import SYMBOLS, TODAY, Serve


@pytest.fixture(scope="module")
def client(module_server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=module_server.url, timeout=30) as client:
        yield client


def test_health(client: httpx.Client, demo_url: str) -> None:
    body = client.get("/health").json()
    newest = max(a.last_date for a in list_assets(make_settings(demo_url)) if a.last_date)
    assert body["status"] == "ok"
    assert body["reachable"] is True
    assert body["schema_revision"] == body["schema_head"] == head_revision()
    assert body["newest_bar"] == newest.isoformat()
    assert body["newest_bar_age_days"] == (TODAY - newest).days
    assert body["backend"] == ("sqlite" if demo_url.startswith("sqlite") else "postgresql")


def test_assets_match_the_library(client: httpx.Client, demo_url: str) -> None:
    expected = list_assets(make_settings(demo_url))
    got = client.get("/assets").json()
    assert len(got) == SYMBOLS
    assert [a["symbol"] for a in got] == [a.symbol for a in expected]
    assert [a["last_date"] for a in got] == [a.last_date.isoformat() for a in expected]  # type: ignore[union-attr]
    assert client.get("/assets", params={"exchange": "US"}).json() == got
    assert client.get("/assets", params={"exchange": "LSE"}).json() == []
    one = client.get("/assets", params={"symbol": expected[0].symbol}).json()
    assert [a["symbol"] for a in one] == [expected[0].symbol]


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/no/such/path", 404, "no such path"),
        ("/assets?exchange=" + "X" * 40, 400, "exchange"),
        ("/assets?symbol=not a symbol", 400, "not a symbol"),
    ],
)
def test_errors_are_one_json_line(
    client: httpx.Client, path: str, status: int, fragment: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["error"]
    assert fragment in response.json()["error"]
    assert "Traceback" not in response.text


def test_pages_and_vendored_chart_library(client: httpx.Client) -> None:
    index = client.get("/")
    assert index.status_code == 200
    assert 'id="freshness"' in index.text
    page = client.get("/symbol/AAPL.US")
    assert "/static/vendor/lightweight-charts.standalone.production.js" in page.text
    assert "https://www.tradingview.com/" in page.text  # the licence's attribution link
    assert "cdn" not in (index.text + page.text).lower()
    lib = client.get("/static/vendor/lightweight-charts.standalone.production.js")
    assert lib.status_code == 200
    assert "Licensed under Apache License 2.0" in lib.text[:400]
    assert client.get("/static/vendor/LICENSE-lightweight-charts").status_code == 200
    assert "TradingView" in client.get("/static/vendor/NOTICE-lightweight-charts").text


def test_openapi_and_docs(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/health", "/assets"} <= set(schema["paths"])
    assert "/" not in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Offline: every script and stylesheet comes from this server, none from a CDN.
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert "/static/vendor/swagger-ui-bundle.js" in sources
    assert "/static/vendor/swagger-ui.css" in sources
    assert not [s for s in sources if "//" in s], sources
    assert "'/openapi.json'" in docs.text or '"/openapi.json"' in docs.text
    bundle = client.get("/static/vendor/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    css = client.get("/static/vendor/swagger-ui.css")
    assert css.status_code == 200 and ".swagger-ui" in css.text
    assert "Apache License" in client.get("/static/vendor/LICENSE-swagger-ui").text
    assert client.get("/redoc").status_code == 404


def test_unhealthy_when_the_schema_moves_on(demo_sqlite: str, serve: Serve) -> None:
    """The schema changed under a running server (here: rolled back to an older revision
    behind its back): /health answers 503, not 500."""
    import shutil
    import sqlite3
    from pathlib import Path

    copy = Path(demo_sqlite.removeprefix("sqlite:///")).with_name("moved.db")
    shutil.copy(demo_sqlite.removeprefix("sqlite:///"), copy)
    server = serve(f"sqlite:///{copy}")
    with sqlite3.connect(copy) as conn:  # a downgrade refuses: the demo keeps two dividends
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    with httpx.Client(base_url=server.url) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["schema_at_head"] is False
    assert "db upgrade" in response.json()["message"]


@pytest.mark.postgres
def test_database_gone_is_503_not_500(pg_factory: DatabaseFactory, serve: Serve) -> None:
    """The database dropped under a running server: 503 with a line, never a trace."""
    url = pg_factory.create()
    upgrade_db(make_settings(url))
    add_assets(make_settings(url), ["AAPL.US"])
    server = serve(url)
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/bars/AAPL.US").status_code == 200  # a pooled reader exists now
        pg_factory.drop(url)
        for path in ("/bars/AAPL.US", "/status", "/assets"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["error"].startswith(("database unavailable", "cannot open"))
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["reachable"] is False


def test_unexpected_error_is_a_json_500_without_details(
    demo_sqlite: str, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    from data_nexus.serve import data

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(data, "get_runs", broken)  # the server runs in this process
    server = serve(demo_sqlite)
    with httpx.Client(base_url=server.url) as client:
        response = client.get("/runs")
        assert response.status_code == 500
        assert response.json() == {"error": "internal error"}
        assert client.get("/health").status_code == 200  # the connection and server live on


def test_a_stream_broken_midway_is_not_a_complete_answer(
    demo_sqlite: str, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    from data_nexus.serve import data

    real = data.get_bars_arrow
    calls = []

    def fails_second(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(data, "get_bars_arrow", fails_second)
    monkeypatch.setattr(data, "PIECE", 1)
    server = serve(demo_sqlite)
    symbols = ",".join(a["symbol"] for a in httpx.get(f"{server.url}/assets").json())
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.url}/bars", params={"symbols": symbols})
