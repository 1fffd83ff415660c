"""The Typer application and the entry point.

Each command group lives in its own module under :mod:`data_nexus.cli` and exposes
``register(app)``; this module wires them together and maps errors to exit codes once.
"""

from __future__ import annotations

import typer

from data_nexus.cli.errors import run_cli

app = typer.Typer(
    name="datanexus",
    help="Data Nexus: a market-data warehouse filled from the EODHD end-of-day API.",
    no_args_is_help=True,
    add_completion=False,
    # -h is --help on every command (subcommand contexts inherit the option names).
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from data_nexus import __version__  # noqa: PLC0415

        typer.echo(f"datanexus {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Data Nexus: a market-data warehouse filled from the EODHD end-of-day API.

    The database is DATANEXUS_DATABASE_URL (default: the SQLite file ./data_nexus.db);
    the API token is EODHD_API_TOKEN (no default: sync and assets discover refuse to start
    without it; 'demo' is EODHD's public demo key, a handful of tickers). Every command
    also takes --database-url.
    """


def _register_commands() -> None:
    from data_nexus.cli import (  # noqa: PLC0415
        assets,
        check,
        db,
        demo,
        export,
        fake_eodhd,
        read,
        serve,
        sync,
    )

    for module in (demo, sync, assets, check, db, fake_eodhd, read, export, serve):
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point: run the app with one place that turns errors into exits."""
    run_cli(app)
