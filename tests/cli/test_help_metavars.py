"""Every ``--help`` names values with a metavar (``--port PORT``, ``SYMBOL``), never with
Typer's type placeholders (``<list[str]>``, ``<str>``, ``<int range>``, ``<path>``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from data_nexus.cli import app

#: Typer's placeholders: ``<str>``, ``<list[str]>``, ``<int range>``, ``<float>``, ``<path>``…
_PLACEHOLDER = re.compile(r"<[a-z][\w\[\], |.]*>")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, (path, result.output)
    return result.output


def test_the_walk_covers_the_app() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "sync", "serve", "fake-eodhd", "assets add", "db downgrade", "import csv"} <= names
    assert len(names) > 25


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_help_shows_metavars_not_types(path: tuple[str, ...]) -> None:
    text = _help(path)
    for junk in ("<list[", "<str>", "<int", "<path>", "<float", "<text>", "<bool", "<datetime"):
        assert junk not in text, (path, junk)
    assert not _PLACEHOLDER.search(text), (path, _PLACEHOLDER.search(text))
    assert "(unlimited)" not in text and "x>=" not in text and "<=x" not in text, path


@pytest.mark.parametrize("path", [p for p, c in COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_every_value_option_shows_an_upper_case_metavar(path: tuple[str, ...]) -> None:
    """``--exchange EXCHANGE``, ``--adjust [none|splits|…]``: a value, never a bare type."""
    command = dict(COMMANDS)[path]
    text = _help(path)
    for param in command.params:
        if param.param_type_name != "option" or param.is_flag or param.hidden:
            continue
        longest = max(param.opts, key=len)
        match = re.search(rf"^  (?:-\w, )?{re.escape(longest)} (\S+)", text, re.MULTILINE)
        assert match, (path, longest)
        metavar = match.group(1)
        assert metavar.startswith("[") or re.fullmatch(r"[A-Z][A-Z_|,\[\]…a-z]*", metavar), (
            path,
            longest,
            metavar,
        )


def test_examples_read_as_written() -> None:
    assert "-d, --database-url URL " in _help(("sync",))
    assert re.search(r"\n  SYMBOL  +Symbols to sync", _help(("sync",)))
    serve = _help(("serve",))
    assert "--port PORT " in serve and "[default: 8000; 0 to 65535]" in serve
    assert "[default: 10; at least 1]" in _help(("runs",))
    fake = _help(("fake-eodhd",))
    assert "--daily-limit N " in fake and "[default: unlimited]" in fake
    assert re.search(r"\n  DIR  +Target directory", _help(("export",)))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_usage_line_reads_as_click_writes_it(path: tuple[str, ...]) -> None:
    """``SYMBOL...`` for a required argument, ``[SYMBOL]...`` for an optional one: never
    Typer's ``{SYMBOL}...`` (which reads like a shell brace expansion)."""
    usage = _help(path).splitlines()[0]
    assert usage.startswith("Usage: datanexus"), usage
    assert "{" not in usage and "}" not in usage, usage


@pytest.mark.parametrize(
    ("path", "usage"),
    [
        (("bars",), "Usage: datanexus bars [OPTIONS] SYMBOL..."),
        (("sync",), "Usage: datanexus sync [OPTIONS] [SYMBOL]..."),
        (("export",), "Usage: datanexus export [OPTIONS] DIR"),
        (("db", "downgrade"), "Usage: datanexus db downgrade [OPTIONS] REVISION"),
    ],
)
def test_usage_of_required_optional_and_single_arguments(path: tuple[str, ...], usage: str) -> None:
    assert _help(path).splitlines()[0] == usage
