"""``datanexus db …``: create, upgrade, downgrade and inspect the database schema."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from data_nexus.cli.common import (
    DatabaseUrl,
    JsonFlag,
    console,
    existing_settings,
    noun_for,
    print_json,
    settings_for,
)
from data_nexus.errors import UsageError

if TYPE_CHECKING:
    from data_nexus.config import Settings

# Alembic and the storage modules load inside each command: start-up stays light for the
# commands that do not need them.

db_app = typer.Typer(help="Create, upgrade, downgrade and inspect the database schema.")


def _human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(metavar="REVISION", help="Target revision.")] = "head",
    database_url: DatabaseUrl = None,
) -> None:
    """Create or upgrade the schema (default: to the newest revision)."""
    from data_nexus.storage.migrate import upgrade_db  # noqa: PLC0415

    result = upgrade_db(settings_for(database_url), revision)
    if result.before == result.after:
        console().print(f"{result.database}: already at {result.after}")
    else:
        console().print(f"{result.database}: upgraded {result.before or 'empty'} -> {result.after}")


@db_app.command("downgrade")
def downgrade(
    revision: Annotated[
        str,
        typer.Argument(
            metavar="REVISION",
            help="Target revision; 'base' removes all tables (refused when an older schema "
            "cannot hold the data).",
        ),
    ],
    database_url: DatabaseUrl = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Drop the data without asking (for scripts).")
    ] = False,
) -> None:
    """Downgrade the schema to REVISION ('base' drops every Data Nexus table and its data).

    Every downgrade step drops tables or columns and the data in them, so a downgrade that
    changes the revision asks first on a terminal and needs --yes otherwise (exit 2). A
    downgrade is refused, naming what is in the way, when an older schema it passes through
    cannot hold the stored data (e.g. two dividends on one ex-date, or a price beyond
    NUMERIC(18, 8)): 'base' too.
    """
    settings = existing_settings(database_url)  # a downgrade never creates a database
    if not yes:
        _confirm_downgrade(settings, revision)
    from data_nexus.storage.migrate import downgrade_db  # noqa: PLC0415

    result = downgrade_db(settings, revision)
    console().print(f"{result.database}: downgraded {result.before} -> {result.after or 'base'}")


def _confirm_downgrade(settings: Settings, revision: str) -> None:
    """Ask before a downgrade that drops data; :class:`UsageError` when nobody can answer."""
    from data_nexus.storage.engine import check_connection, open_engine  # noqa: PLC0415
    from data_nexus.storage.migrate import current_revision  # noqa: PLC0415

    engine = open_engine(settings.database_url, read_only=True)
    try:
        check_connection(engine)
        with engine.connect() as conn:
            current_rev = current_revision(conn)
    finally:
        engine.dispose()
    if current_rev is None or current_rev == revision:
        return  # an empty database, or already there: nothing is dropped
    what = f"downgrading from {current_rev} to {revision} drops tables and the data in them"
    if sys.stdin.isatty() and sys.stdout.isatty():
        if typer.confirm(f"{what}. Continue?", default=False):
            return
        raise UsageError("downgrade cancelled; nothing was changed")
    raise UsageError(f"{what}: run it again with --yes to confirm")


@db_app.command("current")
def current(database_url: DatabaseUrl = None) -> None:
    """Show the schema revision of the database and whether it is the newest."""
    from data_nexus.storage.engine import check_connection, open_engine  # noqa: PLC0415
    from data_nexus.storage.migrate import current_revision, head_revision  # noqa: PLC0415

    settings = settings_for(database_url)
    engine = open_engine(settings.database_url, read_only=True)
    try:
        check_connection(engine)
        with engine.connect() as conn:
            rev = current_revision(conn)
    finally:
        engine.dispose()
    head = head_revision()
    state = "(head)" if rev == head else f"(newest is {head}: run 'datanexus db upgrade')"
    console().print(f"{rev or 'empty'} {state}")


@db_app.command("history")
def show_history(database_url: DatabaseUrl = None) -> None:
    """List the migrations this version ships.

    Opens no database: -d/--database-url is accepted like on every db command and checked
    as they check it (a malformed URL, an unsupported backend or an SQLite path in a missing
    directory, or that is a directory, is exit 2) but not needed.
    """
    from pathlib import Path  # noqa: PLC0415

    from data_nexus.errors import ConfigError  # noqa: PLC0415
    from data_nexus.storage.engine import open_engine  # noqa: PLC0415
    from data_nexus.storage.migrate import history  # noqa: PLC0415

    # A bad setting is reported here as everywhere, not deep inside Alembic.
    settings = settings_for(database_url)
    if database_url is not None:
        engine = open_engine(settings.database_url)  # checks the URL; connects to nothing
        engine.dispose()
        database = engine.url.database or ""
        if engine.url.get_backend_name() == "sqlite" and Path(database).expanduser().is_dir():
            raise ConfigError(f"invalid database URL: {database!r} is a directory, not a file")
    for rev in history():
        mark = " (head)" if rev.is_head else ""
        console().print(f"{rev.down_revision or 'base'} -> {rev.revision}{mark}: {rev.doc}")


@db_app.command("info")
def info(database_url: DatabaseUrl = None, as_json: JsonFlag = False) -> None:
    """Show the backend, versions, schema revision, table sizes and row counts.

    On TimescaleDB also the chunk interval, compression settings, policy and ratio.
    """
    from data_nexus.storage.info import database_info  # noqa: PLC0415

    result = database_info(settings_for(database_url))
    if as_json:
        print_json(result.as_dict())
        return
    out = console()
    caps = result.capabilities
    out.print(f"database   {result.database}")
    backend = caps.backend + (f" {caps.timescale_version}" if caps.timescale_version else "")
    out.print(f"backend    {backend} (server {caps.server_version})")
    if result.timescale_note is not None:
        out.print(f"timescale  {result.timescale_note}")
    state = "up to date" if result.up_to_date else f"needs upgrade to {result.head}"
    out.print(f"schema     {result.revision or 'empty'} ({state})")
    if result.file_bytes is not None:
        out.print(f"file size  {_human_bytes(result.file_bytes)}")
    for table in result.tables:
        approx = "" if table.rows_exact else "~"
        out.print(
            f"  {table.name:<18} {approx}{table.rows:>12,} {noun_for(table.rows, 'row'):<4}  "
            f"{_human_bytes(table.bytes):>10}"
        )
    hyper = result.hypertable
    if hyper is not None:
        out.print(
            f"hypertable market_data: chunk interval {hyper.chunk_interval}, {hyper.chunks} chunks"
        )
        out.print(
            f"  compression segmentby {', '.join(hyper.segmentby) or '-'}; "
            f"orderby {', '.join(hyper.orderby) or '-'}; policy after "
            f"{hyper.policy_compress_after or 'none'}"
        )
        ratio = hyper.compression_ratio
        ratio_text = f"{ratio:.1f}x" if ratio else "n/a (nothing compressed yet)"
        out.print(
            f"  compressed chunks {hyper.compressed_chunks}/{hyper.chunks}, ratio {ratio_text}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group to ``app``."""
    app.add_typer(db_app, name="db")
