"""Dirty mode: each kind of real-world bad data is served as documented, clean rows stay clean."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from data_nexus.cli.app import main
from data_nexus.emulator import EmulatorConfig, EmulatorServer, Market
from data_nexus.emulator.dirt import DIRT_KINDS, PLAN_WARNING, DirtBook
from data_nexus.emulator.dirty_rows import BIGINT_MAX
from data_nexus.errors import ConfigError

from .conftest import START, TODAY, client_for

Maker = Callable[..., EmulatorServer]


def eod(server: EmulatorServer, symbol: str, **params: str) -> list[dict[str, object]]:
    with client_for(server) as http:
        response = http.get(f"/eod/{symbol}", params={"fmt": "json", **params})
        response.raise_for_status()
        rows: list[dict[str, object]] = json.loads(response.text, parse_float=Decimal)
        return rows


def get(server: EmulatorServer, path: str, **params: str) -> httpx.Response:
    with client_for(server) as http:
        return http.get(path, params=params)


def test_all_picks_a_target_for_every_kind_from_the_seed() -> None:
    def truth(seed: int) -> list[tuple[str, str, str]]:
        market = Market(today=TODAY, seed=seed, symbols=30, start=START, exchanges=("US", "CC"))
        book = DirtBook(market, DIRT_KINDS, seed)
        return [(i.symbol, i.kind, i.variant) for i in book.truth()]

    first = truth(5)
    assert {kind for _, kind, _ in first} == set(DIRT_KINDS)
    assert first == truth(5)  # deterministic
    # one kind per symbol, so each fault yields its own finding
    kinds_per_symbol: dict[str, set[str]] = {}
    for symbol, kind, _ in first:
        kinds_per_symbol.setdefault(symbol, set()).add(kind)
    assert all(len(kinds) == 1 for kinds in kinds_per_symbol.values())
    assert EmulatorConfig(dirty=("all",)).dirty == DIRT_KINDS
    with pytest.raises(ConfigError, match="unknown dirt kind 'mud'"):
        EmulatorConfig(dirty=("mud",))


def test_symbols_without_dirt_serve_the_clean_bytes(make_server: Maker) -> None:
    dirty = make_server(dirty=("all",))
    clean = make_server()
    targets = {item.symbol for item in dirty.truth()}
    assert targets  # something was chosen
    for listed in clean.market.symbols("US"):
        if listed.symbol in targets:
            continue
        for fmt in ("json", "csv"):
            got = get(dirty, f"/eod/{listed.symbol}", fmt=fmt).content
            assert got == get(clean, f"/eod/{listed.symbol}", fmt=fmt).content


def test_null_prices_add_one_row_among_untouched_rows(server: EmulatorServer) -> None:
    clean = {str(r["date"]): r for r in eod(server, "MSFT.US")}
    [injected] = server.add_dirt("MSFT.US", "null_prices")
    assert injected.finding and injected.date is not None
    day = injected.date.isoformat()
    assert day not in clean and injected.date.weekday() < 5
    rows = {str(r["date"]): r for r in eod(server, "MSFT.US")}
    assert rows.pop(day) == {
        "date": day, "open": None, "high": None, "low": None, "close": None,
        "adjusted_close": None, "volume": 0,
    }  # fmt: skip
    assert rows == clean
    csv = get(server, "/eod/MSFT.US", fmt="csv").text
    assert f"\n{day},,,,,,0\n" in csv


def test_bad_actions(server: EmulatorServer) -> None:
    clean_div = get(server, "/div/AAPL.US", fmt="json").json()
    clean_eod = eod(server, "AAPL.US")
    truth = server.add_dirt("AAPL.US", "bad_actions")
    variants = {item.variant: item for item in truth}
    assert set(variants) == {
        "split_zero_old", "split_zero_new", "split_negative", "split_empty", "split_zero_date",
        "dividend_zero_date", "dividend_no_amount", "dividend_duplicate", "dividend_special",
    }  # fmt: skip
    splits = get(server, "/splits/AAPL.US", fmt="json").json()
    ratios = {row["split"] for row in splits}
    assert {"1.000000/0.000000", "0/1", "-2.000000/1.000000", ""} <= ratios
    assert {"date": "0000-00-00", "split": "2.000000/1.000000"} in splits
    assert "4.000000/1.000000" in ratios  # the real splits are still there

    div = get(server, "/div/AAPL.US", fmt="json").json()
    last = clean_div[-1]
    same_day = [row for row in div if row["date"] == last["date"]]
    assert same_day.count(last) == 2  # the exact duplicate
    [special] = [row for row in same_day if row != last]
    assert Decimal(str(special["unadjustedValue"])) == 2 * Decimal(str(last["unadjustedValue"]))
    assert any(row["date"] == "0000-00-00" for row in div)
    no_amount = [row for row in div if row["value"] is None]
    assert [row["date"] for row in no_amount] == [variants["dividend_no_amount"].date.isoformat()]
    kept = [row for i, row in enumerate(div) if row in clean_div and row not in div[:i]]
    assert kept == clean_div  # nothing clean lost

    # adjusted closes use the total of both dividends: 1 - (D + 2D) / P before the ex-date
    rows = eod(server, "AAPL.US")
    ex = next(i for i, row in enumerate(rows) if row["date"] == last["date"])
    before, clean_before = rows[ex - 1], clean_eod[ex - 1]
    previous = Decimal(str(before["close"]))
    paid = Decimal(str(last["unadjustedValue"]))
    ratio = Decimal(str(before["adjusted_close"])) / Decimal(str(clean_before["adjusted_close"]))
    expected = (1 - 3 * paid / previous) / (1 - paid / previous)
    assert float(ratio) == pytest.approx(float(expected), rel=1e-3)
    assert rows[ex:] == clean_eod[ex:]
    assert [r["close"] for r in rows] == [r["close"] for r in clean_eod]


def test_negative_prices_use_wti_numbers_on_2020_04_20(server: EmulatorServer) -> None:
    clean = eod(server, "TSLA.US")
    [injected] = server.add_dirt("TSLA.US", "negative_prices")
    assert injected.date == dt.date(2020, 4, 20) and injected.finding
    rows = eod(server, "TSLA.US")
    index = next(i for i, row in enumerate(rows) if row["date"] == "2020-04-20")
    assert rows[index]["low"] == Decimal("-40.32") and rows[index]["close"] == Decimal("-37.63")
    assert rows[:index] + rows[index + 1 :] == clean[:index] + clean[index + 1 :]
    assert "2020-04-20,17.73,17.85,-40.32,-37.63,-37.63," in get(server, "/eod/TSLA.US").text


def test_negative_oil_is_legitimate_and_a_negative_stock_is_a_finding(make_server: Maker) -> None:
    server = make_server(exchanges=("US", "COMM"), symbols=20, dirty=("negative_prices",))
    found = {(i.symbol, i.date, i.finding) for i in server.truth()}
    oil = ("CL.COMM", dt.date(2020, 4, 20), False)
    assert oil in found and len(found) == 2
    [(stock, _, finding)] = found - {oil}
    assert finding and server.market.listing(stock).asset_type == "Common Stock"  # type: ignore[union-attr]
    [row] = [r for r in eod(server, "CL.COMM") if r["date"] == "2020-04-20"]
    assert row == {
        "date": "2020-04-20", "open": Decimal("17.73"), "high": Decimal("17.85"),
        "low": Decimal("-40.32"), "close": Decimal("-37.63"), "adjusted_close": Decimal("-37.63"),
        "volume": row["volume"],
    }  # fmt: skip


def test_negative_prices_elsewhere_keep_ohlc_order(make_server: Maker) -> None:
    server = make_server(start=dt.date(2021, 1, 4))
    [injected] = server.add_dirt("MSFT.US", "negative_prices")
    [row] = [r for r in eod(server, "MSFT.US") if r["date"] == str(injected.date)]
    low, close, high = (Decimal(str(row[k])) for k in ("low", "close", "high"))
    assert low < close < 0 < high


def test_tiny_prices_and_a_bigint_volume(server: EmulatorServer) -> None:
    clean = eod(server, "MSFT.US")
    truth = server.add_dirt("MSFT.US", "tiny_prices")
    shift = int(truth[0].detail.rpartition("e-")[2])
    body = get(server, "/eod/MSFT.US", fmt="json").text
    assert "e-" in body  # written in exponent form, as JSON encoders write tiny floats
    rows = eod(server, "MSFT.US")
    closes = [Decimal(str(r["close"])) for r in rows]
    assert min(closes) < Decimal("1e-8") and max(closes) < Decimal("0.001")
    for got, want in zip(rows, clean, strict=True):
        assert got["date"] == want["date"]
        for key in ("open", "high", "low", "close", "adjusted_close"):
            assert Decimal(str(got[key])) == Decimal(str(want[key])).scaleb(-shift)
    assert rows[-1]["volume"] == BIGINT_MAX == 9223372036854775807
    assert [r["volume"] for r in rows[:-1]] == [r["volume"] for r in clean[:-1]]


def test_future_bars(server: EmulatorServer) -> None:
    clean = eod(server, "AMZN.US")
    truth = server.add_dirt("AMZN.US", "future_bars")
    rows = eod(server, "AMZN.US")
    assert rows[: len(clean)] == clean
    future = [r["date"] for r in rows[len(clean) :]]
    assert (
        future
        == [item.date.isoformat() for item in truth if item.date]
        == [
            "2025-07-01",
            "2025-08-01",
        ]
    )
    assert all(str(day) > TODAY.isoformat() for day in future)


def test_off_session_bars_repeat_the_previous_bar_on_a_weekend_and_a_holiday(
    make_server: Maker,
) -> None:
    server = make_server(exchanges=("US", "CC"))
    clean = eod(server, "MSFT.US")
    truth = server.add_dirt("MSFT.US", "off_session_bar")
    assert [(i.variant, i.finding) for i in sorted(truth, key=lambda i: i.variant)] == [
        ("holiday", True),
        ("weekend", True),
    ]
    sessions = server.market.trading_days("US", START, TODAY)
    rows = eod(server, "MSFT.US")
    added = [r for r in rows if r not in clean]
    assert [r["date"] for r in added] == [i.date.isoformat() for i in truth if i.date]
    half = dt.date.fromisoformat(str(clean[len(clean) // 2]["date"]))
    for item, row in zip(truth, added, strict=True):
        assert item.date is not None and half < item.date < TODAY and item.date not in sessions
        assert (item.date.weekday() >= 5) == (item.variant == "weekend")
        previous = [r for r in clean if str(r["date"]) < item.date.isoformat()][-1]
        assert {**row, "date": previous["date"]} == previous
    assert [r for r in rows if r in clean] == clean
    csv = get(server, "/eod/MSFT.US", fmt="csv").text
    assert all(f"\n{i.date}," in csv for i in truth)
    with pytest.raises(ValueError, match="its exchange trades every day"):
        server.add_dirt(server.market.symbols("CC")[0].symbol, "off_session_bar")


def test_retracted_split_is_served_then_gone(server: EmulatorServer) -> None:
    clean = eod(server, "VTI.US")
    clean_splits = get(server, "/splits/VTI.US", fmt="json").json()
    [injected] = server.add_dirt("VTI.US", "retracted_split")
    day = injected.date.isoformat() if injected.date else ""
    assert injected.phase == "before"
    splits = get(server, "/splits/VTI.US", fmt="json").json()
    assert {"date": day, "split": "2.000000/1.000000"} in splits
    rows = eod(server, "VTI.US")
    for got, want in zip(rows, clean, strict=True):
        if str(got["date"]) < day:
            assert Decimal(str(got["adjusted_close"])) * 2 == pytest.approx(
                Decimal(str(want["adjusted_close"])), abs=Decimal("0.0002")
            )
            assert got["volume"] == 2 * int(str(want["volume"]))
        else:
            assert got == want
    server.advance(1)
    assert get(server, "/splits/VTI.US", fmt="json").json() == clean_splits
    assert eod(server, "VTI.US")[: len(clean)] == clean
    [after] = server.truth()
    assert (after.phase, after.finding) == ("after", True)


def test_plan_limited_after_a_real_split(server: EmulatorServer) -> None:
    full = eod(server, "MSFT.US")
    [pending] = server.add_dirt("MSFT.US", "plan_limited")
    assert pending.variant == "pending" and eod(server, "MSFT.US") == full
    today = server.advance(1)
    [item] = server.truth()
    assert item.date == dt.date(2025, 7, 1)
    splits = get(server, "/splits/MSFT.US", fmt="json").json()
    assert {"date": "2025-07-01", "split": "4.000000/1.000000"} in splits
    rows = eod(server, "MSFT.US")
    assert str(rows[0]["date"]) >= (today - dt.timedelta(days=365)).isoformat()
    assert rows[-1]["warning"] == PLAN_WARNING
    assert all("warning" not in row for row in rows[:-1])
    truth = {str(b.date): b for b in server.market.bars("MSFT.US")}
    for row in rows:  # the last year, rescaled by the split, exactly as the market says
        assert Decimal(str(row["adjusted_close"])) == truth[str(row["date"])].adjusted_close
    before = Decimal(str(rows[0]["adjusted_close"]))
    old = next(r for r in full if r["date"] == rows[0]["date"])
    assert float(before * 4) == pytest.approx(float(str(old["adjusted_close"])), rel=1e-3)
    assert "warning" not in get(server, "/eod/MSFT.US", fmt="csv").text


def test_reused_ticker_jumps_15_times_across_the_whole_history(server: EmulatorServer) -> None:
    clean = eod(server, "AMZN.US")
    clean_splits = get(server, "/splits/AMZN.US", fmt="json").json()
    server.add_dirt("AMZN.US", "reused_ticker")
    old = eod(server, "AMZN.US")
    assert [r["date"] for r in old] == [r["date"] for r in clean]
    for was, now in zip(old, clean, strict=True):
        ratio = Decimal(str(now["close"])) / Decimal(str(was["close"]))
        assert float(ratio) == pytest.approx(15, rel=0.02)
    assert get(server, "/splits/AMZN.US", fmt="json").json() == clean_splits  # none explains it
    server.advance(1)
    assert eod(server, "AMZN.US")[: len(clean)] == clean


def test_symbol_spelling_in_the_symbol_list(server: EmulatorServer) -> None:
    server.add_dirt("BRK-B.US", "symbol_spelling")
    server.add_dirt("MSFT.US", "symbol_spelling")
    codes = {row["Code"] for row in get(server, "/exchange-symbol-list/US", fmt="json").json()}
    assert {"BRK.B", "msft"} <= codes and not {"BRK-B", "MSFT"} & codes
    assert '"BRK.B"' in get(server, "/exchange-symbol-list/US", fmt="csv").text
    assert get(server, "/eod/BRK-B.US", fmt="json").status_code == 200
    assert {(i.variant, i.detail) for i in server.truth()} == {
        ("dotted", "listed as 'BRK.B'"),
        ("lower", "listed as 'msft'"),
    }


def test_admin_routes(server: EmulatorServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as admin:
        added = admin.post("/_admin/dirt", params={"symbol": "msft.us", "kind": "future_bars"})
        assert added.status_code == 200
        assert [i["date"] for i in added.json()["injected"]] == ["2025-07-01", "2025-08-01"]
        truth = admin.get("/_admin/truth").json()
        assert [(t["symbol"], t["date"], t["kind"], t["finding"]) for t in truth] == [
            ("MSFT.US", "2025-07-01", "future_bars", True),
            ("MSFT.US", "2025-08-01", "future_bars", True),
        ]
        again = admin.post("/_admin/dirt", params={"symbol": "MSFT.US", "kind": "null_prices"})
        assert again.status_code == 400 and "already has dirt" in again.json()["error"]
        bad = admin.post("/_admin/dirt", params={"symbol": "AAPL.US", "kind": "mud"})
        assert bad.status_code == 400 and "unknown dirt kind 'mud'" in bad.json()["error"]
        assert admin.post("/_admin/dirt", params={"kind": "mud"}).status_code == 400
        assert admin.get("/_admin/dirt").status_code == 405
        assert admin.post("/_admin/clear-dirt").json() == {"ok": True}
        assert admin.get("/_admin/truth").json() == []
        # the admin advance brings the plan-limited split too
        admin.post("/_admin/dirt", params={"symbol": "AAPL.US", "kind": "plan_limited"})
        admin.post("/_admin/advance", params={"days": "1"})
        assert admin.get("/_admin/truth").json()[0]["date"] == "2025-07-01"


def test_cli_rejects_an_unknown_kind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["datanexus", "fake-eodhd", "--dirty", "null_prices,mud"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid emulator setting: unknown dirt kind 'mud'")


def test_bulk_shows_the_same_dirty_rows_as_eod(server: EmulatorServer) -> None:
    server.add_dirt("MSFT.US", "tiny_prices")
    [null] = server.add_dirt("AAPL.US", "null_prices")
    [split] = server.add_dirt("VTI.US", "retracted_split")
    clean_amzn = eod(server, "AMZN.US")[-1]

    def bulk(**params: str) -> list[dict[str, object]]:
        body = get(server, "/eod-bulk-last-day/US", fmt="json", **params).text
        rows: list[dict[str, object]] = json.loads(body, parse_float=Decimal)
        return rows

    by_code = {row.pop("code"): row for row in bulk()}
    assert all(row.pop("exchange_short_name") == "US" for row in by_code.values())
    assert by_code["MSFT"] == eod(server, "MSFT.US")[-1]  # tiny, with the BIGINT volume
    assert by_code["AMZN"] == clean_amzn  # clean symbols unchanged
    assert by_code["VTI"] == eod(server, "VTI.US")[-1]
    assert list(by_code) == sorted(by_code)
    csv = get(server, "/eod-bulk-last-day/US", fmt="csv").text
    assert f",{BIGINT_MAX}\n" in csv and "\nMSFT,US," in csv

    assert null.date is not None
    on_holiday = [r for r in bulk(date=null.date.isoformat()) if r["code"] == "AAPL"]
    assert [(r["close"], r["volume"]) for r in on_holiday] == [(None, 0)]

    assert split.date is not None
    splits = get(
        server, "/eod-bulk-last-day/US", fmt="json", type="splits", date=split.date.isoformat()
    ).json()
    assert {"code": "VTI", "exchange": "US", "date": split.date.isoformat(),
            "split": "2.000000/1.000000"} in splits  # fmt: skip


@pytest.mark.parametrize(
    ("text", "written"),
    [("0.0000084401", "8.4401e-06"), ("0.00000000123", "1.23e-09"), ("-0.00005", "-5e-05"),
     ("0.0001", "0.0001"), ("37.63", "37.63"), ("0", "0")],
)  # fmt: skip
def test_tiny_values_are_written_exactly_in_exponent_form(text: str, written: str) -> None:
    from data_nexus.emulator.dirty_rows import exponent_text

    assert exponent_text(text) == written
    assert Decimal(written) == Decimal(text)


def test_help_lists_dirty() -> None:
    from typer.testing import CliRunner

    from data_nexus.cli.app import app

    result = CliRunner().invoke(app, ["fake-eodhd", "--help"])
    assert result.exit_code == 0 and "--dirty" in result.output
