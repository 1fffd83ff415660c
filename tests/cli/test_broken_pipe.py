"""Output piped into a reader that leaves early (``datanexus db info | head -1``): every
command ends quietly with exit 141, as a program ended by SIGPIPE does; no traceback, no
"Exception ignored" line, no exit 1 (which means some work failed).

The reader here is the test: it closes its end of the pipe before the command writes a
byte, so every write fails, whatever the size of the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_nexus.cli.errors import ExitCode
from tests.cli.test_read_cli import warehouse  # noqa: F401 - the fixture

COMMANDS = [
    ("db", "info"),  # Rich console
    ("assets", "list"),  # Rich table
    ("status",),
    ("status", "--json"),  # print_json
    ("bars", "AAA.US"),  # sys.stdout.write
    ("bars", "AAA.US", "--format", "csv"),
    ("db", "info", "--help"),  # Click's echo
]


def _closed_reader(args: tuple[str, ...], cwd: Path, db: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    env["DATANEXUS_DATABASE_URL"] = f"sqlite:///{db}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "data_nexus", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first write
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_reader_that_leaves_early_ends_the_command_quietly(
    args: tuple[str, ...],
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    code, err = _closed_reader(args, tmp_path, warehouse)
    assert (code, err) == (ExitCode.BROKEN_PIPE, "")


def test_the_same_commands_succeed_with_a_reader(warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    """The exit above is the pipe's doing: read to the end, each command exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATANEXUS_", "EODHD_"))}
    env["DATANEXUS_DATABASE_URL"] = f"sqlite:///{warehouse}"
    for args in COMMANDS:
        done = subprocess.run(
            [sys.executable, "-m", "data_nexus", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0 and done.stdout, (args, done.stderr)
