"""The sync summary and the dry run name assets held back by a failure backoff."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from data_nexus.cli.render import SyncRenderer
from data_nexus.sync.plan import HeldBack
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import SyncSummary

AT = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("status", [RunStatus.OK, RunStatus.DRY_RUN])
def test_held_back_lines(status: RunStatus, capsys: pytest.CaptureFixture[str]) -> None:
    held = [HeldBack(f"S{i}.US", AT, 2, "HTTP 500\ntrace") for i in range(22)]
    summary = SyncSummary(status=status, planned=1, skipped={"in backoff": 22}, held_back=held)
    SyncRenderer(stream=io.StringIO()).summary(summary)
    out = capsys.readouterr().out.splitlines()
    start = out.index("held back by a failure backoff: 22 (--retry-failed tries them now)")
    lines = out[start + 1 :]
    assert lines[0].split() == [
        "S0.US", "next", "attempt", "2026-01-02", "09:30", "UTC,", "2", "failures:", "HTTP",
        "500",
    ]  # fmt: skip
    assert len(lines) == 21 and lines[-1].strip().startswith("… and 2 more")


def test_nothing_held_back_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    SyncRenderer(stream=io.StringIO()).summary(SyncSummary(planned=1))
    assert "held back" not in capsys.readouterr().out
