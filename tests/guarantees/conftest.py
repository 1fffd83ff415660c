"""Fixtures of the guarantees suite; the secrets check runs after every test here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from data_nexus.emulator import EmulatorServer
from tests.guarantees.helpers import (
    SECRET_PASSWORD,
    SECRET_TOKEN,
    START,
    Capture,
    Forker,
    password_of,
    with_password,
)


@pytest.fixture
def capture(tmp_path: Path) -> Iterator[Capture]:
    """Keeps every output of the test's CLI runs; afterwards no secret may appear anywhere."""
    kept = Capture()
    yield kept
    secrets = [SECRET_TOKEN, SECRET_PASSWORD]
    secrets += [p for url in kept.urls if (p := password_of(url)) and len(p) >= 6]
    leaks = kept.leaks(sorted(set(secrets)), tmp_path)
    assert leaks == [], f"a secret leaked: {leaks}"


@pytest.fixture
def guard_pg_url(pg_url: str) -> str:
    """A migrated PostgreSQL database whose URL carries a password."""
    return with_password(pg_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def guard_url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each backend (PostgreSQL with a password in its URL)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("guard_pg_url"))


@pytest.fixture
def emulator(
    start_emulator: Callable[..., EmulatorServer],
) -> Callable[..., EmulatorServer]:
    """Start an emulator that accepts the suite's secret token (history from START)."""

    def start(**config: Any) -> EmulatorServer:
        config.setdefault("start", START)
        config.setdefault("token", SECRET_TOKEN)
        return start_emulator(**config)

    return start


@pytest.fixture(scope="session")
def forker() -> Iterator[Forker]:
    """One zygote for the session that forks ``datanexus`` processes quickly."""
    zygote = Forker(Path(__file__).resolve().parents[2])
    try:
        yield zygote
    finally:
        zygote.close()
