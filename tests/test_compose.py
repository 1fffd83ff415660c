"""compose.yaml: it parses, and every datanexus command it runs (or tells you to run) exists.

PyYAML is a dev dependency for this test only: a Compose file is YAML with anchors and merge
keys (``<<: *datanexus``), which no standard-library parser reads.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from data_nexus.cli import app

COMPOSE = Path(__file__).resolve().parents[1] / "compose.yaml"
#: shell words that end one command inside a ``sh -c`` script
_SEPARATORS = {";", "&&", "||", "|", "&"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _datanexus_argv(service: dict[str, Any]) -> list[list[str]]:
    """The datanexus argument lists a service runs (without the program name)."""
    entrypoint = service.get("entrypoint")
    command = service.get("command")
    if entrypoint is None:  # the image's ENTRYPOINT is datanexus itself
        assert isinstance(command, list), "give datanexus commands as a list"
        return [[str(word) for word in command]]
    assert entrypoint[:2] == ["/bin/sh", "-c"], entrypoint
    script = "\n".join(command) if isinstance(command, list) else str(command)
    return _in_script(script)


def _in_script(script: str) -> list[list[str]]:
    """Every ``datanexus …`` invocation in a shell script or in comment lines."""
    found = []
    for line in script.splitlines():
        words = shlex.split(line.replace("$$", "$"), comments=False)
        for index, word in enumerate(words):
            if word != "datanexus":
                continue
            argv = []
            for arg in words[index + 1 :]:
                if arg in _SEPARATORS or arg.startswith("#"):
                    break
                argv.append(arg)
            found.append(argv)
    return found


def _check_argv(argv: list[str]) -> None:
    """The subcommand path exists and every option named is one of its options."""
    command: Any = typer.main.get_command(app)
    words = list(argv)
    while hasattr(command, "commands"):  # a group (Typer vendors its own click)
        assert words, f"{argv}: names a command group, not a command"
        name = words.pop(0)
        assert name in command.commands, f"{argv}: no command {name!r}"
        command = command.commands[name]
    options = {opt for param in command.params for opt in param.opts if opt.startswith("-")}
    for word in words:
        if word.startswith("-"):
            assert word.split("=", 1)[0] in options, f"{argv}: no option {word!r}"


def test_every_command_compose_runs_exists(compose: dict[str, Any]) -> None:
    """Each datanexus service's command resolves in the CLI, options included."""
    runs = [
        argv
        for service in compose["services"].values()
        if service.get("image", "").startswith("datanexus")
        for argv in _datanexus_argv(service)
    ]
    assert len(runs) >= 3  # migrate, worker, cli
    assert ["db", "upgrade"] in runs
    assert any(argv[:1] == ["sync"] for argv in runs)
    for argv in runs:
        _check_argv(argv)


def test_commands_in_its_instructions_exist() -> None:
    """The ``docker compose run --rm cli …`` lines in the header name real commands."""
    lines = [line for line in COMPOSE.read_text().splitlines() if "run --rm cli " in line]
    assert lines
    for line in lines:
        argv = shlex.split(line.split("run --rm cli ", 1)[1].split("#", 1)[0])
        argv = [word for word in argv if word not in {"<command>", "…"}]
        if argv:
            _check_argv(argv)


def test_services_are_wired_as_documented(compose: dict[str, Any]) -> None:
    """Timescale's image, upgrade before the worker, secrets only from the env file."""
    services = compose["services"]
    assert services["db"]["image"].startswith("timescale/timescaledb:")
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    worker = services["worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert re.search(r"--worker-id", "\n".join(worker["command"]))
    for name, service in services.items():
        environment = service.get("environment") or {}
        secrets = {"EODHD_API_TOKEN", "POSTGRES_PASSWORD", "DATANEXUS_DATABASE_URL"}
        assert not secrets & set(environment), f"{name}: a secret inline, not in the env file"
        if name != "db":
            assert service["env_file"] == ["datanexus.env"], name
    assert "127.0.0.1:" in services["db"]["ports"][0]  # not published on every address
    assert "Limits of this file" in COMPOSE.read_text()


def test_the_check_catches_a_missing_command() -> None:
    """The checker itself fails on a command or option the CLI lacks."""
    with pytest.raises(AssertionError, match="no command"):
        _check_argv(["db", "migrate"])
    with pytest.raises(AssertionError, match="no option"):
        _check_argv(["sync", "--every", "1d"])
    assert _in_script('x=1; datanexus sync --json && echo "done"') == [["sync", "--json"]]
