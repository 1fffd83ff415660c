"""Findings are written with the asset's data: recorded, refreshed, closed (never deleted)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from data_nexus.models import ASSETS, FINDINGS, SYNC_RUNS
from data_nexus.providers.eodhd import parse_dividends, parse_eod, parse_splits
from data_nexus.records import Bar, Dividend, Finding, Split
from data_nexus.storage.findings import StoredFinding, list_findings, open_findings
from data_nexus.storage.store import AssetUpdate, Store, WriteResult
from tests.storage.conftest import add_assets, make_bars

D0 = dt.date(2026, 11, 23)
D = Decimal


def _findings(store: Store, symbol: str, *, include_closed: bool = False) -> list[StoredFinding]:
    with store.engine.connect() as conn:
        return list_findings(conn, [symbol], include_closed=include_closed)


def _set_type(store: Store, symbol: str, asset_type: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(ASSETS).where(ASSETS.c.symbol == symbol).values(asset_type=asset_type)
        )


def _run(store: Store) -> int:
    with store.engine.begin() as conn:
        return int(
            conn.execute(
                sa.insert(SYNC_RUNS)
                .values(started_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC), status="running")
                .returning(SYNC_RUNS.c.id)
            ).scalar_one()
        )


def no_prices(symbol: str, day: dt.date) -> Bar:
    return Bar(symbol, day, None, None, None, None, None, 0)  # type: ignore[arg-type]


def test_a_row_with_no_prices_is_skipped_and_the_others_stored(store: Store) -> None:
    """Kind 1: the good rows are stored, 2026-11-26 is skipped, one finding; it syncs."""
    add_assets(store, "AAPL.US")
    bars = make_bars("AAPL.US", D0, 5)
    bars[3] = no_prices("AAPL.US", D0 + dt.timedelta(3))
    run = _run(store)
    window = (D0, D0 + dt.timedelta(4))
    result = store.write_asset(AssetUpdate("AAPL.US", bars, window=window, run_id=run))
    assert (result.inserted, result.findings) == (4, 1)
    assert [b.date for b in store.read_bars(["AAPL.US"])] == [
        b.date for i, b in enumerate(bars) if i != 3
    ]
    (finding,) = _findings(store, "AAPL.US")
    assert (finding.date, finding.kind, finding.detail, finding.run_id) == (
        dt.date(2026, 11, 26), "no_prices", "close: missing, no prices", run
    )  # fmt: skip
    assert finding.is_open and finding.first_seen == finding.last_seen


def test_a_finding_recurs_then_closes_then_reopens(store: Store) -> None:
    """Seen again: refreshed, not doubled. Fixed: closed, kept. Back: reopened."""
    add_assets(store, "A.US")
    bars = make_bars("A.US", D0, 4)
    broken = [*bars[:2], no_prices("A.US", bars[2].date), bars[3]]
    window = (D0, bars[-1].date)
    first, second = _run(store), _run(store)
    store.write_asset(AssetUpdate("A.US", broken, window=window, run_id=first))
    again = store.write_asset(AssetUpdate("A.US", broken, window=window, run_id=second))
    assert again.findings == 1
    (seen,) = _findings(store, "A.US")
    assert seen.run_id == second and seen.last_seen >= seen.first_seen

    fixed = store.write_asset(AssetUpdate("A.US", bars, window=window))
    assert (fixed.findings, fixed.inserted) == (0, 1)
    assert _findings(store, "A.US") == []
    (closed,) = _findings(store, "A.US", include_closed=True)
    assert closed.id == seen.id and closed.closed_at is not None

    store.write_asset(AssetUpdate("A.US", broken, window=window))
    (reopened,) = _findings(store, "A.US")
    assert reopened.id == seen.id and reopened.is_open
    assert len(store.read_bars(["A.US"])) == 4  # the broken row never deletes a stored bar


def test_only_what_the_write_judged_again_is_closed(store: Store) -> None:
    """A finding outside the new window, or of another domain, stays open."""
    add_assets(store, "A.US")
    old_day = D0 - dt.timedelta(days=30)
    store.write_asset(
        AssetUpdate(
            "A.US",
            [no_prices("A.US", old_day)],
            window=(old_day, old_day),
            actions=[Split("A.US", old_day, D(1), D(0))],
            findings=[Finding("A.US", None, "bad_bar", "date: '0000-00-00' invalid date")],
        )
    )
    assert [f.kind for f in _findings(store, "A.US")] == ["bad_bar", "bad_split", "no_prices"]
    store.write_asset(
        AssetUpdate("A.US", make_bars("A.US", D0, 3), window=(D0, D0 + dt.timedelta(2)))
    )
    # The undated bar finding was part of the answer for a window: it did not recur.
    assert [f.kind for f in _findings(store, "A.US")] == ["bad_split", "no_prices"]


def test_future_bars_are_skipped_and_never_set_last_date(store: Store) -> None:
    """Kind 5: a row dated 2026-12-31 on 2026-11-29 is a finding, not the last date."""
    add_assets(store, "F.US")
    today = dt.date(2026, 11, 29)
    bars = [*make_bars("F.US", D0, 3), *make_bars("F.US", dt.date(2026, 12, 31), 1)]
    result = store.write_asset(AssetUpdate("F.US", bars, today=today))
    assert (result.inserted, result.last_date, result.findings) == (3, D0 + dt.timedelta(2), 1)
    (finding,) = _findings(store, "F.US")
    assert (finding.date, finding.kind) == (dt.date(2026, 12, 31), "future_bar")


@pytest.mark.parametrize(("asset_type", "flagged"), [("Common Stock", 1), ("Commodity", 0)])
def test_negative_prices_are_stored_exactly_and_flagged_on_stock(
    store: Store, asset_type: str, flagged: int
) -> None:
    """Kind 3: WTI settled at -37.63 on 2020-04-20; on a stock that is also a finding."""
    add_assets(store, "CL.COMM")
    _set_type(store, "CL.COMM", asset_type)
    day = dt.date(2020, 4, 20)
    wti = Bar("CL.COMM", day, D("17.73"), D("17.85"), D("-40.32"), D("-37.63"), D("-37.63"), 247947)
    result = store.write_asset(AssetUpdate("CL.COMM", [wti], window=(day, day)))
    assert (result.inserted, result.findings) == (1, flagged)
    assert store.read_bars(["CL.COMM"]) == [wti]
    found = _findings(store, "CL.COMM")
    assert [(f.date, f.kind, f.detail) for f in found] == [
        (day, "non_positive_price",
         "price <= 0 stored as sent: low -40.32, close -37.63, adjusted_close -37.63")
    ][:flagged]  # fmt: skip


@pytest.mark.parametrize(
    "close", [D("8.4401E-06"), D("1E-12"), D("0.000000000000000000000000000001"), D("-0.5E-20")]
)
def test_prices_below_1e_8_are_stored_exactly(store: Store, close: Decimal) -> None:
    """Kind 4: SHIB-USD.CC closed at 8.4401e-06; tokens trade far lower."""
    add_assets(store, "SHIB-USD.CC")
    bar = Bar("SHIB-USD.CC", D0, close, close, close, close, close, 2**63 - 1)
    result = store.write_asset(AssetUpdate("SHIB-USD.CC", [bar]))
    assert (result.inserted, result.findings) == (1, 0)
    (back,) = store.read_bars(["SHIB-USD.CC"])
    assert back == bar and back.close.as_tuple().exponent <= close.normalize().as_tuple().exponent
    assert str(back.close.normalize()) == str(close.normalize())


def test_values_outside_any_sane_range_are_findings(store: Store) -> None:
    """Kind 4: 1E+15 or 31 decimal places is garbage: skipped with a finding, no crash."""
    add_assets(store, "X.CC")
    bars = make_bars("X.CC", D0, 3)
    bars[0] = Bar("X.CC", D0, None, None, None, D("1E+15"), None, None)
    bars[2] = Bar("X.CC", bars[2].date, None, None, None, D("1E-31"), None, None)
    result = store.write_asset(AssetUpdate("X.CC", bars))
    assert (result.inserted, result.findings) == (1, 2)
    assert [f.kind for f in _findings(store, "X.CC")] == ["out_of_range"] * 2


def test_impossible_actions_are_skipped_and_two_dividends_on_one_day_kept(store: Store) -> None:
    """Kind 2: 1/0 and 0/1 splits and a dividend without amount are findings; the bars and
    the other actions are stored; a regular and a special dividend both kept; an exact
    duplicate stored once."""
    add_assets(store, "T.US")
    day = dt.date(2024, 5, 10)
    regular, special = Dividend("T.US", day, D("0.25")), Dividend("T.US", day, D("1.00"))
    actions = [
        Split("T.US", dt.date(2024, 1, 2), D("1.000000"), D("0.000000")),
        Split("T.US", dt.date(2024, 2, 1), D("0"), D("1")),
        Split("T.US", dt.date(2024, 3, 1), D("4"), D("1")),
        Dividend("T.US", dt.date(2024, 4, 1), None),  # type: ignore[arg-type]
        regular,
        special,
        regular,
    ]
    result = store.write_asset(AssetUpdate("T.US", make_bars("T.US", D0, 2), actions=actions))
    assert (result.inserted, result.actions_inserted, result.findings) == (2, 3, 4)
    assert store.read_actions(["T.US"]) == [
        Split("T.US", dt.date(2024, 3, 1), D("4"), D("1")),
        regular,
        Dividend("T.US", day, D("1")),
    ]
    assert [(f.date, f.kind) for f in _findings(store, "T.US")] == [
        (dt.date(2024, 1, 2), "bad_split"),
        (dt.date(2024, 2, 1), "bad_split"),
        (dt.date(2024, 4, 1), "bad_action"),
        (day, "duplicate_action"),
    ]
    again = store.write_asset(AssetUpdate("T.US", actions=list(reversed(actions))))
    assert (again.actions_inserted, again.actions_updated, again.actions_deleted) == (0, 0, 0)


def test_a_clean_write_costs_one_findings_statement(sqlite_store: Store) -> None:
    """No finding: one UPDATE closes nothing; a write that judged nothing issues none."""
    add_assets(sqlite_store, "C.US")
    statements: list[str] = []

    def count(conn: object, cursor: object, sql: str, *args: object) -> None:
        if "findings" in sql:
            statements.append(sql.split(maxsplit=1)[0])

    sa.event.listen(sqlite_store.engine, "before_cursor_execute", count)
    try:
        bars = make_bars("C.US", D0, 50)
        sqlite_store.write_asset(AssetUpdate("C.US", bars, window=(D0, bars[-1].date)))
        assert statements == ["UPDATE"]
        statements.clear()
        sqlite_store.write_asset(AssetUpdate("C.US", state={"fail_count": 0}))
        assert statements == []
    finally:
        sa.event.remove(sqlite_store.engine, "before_cursor_execute", count)


def test_first_loads_in_one_batch_record_their_findings(pg_store: Store) -> None:
    """PostgreSQL's shared COPY path writes findings like the one-by-one path."""
    symbols = ["A.US", "B.US", "C.US"]
    add_assets(pg_store, *symbols)
    updates = []
    for symbol in symbols:
        bars = make_bars(symbol, D0, 4)
        bars[1] = no_prices(symbol, bars[1].date)
        updates.append(AssetUpdate(symbol, bars, window=(D0, bars[-1].date)))
    results = pg_store.write_assets(updates)
    assert [(r.inserted, r.findings) for r in results] == [(3, 1)] * 3  # type: ignore[union-attr]
    with pg_store.engine.connect() as conn:
        found = open_findings(conn)
        assert [(f.symbol, f.kind) for f in found] == [(s, "no_prices") for s in symbols]
        assert conn.execute(sa.select(sa.func.count()).select_from(FINDINGS)).scalar_one() == 3


