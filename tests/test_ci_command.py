""".ci/run runs exactly the README's test command, so what CI proves is what a developer runs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: how the README's one-line test command starts
PREFIX = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/pytest"


def _commands(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip().startswith(PREFIX)}


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    readme = _commands((ROOT / "README.md").read_text())
    ci = _commands((ROOT / ".ci" / "run").read_text())
    assert len(readme) == 1, f"the README should give one test command, not {sorted(readme)}"
    assert ci == readme
