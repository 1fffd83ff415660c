"""Loopback by default; beyond it a bearer token or an explicit opt-out."""

from __future__ import annotations

import httpx
import pytest

from data_nexus.errors import UsageError
from data_nexus.serve.auth import check_exposure, is_loopback
from tests.serve.conftest import Serve


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_exposure_rules() -> None:
    check_exposure("127.0.0.1", None, False)
    check_exposure("0.0.0.0", "s3cret-token", False)
    check_exposure("0.0.0.0", None, True)
    with pytest.raises(UsageError, match="--token"):
        check_exposure("0.0.0.0", None, False)
    with pytest.raises(UsageError, match="contradict"):
        check_exposure("0.0.0.0", "t", True)
    with pytest.raises(UsageError, match="empty"):
        check_exposure("127.0.0.1", "  ", False)


def test_token_guards_data_not_the_page_shell(demo_sqlite: str, serve: Serve) -> None:
    server = serve(demo_sqlite, token="s3cret-token")
    with httpx.Client(base_url=server.url) as client:
        for path in ("/assets", "/health"):
            missing = client.get(path)
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"] == "Bearer"
            assert "bearer token" in missing.json()["error"]
            wrong = client.get(path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert "s3cret" not in wrong.text
            right = client.get(path, headers={"Authorization": "Bearer s3cret-token"})
            assert right.status_code == 200, right.text
        for path in ("/", "/symbol/AAPL.US", "/openapi.json", "/static/app.css"):
            assert client.get(path).status_code == 200, path
        schema = client.get("/openapi.json").json()
        assert "HTTPBearer" in schema["components"]["securitySchemes"]
