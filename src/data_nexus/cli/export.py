"""``datanexus export DIR`` and ``datanexus import csv DIR``: files in and out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from data_nexus.cli.common import DatabaseUrl, console, settings_for
from data_nexus.cli.errors import ExitCode

import_app = typer.Typer(help="Import bars and corporate actions from files.")


def register(app: typer.Typer) -> None:
    """Add ``export`` and the ``import`` group to ``app``."""

    @app.command("export")
    def export(
        directory: Annotated[
            Path, typer.Argument(metavar="DIR", help="Target directory (new or empty).")
        ],
        fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
        symbols: Annotated[
            list[str] | None, typer.Option("--symbols", help="Only these symbols (repeatable).")
        ] = None,
        adjust: Annotated[
            str | None, typer.Option(help="none, splits, all or provider (qlib: all).")
        ] = None,
        layout: Annotated[str, typer.Option(help="hive, zipline or qlib.")] = "hive",
        database_url: DatabaseUrl = None,
    ) -> None:
        """Export bars and actions, streamed a batch of symbols at a time, with a manifest."""
        from data_nexus.query.exports import export_data  # noqa: PLC0415 - lazy: start-up time

        result = export_data(
            directory,
            fmt=fmt,
            layout=layout,
            symbols=symbols,
            adjust=adjust,
            now=dt.datetime.now(dt.UTC),
            url=settings_for(database_url).database_url,
        )
        console().print(
            f"exported {result.symbols:,} symbol(s), {result.rows:,} bars "
            f"({result.format}, {result.layout}, adjust={result.adjust}, "
            f"cut-off {result.cutoff or '-'}) to {result.directory}",
            markup=False,
        )

    @import_app.command("csv")
    def import_csv_command(
        directory: Annotated[
            Path, typer.Argument(metavar="DIR", help="Directory of CODE.EXCHANGE.csv files.")
        ],
        exchange: Annotated[
            str | None, typer.Option(help="Exchange of files named CODE.csv.")
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Import one CSV file per symbol (idempotent; bad rows and files are reported and
        skipped, the rest imported: exit 1 then)."""
        from data_nexus.query.imports import import_csv  # noqa: PLC0415 - lazy: start-up time

        result = import_csv(
            directory,
            exchange=exchange,
            settings=settings_for(database_url),
            now=dt.datetime.now(dt.UTC),
        )
        out = console()
        skipped = (
            f"; skipped {result.skipped_files} file(s) and {result.skipped_rows:,} row(s), "
            "listed on stderr"
            if result.problems
            else ""
        )
        out.print(
            f"imported {result.files} file(s): {result.inserted:,} bars new, "
            f"{result.updated:,} changed, {result.unchanged:,} unchanged, "
            f"{result.actions:,} actions{skipped}; {result.findings:,} finding(s) recorded "
            "(refused rows and flagged bars; datanexus check lists them)",
            markup=False,
        )
        err = console(stderr=True)
        for problem in result.problems[:50]:
            err.print(f"skipped {problem}", markup=False)
        if len(result.problems) > 50:
            err.print(f"… and {len(result.problems) - 50} more", markup=False)
        if result.problems:
            raise typer.Exit(ExitCode.PARTIAL)

    app.add_typer(import_app, name="import")
