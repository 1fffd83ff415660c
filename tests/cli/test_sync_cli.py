"""The main commands as a user types them: demo, sync, assets; help, errors, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from data_nexus.cli import app
from data_nexus.emulator import EmulatorServer
from tests.cli.test_db_cli import run_cli

#: The fields of `sync --json` (stable: scripts read them; exit codes are the CLI's own).
JSON_FIELDS = {
    "run_id", "status", "worker", "started_at", "finished_at", "planned", "synced", "skipped",
    "failed", "rows_inserted", "rows_revised", "rows_deleted", "actions_changed",
    "full_refreshes", "calls_estimate", "calls_spent", "requests_sent", "calls_remaining",
    "bulk_used", "bulk_unavailable", "stop_reason", "stop_exit_code", "notices", "plan",
    "held_back", "findings",
    "rows_written", "exit_code",
}  # fmt: skip


def _emulator_env(emu: EmulatorServer, db: Path) -> dict[str, str]:
    return {
        "DATANEXUS_DATABASE_URL": f"sqlite:///{db}",
        "EODHD_BASE_URL": emu.base_url,
        "EODHD_API_TOKEN": emu.token,
        "EODHD_RATE_LIMIT": "100000",
    }


def test_demo_in_an_empty_directory(tmp_path: Path) -> None:
    """`datanexus demo` works offline, writes only data_nexus_demo.db, and is incremental."""
    first = run_cli("demo", "--symbols", "5", "--years", "2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "synced 5 of 5 assets" in first.stdout
    assert "latest sessions of AAPL.US" in first.stdout
    assert "export EODHD_API_TOKEN" in first.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["data_nexus_demo.db"]
    again = run_cli("demo", "--symbols", "5", "--years", "2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "synced 0 of 5 assets" in again.stdout and "(5 already fresh)" in again.stdout


def test_demo_refuses_a_real_warehouse(tmp_path: Path) -> None:
    """Synthetic prices never go into a database holding data the demo did not write."""
    real = tmp_path / "real.db"
    assert run_cli("assets", "add", "AAPL.US", "-d", str(real), cwd=tmp_path).returncode == 0
    out = run_cli("demo", "-d", str(real), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "error: this database already holds assets the demo did not write; the demo only "
        "writes synthetic prices into a database of its own; omit --database-url to use the "
        "demo's own database"
    )


def test_sync_json_dry_run_and_assets(
    tmp_path: Path, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """sync registers named symbols; --dry-run fetches nothing; --json is machine-readable."""
    emu = start_emulator(seed=3, symbols=5)
    env = _emulator_env(emu, tmp_path / "w.db")
    dry = run_cli("sync", "AAPL.US", "MSFT.US", "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert (
        "dry run: 2 assets would be synced, about 7 API calls (one reads today's remaining "
        "calls first)"
    ) in dry.stdout
    assert f"database {tmp_path / 'w.db'} does not exist yet" in dry.stdout
    assert emu.stats()["requests"]["eod"] == 0
    assert not (tmp_path / "w.db").exists()  # a dry run writes nothing, not even the file
    out = run_cli("sync", "AAPL.US", "MSFT.US", "--json", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["synced"] == 2 and summary["status"] == "ok" and summary["exit_code"] == 0
    assert set(summary) == JSON_FIELDS  # scripts depend on these names
    assert summary["calls_spent"] >= 6 and summary["rows_inserted"] > 1000
    listed = json.loads(run_cli("assets", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert [a["symbol"] for a in listed] == ["AAPL.US", "MSFT.US"]
    assert listed[0]["last_synced"] is not None and listed[0]["first_date"] is not None
    paused = run_cli("assets", "pause", "MSFT.US", cwd=tmp_path, env=env)
    assert paused.stdout.strip() == "paused: MSFT.US"
    again = json.loads(run_cli("sync", "--max-age", "0", "--json", cwd=tmp_path, env=env).stdout)
    assert again["synced"] == 1 and again["skipped"] == {"paused": 1}
    unknown = run_cli("assets", "resume", "NOPE.US", cwd=tmp_path, env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "error: unknown asset(s): NOPE.US (add them with 'datanexus assets add')"
    )


def test_dry_run_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    out = run_cli("sync", "--dry-run", "-d", "fresh.db", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "database fresh.db does not exist yet: planned as if empty" in out.stdout
    assert list(tmp_path.iterdir()) == []


def test_assets_discover(tmp_path: Path, start_emulator: Callable[..., EmulatorServer]) -> None:
    """discover registers the exchange's list with names, types and ISINs."""
    emu = start_emulator(seed=3, symbols=8)
    env = _emulator_env(emu, tmp_path / "w.db")
    out = run_cli("assets", "discover", "US", "--delisted", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("US: 8 listed; 9 added")
    listed = json.loads(run_cli("assets", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert len(listed) == 9 and sum(a["is_delisted"] for a in listed) == 1
    assert all(a["name"] for a in listed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["sync", "AAPL"],
            "error: invalid symbol 'AAPL': expected CODE.EXCHANGE (add the exchange, e.g. 'AAPL.US')",
        ),
        (
            ["sync", "--since", "2020-13-01"],
            "error: invalid --since '2020-13-01': not a real date (the month has no such day, "
            "or there is no such month)",
        ),
        (
            ["sync", "--bulk", "sometimes"],
            "error: invalid --bulk 'sometimes': use auto, always or never",
        ),
        (
            ["sync", "--max-age", "soon"],
            "error: invalid --max-age 'soon': use e.g. 1d, 12h, 30m or 0",
        ),
        (["sync", "--concurrency", "0"], "error: invalid --concurrency 0: must be at least 1"),
        (["demo", "--symbols", "0"], "error: invalid --symbols 0: must be between 1 and 500"),
        (
            ["assets", "discover", "U$"],
            "error: invalid exchange 'U$': expected a code such as US, LSE or XETRA",
        ),
    ],
)
def test_bad_arguments_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    """Bad CLI input: the exact line, exit code 2, nothing written."""
    out = run_cli(*args, "-d", str(tmp_path / "x.db"), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == message
    assert not (tmp_path / "x.db").exists() or args[0] == "sync"


def test_auth_failure_exit_3(tmp_path: Path, start_emulator: Callable[..., EmulatorServer]) -> None:
    """A refused token: one line saying so, the stopped summary, exit 3, the token not echoed."""
    emu = start_emulator(seed=3, symbols=3)
    env = {**_emulator_env(emu, tmp_path / "w.db"), "EODHD_API_TOKEN": "wrong-secret-token"}
    out = run_cli("sync", "AAPL.US", cwd=tmp_path, env=env)
    assert out.returncode == 3
    line, note = out.stderr.strip().splitlines()
    assert "refused the API token (HTTP 401" in line and "EODHD_API_TOKEN" in line
    # AAPL.US was registered by this run but never fetched: not kept as if real
    assert note == (
        "note AAPL.US: AAPL.US was not registered: the run stopped before fetching it "
        "(run the same command again)"
    )
    assert "stopped" in out.stdout
    assert "wrong-secret-token" not in out.stderr + out.stdout


def _commands(group: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    found = [
        (prefix + (c.name or c.callback.__name__), c.callback) for c in group.registered_commands
    ]  # type: ignore[union-attr]
    for sub in group.registered_groups:
        found += _commands(sub.typer_instance, prefix + f"{sub.name} ")  # type: ignore[arg-type]
    return found


def test_every_command_has_help_text() -> None:
    """Each command has a docstring and `--help` works for it."""
    from typer.testing import CliRunner

    commands = _commands(app)
    assert {"sync", "demo", "assets add", "db upgrade", "fake-eodhd"} <= {n for n, _ in commands}
    runner = CliRunner()
    for name, callback in commands:
        assert (callback.__doc__ or "").strip(), f"{name} has no help text"  # type: ignore[attr-defined]
        result = runner.invoke(app, [*name.split(), "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name
