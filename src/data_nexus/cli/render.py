"""Rendering sync events: a Rich progress bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from data_nexus.cli.common import counted
from data_nexus.sync.events import (
    AssetFailed,
    AssetSkipped,
    AssetSynced,
    BulkRefused,
    BulkUsed,
    Notice,
    RunPlanned,
    RunStopping,
    SyncEvent,
)
from data_nexus.sync.status import RunStatus
from data_nexus.sync.summary import SyncSummary


class SyncRenderer:
    """Turns :mod:`data_nexus.sync.events` into terminal output.

    ``quiet`` (for ``--json``) prints nothing while running. On a TTY a progress bar shows
    assets, rows, calls, rate and ETA; otherwise one plain line per asset.
    """

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self.tty = self.console.is_terminal
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.rows = 0
        self.calls = 0
        self.done = 0
        self.started = time.monotonic()

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            self.console.print(text, markup=False, highlight=False)

    def _stats(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed * 60
        return (
            f"{counted(self.rows, 'row')} · {counted(self.calls, 'call')} · {rate:,.0f} assets/min"
        )

    def handle(self, event: SyncEvent) -> None:
        """Render one event."""
        if isinstance(event, RunPlanned):
            self._planned(event)
        elif isinstance(event, AssetSynced):
            self.done += 1
            self.rows += event.inserted + event.revised
            self.calls += event.calls
            if not self.tty:
                extra = f", {event.revised} revised" if event.revised else ""
                extra += f", {event.deleted} removed" if event.deleted else ""
                self._line(f"synced {event.symbol}: {event.inserted} new{extra} ({event.mode})")
            self._advance()
        elif isinstance(event, AssetFailed):
            self.done += 1
            self._line(f"failed {event.symbol}: {event.error}")
            self._advance()
        elif isinstance(event, AssetSkipped):
            detail = f": {event.detail}" if event.detail else ""
            self._line(f"skipped {event.symbol}: {event.reason}{detail}")
        elif isinstance(event, BulkUsed):
            days = ", ".join(d.isoformat() for d in event.days)
            self._line(
                f"bulk {event.exchange} ({days}): {counted(event.assets, 'asset')} updated, "
                f"{event.refetch} with a new corporate action refetched"
            )
        elif isinstance(event, BulkRefused):
            self._line(
                f"bulk {event.exchange} not in the plan ({event.reason}): syncing per symbol"
            )
        elif isinstance(event, Notice):
            self._line(f"note {event.symbol + ': ' if event.symbol else ''}{event.text}")
        elif isinstance(event, RunStopping):
            self._line(event.reason)

    def _planned(self, event: RunPlanned) -> None:
        if not event.due:
            return  # the summary says why nothing ran
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(event.skipped.items()))
        budget = (
            "" if event.calls_remaining is None else f" of {event.calls_remaining:,} left today"
        )
        bulk = f"; bulk for {', '.join(event.bulk_exchanges)}" if event.bulk_exchanges else ""
        self._line(
            f"{counted(event.due, 'asset')} due{f' ({skipped} skipped)' if skipped else ''}; "
            f"about {counted(event.calls_estimate, 'API call')}{budget}{bulk}"
        )
        if self.tty and not self.quiet and event.due and event.run_id is not None:
            self.progress = Progress(
                TextColumn("[bold]sync"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.task = self.progress.add_task("sync", total=event.due, stats="")
            self.progress.start()
            self.started = time.monotonic()

    def _advance(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=1, stats=self._stats())

    def close(self) -> None:
        """Stop the progress bar."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    @staticmethod
    def _held_back(out: Console, summary: SyncSummary) -> None:
        """The assets a failure backoff kept out, with their next attempt (soonest first)."""
        if not summary.held_back:
            return
        out.print(
            f"held back by a failure backoff: {len(summary.held_back)} "
            "(--retry-failed tries them now)",
            markup=False,
        )
        for item in summary.held_back[:20]:
            error = f": {item.last_error.splitlines()[0][:120]}" if item.last_error else ""
            out.print(
                f"  {item.symbol:<20} next attempt {item.next_attempt_at:%Y-%m-%d %H:%M} UTC, "
                f"{counted(item.fail_count, 'failure')}{error}",
                markup=False,
            )
        if len(summary.held_back) > 20:
            out.print(f"  … and {len(summary.held_back) - 20} more (datanexus status --failing)")

    def summary(self, summary: SyncSummary) -> None:
        """Print the end-of-run summary (on stdout; progress went to stderr)."""
        self.close()
        out = Console(highlight=False, soft_wrap=True)
        if summary.status is RunStatus.DRY_RUN:
            out.print(
                f"dry run: {counted(summary.planned, 'asset')} would be synced, "
                f"about {counted(summary.calls_estimate, 'API call')}"
                + (" (one reads today's remaining calls first)" if summary.planned else "")
            )
            for item in summary.plan:
                start = item.start.isoformat() if item.start else "full history"
                out.print(
                    f"  {item.symbol:<20} {item.mode:<34} {start} → {item.end}  "
                    f"{counted(item.calls, 'call')}",
                    markup=False,
                )
            if summary.bulk_used:
                out.print(f"  bulk requests for: {', '.join(summary.bulk_used)}")
            self._held_back(out, summary)
            return
        if not summary.planned and not summary.skipped:
            out.print(
                "nothing to sync: no assets registered here (datanexus assets add AAPL.US, "
                "or datanexus assets discover US)"
            )
            return
        skipped = ", ".join(f"{n} {r}" for r, n in sorted(summary.skipped.items())) or "none"
        out.print(
            f"sync {summary.status}: {summary.synced} synced, {len(summary.failed)} failed, "
            f"skipped: {skipped}",
            markup=False,
        )
        out.print(
            f"rows: {summary.rows_inserted:,} new, {summary.rows_revised:,} revised, "
            f"{summary.rows_deleted:,} removed; "
            f"{counted(summary.full_refreshes, 'full refresh', 'full refreshes')} "
            "after corporate actions or on request"
            + (
                f"; {counted(summary.findings, 'finding')} (datanexus check)"
                if summary.findings
                else ""
            ),
            markup=False,
        )
        bulk = f"; bulk used for {', '.join(summary.bulk_used)}" if summary.bulk_used else ""
        bulk += (
            f"; bulk unavailable for {', '.join(summary.bulk_unavailable)}"
            if summary.bulk_unavailable
            else ""
        )
        out.print(
            f"API: {counted(summary.calls_spent, 'call')} spent in "
            f"{counted(summary.requests_sent, 'request')}{bulk}",
            markup=False,
        )
        for symbol, reason in list(summary.failed.items())[:20]:
            out.print(f"  failed {symbol}: {reason}", markup=False)
        if len(summary.failed) > 20:
            out.print(f"  … and {len(summary.failed) - 20} more (datanexus assets list)")
        self._held_back(out, summary)
        if summary.stop_reason:
            out.print(
                f"stopped: {summary.stop_reason}; run the same command again to resume",
                markup=False,
            )
