"""`datanexus check`: the readable table, --json, --strict, and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from data_nexus.assets import add_assets
from data_nexus.cli.check import render
from data_nexus.quality.run import CheckedFinding, CheckReport
from data_nexus.records import Bar
from data_nexus.storage.migrate import upgrade_db
from data_nexus.storage.store import AssetUpdate, Store
from tests.cli.test_db_cli import run_cli
from tests.conftest import make_settings


def _warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "w.db"
    settings = make_settings(f"sqlite:///{db}")
    upgrade_db(settings)
    now = dt.datetime.now(dt.UTC)
    with Store.open(settings) as store:
        add_assets(store, ["GOOD.US", "BAD.US"])
        for symbol, low in (("GOOD.US", "9"), ("BAD.US", "11")):
            days = [dt.date(2026, 1, 5) + dt.timedelta(days=i) for i in range(5)]  # Mon-Fri
            bars = [
                Bar(symbol, d, Decimal(10), Decimal(12), Decimal(low), Decimal(10), None, 100)
                for d in days
            ]
            store.write_asset(AssetUpdate(symbol, bars, state={"last_synced": now}))
    return db


def test_table_json_and_strict(tmp_path: Path) -> None:
    db = str(_warehouse(tmp_path))
    table = run_cli("check", "-d", db, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "BAD.US: 5 open"
    assert lines[1] == "  ohlc (5)"
    assert lines[2].startswith("    2026-01-05 low 11 > open 10")
    assert lines[-1] == "5 open findings in 2 assets checked: 5 ohlc"
    strict = run_cli("check", "-d", db, "--strict", cwd=tmp_path)
    assert strict.returncode == 1 and strict.stdout == table.stdout
    clean = run_cli("check", "GOOD.US", "-d", db, "--strict", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == "0 open findings in 1 asset checked"
    data = json.loads(run_cli("check", "-d", db, "--json", cwd=tmp_path).stdout)
    assert data["open"] == 5 and data["assets"] == 2 and data["by_kind"] == {"ohlc": 5}
    assert {f["symbol"] for f in data["findings"]} == {"BAD.US"}
    assert data["findings"][0]["date"] == "2026-01-05" and data["findings"][0]["source"] == "check"


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    db = str(_warehouse(tmp_path))
    unknown = run_cli("check", "NOPE.US", "-d", db, cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown asset(s): NOPE.US")
    assert unknown.stderr.count("\n") == 1
    dotted = run_cli("check", "BRK.B", "-d", db, cwd=tmp_path)
    assert dotted.returncode == 2 and dotted.stderr.count("\n") == 1
    add = run_cli("assets", "add", "BRK.B", "-d", db, cwd=tmp_path)
    assert (add.returncode, add.stderr) == (
        2,
        "error: invalid symbol 'BRK.B': 'B' is a share class, not an exchange; use 'BRK-B.US'\n",
    )
    index = run_cli("assets", "add", "^GSPC", "-d", db, cwd=tmp_path)
    assert index.returncode == 2 and index.stderr.endswith("use 'GSPC.INDX'\n")
    missing = run_cli("check", "-d", str(tmp_path / "none.db"), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no such database file")
    assert not (tmp_path / "none.db").exists()
    stale = run_cli("check", "-d", db, "--stale-after", "soon", cwd=tmp_path)
    assert stale.returncode == 2 and "--stale-after" in stale.stderr


def test_render_groups_by_asset_and_kind_and_cuts_long_lists() -> None:
    now = dt.datetime(2026, 1, 9, tzinfo=dt.UTC)
    found = [
        CheckedFinding("A.US", dt.date(2026, 1, day), "gap", f"1 session(s) missing: {day}", "check")
        for day in range(1, 6)
    ] + [CheckedFinding("A.US", None, "paused", "sync is paused", "check"),
         CheckedFinding("B.US", dt.date(2026, 1, 2), "no_prices", "close null", "recorded")]  # fmt: skip
    report = CheckReport(now, 2, dt.timedelta(days=4), found, ["exchange ZZ: weekdays"])
    assert render(report, shown=3) == [
        "A.US: 6 open",
        "  gap (5)",
        "    2026-01-01 1 session(s) missing: 1",
        "    2026-01-02 1 session(s) missing: 2",
        "    2026-01-03 1 session(s) missing: 3",
        "    … 2 more (--json lists them all)",
        "  paused (1)",
        "    sync is paused",
        "B.US: 1 open",
        "  no_prices (1)",
        "    2026-01-02 close null [recorded]",
        "note: exchange ZZ: weekdays",
        "7 open findings in 2 assets checked: 5 gap, 1 no_prices, 1 paused",
    ]
