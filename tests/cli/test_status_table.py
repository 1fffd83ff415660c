"""``datanexus status`` and ``runs`` as tables: instants to the second in UTC (said once
under the table), a failing asset's error clipped to one short line, ``history_from``
shown; ``--json`` keeps every value whole."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from data_nexus.assets import add_assets
from data_nexus.models import ASSETS
from data_nexus.storage.engine import open_engine
from data_nexus.storage.store import Store
from data_nexus.sync.runs import start_run
from data_nexus.sync.summary import SyncOptions
from tests.cli.test_db_cli import run_cli

SYNCED = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)
RETRY = dt.datetime(2026, 3, 4, 7, 6, 7, 123456, tzinfo=dt.UTC)
ERROR = "HTTP 500 from the provider: " + "x" * 200 + "\nsecond line of the error"


def _failing_asset(url: str) -> None:
    add_assets(url, ["AAA.US", "BBB.US"])
    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.update(ASSETS)
                .where(ASSETS.c.symbol == "AAA.US")
                .values(
                    last_synced=SYNCED,
                    fail_count=2,
                    last_error=ERROR,
                    next_attempt_at=RETRY,
                    history_from=dt.date(2020, 1, 2),
                )
            )
    finally:
        engine.dispose()


def test_status_table_seconds_utc_and_a_short_why(sqlite_url: str, tmp_path: Path) -> None:
    _failing_asset(sqlite_url)
    done = run_cli("status", "-d", sqlite_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header, failing = lines[0].split(), lines[1]
    assert header[:4] == ["symbol", "exchange", "state", "why"] and "history_from" in header
    assert failing.startswith("AAA.US")
    assert "2026-03-04 05:06:07 " in failing and "2026-03-04 07:06:07 " in failing
    assert "891011" not in done.stdout and "+00:00" not in done.stdout
    assert "HTTP 500 from the provider: xxx" in failing and "xxx…" in failing
    assert "second line" not in done.stdout
    assert "2020-01-02" in failing
    assert max(len(line) for line in lines) < 200  # the error no longer sets the width
    assert lines[-1] == "(times in UTC; why: first 60 characters, --json has all)"
    as_json = json.loads(run_cli("status", "--json", "-d", sqlite_url, cwd=tmp_path).stdout)
    assert as_json[0]["why"] == ERROR
    assert as_json[0]["history_from"] == "2020-01-02" and as_json[1]["history_from"] is None


def test_runs_table_seconds_utc(sqlite_url: str, tmp_path: Path) -> None:
    store = Store.open(sqlite_url)
    try:
        start_run(store, worker="w", options=SyncOptions(), now=SYNCED)
    finally:
        store.close()
    done = run_cli("runs", "-d", sqlite_url, cwd=tmp_path)
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "started_at", "status"]
    assert lines[1].split()[:4] == ["1", "2026-03-04", "05:06:07", "running"]
    assert lines[-1] == "(times in UTC)"
