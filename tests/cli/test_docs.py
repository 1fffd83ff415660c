"""docs/cli.md is generated from the Typer app and must not drift from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer.main

from data_nexus.cli import app
from data_nexus.cli.docs import render

CLI_MD = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_md_is_what_the_app_generates() -> None:
    """Regenerate with `python -m data_nexus.cli.docs > docs/cli.md` when this fails."""
    assert CLI_MD.read_text(encoding="utf-8") == render()


def test_every_command_has_a_section() -> None:
    """Each command of the app has a heading and its usage line in the reference."""
    text = render()
    root = typer.main.get_command(app)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", {}) or {name: command}
        for sub in subs:
            title = f"datanexus {name}" if sub == name else f"datanexus {name} {sub}"
            assert f"\n## {title}\n" in text, title
            assert f"Usage: {title} " in text, title


def test_the_module_prints_the_reference() -> None:
    """`python -m data_nexus.cli.docs` writes the same text on stdout."""
    out = subprocess.run(
        [sys.executable, "-m", "data_nexus.cli.docs"], capture_output=True, text=True, check=True
    )
    assert out.stdout == render()
