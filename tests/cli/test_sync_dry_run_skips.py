"""A dry run says why each named symbol it leaves out is skipped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from data_nexus.emulator import EmulatorServer
from tests.cli.test_db_cli import run_cli
from tests.cli.test_sync_cli import _emulator_env


def test_dry_run_names_paused_and_fresh_symbols(
    tmp_path: Path, start_emulator: Callable[..., EmulatorServer]
) -> None:
    emu = start_emulator(seed=3, symbols=5)
    env = _emulator_env(emu, tmp_path / "w.db")
    assert run_cli("sync", "AAPL.US", "MSFT.US", cwd=tmp_path, env=env).returncode == 0
    assert run_cli("assets", "pause", "MSFT.US", cwd=tmp_path, env=env).returncode == 0
    dry = run_cli("sync", "MSFT.US", "AAPL.US", "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: 0 assets would be synced" in dry.stdout
    assert "  skipped MSFT.US: paused (datanexus assets resume MSFT.US)" in dry.stdout
    assert "  skipped AAPL.US: not due" in dry.stdout
    as_json = run_cli("sync", "MSFT.US", "--dry-run", "--json", cwd=tmp_path, env=env)
    assert json.loads(as_json.stdout)["skipped_named"] == [
        {"symbol": "MSFT.US", "why": "paused (datanexus assets resume MSFT.US)"}
    ]
