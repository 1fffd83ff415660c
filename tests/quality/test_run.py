"""run_checks(): recorded findings plus history and state checks, read-only, per asset."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_nexus.assets import add_assets, pause_assets
from data_nexus.errors import DatabaseUnavailable, UsageError
from data_nexus.quality import sessions
from data_nexus.quality.run import run_checks
from data_nexus.records import Bar, Finding, Split
from data_nexus.storage import registry
from data_nexus.storage.quality_reads import open_read_only
from data_nexus.storage.store import AssetUpdate, Store
from tests.conftest import make_settings

NOW = dt.datetime(2026, 1, 20, 12, tzinfo=dt.UTC)
START, END = dt.date(2025, 12, 1), dt.date(2026, 1, 16)


def bar(symbol: str, day: dt.date, close: str, **fields: str) -> Bar:
    c = Decimal(close)
    values = {"open": c, "high": c + 1, "low": c - 1, **{k: Decimal(v) for k, v in fields.items()}}
    return Bar(symbol, day, values["open"], values["high"], values["low"], c, None, 1000)


def us_history(symbol: str) -> list[Bar]:
    """AAA.US on every NYSE session, with a gap, a 100x glitch, a bad OHLC and a zero close,
    and a 2:1 split whose halving the stored split explains."""
    days = list(sessions("US", START, END).days)
    bars = [bar(symbol, day, "50" if day >= dt.date(2026, 1, 5) else "100") for day in days]
    bars[5] = bar(symbol, days[5], "10000")  # a pence/pound glitch: two steps
    bars[8] = bar(symbol, days[8], "100", low="101")  # low above open and close
    bars[10] = bar(symbol, days[10], "0", open="1", high="2", low="0")  # zero close, a range
    del bars[12]  # one session missing: a gap
    return bars


@pytest.fixture
def warehouse(sqlite_url: str) -> str:
    with Store.open(make_settings(sqlite_url)) as store:
        add_assets(store, ["AAA.US", "NEW.US", "OLD.US", "ODD.ZZ"])
        recent = {"last_synced": NOW - dt.timedelta(hours=6)}
        glitch_day = us_history("AAA.US")[0].date
        store.write_asset(
            AssetUpdate(
                "AAA.US",
                us_history("AAA.US"),
                actions=[Split("AAA.US", dt.date(2026, 1, 5), Decimal(2), Decimal(1))],
                state=recent,
                findings=[Finding("AAA.US", glitch_day, "no_prices", "close null")],
            )
        )
        old = [bar("OLD.US", START + dt.timedelta(days=i), "10") for i in (0, 1, 2)]
        store.write_asset(
            AssetUpdate("OLD.US", old, state={"last_synced": NOW - dt.timedelta(days=9)})
        )
        weekdays = [dt.date(2026, 1, 5) + dt.timedelta(days=i) for i in range(12)]
        odd = [bar("ODD.ZZ", d, "5") for d in weekdays if d.weekday() < 5 and d.day != 7]
        store.write_asset(AssetUpdate("ODD.ZZ", odd, state=recent))
        pause_assets(store, ["OLD.US"])
    return sqlite_url


def test_report_lists_recorded_and_checked_findings(warehouse: str) -> None:
    report = run_checks(make_settings(warehouse), now=NOW)
    days = list(sessions("US", START, END).days)
    got = {(f.symbol, f.date, f.kind, f.source) for f in report.findings}
    assert got == {
        ("AAA.US", days[0], "no_prices", "recorded"),
        ("AAA.US", days[5], "price_step", "check"),
        ("AAA.US", days[6], "price_step", "check"),
        ("AAA.US", days[8], "ohlc", "check"),
        ("AAA.US", days[10], "zero_close", "check"),
        ("AAA.US", days[12], "gap", "check"),
        ("NEW.US", None, "never_synced", "check"),
        ("OLD.US", None, "paused", "check"),
        ("OLD.US", (NOW - dt.timedelta(days=9)).date(), "stale", "check"),
        ("ODD.ZZ", dt.date(2026, 1, 7), "gap", "check"),
    }
    assert report.assets == 4 and not report.is_clean
    # the split explains the halving; holidays (Christmas, New Year) are no gaps
    assert dt.date(2025, 12, 25) not in {f.date for f in report.findings}
    assert report.notes == ["exchange ZZ: no exchange calendar mapped: weekdays assumed"]
    odd_gap = next(f for f in report.findings if f.symbol == "ODD.ZZ")
    assert "weekdays assumed" in odd_gap.detail
    recorded = next(f for f in report.findings if f.source == "recorded")
    assert recorded.first_seen is not None and recorded.as_dict()["kind"] == "no_prices"
    assert report.as_dict()["by_kind"]["price_step"] == 2


def test_symbols_limit_the_report_and_unknown_ones_are_named(warehouse: str) -> None:
    settings = make_settings(warehouse)
    report = run_checks(settings, ["odd.zz"], now=NOW)
    assert report.assets == 1 and {f.symbol for f in report.findings} == {"ODD.ZZ"}
    with pytest.raises(UsageError, match=r"unknown asset\(s\): NOPE.US, ZZZ.US"):
        run_checks(settings, ["ODD.ZZ", "ZZZ.US", "NOPE.US"], now=NOW)


def test_stale_after_is_a_setting_and_a_parameter(warehouse: str) -> None:
    def stale(report_settings: object, **kw: object) -> set[str]:
        report = run_checks(report_settings, now=NOW, **kw)  # type: ignore[arg-type]
        return {f.symbol for f in report.findings if f.kind == "stale"}

    assert stale(make_settings(warehouse)) == {"OLD.US"}
    assert stale(make_settings(warehouse, stale_after_days=10)) == set()
    hours = dt.timedelta(hours=1)
    assert stale(make_settings(warehouse), stale_after=hours) == {"AAA.US", "ODD.ZZ", "OLD.US"}


def test_checks_never_write(warehouse: str) -> None:
    settings = make_settings(warehouse)
    store = open_read_only(settings)
    try:
        with store.connection() as conn, pytest.raises(sa.exc.DBAPIError, match="readonly"):
            conn.exec_driver_sql("DELETE FROM findings")
        before = store.read_bars(["AAA.US"])
        run_checks(store, now=NOW)
        assert store.read_bars(["AAA.US"]) == before
    finally:
        store.close()


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(DatabaseUnavailable, match="no such database file"):
        run_checks(make_settings(url), now=NOW)
    assert not (tmp_path / "none.db").exists()


def test_read_only_on_postgresql(pg_url: str) -> None:
    with Store.open(make_settings(pg_url)) as store:
        add_assets(store, ["AAA.US"])
        store.write_asset(AssetUpdate("AAA.US", us_history("AAA.US"), state={"last_synced": NOW}))
    report = run_checks(make_settings(pg_url), now=NOW)
    assert {f.kind for f in report.findings} == {"price_step", "ohlc", "zero_close", "gap"}
    store = open_read_only(make_settings(pg_url))
    try:
        with store.connection() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.exec_driver_sql("DELETE FROM findings")
    finally:
        store.close()


def test_a_symbol_registered_in_another_spelling_is_a_finding(sqlite_url: str) -> None:
    """Registries filled before symbols were canonical may hold 'brk-a.US': check names it."""
    with Store.open(make_settings(sqlite_url)) as store, store.atomic() as conn:
        rows = [
            {"symbol": s, "code": s.rpartition(".")[0], "exchange": s.rpartition(".")[2]}
            for s in ("brk-a.US", "BRK.B.US", "BRK-A.US")
        ]
        registry.insert_assets(conn, rows)
    report = run_checks(make_settings(sqlite_url), now=NOW)
    spelled = {f.symbol: f.detail for f in report.findings if f.kind == "symbol"}
    assert spelled == {
        "brk-a.US": "registered as 'brk-a.US'; commands read it as 'BRK-A.US'",
        "BRK.B.US": "registered under a spelling commands refuse: invalid symbol 'BRK.B.US': "
        "only one dot is allowed, before the exchange; use 'BRK-B.US'",
    }
