"""`import csv` judges rows like the sync and skips bad files without failing the rest."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from data_nexus.errors import UsageError
from data_nexus.query import import_columns, imports
from data_nexus.query.imports import import_csv
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import Store
from tests.conftest import make_settings

NOW = dt.datetime(2026, 1, 2, 15, tzinfo=dt.UTC)
GOOD = "date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n"


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    upgrade_db(make_settings(url))
    return url


def _findings(tmp_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(tmp_path / "db.db") as conn:
        rows = conn.execute("SELECT symbol, date, kind FROM findings ORDER BY date").fetchall()
    return [(str(s), str(d)[:10], str(k)) for s, d, k in rows]


def test_rows_are_judged_by_the_store_and_reported_with_their_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ABC.US.csv").write_text(
        "date,open,high,low,close,volume\n"
        "2024-01-02,10,11,9,10.5,100\n"  # line 2: fine
        "2024-01-03,,,,,100\n"  # line 3: no prices
        "2024-01-04,-1,2,-2,-1.5,100\n"  # line 4: negative, stored
        "2024-01-05,10,9,12,10,100\n"  # line 5: low above high, stored as sent
        "2026-01-05,10,11,9,10,100\n"  # line 6: after the exchange's today
        "2024-01-08,10,11,9,1e15,100\n"  # line 7: out of range
    )
    url = _db(tmp_path)
    result = import_csv(folder, settings=make_settings(url), now=NOW)
    assert sorted(p.split(": ")[0] + ": " + p.split(": ")[1] for p in result.problems) == [
        "ABC.US.csv:3: no_prices",
        "ABC.US.csv:6: future_bar",
        "ABC.US.csv:7: out_of_range",
    ]
    with Store.open(url) as store:
        bars = store.read_bars(["ABC.US"])
    assert [b.date.day for b in bars] == [2, 4, 5]
    assert str(bars[1].close) == "-1.5" and bars[2].low > bars[2].high
    kinds = {kind for _, _, kind in _findings(tmp_path)}
    assert {"no_prices", "future_bar", "out_of_range"} <= kinds
    assert result.findings >= 3


def test_undecodable_and_badly_named_files_are_skipped_alone(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "GOOD.csv").write_text(GOOD)
    (folder / "LATIN.csv").write_bytes("date,close\n2024-01-02,1\n# caf\xe9\n".encode("latin-1"))
    (folder / "A;DROP.US.csv").write_text(GOOD)
    (folder / "good.us.csv").write_text(GOOD)  # a second file for GOOD.US
    url = _db(tmp_path)
    result = import_csv(folder, exchange="US", settings=make_settings(url), now=NOW)
    assert result.symbols == ["GOOD.US"]
    names = sorted(p.split(":")[0] for p in result.problems)
    assert names == ["A;DROP.US.csv", "LATIN.csv", "good.us.csv"]
    assert any("not UTF-8" in p for p in result.problems)


def test_nothing_importable_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "LATIN.US.csv").write_bytes("date,close\n2024-01-02,caf\xe9\n".encode("latin-1"))
    target = tmp_path / "new.db"
    with pytest.raises(UsageError, match=r"LATIN\.US\.csv: not UTF-8"):
        import_csv(folder, settings=make_settings(f"sqlite:///{target}"), now=NOW)
    assert not target.exists()


def test_a_file_with_nothing_readable_registers_no_asset(tmp_path: Path) -> None:
    """A skipped file leaves no trace: no asset to sync later, not counted as imported."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "GOOD.US.csv").write_text("date,close\n2025-12-30,10.5\n")
    (folder / "BAD.US.csv").write_text("garbage,,x\n")
    url = _db(tmp_path)
    result = import_csv(folder, settings=make_settings(url), now=NOW)
    assert result.files == 1 and result.symbols == ["GOOD.US"]
    with sqlite3.connect(tmp_path / "db.db") as conn:
        assert [r[0] for r in conn.execute("SELECT symbol FROM assets")] == ["GOOD.US"]


CLEAN = (
    "Date,Open,High,Low,Close,Adj Close,Volume,Dividend,Split\n"
    "2024-01-02,10.5000,11.00,9.9,10.50,10.1,100,,\n"
    "2024-01-03,,,,0.00001000,,,0.25,\n"
    "2024-01-04,10,11,9,10.5,,0,,2/1\n"
    "2024-01-05,,,,,,,0.1,\n"  # an action-only row
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_clean_file_stores_what_the_row_by_row_path_stores(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ABC.US.csv").write_text(CLEAN)
    assert imports.parse_columns(folder / "ABC.US.csv", "ABC.US", NOW.date()) is not None
    url = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else _db(tmp_path)
    first = import_csv(folder, settings=make_settings(url), now=NOW)
    again = import_csv(folder, settings=make_settings(url), now=NOW)
    assert (first.problems, first.inserted, first.actions) == ([], 3, 3)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    slow = tmp_path / "slow"
    slow.mkdir()
    slow_url = f"sqlite:///{slow / 'db.db'}"
    upgrade_db(make_settings(slow_url))
    monkeypatch.setattr(import_columns, "parse_columns", lambda *args: None)
    assert import_csv(folder, settings=make_settings(slow_url), now=NOW).inserted == 3
    with Store.open(url) as fast_store, Store.open(slow_url) as slow_store:
        assert fast_store.read_bars(["ABC.US"]) == slow_store.read_bars(["ABC.US"])
        assert fast_store.read_actions(["ABC.US"]) == slow_store.read_actions(["ABC.US"])
