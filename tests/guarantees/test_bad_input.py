"""Bad input, exhaustively: every CLI command × malformed arguments.

The cases are generated from the Typer app itself: each leaf command, each of its
parameters, and malformed values chosen by the parameter's type and name (bad dates,
unknown or injection-shaped symbols such as ``../x`` and ``A';DROP``, bad numbers, bad
formats, unwritable output paths, a directory where a file is expected). A new command or
option is covered without editing this file. Each case must end with the documented exit
code (2: usage or configuration), exactly one line that says what is wrong, no traceback,
and the database schema untouched.
"""

from __future__ import annotations

import time
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer.main

from data_nexus.cli import app
from data_nexus.emulator import EmulatorServer
from data_nexus.storage.engine import open_engine
from data_nexus.storage.migrate import current_revision, head_revision, upgrade_db
from tests.conftest import make_settings
from tests.guarantees.helpers import SECRET_TOKEN, START, Capture, Forker

pytestmark = pytest.mark.guarantees

DIRECTORY = "<a directory>"  # replaced by a real directory at run time
UNWRITABLE = "/proc/datanexus-nope/out"  # unwritable even for root
INJECTIONS = ("../x", "A';DROP TABLE assets;--")
#: A valid value for each required argument, so that one malformed value is tested at a time.
VALID_ARGUMENTS = {
    "symbols": "AAPL.US",
    "exchange": "US",
    "revision": "head",
    "directory": DIRECTORY,
}
DATEISH = ("since", "start", "today", "date", "end", "until", "from")
PATHISH = ("output", "out", "path", "file", "dir")


def _base(annotation: Any) -> Any:
    """``int`` for ``int | None``, ``str`` for ``list[str]``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _base(args[0])
    if typing.get_origin(annotation) in (list, tuple) and args:
        return _base(args[0])
    return annotation


def malformed(name: str, annotation: Any, is_argument: bool) -> list[str]:
    """Malformed values for a parameter, by its type and name."""
    kind = _base(annotation)
    if kind is bool:
        return []
    if kind is int:
        return ["abc"] if name == "seed" else ["abc", "-5"]
    if kind is float:
        return ["abc", "nan", "-1"]
    if name == "database_url":
        return [DIRECTORY, f"sqlite:///{UNWRITABLE}/x.db", "mysql://user@localhost/db"]
    if name in ("symbols", "symbol"):
        return [*INJECTIONS, "NOPE", "", "  "]
    if name in ("exchange", "exchanges"):
        return [*INJECTIONS, "", "  "]
    if name == "worker_id":
        return ["", "  "]
    if name == "revision":
        return ["nope", "../x"]
    if any(part in name for part in DATEISH):
        return ["2024-13-45", "yesterday"]
    if name == "directory":  # a directory is expected: an unreachable one is malformed
        return [UNWRITABLE]
    if any(part in name for part in PATHISH):
        return [UNWRITABLE, DIRECTORY]
    if name == "max_age":
        return ["1 fortnight", "-1d"]
    if name in ("format", "fmt", "bulk"):
        return ["xml"]
    if name in ("asset_type", "type", "host"):
        return ["A';DROP", ""]
    if name == "token":
        return [""]
    return []  # free text: nothing is malformed


def leaf_commands() -> Iterator[tuple[list[str], Any]]:
    """(path, command) of every leaf command of the app."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        if hasattr(command, "commands"):
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    return walk(typer.main.get_command(app), [])


def cases() -> list[Any]:
    """One pytest param per command × parameter × malformed value."""
    found = []
    for path, command in leaf_commands():
        required = [
            VALID_ARGUMENTS[p.name]
            for p in command.params
            if p.param_type_name == "argument" and p.required
        ]
        for param in command.params:
            is_argument = param.param_type_name == "argument"
            annotation = param.type_descriptor.annotation
            for value in malformed(param.name, annotation, is_argument):
                if is_argument:
                    others = [
                        VALID_ARGUMENTS[p.name]
                        for p in command.params
                        if p.param_type_name == "argument" and p.required and p is not param
                    ]
                    argv = [*path, *others, value]
                else:
                    argv = [*path, *required, param.opts[0], value]
                found.append(pytest.param(argv, id=" ".join([*path, param.name, repr(value)])))
    return found


