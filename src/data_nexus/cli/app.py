"""The Typer application and the entry point.

Each command group lives in its own module under :mod:`data_nexus.cli` and exposes
``register(app)``; this module wires them together and maps errors to exit codes once.
It also decides, in one place (:class:`_Group`), how every ``--help`` names values:
``--port PORT``, ``SYMBOL``, ``-d, --database-url URL`` instead of Typer's ``<int range>``,
``<list[str]>`` and ``<str>`` type placeholders.
"""

from __future__ import annotations

from typing import Any

import typer
import typer.core

from data_nexus.cli.errors import run_cli


def _default_text(param: Any, show_default_is_str: bool, typer_text: Any) -> str:
    """``show_default="unlimited"`` reads ``[default: unlimited]`` (Typer writes
    ``(unlimited)``); any other default as Typer words it."""
    return str(param.show_default) if show_default_is_str else str(typer_text())


def _range_text(low: float | None, high: float | None) -> str | None:
    """``0 to 65535``, ``at least 1``, ``at most 10`` (Typer writes ``0<=x<=65535``)."""
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return None


class _Argument(typer.core.TyperArgument):
    """An argument whose help row is its metavar alone (``SYMBOL``), without Typer's
    ``<list[str]>`` type placeholder, and whose usage reads as Click writes it
    (``SYMBOL...``, ``[SYMBOL]...``), not Typer's ``{SYMBOL}...`` for a required one."""

    def display_type(self, ctx: Any) -> str:
        return ""

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.metavar or (self.name or "").upper()
        if not self.required:
            name = f"[{name}]"
        if self.nargs != 1:
            name += "..."
        return [name]

    def _get_default_string(self, *, ctx: Any, show_default_is_str: bool, **kw: Any) -> str:
        base = super()._get_default_string
        return _default_text(
            self, show_default_is_str, lambda: base(ctx=ctx, show_default_is_str=False, **kw)
        )

    def _get_number_range_help_str(self) -> str | None:
        return _range_text(self.min, self.max)


class _Option(typer.core.TyperOption):
    """An option whose value shows as its metavar (``--port PORT``), never as Typer's
    ``<int range>``/``<str>`` placeholder: the declaration's ``metavar=``, else a name
    derived from the type (``N``, ``NUMBER``, ``DIR``, ``PATH``) or the option's name."""

    def display_type(self, ctx: Any) -> str:
        return _derived_metavar(self)

    def _get_default_string(self, *, ctx: Any, show_default_is_str: bool, **kw: Any) -> str:
        base = super()._get_default_string
        return _default_text(
            self, show_default_is_str, lambda: base(ctx=ctx, show_default_is_str=False, **kw)
        )

    def _get_number_range_help_str(self) -> str | None:
        return _range_text(self.min, self.max)


def _derived_metavar(option: typer.core.TyperOption) -> str:
    desc = option.type_descriptor
    annotation = desc.annotation
    if desc.is_list:
        (annotation,) = getattr(annotation, "__args__", (str,))
    if desc.is_path:
        return "DIR" if desc.path_type == "directory" else "PATH"
    if annotation is int:
        return "N"
    if annotation is float:
        return "NUMBER"
    long_names = [opt for opt in option.opts if opt.startswith("--")] or option.opts
    return long_names[0].lstrip("-").replace("-", "_").upper()


def _plain_metavars(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands the help rendering above
    (the one place the CLI's ``--help`` placeholders are decided)."""
    for param in command.params:
        if type(param) is typer.core.TyperArgument:
            param.__class__ = _Argument
        elif type(param) is typer.core.TyperOption:
            param.__class__ = _Option
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


class _Group(typer.core.TyperGroup):
    """The root group: built once by Typer, then its parameters' help rendering fixed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_metavars(self)


app = typer.Typer(
    cls=_Group,
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
