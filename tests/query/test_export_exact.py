"""Exports carry any stored decimal and any volume exactly, and leave nothing half-written."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from data_nexus.query import exports
from data_nexus.query.exports import export_data
from data_nexus.query.imports import import_csv
from data_nexus.storage.migrate import upgrade_db
from tests.conftest import make_settings

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
BIG = 9223372036854775807
ROWS = [
    # date, open, high, low, close, adjusted_close, volume
    ("2024-01-02", "0.000000012", "0.000000013", "0.000000011", "0.000000012", "", "5"),
    (
        "2024-01-03",
        "999999999999999.123456789012345678901234567890",
        "",
        "",
        "-999999999999999.5",
        "",
        str(BIG),
    ),
    ("2024-01-04", "0.000000000000000000000000000001", "", "", "12.5", "12.4", "0"),
]


def _database(tmp_path: Path, url: str | None = None) -> str:
    folder = tmp_path / "in"
    folder.mkdir()
    lines = ["date,open,high,low,close,adjusted_close,volume", *(",".join(r) for r in ROWS)]
    (folder / "TINY.CC.csv").write_text("\n".join(lines) + "\n")
    if url is None:
        url = f"sqlite:///{tmp_path / 'db.db'}"
        upgrade_db(make_settings(url))
    result = import_csv(folder, settings=make_settings(url), now=NOW)
    assert result.bars == 3, result.problems
    return url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_csv_export_keeps_tiny_huge_and_30_decimal_prices(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    pg = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else None
    url = _database(tmp_path, pg)
    export_data(tmp_path / "out", fmt="csv", url=url, now=NOW)
    with (tmp_path / "out" / "TINY.CC.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["open"] for r in rows] == [
        "0.000000012",
        "999999999999999.12345678901234567890123456789",
        "0.000000000000000000000000000001",
    ]
    assert [r["close"] for r in rows] == ["0.000000012", "-999999999999999.5", "12.5"]
    assert [r["volume"] for r in rows] == ["5", str(BIG), "0"]


def test_zipline_and_qlib_volumes_are_exact_integers(tmp_path: Path) -> None:
    url = _database(tmp_path)
    export_data(tmp_path / "zl", fmt="csv", layout="zipline", url=url, now=NOW)
    with (tmp_path / "zl" / "daily" / "TINY.csv").open() as handle:
        assert [r["volume"] for r in csv.DictReader(handle)] == ["5", str(BIG), "0"]
    export_data(tmp_path / "ql", fmt="csv", layout="qlib", adjust="none", url=url, now=NOW)
    with (tmp_path / "ql" / "TINY.CC.csv").open() as handle:
        assert [r["volume"] for r in csv.DictReader(handle)] == ["5", str(BIG), "0"]


@pytest.mark.parametrize("existing", [False, True])
def test_a_failed_export_leaves_no_half_written_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    url = _database(tmp_path)
    target = tmp_path / "out"
    if existing:
        target.mkdir()
    calls: list[int] = []
    real = exports.write_own_csv

    def fail_later(*args: object, **kwargs: object) -> int:
        calls.append(1)
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "write_own_csv", fail_later)
    with pytest.raises(RuntimeError, match="disk full"):
        export_data(target, fmt="csv", url=url, now=NOW)
    assert calls
    assert (target.is_dir() and not any(target.iterdir())) if existing else not target.exists()