def test_a_finding_of_another_symbol_is_refused(store: Store) -> None:
    add_assets(store, "A.US")
    with pytest.raises(ValueError, match=r"a finding of 'B\.US'"):
        store.write_asset(
            AssetUpdate("A.US", findings=[Finding("B.US", None, "bad_bar", "x")], window=(D0, D0))
        )
    assert _findings(store, "A.US") == []


# --- the issue's examples, from a served body through the parser into the store --------------


def _sync(store: Store, symbol: str, eod: bytes, *, divs: bytes = b"[]", splits: bytes = b"[]",
          today: dt.date | None = None) -> WriteResult:  # fmt: skip
    """What the sync does with three bodies: parse, then one write with every finding."""
    bars, d, s = parse_eod(eod, symbol), parse_dividends(divs, symbol), parse_splits(splits, symbol)
    window = (bars.records[0].date, bars.records[-1].date) if bars.records else None
    return store.write_asset(
        AssetUpdate(symbol, bars.records, window=window, actions=[*s.records, *d.records],
                    actions_window=(dt.date.min, dt.date(2026, 11, 29)),
                    findings=[*bars.findings, *d.findings, *s.findings], today=today)
    )  # fmt: skip


def test_issue_examples_from_bodies_to_stored_values(store: Store) -> None:
    add_assets(store, "AAPL.US", "CL.COMM", "SHIB-USD.CC")
    _set_type(store, "AAPL.US", "Common Stock")
    # Kinds 1, 2 and 5 on one stock.
    eod = (
        b'[{"date":"2026-11-25","open":230,"high":232.5,"low":229.1,"close":231.0,'
        b'"adjusted_close":231.0,"volume":41000000},'
        b'{"date":"2026-11-26","open":null,"high":null,"low":null,"close":null,'
        b'"adjusted_close":null,"volume":0},'
        b'{"date":"2026-11-27","open":231,"high":233,"low":230.5,"close":232.87,'
        b'"adjusted_close":232.87,"volume":20000000},'
        b'{"date":"2026-12-31","open":1,"high":1,"low":1,"close":1,"adjusted_close":1,'
        b'"volume":1}]'
    )
    splits = b'[{"date":"2020-08-31","split":"4.000000/1.000000"},{"date":"2021-01-04","split":"1.000000/0.000000"}]'
    divs = (
        b'[{"date":"2024-05-10","value":0.25},{"date":"2024-05-10","value":1.00},'
        b'{"date":"2024-05-10","value":0.25},{"date":"0000-00-00","value":0.24},'
        b'{"date":"2024-08-12","value":null}]'
    )
    result = _sync(store, "AAPL.US", eod, divs=divs, splits=splits, today=dt.date(2026, 11, 29))
    assert (result.inserted, result.last_date) == (2, dt.date(2026, 11, 27))
    assert result.findings == 6
    assert [(b.date, b.close) for b in store.read_bars(["AAPL.US"])] == [
        (dt.date(2026, 11, 25), D("231.0")), (dt.date(2026, 11, 27), D("232.87"))
    ]  # fmt: skip
    assert store.read_actions(["AAPL.US"]) == [
        Split("AAPL.US", dt.date(2020, 8, 31), D(4), D(1)),
        Dividend("AAPL.US", dt.date(2024, 5, 10), D("0.25")),
        Dividend("AAPL.US", dt.date(2024, 5, 10), D("1")),
    ]
    assert [(f.date, f.kind) for f in _findings(store, "AAPL.US")] == [
        (None, "bad_action"),  # 0000-00-00
        (dt.date(2021, 1, 4), "bad_split"),
        (dt.date(2024, 5, 10), "duplicate_action"),
        (dt.date(2024, 8, 12), "bad_action"),
        (dt.date(2026, 11, 26), "no_prices"),
        (dt.date(2026, 12, 31), "future_bar"),
    ]
    # The same answer again: nothing changes, the same six findings stay open.
    again = _sync(store, "AAPL.US", eod, divs=divs, splits=splits, today=dt.date(2026, 11, 29))
    assert (again.inserted, again.updated, again.actions_inserted, again.findings) == (0, 0, 0, 6)
    assert len(_findings(store, "AAPL.US", include_closed=True)) == 6

    # Kind 3: WTI, stored exactly (no finding on a commodity).
    wti = (
        b'[{"date":"2020-04-17","open":18.3,"high":18.9,"low":17.31,"close":18.27,'
        b'"adjusted_close":18.27,"volume":300000},'
        b'{"date":"2020-04-20","open":17.73,"high":17.85,"low":-40.32,"close":-37.63,'
        b'"adjusted_close":-37.63,"volume":247947}]'
    )
    assert _sync(store, "CL.COMM", wti).findings == 0
    last = store.read_bars(["CL.COMM"])[-1]
    assert (last.low, last.close, last.adjusted_close) == (D("-40.32"), D("-37.63"), D("-37.63"))
    # Kind 4: SHIB, and far lower; volumes past 1e16.
    shib = (
        b'[{"date":"2024-03-05","open":3.1e-05,"high":3.9e-05,"low":2.9e-05,'
        b'"close":8.4401e-06,"adjusted_close":8.4401e-06,"volume":1.5e16},'
        b'{"date":"2024-03-06","open":1e-12,"high":2e-12,"low":1e-12,"close":1e-12,'
        b'"adjusted_close":1e-12,"volume":9223372036854775807},'
        b'{"date":"2024-03-07","close":1e99}]'
    )
    result = _sync(store, "SHIB-USD.CC", shib)
    assert (result.inserted, result.findings) == (2, 1)
    first, second = store.read_bars(["SHIB-USD.CC"])
    assert (str(first.close), first.volume) == ("0.0000084401", 15 * 10**15)
    assert (second.close, second.volume) == (D("1E-12"), 2**63 - 1)
    assert [(f.date, f.kind) for f in _findings(store, "SHIB-USD.CC")] == [
        (dt.date(2024, 3, 7), "out_of_range")
    ]
