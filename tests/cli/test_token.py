"""No silent fallback to EODHD's demo key: without a token, a provider command refuses.

`datanexus sync AAPL.US` with no EODHD_API_TOKEN used to run with the public ``demo`` key
(which serves a handful of tickers), fail, and say "run again to resume". Now every command
that calls the provider stops first with one line saying how to set the token (exit 2,
nothing registered, no database created); with ``EODHD_API_TOKEN=demo`` it runs and says
once what the demo key covers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from data_nexus.config import DEMO_KEY_NOTE, NO_TOKEN
from data_nexus.emulator import EmulatorServer
from tests.cli.test_db_cli import run_cli


@pytest.mark.parametrize(
    "command",
    [("sync", "AAPL.US"), ("sync",), ("sync", "--exchange", "US"), ("assets", "discover", "US")],
    ids=" ".join,
)
def test_no_token_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    out = run_cli(*command, cwd=tmp_path)
    assert out.stderr.strip().splitlines() == [f"error: {NO_TOKEN}"]
    assert out.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_a_dry_run_needs_no_token(tmp_path: Path) -> None:
    """The plan is read from the database only: no provider, no token needed."""
    assert run_cli("assets", "add", "AAPL.US", cwd=tmp_path).returncode == 0
    out = run_cli("sync", "AAPL.US", "--dry-run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "dry run: 1 asset would be synced" in out.stdout


def test_the_demo_key_is_announced_once(
    tmp_path: Path, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """`EODHD_API_TOKEN=demo`: the run goes ahead and says, once, which symbols it covers."""
    emu = start_emulator(seed=3, symbols=5)
    env = {"EODHD_BASE_URL": emu.base_url, "EODHD_API_TOKEN": "demo", "EODHD_RATE_LIMIT": "1000"}
    out = run_cli("sync", "AAPL.US", cwd=tmp_path, env=env)
    assert out.stderr.splitlines().count(f"note: {DEMO_KEY_NOTE}") == 1, out.stderr
    assert "AAPL.US" in DEMO_KEY_NOTE and "EODHD_API_TOKEN" in DEMO_KEY_NOTE
    quiet = run_cli("sync", "AAPL.US", cwd=tmp_path, env={**env, "EODHD_API_TOKEN": emu.token})
    assert "demo key" not in quiet.stderr
