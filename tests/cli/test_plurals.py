"""Counts in CLI output agree with their noun: ``1 row``, ``2 rows``, never ``1 rows`` or
``asset(s)``; one helper (:func:`counted`) decides."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from data_nexus.assets import add_assets
from data_nexus.cli.common import counted, noun_for
from tests.cli.test_db_cli import run_cli

CLI_SOURCES = sorted((Path(__file__).resolve().parents[2] / "src/data_nexus/cli").glob("*.py"))


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 rows"), (1, "1 row"), (2, "2 rows"), (12345, "12,345 rows")],
)
def test_counted(n: int, text: str) -> None:
    assert counted(n, "row") == text


def test_irregular_plural() -> None:
    assert counted(1, "full refresh", "full refreshes") == "1 full refresh"
    assert counted(3, "full refresh", "full refreshes") == "3 full refreshes"
    assert noun_for(1, "row") == "row" and noun_for(0, "row") == "rows"


@pytest.mark.parametrize("path", CLI_SOURCES, ids=lambda p: p.name)
def test_no_hedged_plurals_in_cli_source(path: Path) -> None:
    """``asset(s)``, ``refresh(es)`` in a string the CLI prints: the kind of wording
    :func:`counted` replaces."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    hedged = [t for t in texts if isinstance(t, str) and re.search(r"[a-z]\((s|es)\)", t)]
    assert hedged == [], path.name


def test_db_info_says_1_row(sqlite_url: str, tmp_path: Path) -> None:
    add_assets(sqlite_url, ["AAA.US"])
    done = run_cli("db", "info", "-d", sqlite_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in done.stdout.splitlines()[4:]}
    assert rows["assets"] == ["1", "row"]
    assert rows["market_data"] == ["0", "rows"]


def test_check_says_1_asset(sqlite_url: str, tmp_path: Path) -> None:
    add_assets(sqlite_url, ["AAA.US"])
    done = run_cli("check", "-d", sqlite_url, cwd=tmp_path)
    assert done.stdout.splitlines()[-1] == "1 open finding in 1 asset checked: 1 never_synced"
