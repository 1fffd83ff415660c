"""``assets discover`` builds its client like the sync does: EODHD_MAX_RETRIES is honoured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from data_nexus.assets import discover_assets, list_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.errors import ProviderUnavailable
from data_nexus.providers.eodhd.factory import make_client, retry_policy
from tests.sync.helpers import settings_for, symbols_of

TODAY = dt.date(2026, 11, 24)


def _list_requests(emu: EmulatorServer) -> int:
    requests: dict[str, int] = emu.stats()["requests"]
    return requests["exchange-symbol-list"]


def test_discover_honours_max_retries(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """Two 503s: one retry gives up after two requests; two retries get through on the third."""
    emu = start_emulator(seed=3, symbols=6, start=dt.date(2025, 1, 2), today=TODAY)
    emu.set_fault("US", "503", 2, endpoint="exchange-symbol-list")
    one_retry = settings_for(sqlite_url, emu, eodhd_max_retries=1)
    with pytest.raises(ProviderUnavailable):
        discover_assets(one_retry, "US")
    assert _list_requests(emu) == 2
    assert list_assets(one_retry) == []

    emu.reset_stats()
    emu.set_fault("US", "503", 2, endpoint="exchange-symbol-list")
    two_retries = settings_for(sqlite_url, emu, eodhd_max_retries=2)
    result = discover_assets(two_retries, "US")
    assert _list_requests(emu) == 3
    assert result.added == len(symbols_of(emu)) > 0


def test_make_client_takes_the_settings(
    sqlite_url: str, start_emulator: Callable[..., EmulatorServer]
) -> None:
    """The factory's client uses the settings' base URL and retry policy."""
    emu = start_emulator(seed=3, symbols=2, start=dt.date(2025, 1, 2), today=TODAY)
    settings = settings_for(sqlite_url, emu, eodhd_max_retries=4)
    assert retry_policy(settings).max_attempts == 5
    client = make_client(settings)
    assert client.base_url == emu.base_url.rstrip("/")
