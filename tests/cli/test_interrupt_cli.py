"""A second Ctrl-C aborts a sync at once: in-flight assets keep their old state, exit 130.

The emulator runs in this process with a long latency, so that fetches are in flight when the
signals arrive; ``datanexus sync`` is a real subprocess receiving two real SIGINTs.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from tests.sync.helpers import settings_for, symbols_of, sync_runs
from tests.sync.test_e2e_processes import (
    START,
    assert_every_asset_whole_or_untouched,
    sync_process,
)


def test_second_sigint_aborts_rolls_back_in_flight_and_exits_130(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """Two SIGINTs while fetches are in flight: one summary, exit 130, no traceback."""
    emu = start_emulator(seed=23, symbols=12, start=START, latency_ms=1500)
    symbols = symbols_of(emu)
    add_assets(settings_for(sqlite_url, emu), symbols)
    proc = sync_process(sqlite_url, emu, "--concurrency", "4", cwd=tmp_path)
    deadline = time.monotonic() + 120
    # The run row exists once the signal handlers are installed and fetching begins.
    while not sync_runs(sqlite_url) or emu.stats()["requests"].get("eod", 0) < 1:
        assert time.monotonic() < deadline and proc.poll() is None, "the sync did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    # Wait for the first signal's line, so the second one is a second one (fetches take
    # 1.5 s each, so in-flight assets are still running).
    seen: list[str] = []
    while not any("signal again to abort" in line for line in seen):
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line, f"the sync ended before the second signal: {seen}"
        seen.append(line)
    assert proc.poll() is None, "the first signal should let in-flight assets finish"
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "CancelledError" not in err
    assert "stopping: finishing in-flight assets (signal again to abort)" in err
    assert "aborting: cancelling in-flight assets" in err
    assert "sync interrupted:" in out
    assert (
        "stopped: aborted by a second signal: in-flight assets were rolled back; "
        "run the same command again to resume" in out
    )
    done = assert_every_asset_whole_or_untouched(sqlite_url, emu, symbols)
    assert done < len(symbols)
    runs = sync_runs(sqlite_url)
    assert [r["status"] for r in runs] == ["interrupted"]
    assert runs[0]["finished_at"] is not None


def test_sigint_during_the_demo_says_what_is_kept_and_exits_130(tmp_path: Path) -> None:
    """Ctrl-C while the demo syncs: one line naming the database and what it holds, 130."""
    import os
    import subprocess
    import sys

    db = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "data_nexus", "demo", "-d", f"sqlite:///{db}", "--symbols", "60"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    while not any(line.startswith("synced ") for line in seen):  # one asset is committed
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line, f"the demo ended before syncing: {seen}"
        seen.append(line)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        f"interrupted; the demo database {db} keeps the assets synced so far (each is whole "
        "or untouched): run datanexus demo again to finish"
    )
