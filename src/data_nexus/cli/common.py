"""Options and output helpers shared by the commands."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import warnings
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from data_nexus.errors import SettingsWarning, UsageError

if TYPE_CHECKING:
    from data_nexus.config import Settings

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        "-d",
        metavar="URL",
        help="Database URL (default: $DATANEXUS_DATABASE_URL, else sqlite:///data_nexus.db). "
        "A bare path means an SQLite file.",
        show_default=False,
    ),
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


#: The ``.env`` warnings this process has printed (each is printed once).
_WARNED: set[str] = set()


def settings_for(database_url: str | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with the command's options on top.

    Validated once, here; a :class:`~data_nexus.errors.SettingsWarning` (an unknown key in
    ``.env``) is printed as one ``warning:`` line on stderr, once per process even when a
    command builds its settings more than once.
    """
    from data_nexus.config import load_settings  # noqa: PLC0415 - pydantic loads on use

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SettingsWarning)
        settings = load_settings(database_url=database_url, **overrides)
    for item in caught:
        if issubclass(item.category, SettingsWarning):
            text = str(item.message)
            if text not in _WARNED:  # once per process, however often settings are built
                _WARNED.add(text)
                sys.stderr.write(f"warning: {text}\n")
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return settings


def announce_demo_key(settings: Settings) -> None:
    """Say once, on stderr, that the provider will be called with EODHD's public demo key
    (it serves only a few symbols), so that nobody is surprised by refusals."""
    from data_nexus.config import DEMO_KEY_NOTE  # noqa: PLC0415

    if settings.uses_demo_key:
        sys.stderr.write(f"note: {DEMO_KEY_NOTE}\n")


def existing_settings(database_url: str | None = None) -> Settings:
    """:func:`settings_for`, for a command that must not create a database: a missing
    SQLite file is one line ``no such database file: PATH`` (exit 2), nothing created."""
    from data_nexus.storage.engine import require_sqlite_file  # noqa: PLC0415

    settings = settings_for(database_url)
    require_sqlite_file(settings.database_url)
    return settings


def noun_for(n: int, noun: str, plural: str | None = None) -> str:
    """``noun`` for 1, else its plural (``plural``, else ``noun + "s"``): the one place CLI
    output chooses between ``row`` and ``rows``."""
    return noun if n == 1 else plural or f"{noun}s"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 row``, ``0 rows``, ``12,345 rows`` (see :func:`noun_for`)."""
    return f"{n:,} {noun_for(n, noun, plural)}"


def console(stderr: bool = False) -> Console:
    """A Rich console; plain text when the stream is not a terminal."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (dates and decimals as strings)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.I)
_UNITS = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


#: The longest duration an option takes (100 years, as ``SyncOptions`` accepts).
MAX_DURATION_DAYS = 36_525


def parse_duration(text: str, option: str) -> dt.timedelta:
    """``1d``, ``12h``, ``30m``, ``90s``, ``2w`` or ``0`` as a timedelta (a bare number is days).

    Raises :class:`UsageError` naming ``option`` for text it cannot read or a duration
    beyond :data:`MAX_DURATION_DAYS`.
    """
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"invalid {option} {text!r}: use e.g. 1d, 12h, 30m or 0")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds > MAX_DURATION_DAYS * 86400:
        raise UsageError(f"invalid {option} {text!r}: at most {MAX_DURATION_DAYS}d (100 years)")
    return dt.timedelta(seconds=seconds)


def parse_date(text: str, option: str) -> dt.date:
    """A ``YYYY-MM-DD`` date, or a one-line usage error naming the option."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        from data_nexus.query.bars import date_problem  # noqa: PLC0415 - pandas: on error only

        raise UsageError(f"invalid {option} {text!r}: {date_problem(text)}") from None
