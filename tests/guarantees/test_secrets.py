"""Secrets: the API token and a database password appear nowhere.

Every test of this suite already ends with a grep of everything it captured (CLI output,
files under its ``tmp_path``, the ``sync_runs``/``assets``/``provider_state`` rows of its
databases) for the suite's token and password (see ``conftest.capture``). The tests here add
what the CLI does not show: library exceptions and their reprs, log records at DEBUG from
every logger (httpx included), events, summaries and stored errors of runs that fail in
every way the emulator allows, a rejected token, and connection errors carrying a password.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from data_nexus.assets import add_assets
from data_nexus.emulator import EmulatorServer
from data_nexus.errors import DataNexusError
from data_nexus.sync.runner import run_sync
from data_nexus.sync.summary import SyncOptions
from tests.conftest import make_settings
from tests.guarantees.helpers import SECRET_PASSWORD, SECRET_TOKEN, Capture, Forker
from tests.sync.helpers import settings_for, symbols_of

pytestmark = pytest.mark.guarantees

WRONG_TOKEN = "gtok-5ecret-wrong-4d1e"


def test_the_grep_finds_a_leak(tmp_path: Path) -> None:
    """The suite-wide check is not vacuous: a secret in output or in a file is reported."""
    capture = Capture()
    capture.keep("out", f"token={SECRET_TOKEN}")
    (tmp_path / "log.txt").write_text(f"postgresql://u:{SECRET_PASSWORD}@h/db")
    found = capture.leaks([SECRET_TOKEN, SECRET_PASSWORD], tmp_path)
    assert len(found) == 2


def test_library_run_with_every_failure_leaks_nothing(
    guard_url: str,
    emulator: Callable[..., EmulatorServer],
    caplog: pytest.LogCaptureFixture,
    capture: Capture,
) -> None:
    """Events, summary, DEBUG logs, stored errors and sync_runs of a run full of failures."""
    emu = emulator(seed=81, symbols=6, fail_rate=0.3, malformed_rate=0.2)
    symbols = symbols_of(emu)
    for symbol, kind in zip(symbols, ["404", "html", "truncated", "garbled"], strict=False):
        emu.service.faults.add(symbol, kind, None, "eod")
    settings = settings_for(guard_url, emu, eodhd_max_retries=1)
    add_assets(settings, symbols)
    events: list[str] = []
    caplog.set_level(logging.DEBUG)
    summary = run_sync(settings, SyncOptions(), on_event=lambda e: events.append(repr(e)))
    assert summary.failed  # the faults did fail assets
    capture.urls.add(guard_url)
    capture.keep("events", "\n".join(events))
    capture.keep("summary", json.dumps(summary.as_dict(), default=str))
    capture.keep("logs", caplog.text)
    assert caplog.records  # something was logged, so the grep saw real records


def test_rejected_token_and_bad_password_leak_nothing(
    guard_pg_url: str,
    emulator: Callable[..., EmulatorServer],
    forker: Forker,
    capture: Capture,
    tmp_path: Path,
) -> None:
    """A 401 with a wrong token; a database URL with a password that cannot connect."""
    emu = emulator(seed=82, symbols=2)
    add_assets(settings_for(guard_pg_url, emu), symbols_of(emu))
    child = capture.fork(forker, "sync", "--json", url=guard_pg_url, emu=emu, cwd=tmp_path,
                         EODHD_API_TOKEN=WRONG_TOKEN)  # fmt: skip
    assert forker.wait(child) == 3
    capture.outputs(child)
    closed = f"postgresql://dn:{SECRET_PASSWORD}@127.0.0.1:9/nowhere"
    for argv in (["db", "info"], ["db", "upgrade"], ["sync"], ["assets", "list"]):
        child = capture.fork(forker, *argv, url=closed, emu=emu, cwd=tmp_path)
        assert forker.wait(child) == 2
        _, err = capture.outputs(child)
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    info = capture.fork(forker, "db", "info", "--json", url=guard_pg_url, cwd=tmp_path)
    assert forker.wait(info) == 0
    capture.outputs(info)
    assert capture.leaks([WRONG_TOKEN], tmp_path) == []


def test_exceptions_carry_no_secret(
    guard_pg_url: str, emulator: Callable[..., EmulatorServer]
) -> None:
    """The errors a library caller catches: message, repr, cause chain."""
    emu = emulator(seed=83, symbols=2)
    bad = settings_for(guard_pg_url, emu).model_copy(
        update={"database_url": f"postgresql://dn:{SECRET_PASSWORD}@127.0.0.1:9/nowhere"}
    )
    with pytest.raises(DataNexusError) as caught:
        run_sync(bad, SyncOptions())
    chain = []
    error: BaseException | None = caught.value
    while error is not None:
        chain += [str(error), repr(error)]
        error = error.__cause__ or error.__context__
    text = "\n".join(chain)
    assert SECRET_PASSWORD not in text and SECRET_TOKEN not in text


def test_settings_repr_masks_the_password(guard_pg_url: str) -> None:
    """A Settings object printed in a log line or a traceback shows no secret."""
    settings = make_settings(guard_pg_url, eodhd_api_token=SECRET_TOKEN)
    text = repr(settings) + str(settings)
    assert SECRET_TOKEN not in text  # the token is a SecretStr: this part holds
    assert SECRET_PASSWORD not in text