KNOWN_DEFECTS: dict[str, str] = {}


def _marked(params: list[Any]) -> list[Any]:
    """``params`` with the known defects marked as strict xfails."""
    return [
        pytest.param(*p.values, id=p.id, marks=pytest.mark.xfail(strict=True, reason=reason))
        if (reason := KNOWN_DEFECTS.get(p.id))
        else p
        for p in params
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A migrated SQLite warehouse and an emulator that accidental runs can talk to."""
    root = tmp_path_factory.mktemp("bad_input")
    url = f"sqlite:///{root / 'warehouse.db'}"
    upgrade_db(make_settings(url))
    (root / "a-directory").mkdir()
    emu = EmulatorServer(seed=71, symbols=3, start=START, token=SECRET_TOKEN).start()
    try:
        yield {"root": root, "url": url, "emu": emu}
    finally:
        emu.close()


def _schema(url: str) -> tuple[set[str], str | None]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names()), current_revision(conn)
    finally:
        engine.dispose()


@pytest.mark.parametrize("argv", _marked(cases()))
def test_malformed_argument_is_one_line_and_exit_2(
    argv: list[str], world: dict[str, Any], forker: Forker, capture: Capture, tmp_path: Path
) -> None:
    """One line naming the problem, exit 2, no traceback, schema intact."""
    argv = [str(world["root"] / "a-directory") if a == DIRECTORY else a for a in argv]
    before = _schema(world["url"])
    child = capture.fork(forker, *argv, url=world["url"], emu=world["emu"], cwd=tmp_path)
    deadline = time.monotonic() + 30
    while forker.poll(child) is None and time.monotonic() < deadline:
        if (
            child.out.exists() and "base URL:" in child.out.read_text()
        ):  # fake-eodhd is serving: input accepted
            break
        time.sleep(0.02)
    code = forker.kill(child)  # still running: the input was accepted
    out, err = capture.outputs(child)
    assert code != -9, f"accepted and ran: {out[-300:]!r}"
    assert "Traceback" not in out + err
    assert code == 2, (code, out[-300:], err[-300:])
    lines = [line for line in err.splitlines() if line.strip()]
    problems = [line for line in lines if line.lower().startswith("error")]
    assert len(problems) == 1, err
    assert len(problems[0]) > len("error: ") + 10, err
    assert _schema(world["url"]) == before == ({*before[0]}, head_revision())


def test_every_command_has_cases() -> None:
    """Each leaf command with parameters gets malformed cases (a new one is covered too)."""
    params = cases()
    for path, command in leaf_commands():
        if all(_base(p.type_descriptor.annotation) is bool for p in command.params):
            continue  # e.g. `db history`, `assets exchanges [--json]`: nothing to get wrong
        assert any(p.values[0][: len(path)] == path for p in params), path


def test_unknown_symbol_in_sync_is_one_failed_line_and_exit_1(
    world: dict[str, Any], forker: Forker, capture: Capture, tmp_path: Path
) -> None:
    """A well-formed symbol the provider does not know: a per-asset failure (exit 1)."""
    child = capture.fork(forker, "sync", "NOPE.US", url=world["url"], emu=world["emu"],
                         cwd=tmp_path)  # fmt: skip
    code = forker.wait(child)
    out, err = capture.outputs(child)
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    for stream in (out, err):  # the progress line (stderr) and the summary (stdout)
        failed = [line for line in stream.splitlines() if "failed NOPE.US" in line]
        assert len(failed) == 1, stream
    # a symbol this run registered and the provider does not know is not left behind
    assert "NOPE.US is not known to the provider: it was not registered" in out + err
