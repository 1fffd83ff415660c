"""An exchange code nothing is registered on, or the provider does not know: one clear line.

`datanexus sync --exchange MOON` used to print "nothing to sync: no assets registered here"
(exit 0) although assets were registered, and `assets discover MOON` "MOON: 0 listed". Now
each names the code and says what to run next; `assets exchanges` lists the provider's codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from data_nexus.emulator import EmulatorServer
from tests.cli.test_db_cli import run_cli

HINT = "'datanexus assets exchanges' lists the provider's exchange codes"


@pytest.fixture
def env(start_emulator: Callable[..., EmulatorServer]) -> dict[str, str]:
    emu = start_emulator(seed=3, symbols=3)
    return {"EODHD_BASE_URL": emu.base_url, "EODHD_API_TOKEN": emu.token}


@pytest.mark.parametrize("dry_run", [False, True])
def test_sync_on_an_unknown_exchange(tmp_path: Path, env: dict[str, str], dry_run: bool) -> None:
    assert run_cli("assets", "add", "AAPL.US", cwd=tmp_path).returncode == 0
    extra = ["--dry-run"] if dry_run else []
    out = run_cli("sync", "--exchange", "moon", *extra, cwd=tmp_path, env=env)
    assert out.stderr.strip().splitlines() == [
        "error: unknown exchange 'MOON': no registered asset is on it and it is not an EODHD "
        f"exchange code Data Nexus knows ({HINT})"
    ]
    assert out.returncode == 2


def test_sync_on_a_known_exchange_with_nothing_registered(
    tmp_path: Path, env: dict[str, str]
) -> None:
    assert run_cli("assets", "add", "AAPL.US", cwd=tmp_path).returncode == 0
    out = run_cli("sync", "--exchange", "LSE", cwd=tmp_path, env=env)
    assert out.stderr.strip().splitlines() == [
        "error: no assets registered on exchange LSE: register its listing with "
        "'datanexus assets discover LSE', or name symbols (CODE.LSE)"
    ]
    assert out.returncode == 2


def test_discover_an_exchange_the_provider_lists_nothing_on(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Refused before anything is written (an empty answer never marks assets unlisted)."""
    out = run_cli("assets", "discover", "MOON", cwd=tmp_path, env=env)
    assert out.stderr.strip().splitlines() == [
        f"error: the provider lists no symbols on exchange 'MOON': check the code ({HINT})"
    ]
    assert out.returncode == 2
    assert list(tmp_path.iterdir()) == []  # not even a database


def test_assets_exchanges_lists_the_provider_codes(tmp_path: Path, env: dict[str, str]) -> None:
    out = run_cli("assets", "exchanges", "--json", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert [row["code"] for row in json.loads(out.stdout)] == ["US"]
    text = run_cli("assets", "exchanges", cwd=tmp_path, env=env)
    assert text.stdout.split()[:1] == ["US"]


def test_assets_exchanges_takes_database_url_like_every_command(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """-d is accepted (it used to be "no such option: -d"), checked, and opens nothing."""
    out = run_cli("assets", "exchanges", "-d", "s.db", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:1] == ["US"]
    assert not (tmp_path / "s.db").exists()
    bad = run_cli("assets", "exchanges", "-d", str(tmp_path), cwd=tmp_path, env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"error: invalid database URL 'sqlite:///{tmp_path}': '{tmp_path}' is a directory, "
        f"not an SQLite file (e.g. '{tmp_path / 'data_nexus.db'}')"
    ]
