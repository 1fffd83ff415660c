"""`bars -o FILE` writes the format FILE's extension names, and a --format that contradicts
it (or an extension it does not know, without --format) is one line, exit 2, no file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.test_db_cli import run_cli
from tests.cli.test_read_cli import warehouse  # noqa: F401 - the fixture


def test_the_extension_picks_the_format(warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    db = ["-d", str(warehouse)]
    for name in ("b.parquet", "b.CSV", "b.json", "b.txt", "b"):
        done = run_cli("bars", "BBB.US", "-o", name, *db, cwd=tmp_path)
        assert (done.returncode, done.stderr) == (0, ""), name
    assert len(pd.read_parquet(tmp_path / "b.parquet")) == 65
    assert len(pd.read_csv(tmp_path / "b.CSV")) == 65
    assert len(json.loads((tmp_path / "b.json").read_text())["bars"]) == 65
    for name in ("b.txt", "b"):
        assert (tmp_path / name).read_text().split()[:3] == ["date", "symbol", "open"]
    same = run_cli("bars", "BBB.US", "--format", "CSV", "-o", "c.csv", *db, cwd=tmp_path)
    assert same.returncode == 0 and len(pd.read_csv(tmp_path / "c.csv")) == 65
    free = run_cli("bars", "BBB.US", "--format", "csv", "-o", "c.dat", *db, cwd=tmp_path)
    assert free.returncode == 0 and len(pd.read_csv(tmp_path / "c.dat")) == 65


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--format", "csv", "-o", "x.parquet"],
            "error: --format csv contradicts -o 'x.parquet' (a parquet file name): drop "
            "--format or change the extension",
        ),
        (
            ["--format", "table", "-o", "x.json"],
            "error: --format table contradicts -o 'x.json' (a json file name): drop "
            "--format or change the extension",
        ),
        (
            ["-o", "x.xlsx"],
            "error: cannot tell the format of 'x.xlsx' from its extension: name it .csv, "
            ".json, .parquet or .txt, or pass --format",
        ),
    ],
)
def test_a_contradiction_is_refused(
    warehouse: Path,  # noqa: F811
    tmp_path: Path,
    args: list[str],
    line: str,
) -> None:
    done = run_cli("bars", "BBB.US", *args, "-d", str(warehouse), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, line + "\n")
    assert not (tmp_path / args[-1]).exists()
