"""Destructive commands ask first: `db downgrade` to a revision that drops data needs --yes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from data_nexus.storage.engine import open_engine
from data_nexus.storage.migrate import head_revision
from tests.guarantees.helpers import Capture

pytestmark = pytest.mark.guarantees


def _tables(url: str) -> set[str]:
    engine = open_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_downgrade_that_drops_data_requires_yes(
    backend: str, request: pytest.FixtureRequest, capture: Capture, tmp_path: Path
) -> None:
    """Without --yes (and no terminal) nothing is dropped: one line, exit 2; --yes drops."""
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url"))
    before = _tables(url)
    assert "market_data" in before
    refused = capture.cli("db", "downgrade", "base", url=url, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: downgrading from ") and "--yes" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert _tables(url) == before  # schema intact
    same = capture.cli("db", "downgrade", head_revision(), url=url, cwd=tmp_path)
    assert same.returncode == 0, same.stderr  # nothing to drop: no question asked
    done = capture.cli("db", "downgrade", "base", "--yes", url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "market_data" not in _tables(url)
