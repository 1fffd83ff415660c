"""Helpers for tests that run the real client against the emulator.

::

    from data_nexus.emulator.testing import running_emulator, emulator_env

    def test_sync(monkeypatch):
        with running_emulator(symbols=5, today=dt.date(2024, 6, 28)) as server:
            for name, value in emulator_env(server).items():
                monkeypatch.setenv(name, value)
            ...
            assert server.stats()["by_symbol"]["eod"] == {s: 1 for s in expected}
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from data_nexus.emulator.config import EmulatorConfig
from data_nexus.emulator.server import EmulatorServer

#: A fixed "today" for reproducible tests (a Friday).
TEST_TODAY = dt.date(2024, 6, 28)


@contextlib.contextmanager
def running_emulator(
    config: EmulatorConfig | None = None, **overrides: Any
) -> Iterator[EmulatorServer]:
    """A started emulator (``today`` defaults to :data:`TEST_TODAY`), closed afterwards."""
    base = config or EmulatorConfig(today=TEST_TODAY)
    with EmulatorServer(base, **overrides) as server:
        yield server


def emulator_env(server: EmulatorServer) -> dict[str, str]:
    """The environment that points Data Nexus at ``server``."""
    return {"EODHD_BASE_URL": server.base_url, "EODHD_API_TOKEN": server.token}
