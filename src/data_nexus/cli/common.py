"""Options and output helpers shared by the commands."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from data_nexus.config import Settings, load_settings

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        "-d",
        help="Database URL (default: $DATANEXUS_DATABASE_URL, else sqlite:///data_nexus.db). "
        "A bare path means an SQLite file.",
        show_default=False,
    ),
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def settings_for(database_url: str | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with the command's options on top."""
    return load_settings(database_url=database_url, **overrides)


def console(stderr: bool = False) -> Console:
    """A Rich console; plain text when the stream is not a terminal."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (dates and decimals as strings)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
