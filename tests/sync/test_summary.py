"""SyncOptions refuses what cannot run; the summary is a pure fold over the run's events."""

from __future__ import annotations

import datetime as dt

import pytest

from data_nexus.errors import InvalidOption
from data_nexus.sync.events import (
    AssetFailed,
    AssetSkipped,
    AssetSynced,
    BulkRefused,
    BulkUsed,
    Notice,
    RunFailed,
    RunPlanned,
    RunStopping,
    StopCause,
    SyncEvent,
)
from data_nexus.sync.plan import FetchMode, SkipReason
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import (
    ABORTED_REASON,
    INTERRUPTED_REASON,
    MAX_NOTICES,
    RunFrame,
    SyncOptions,
    summarize,
)

TODAY = dt.date(2026, 11, 27)
FRAME = RunFrame(worker="w", started_at=None, planned=3, skipped={"fresh": 2}, calls_estimate=7)


def _run(*extra: SyncEvent) -> list[SyncEvent]:
    return [
        RunPlanned(9, 3, {"fresh": 2}, 7, 100, ("US",)),
        AssetSynced("A.US", 10, 2, 1, 3, 3, FetchMode.FIRST_SYNC),
        AssetSynced("B.US", 5, 0, 0, 0, 3, FetchMode.CORPORATE_ACTION),
        Notice("B.US", "a warning"),
        AssetSkipped("C.US", SkipReason.LEASE_LOST, "held by worker x"),
        BulkUsed("US", (TODAY,), 1, 0),
        BulkRefused("LSE", "HTTP 403"),
        *extra,
    ]


def test_the_fold_counts_every_event() -> None:
    """Figures come from the events alone; the frame gives what events cannot know."""
    summary = summarize(_run(), FRAME)
    assert summary.status is RunStatus.OK and summary.status == "ok"
    assert (summary.run_id, summary.planned, summary.calls_remaining) == (9, 3, 100)
    assert (summary.synced, summary.rows_inserted, summary.rows_revised) == (2, 15, 2)
    assert (summary.rows_deleted, summary.actions_changed, summary.full_refreshes) == (1, 3, 1)
    assert summary.skipped == {"fresh": 2, "lease lost": 1}
    assert (summary.bulk_used, summary.bulk_unavailable) == (["US"], ["LSE"])
    assert summary.notices == ["B.US: a warning"]
    assert summarize(_run(), FRAME) == summary  # pure: the same events, the same summary
    assert FRAME.skipped == {"fresh": 2}  # the frame is not mutated


@pytest.mark.parametrize(
    ("extra", "outcome", "reason"),
    [
        ((AssetFailed("D.US", "NotFound: gone", None),), RunStatus.PARTIAL, None),
        ((RunStopping("quota used up", StopCause.PROVIDER),), RunStatus.STOPPED, "quota used up"),
        (
            (
                RunStopping("first", StopCause.PROVIDER),
                RunStopping("second", StopCause.PROVIDER),
            ),
            RunStatus.STOPPED,
            "first",
        ),
        (
            (RunStopping("stopping", StopCause.INTERRUPTED),),
            RunStatus.INTERRUPTED,
            INTERRUPTED_REASON,
        ),
        (
            (
                RunStopping("stopping", StopCause.INTERRUPTED),
                RunStopping("aborting", StopCause.ABORTED),
            ),
            RunStatus.INTERRUPTED,
            ABORTED_REASON,
        ),
        (
            (AssetFailed("D.US", "x", None), RunFailed("OperationalError: disk full")),
            RunStatus.FAILED,
            "OperationalError: disk full",
        ),
    ],
)
def test_outcome_precedence(
    extra: tuple[SyncEvent, ...], outcome: RunStatus, reason: str | None
) -> None:
    """failed > interrupted > provider stop > partial > ok."""
    summary = summarize(_run(*extra), FRAME)
    assert (summary.status, summary.stop_reason) == (outcome, reason)


def test_dry_run_ignores_events_and_json_has_no_exit_code() -> None:
    """A dry run's summary is its frame; the library's JSON carries no exit code."""
    summary = summarize(
        [], RunFrame(worker="w", started_at=None, dry_run=True, bulk_planned=("US",))
    )
    assert summary.status is RunStatus.DRY_RUN and summary.bulk_used == ["US"]
    data = summary.as_dict()
    assert data["status"] == "dry-run" and "exit_code" not in data and "outcome" not in data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bulk": "sometimes"}, "invalid bulk 'sometimes': use auto, always or never"),
        ({"concurrency": 0}, "invalid concurrency 0: must be at least 1"),
        ({"rate_limit": 0}, "invalid rate_limit 0: must be at least 1 request per minute"),
        (
            {"max_age": dt.timedelta(seconds=-1)},
            "invalid max_age -1s: out of range (0s to 36525 days)",
        ),
        (
            {"max_age": dt.timedelta(days=40_000)},
            "invalid max_age 3.456e+09s: out of range (0s to 36525 days)",
        ),
        ({"lease_ttl": dt.timedelta(0)}, "invalid lease_ttl 0s: out of range (1s to 36525 days)"),
        ({"worker_id": ""}, "invalid worker_id '': give a name such as host-a-1, or leave it out"),
        (
            {"worker_id": " \t"},
            "invalid worker_id ' \\t': give a name such as host-a-1, or leave it out",
        ),
        (
            {"worker_id": "a\nb"},
            "invalid worker_id 'a\\nb': give a name such as host-a-1, or leave it out",
        ),
        (
            {"since": dt.date(2026, 11, 28), "today": TODAY},
            "invalid since 2026-11-28: it is after today (2026-11-27)",
        ),
    ],
)
def test_options_that_cannot_run_are_never_built(changes: dict[str, object], message: str) -> None:
    """Each bad value raises InvalidOption naming the option (the CLI shows its flag)."""
    with pytest.raises(InvalidOption) as info:
        SyncOptions(**changes)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert info.value.option == message.split()[1]


def test_since_today_is_fine_and_today_is_not_stored() -> None:
    """``since`` may be today; ``today`` is only for the check."""
    options = SyncOptions(since=TODAY, today=TODAY)
    assert "today" not in options.as_dict()
    with pytest.raises(InvalidOption):
        options.check_since(TODAY - dt.timedelta(days=1))


def test_notices_are_listed_up_to_a_bound() -> None:
    """Retries and warnings reach the summary; beyond MAX_NOTICES one line counts the rest."""
    many = [Notice(None if i % 2 else "A.US", f"retry {i}") for i in range(MAX_NOTICES + 7)]
    notices = summarize(_run(*many), FRAME).notices
    assert len(notices) == MAX_NOTICES + 1
    assert notices[:3] == ["B.US: a warning", "A.US: retry 0", "retry 1"]
    assert notices[-1] == "… and 8 more notices"
