"""``datanexus sync``: the main job."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from data_nexus.cli.common import (
    DatabaseUrl,
    JsonFlag,
    parse_date,
    parse_duration,
    print_json,
    settings_for,
)
from data_nexus.cli.errors import ExitCode, budget_hint, exit_code_of
from data_nexus.errors import UsageError

#: The longest ``--timeout`` (and ``EODHD_TIMEOUT``) accepted, in seconds.
MAX_TIMEOUT_S = 3600


def _timeout(value: float | None) -> float | None:
    """``--timeout`` checked here, so that the error names the flag."""
    if value is not None and not 0 < value <= MAX_TIMEOUT_S:
        raise UsageError(f"invalid --timeout {value}: give seconds above 0 (at most 3600)")
    return value


def _lease_ttl(text: str | None) -> dt.timedelta | None:
    """``--lease-ttl`` read here, so that the error names the flag."""
    from data_nexus.config import lease_ttl_of  # noqa: PLC0415 - pydantic loads on use

    if text is None:
        return None
    try:
        return lease_ttl_of(text)
    except ValueError as error:
        raise UsageError(f"invalid --lease-ttl: {error}") from None


def register(app: typer.Typer) -> None:
    """Add the ``sync`` command to ``app``."""

    @app.command("sync")
    def sync(
        symbols: Annotated[
            list[str] | None,
            typer.Argument(
                help="Symbols to sync (CODE.EXCHANGE); new ones are registered first. "
                "Default: every active asset.",
                show_default=False,
            ),
        ] = None,
        exchange: Annotated[str | None, typer.Option(help="Only assets of this exchange.")] = None,
        max_age: Annotated[
            str, typer.Option(help="Skip assets synced more recently (e.g. 1d, 12h, 0).")
        ] = "1d",
        full: Annotated[bool, typer.Option("--full", help="Refetch every history.")] = False,
        since: Annotated[
            str | None,
            typer.Option(
                help="Start of the first or full fetch (YYYY-MM-DD); for named symbols "
                "whose history starts later, backfill from this date."
            ),
        ] = None,
        concurrency: Annotated[int, typer.Option(help="Requests in flight at most.")] = 8,
        rate_limit: Annotated[
            int | None,
            typer.Option(help="Requests per minute (default: $EODHD_RATE_LIMIT or 1000)."),
        ] = None,
        bulk: Annotated[
            str,
            typer.Option(help="Bulk requests per exchange: auto (when cheaper), always, never."),
        ] = "auto",
        worker_id: Annotated[
            str | None,
            typer.Option(help="Name of this worker when several share a PostgreSQL database."),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show the plan; fetch and write nothing.")
        ] = False,
        allow_partial: Annotated[
            bool,
            typer.Option(
                "--allow-partial",
                help="Start even if today's remaining API calls cannot finish the plan.",
            ),
        ] = False,
        retry_failed: Annotated[
            bool,
            typer.Option(
                "--retry-failed", help="Also try assets held back by a failure backoff now."
            ),
        ] = False,
        timeout: Annotated[
            float | None,
            typer.Option(
                help="Seconds an HTTP request may wait before it is retried "
                "(default: $EODHD_TIMEOUT, else 10 s to connect and 120 s to read).",
                show_default=False,
            ),
        ] = None,
        lease_ttl: Annotated[
            str | None,
            typer.Option(
                help="How long this worker's claim on an asset lasts before another worker "
                "may take it over, e.g. 90s, 10m (default: $DATANEXUS_LEASE_TTL, else 10m).",
                show_default=False,
            ),
        ] = None,
        as_json: JsonFlag = False,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Fetch new bars and corporate actions for due assets, one transaction per asset.

        Incremental and resumable: run it again after a failure or Ctrl-C and it carries on
        (a second Ctrl-C aborts at once; in-flight assets keep their previous state).
        Exit codes: 0 all ok, 1 some assets failed, 2 usage or configuration error, 3 stopped
        by the provider (authentication or daily quota), 130 interrupted.
        """
        from data_nexus.cli.render import SyncRenderer  # noqa: PLC0415 - lazy: start-up time
        from data_nexus.clock import utcnow  # noqa: PLC0415
        from data_nexus.sync.runner import run_sync  # noqa: PLC0415
        from data_nexus.sync.summary import SyncOptions  # noqa: PLC0415

        settings = settings_for(
            database_url, eodhd_timeout=_timeout(timeout), lease_ttl=_lease_ttl(lease_ttl)
        )
        options = SyncOptions(
            symbols=tuple(symbols or ()),
            exchange=exchange,
            max_age=parse_duration(max_age, "--max-age"),
            full=full,
            since=parse_date(since, "--since") if since else None,
            concurrency=concurrency,
            rate_limit=rate_limit,
            bulk=bulk,  # type: ignore[arg-type]  # SyncOptions refuses an unknown mode
            worker_id=worker_id,
            dry_run=dry_run,
            allow_partial=allow_partial,
            retry_failed=retry_failed,
            lease_ttl=settings.lease_ttl,
            today=utcnow().date(),
        )
        renderer = SyncRenderer(quiet=as_json)
        try:
            summary = run_sync(settings, options, on_event=renderer.handle, handle_signals=True)
        finally:
            renderer.close()
        code = exit_code_of(summary)
        if as_json:
            stopped = code in (ExitCode.PROVIDER_STOP, ExitCode.INTERRUPTED)
            print_json(
                {**summary.as_dict(), "stop_exit_code": int(code) if stopped else None}
                | {"exit_code": int(code)}
            )
        else:
            renderer.summary(summary)
        hint = budget_hint(summary, allow_partial=allow_partial)
        if hint is not None:
            sys.stderr.write(f"hint: {hint}\n")
        raise typer.Exit(code)
