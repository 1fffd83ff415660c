"""Loopback by default; beyond it a bearer token or an explicit opt-out."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

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
        for path in ("/assets", "/status", "/bars/AAPL.US", "/bars?symbols=AAPL.US", "/runs"):
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


#: What /health shows a request without the token (when the server has one).
PUBLIC = {"status", "reachable", "schema_at_head", "newest_bar_age_days"}


def test_health_answers_probes_without_the_token_and_reveals_nothing(
    demo_sqlite: str, serve: Serve
) -> None:
    """Load balancers cannot send a token: /health answers them (200/503 as ever) with only
    status, reachability, schema-at-head and the newest bar's age; the token shows the rest."""
    server = serve(demo_sqlite, token="s3cret-token")
    with httpx.Client(base_url=server.url) as client:
        full = client.get("/health", headers={"Authorization": "Bearer s3cret-token"})
        assert full.status_code == 200
        assert all(v is not None for k, v in full.json().items() if k != "message")
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "s3cret-token"}):
            probe = client.get("/health", headers=headers)
            assert probe.status_code == 200
            body = probe.json()
            assert {k for k, v in body.items() if v is not None} == PUBLIC
            assert {k: body[k] for k in PUBLIC} == {k: full.json()[k] for k in PUBLIC}
            assert body["status"] == "ok" and body["newest_bar_age_days"] >= 0
        schema = client.get("/openapi.json").json()
        assert "security" not in schema["paths"]["/health"]["get"]
        assert schema["paths"]["/assets"]["get"]["security"] == [{"HTTPBearer": []}]


def test_an_unhealthy_answer_to_a_probe_keeps_the_reason_back(
    demo_sqlite: str, tmp_path: Path, serve: Serve
) -> None:
    """503 says unhealthy; the reason (a database error can name paths, hosts, users) and
    the revisions need the token. (Unhealthy here: the schema rolled back behind the
    server's back.)"""
    copy = tmp_path / "moved.db"
    shutil.copy(demo_sqlite.removeprefix("sqlite:///"), copy)
    server = serve(f"sqlite:///{copy}", token="s3cret-token")
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    with httpx.Client(base_url=server.url) as client:
        probe = client.get("/health")
        full = client.get("/health", headers={"Authorization": "Bearer s3cret-token"})
    assert probe.status_code == full.status_code == 503, (probe.text, full.text)
    assert probe.json() == {
        "status": "unhealthy",
        "backend": None,
        "reachable": True,
        "schema_revision": None,
        "schema_head": None,
        "schema_at_head": False,
        "newest_bar": None,
        "newest_bar_age_days": None,
        "message": None,
    }
    assert "db upgrade" in full.json()["message"]
    assert full.json()["schema_revision"] == "0001"


def test_without_a_server_token_health_shows_everything(demo_sqlite: str, serve: Serve) -> None:
    body = httpx.get(f"{serve(demo_sqlite).url}/health").json()
    assert body["backend"] == "sqlite" and body["schema_head"] and body["newest_bar"]
