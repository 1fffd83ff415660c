"""``datanexus export DIR`` and ``datanexus import csv DIR``: files in and out."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from data_nexus.cli.common import DatabaseUrl, console, counted, settings_for
from data_nexus.cli.errors import ExitCode

import_app = typer.Typer(help="Import bars and corporate actions from files.")

#: The metavar of an option that takes several symbols.
SYMBOLS_METAVAR = "SYMBOL[,SYMBOL…]"


@contextmanager
def interrupt_flag() -> Iterator[threading.Event]:
    """While inside, the first SIGINT sets the flag and raises ``KeyboardInterrupt``; later
    ones only set it (the partial output is being removed).

    The flag is what the library polls (``cancelled=flag.is_set``): a ``KeyboardInterrupt``
    raised while a C library runs a Python callback can be swallowed there, and without the
    flag the export would then finish as if nothing happened.
    """
    flag = threading.Event()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if flag.is_set():
            return
        flag.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def register(app: typer.Typer) -> None:
    """Add ``export`` and the ``import`` group to ``app``."""

    @app.command("export")
    def export(
        directory: Annotated[
            Path, typer.Argument(metavar="DIR", help="Target directory (new or empty).")
        ],
        fmt: Annotated[
            str, typer.Option("--format", metavar="[parquet|csv]", help="File format.")
        ] = "parquet",
        symbols: Annotated[
            list[str] | None,
            typer.Option(
                "--symbols",
                metavar=SYMBOLS_METAVAR,
                help="Only these symbols: comma-separated, or the option repeated "
                "(default: every asset).",
            ),
        ] = None,
        start: Annotated[
            str | None, typer.Option("--from", metavar="DATE", help="First date (YYYY-MM-DD).")
        ] = None,
        end: Annotated[
            str | None, typer.Option("--to", metavar="DATE", help="Last date (YYYY-MM-DD).")
        ] = None,
        adjust: Annotated[
            str | None,
            typer.Option(
                metavar="[none|splits|all|provider]", help="Price adjustment (qlib: all)."
            ),
        ] = None,
        layout: Annotated[
            str | None,
            typer.Option(
                metavar="[hive|files|zipline|qlib]",
                help="hive: a partitioned Parquet dataset (the Parquet default); files: one "
                "CSV per symbol, what import csv reads (the CSV default); zipline, qlib: CSV.",
            ),
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Export bars and actions, streamed a batch of symbols at a time, with a manifest.

        Any case is accepted for --format, --layout and --adjust. Ctrl-C removes what the
        export wrote (exit 130), as a failed export does.
        """
        from data_nexus.query.exports import export_data  # noqa: PLC0415 - lazy: start-up time

        url = settings_for(database_url).database_url
        try:
            with interrupt_flag() as flag:
                result = export_data(
                    directory,
                    fmt=fmt,
                    layout=layout,
                    symbols=symbols or None,
                    adjust=adjust,
                    start=start,
                    end=end,
                    now=dt.datetime.now(dt.UTC),
                    url=url,
                    cancelled=flag.is_set,
                )
        except KeyboardInterrupt:
            console(stderr=True).print(
                f"interrupted; the partial export was removed ({directory} is as before)",
                markup=False,
            )
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        console().print(
            f"exported {counted(result.symbols, 'symbol')}, {counted(result.rows, 'bar')} "
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
            str | None,
            typer.Option(metavar="EXCHANGE", help="Exchange of files named CODE.csv, e.g. US."),
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Import one CSV file per symbol (idempotent; bad rows and files are reported and
        skipped, the rest imported: exit 1 then). Ctrl-C keeps the files imported so far,
        each whole (exit 130): the same command again finishes the import.

        Only what it can store exactly is read: the columns `export --format csv --layout
        files` writes (and a symbol column naming the file's symbol). A column it does not
        know (e.g. qlib's factor) or an export manifest of another layout (zipline, qlib,
        adjusted, resampled) in DIR or its parent is refused before anything is written
        (exit 2)."""
        from data_nexus.query.imports import import_csv  # noqa: PLC0415 - lazy: start-up time

        settings = settings_for(database_url)
        try:
            result = import_csv(
                directory, exchange=exchange, settings=settings, now=dt.datetime.now(dt.UTC)
            )
        except KeyboardInterrupt:
            console(stderr=True).print(
                "interrupted; the files imported so far stay imported, each whole or not at "
                "all: run the same command again to finish",
                markup=False,
            )
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        out = console()
        unreadable = result.skipped_rows - result.refused_rows
        skipped = (
            f"; skipped {counted(result.skipped_files, 'file')} and "
            f"{counted(result.skipped_rows, 'row')}, "
            f"listed on stderr ({result.refused_rows:,} refused by validation and recorded "
            f"as findings, {unreadable:,} unreadable and not stored)"
            if result.problems
            else ""
        )
        out.print(
            f"imported {counted(result.files, 'file')}: {counted(result.inserted, 'bar')} new, "
            f"{result.updated:,} changed, {result.unchanged:,} unchanged, "
            f"{counted(result.actions, 'action')}{skipped}; "
            f"{counted(result.findings, 'open finding')} on "
            "the imported symbols (datanexus check lists them)",
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
