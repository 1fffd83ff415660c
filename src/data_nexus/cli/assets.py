"""``datanexus assets …``: register, discover, list, pause, resume and remove assets."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from data_nexus.cli.common import (
    DatabaseUrl,
    JsonFlag,
    announce_demo_key,
    console,
    counted,
    existing_settings,
    print_json,
    settings_for,
)
from data_nexus.symbols import LISTING_TYPES, parse_exchange, parse_listing_type

assets_app = typer.Typer(help="Register, discover, list, pause, resume and remove assets.")

Symbols = Annotated[
    list[str], typer.Argument(metavar="SYMBOL", help="Symbols as CODE.EXCHANGE, e.g. AAPL.US.")
]


@assets_app.command("add")
def add(symbols: Symbols, database_url: DatabaseUrl = None) -> None:
    """Register assets to sync (they start active)."""
    from data_nexus.assets import add_assets  # noqa: PLC0415 - lazy: start-up time

    result = add_assets(settings_for(database_url), symbols)
    out = console()
    if result.added:
        out.print(f"added {len(result.added)}: {', '.join(result.added)}", markup=False)
    if result.existing:
        out.print(f"already registered: {', '.join(result.existing)}", markup=False)


@assets_app.command("discover")
def discover(
    exchange: Annotated[
        str, typer.Argument(metavar="EXCHANGE", help="Exchange code, e.g. US, LSE, XETRA.")
    ],
    asset_type: Annotated[
        str | None,
        typer.Option("--type", help=f"Only this type: {', '.join(LISTING_TYPES)}."),
    ] = None,
    delisted: Annotated[
        bool, typer.Option("--delisted", help="Also register the exchange's delisted symbols.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Register every symbol an exchange lists at EODHD (1 API call; 2 with --delisted).

    Symbols that disappeared from the list are kept and marked, never deleted.
    """
    from data_nexus.assets import discover_assets  # noqa: PLC0415

    exchange = parse_exchange(exchange)
    asset_type = parse_listing_type(asset_type) if asset_type is not None else None
    settings = settings_for(database_url)
    announce_demo_key(settings)
    result = discover_assets(settings, exchange, asset_type=asset_type, include_delisted=delisted)
    console().print(
        f"{result.exchange}: {result.listed:,} listed; {result.added:,} added, "
        f"{result.updated:,} updated, {result.unlisted:,} no longer listed, "
        f"{result.relisted:,} listed again, {result.delisted:,} delisted",
        markup=False,
    )
    if result.refused:
        console().print(
            f"{counted(len(result.refused), 'listed code')} refused (not a valid ticker in any "
            f"spelling): {', '.join(result.refused[:10])}",
            markup=False,
        )


@assets_app.command("exchanges")
def exchanges(as_json: JsonFlag = False, database_url: DatabaseUrl = None) -> None:
    """List the exchange codes the provider covers (1 API call; needs EODHD_API_TOKEN).

    Opens no database: -d/--database-url is accepted like on every command and checked as
    they check it (a malformed URL or an unusable SQLite path is exit 2), but not needed.
    """
    from dataclasses import asdict  # noqa: PLC0415

    from data_nexus.assets import list_exchanges  # noqa: PLC0415
    from data_nexus.storage.engine import open_engine  # noqa: PLC0415

    settings = settings_for(database_url)
    if database_url is not None:
        open_engine(settings.database_url).dispose()  # checks the URL; connects to nothing
    announce_demo_key(settings)
    rows = list_exchanges(settings)
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    out = console()
    for row in rows:
        out.print(
            f"{row.code:<8} {row.country or '-':<16} {row.currency or '-':<5} {row.name or ''}",
            markup=False,
        )


@assets_app.command("list")
def list_(
    exchange: Annotated[str | None, typer.Option(help="Only this exchange.")] = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List registered assets with their coverage and sync state."""
    from data_nexus.assets import list_assets  # noqa: PLC0415
    from data_nexus.storage.quality_reads import open_read_only  # noqa: PLC0415

    store = open_read_only(settings_for(database_url))  # never creates nor upgrades
    try:
        rows = list_assets(store, exchange=exchange)
    finally:
        store.close()
    if as_json:
        print_json([row.as_dict() for row in rows])
        return
    out = console()
    if not rows:
        out.print("no assets registered (datanexus assets add AAPL.US, or assets discover US)")
        return
    out.print(
        f"{'symbol':<18} {'state':<8} {'first':<10} {'last':<10} {'last synced':<16} note",
        markup=False,
    )
    for row in rows:
        state = "active" if row.is_active else "paused"
        synced = row.last_synced.strftime("%Y-%m-%d %H:%M") if row.last_synced else "never"
        note = row.last_error or ""
        if row.unlisted_since:
            note = f"not listed since {row.unlisted_since} {note}".strip()
        if row.is_delisted:
            note = f"delisted {note}".strip()
        out.print(
            f"{row.symbol:<18} {state:<8} {row.first_date or '-'!s:<10} "
            f"{row.last_date or '-'!s:<10} "
            f"{synced:<16} {note}",
            markup=False,
        )


@assets_app.command("pause")
def pause(symbols: Symbols, database_url: DatabaseUrl = None) -> None:
    """Exclude assets from syncs (is_active = false); their data stays."""
    from data_nexus.assets import pause_assets  # noqa: PLC0415

    changed = pause_assets(existing_settings(database_url), symbols)
    console().print(f"paused: {', '.join(changed) or 'nothing to change'}", markup=False)


@assets_app.command("resume")
def resume(symbols: Symbols, database_url: DatabaseUrl = None) -> None:
    """Include paused assets in syncs again (and clear a failure backoff)."""
    from data_nexus.assets import resume_assets  # noqa: PLC0415

    changed = resume_assets(existing_settings(database_url), symbols)
    console().print(f"resumed: {', '.join(changed) or 'nothing to change'}", markup=False)


def interactive() -> bool:
    """Whether a person can answer a question: stdin and stdout are terminals."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@assets_app.command("remove")
def remove(
    symbols: Symbols,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; required off a terminal.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete assets with all their bars, corporate actions and findings (cannot be undone;
    'assets pause' keeps the data). Asks on a terminal; elsewhere needs --yes."""
    from data_nexus.assets import remove_assets  # noqa: PLC0415
    from data_nexus.errors import UsageError  # noqa: PLC0415

    if not yes:
        if not interactive():
            raise UsageError("'assets remove' deletes data: pass --yes to confirm (not a terminal)")
        question = f"Delete {', '.join(symbols)} and all their stored data?"
        if not typer.confirm(question, default=False):
            console().print("nothing removed", markup=False)
            return
    counts = remove_assets(existing_settings(database_url), symbols)
    removed = counts.pop("assets")
    detail = ", ".join(f"{n:,} {table}" for table, n in counts.items())
    console().print(f"removed {counted(removed, 'asset')} with {detail} rows", markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``assets`` command group to ``app``."""
    app.add_typer(assets_app, name="assets")
