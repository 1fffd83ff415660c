"""``datanexus sync``: the main job."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from data_nexus.cli.common import (
    DatabaseUrl,
    JsonFlag,
    announce_demo_key,
    parse_date,
    parse_duration,
    print_json,
    settings_for,
)
from data_nexus.cli.errors import ExitCode, budget_hint, exit_code_of
from data_nexus.errors import UsageError

if TYPE_CHECKING:
    from data_nexus.config import Settings

#: The longest ``--timeout`` (and ``EODHD_TIMEOUT``) accepted, in seconds.
MAX_TIMEOUT_S = 3600


def dry_run_skips(settings: Settings, named: list[str], planned: set[str]) -> list[tuple[str, str]]:
    """``(symbol, why)`` for each symbol named on a dry run that the plan leaves out:
    ``paused``, ``delisted``, ``not registered`` or ``not due``. Reads only."""
    from data_nexus.assets import list_assets  # noqa: PLC0415
    from data_nexus.storage.quality_reads import open_read_only  # noqa: PLC0415
    from data_nexus.symbols import parse_symbols  # noqa: PLC0415

    wanted = [str(s) for s in parse_symbols(named)]
    left_out = [s for s in wanted if s not in planned]
    if not left_out:
        return []
    store = open_read_only(settings)
    try:
        rows = {row.symbol: row for row in list_assets(store, symbols=left_out)}
    finally:
        store.close()
    skips = []
    for symbol in left_out:
        row = rows.get(symbol)
        if row is None:
            why = "not registered (a real run registers it, then syncs it)"
        elif not row.is_active:
            why = f"paused (datanexus assets resume {symbol})"
        elif row.is_delisted:
            why = "delisted"
        else:
            why = "not due (synced within --max-age; --full or --max-age 0 fetches it)"
        skips.append((symbol, why))
    return skips


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
                metavar="SYMBOL",
                help="Symbols to sync (CODE.EXCHANGE); new ones are registered first. "
                "Default: every active asset.",
                show_default=False,
            ),
        ] = None,
        exchange: Annotated[str | None, typer.Option(help="Only assets of this exchange.")] = None,
        max_age: Annotated[
            str,
            typer.Option(
                metavar="DURATION", help="Skip assets synced more recently (e.g. 1d, 12h, 0)."
            ),
        ] = "1d",
        full: Annotated[bool, typer.Option("--full", help="Refetch every history.")] = False,
        since: Annotated[
            str | None,
            typer.Option(
                metavar="DATE",
                help="Start of the first or full fetch (YYYY-MM-DD); an asset never "
                "fetched back that far is backfilled from it, once (named symbols now, "
                "others when due).",
            ),
        ] = None,
        concurrency: Annotated[int, typer.Option(help="Requests in flight at most.")] = 8,
        rate_limit: Annotated[
            int | None,
            typer.Option(help="Requests per minute (default: $EODHD_RATE_LIMIT or 1000)."),
        ] = None,
        bulk: Annotated[
            str,
            typer.Option(
                metavar="[auto|always|never]",
                help="Bulk requests per exchange: auto (when cheaper), always, never.",
            ),
        ] = "auto",
        worker_id: Annotated[
            str | None,
            typer.Option(
                metavar="NAME", help="Name of this worker when several share a PostgreSQL database."
            ),
        ] = None,
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run",
                help="Show the plan; fetch and write nothing (a missing SQLite file is not "
                "created: the plan is as if empty, with the symbols named).",
            ),
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
                metavar="SECONDS",
                help="Seconds an HTTP request may wait before it is retried "
                "(default: $EODHD_TIMEOUT, else 10 s to connect and 120 s to read).",
                show_default=False,
            ),
        ] = None,
        lease_ttl: Annotated[
            str | None,
            typer.Option(
                metavar="DURATION",
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
        Needs EODHD_API_TOKEN (not for --dry-run); with EODHD_API_TOKEN=demo (EODHD's public
        demo key: a handful of tickers) it says so first.
        Exit codes: 0 all ok, 1 some assets failed, 2 usage or configuration error, 3 stopped
        by the provider (authentication or daily quota), 130 interrupted.
        """
        from data_nexus.cli.render import SyncRenderer  # noqa: PLC0415 - lazy: start-up time
        from data_nexus.clock import utcnow  # noqa: PLC0415
        from data_nexus.sync.runner import missing_sqlite_file, run_sync  # noqa: PLC0415
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
        if not dry_run and settings.uses_demo_key:
            announce_demo_key(settings)  # (no token at all: run_sync refuses, one line)
        missing = missing_sqlite_file(settings.database_url) if dry_run else None
        renderer = SyncRenderer(quiet=as_json)
        try:
            summary = run_sync(settings, options, on_event=renderer.handle, handle_signals=True)
        finally:
            renderer.close()
        code = exit_code_of(summary)
        skips = (
            dry_run_skips(settings, list(symbols), {p.symbol for p in summary.plan})
            if dry_run and symbols and missing is None
            else []
        )
        if as_json:
            stopped = code in (ExitCode.PROVIDER_STOP, ExitCode.INTERRUPTED)
            named = [{"symbol": s, "why": w} for s, w in skips]
            extra = {"skipped_named": named} if dry_run else {}
            print_json(
                {**summary.as_dict(), "stop_exit_code": int(code) if stopped else None}
                | extra
                | {"exit_code": int(code)}
            )
        else:
            renderer.summary(summary)
            if missing is not None:
                sys.stdout.write(
                    f"  database {missing} does not exist yet: planned as if empty (with the "
                    "symbols named); nothing was created\n"
                )
            for symbol, why in skips:
                sys.stdout.write(f"  skipped {symbol}: {why}\n")
        hint = budget_hint(summary, allow_partial=allow_partial)
        if hint is not None:
            sys.stderr.write(f"hint: {hint}\n")
        raise typer.Exit(code)
