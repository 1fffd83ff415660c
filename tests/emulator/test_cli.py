"""``datanexus fake-eodhd``: starts, prints where it listens, serves, stops cleanly on Ctrl-C."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys

import httpx
import pytest
from typer.testing import CliRunner

from data_nexus.cli.app import app, main


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(app, ["fake-eodhd", "--help"])
    assert result.exit_code == 0
    for option in ("--seed", "--symbols", "--exchanges", "--start", "--today", "--host",
                   "--port", "--token", "--no-bulk", "--latency-ms", "--rate-limit",
                   "--daily-limit", "--fail-rate", "--malformed-rate"):  # fmt: skip
        assert option in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--today", "2025-13-01"], "error: invalid --today '2025-13-01'"),
    (["--exchanges", "US,MARS"], "error: invalid emulator setting: unknown exchange 'MARS'"),
    (["--fail-rate", "1.5"], "error: invalid emulator setting: fail_rate must be between 0"),
    (["--symbols", "0"], "error: invalid emulator setting: symbols must be at least 1"),
    (["--latency-ms", "nan"], "error: invalid emulator setting: latency_ms must be a number"),
    (["--rate-window", "nan"], "error: invalid emulator setting: rate_window must be a positive"),
    (["--rate-window", "inf"], "error: invalid emulator setting: rate_window must be a positive"),
    (["--host", ""], "error: invalid emulator setting: host must not be empty"),
    (["--host", "  "], "error: invalid emulator setting: host must not be empty"),
])  # fmt: skip
def test_bad_arguments_are_one_line_errors_with_exit_2(
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "argv", ["datanexus", "fake-eodhd", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_a_start_after_today_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --today the history would be empty (every symbol a 404): one line, exit 2."""
    start = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    monkeypatch.setattr(sys, "argv", ["datanexus", "fake-eodhd", "--start", str(start)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: invalid --start {start}: after today (") and err.count("\n") == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_starts_prints_the_url_serves_and_stops_on_a_signal(sig: signal.Signals) -> None:
    command = [sys.executable, "-m", "data_nexus", "fake-eodhd", "--symbols", "3",
               "--today", "2025-06-30", "--token", "cli-token", "--port", "0"]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        base_url = lines[1].removeprefix("base URL: ").strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api")
        assert lines[2] == f"export EODHD_BASE_URL={base_url} EODHD_API_TOKEN=cli-token\n"
        params = {"api_token": "cli-token", "fmt": "json", "from": "2025-06-30"}
        response = httpx.get(f"{base_url}/eod/AAPL.US", params=params)
        assert response.json()[0]["date"] == "2025-06-30"
        process.send_signal(sig)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 130  # interrupted, as every command (ExitCode.INTERRUPTED)
    assert out.strip().endswith("fake-eodhd: stopped")
    assert err == ""
