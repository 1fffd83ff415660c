"""The EODHD emulator in its own process, started the way a user runs it.

``python -m data_nexus fake-eodhd …`` in a child process: the benchmark's own CPU time then
counts only the sync, and the emulator generates its market on demand (nothing is
pre-generated), as it does for a user. The child prints ``base URL: …`` once it listens;
:func:`emulator_process` waits for that line and stops the child (SIGINT, as Ctrl-C) when
the block ends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_nexus.emulator.config import DEFAULT_TOKEN

REPO = Path(__file__).resolve().parent.parent
#: Loopback requests never go through a proxy from the environment.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
#: Seconds to wait for the child to listen before giving up.
START_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class EmulatorProcess:
    """Where the child listens, and its process id."""

    base_url: str
    token: str
    pid: int

    def stats(self) -> dict[str, Any]:
        """The child's request counters (``GET /_admin/stats``)."""
        admin = self.base_url.removesuffix("/api") + "/_admin/stats"
        with _LOCAL.open(admin, timeout=10) as answer:
            stats: dict[str, Any] = json.load(answer)
        return stats

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the child has used so far; ``None`` off Linux."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def reset_stats(self) -> None:
        """Zero the child's request counters (``POST /_admin/reset-stats``)."""
        admin = self.base_url.removesuffix("/api") + "/_admin/reset-stats"
        request = urllib.request.Request(admin, data=b"", method="POST")
        with _LOCAL.open(request, timeout=10):
            pass


@contextlib.contextmanager
def emulator_process(
    *,
    symbols: int,
    start: dt.date,
    today: dt.date,
    seed: int = 99,
    latency_ms: float = 0.0,
    rate_limit: int | None = None,
    rate_window: float = 60.0,
    warm: bool = False,
) -> Iterator[EmulatorProcess]:
    """Run ``datanexus fake-eodhd`` in a child process for the duration of the block.

    Raises :class:`RuntimeError` (with the child's last output) when it does not start.
    """
    command = [
        sys.executable,
        "-m",
        "data_nexus",
        "fake-eodhd",
        "--symbols",
        str(symbols),
        "--seed",
        str(seed),
        "--start",
        start.isoformat(),
        "--today",
        today.isoformat(),
        "--latency-ms",
        str(latency_ms),
        "--rate-window",
        str(rate_window),
    ]
    if rate_limit is not None:
        command += ["--rate-limit", str(rate_limit)]
    if warm:
        command.append("--warm")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        base_url = _wait_for_url(child)
        # Keep reading what the child prints, so a full pipe can never stall it.
        threading.Thread(target=_drain, args=(child,), daemon=True).start()
        yield EmulatorProcess(base_url, DEFAULT_TOKEN, child.pid)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if child.stdout is not None:
            child.stdout.close()


def _drain(child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None
    with contextlib.suppress(ValueError, OSError):  # closed when the block ends
        for _line in child.stdout:
            pass


def _wait_for_url(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break  # the child exited
        seen.append(line.rstrip())
        if line.startswith("base URL: "):
            return line.removeprefix("base URL: ").strip()
    child.kill()
    child.wait()
    tail = "\n".join(seen[-10:])
    raise RuntimeError(f"the emulator did not start (exit {child.returncode}): {tail}")
