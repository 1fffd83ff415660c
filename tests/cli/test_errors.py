"""The CLI's one map from errors and outcomes to exit codes, flags and hints."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from data_nexus.assets import discover_assets
from data_nexus.cli.errors import (
    BUDGET_HINT,
    OPTION_FLAGS,
    ExitCode,
    budget_hint,
    exit_code_for,
    exit_code_of,
    message_for,
)
from data_nexus.demo import run_demo
from data_nexus.errors import (
    AuthFailed,
    BudgetTooSmall,
    ConfigError,
    InvalidOption,
    NotFound,
    SchemaOutOfDate,
    UsageError,
)
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import SyncOptions, SyncSummary


def test_documented_codes() -> None:
    """0, 1, 2, 3, 130 and 141, each in the README, docs/cli.md and docs/operations.md."""
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 130, 141]
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    cli_md = (root / "docs" / "cli.md").read_text(encoding="utf-8")
    operations = (root / "docs" / "operations.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"`{int(code)}` " in readme, code
        assert f"\n| {int(code)} | " in cli_md, code
        assert f"\n| `{int(code)}` | " in operations, code


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (RunStatus.OK, 0),
        (RunStatus.DRY_RUN, 0),
        (RunStatus.PARTIAL, 1),
        (RunStatus.FAILED, 1),
        (RunStatus.STOPPED, 3),
        (RunStatus.INTERRUPTED, 130),
    ],
)
def test_every_outcome_has_a_code(outcome: RunStatus, code: int) -> None:
    """The summary carries an outcome; only the CLI turns it into an exit code."""
    assert exit_code_of(SyncSummary(status=outcome)) == code
    assert not hasattr(SyncSummary(), "exit_code")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("x"), 2),
        (ConfigError("x"), 2),
        (SchemaOutOfDate("x"), 2),
        (AuthFailed("x"), 3),
        (BudgetTooSmall(10, 3), 3),
        (NotFound("x"), 1),
    ],
)
def test_error_codes(error: Exception, code: int) -> None:
    """Each error class maps to its documented code."""
    assert exit_code_for(error) == code


def test_the_cli_adds_the_flag_hint_the_library_leaves_out() -> None:
    """The library says what happened; the CLI says which flag to use next."""
    error = BudgetTooSmall(120, 40)
    assert str(error) == "this sync needs about 120 API calls but only 40 remain today"
    assert message_for(error) == (
        "this sync needs about 120 API calls but only 40 remain today; run it with "
        "--allow-partial to sync what fits (it stops cleanly when the quota runs out), "
        "or after GMT midnight"
    )


def test_a_budget_refusal_gets_the_flag_hint_only_when_it_applies() -> None:
    """Refused for the budget (stopped, estimate above the remaining calls): the hint."""
    refused = SyncSummary(status=RunStatus.STOPPED, calls_estimate=30, calls_remaining=19)
    assert budget_hint(refused, allow_partial=False) == BUDGET_HINT
    assert budget_hint(refused, allow_partial=True) is None
    enough = SyncSummary(status=RunStatus.STOPPED, calls_estimate=10, calls_remaining=19)
    auth = SyncSummary(status=RunStatus.STOPPED, calls_estimate=30, calls_remaining=None)
    done = SyncSummary(status=RunStatus.OK, calls_estimate=30, calls_remaining=19)
    for summary in (enough, auth, done):
        assert budget_hint(summary, allow_partial=False) is None


def test_option_names_become_flags() -> None:
    """An InvalidOption from SyncOptions is shown with the flag the user typed."""
    with pytest.raises(InvalidOption) as info:
        SyncOptions(rate_limit=0)
    assert (
        message_for(info.value) == "invalid --rate-limit 0: must be at least 1 request per minute"
    )
    # every mapped name is an option some library call takes
    names = set(SyncOptions.__dataclass_fields__)
    names |= set(inspect.signature(discover_assets).parameters)
    names |= set(inspect.signature(run_demo).parameters)
    assert set(OPTION_FLAGS) <= names
