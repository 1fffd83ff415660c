"""Same-day dividends end to end: emulator → sync → SQLite / PostgreSQL → ``adjust="all"``.

The emulator is forced to put two dividends on one ex-date (twice, once with three), and two
dividends beside a forward split and one beside a reverse split. The provider's convention
(EODHD's, docs/reading.md) makes the dividends of one ex-date one factor ``1 - total / P``.

Tolerances, and why:

- Against the emulator's exact back-adjustment, recomputed with 10 decimals instead of the 4
  it serves (``adjusted_closes(raw, 10)``): 1e-9 relative plus half a unit of the 10th
  decimal. What is left is the float arithmetic of the query path (a few ulps per event).
- Against the served ``adjusted_close`` (what a user compares with): 1e-6 relative where the
  4-decimal rounding allows it, i.e. ``max(1e-6 × |served|, 0.5e-4)``. The served value is
  exact rounded half-even to 4 decimals, so it can be off the true value by up to 0.5e-4: a
  relative 1e-6 is only testable for adjusted closes of 50 and more; below that the bound is
  the rounding's half unit. (The old product rule was off by ``d1·d2/P²``, 8e-4 relative here.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from data_nexus.emulator import EmulatorConfig, EmulatorServer
from data_nexus.emulator.adjustment import adjusted_closes
from data_nexus.quality.checks import adjustment_mismatches
from data_nexus.query import periods
from data_nexus.query.bars import get_bars, get_returns
from tests.query.conftest import TODAY, sync_into
from tests.query.test_periods import assert_same
from tests.sync.helpers import symbols_of

DIGITS = 10
CENT = Decimal("0.01")


def _amounts(emu: EmulatorServer, symbol: str, shares: int, *parts: str) -> list[Decimal]:
    """Dividends of ``parts`` (fractions of the last close per new share), to the cent."""
    close = emu.market.bars(symbol)[-1].close
    assert close is not None
    return [(close / shares * Decimal(p)).quantize(CENT) for p in parts]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """6 symbols × 13 years; forced same-day families a few weeks before the end."""
    config = EmulatorConfig(seed=13, symbols=6, start=dt.date(2012, 7, 1), today=TODAY)
    emu = EmulatorServer(config).start()
    names = symbols_of(emu)
    emu.advance(
        1,
        splits={names[2]: "2/1", names[3]: "1/4"},
        dividends={
            names[0]: _amounts(emu, names[0], 1, "0.02", "0.04"),
            names[1]: _amounts(emu, names[1], 1, "0.01", "0.03", "0.005"),
            names[2]: _amounts(emu, names[2], 2, "0.02", "0.01"),
            names[3]: [Decimal("0.35")],
        },
    )
    emu.advance(5)
    emu.advance(1, dividends={names[0]: _amounts(emu, names[0], 1, "0.015", "0.05")})
    emu.advance(4)
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture(scope="module")
def sqlite_url(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sameday') / 'warehouse.db'}"
    sync_into(url, emulator)
    return url


def families(emu: EmulatorServer) -> dict[str, list[dt.date]]:
    """The symbols' ex-dates holding two or more dividends."""
    out: dict[str, list[dt.date]] = {}
    for symbol in symbols_of(emu):
        dates = [d.date for d in emu.market.dividends(symbol)]
        out[symbol] = sorted({d for d in dates if dates.count(d) > 1})
    return out


def test_the_emulator_holds_the_forced_families(emulator: EmulatorServer) -> None:
    names = symbols_of(emulator)
    found = families(emulator)
    assert [len(found[n]) for n in names[:3]] == [2, 1, 1]
    assert emulator.market.splits(names[2])[-1].date == found[names[2]][0]


def check_adjusted(url: str, emu: EmulatorServer) -> None:
    symbols = symbols_of(emu)
    ours = get_bars(symbols, adjust="all", url=url)
    raw = get_bars(symbols, adjust="none", url=url)
    for symbol in symbols:
        mine = ours[ours["symbol"] == symbol]["close"].to_numpy()
        served = raw[raw["symbol"] == symbol]["adjusted_close"].to_numpy().astype(float)
        series = emu.market.raw_series(symbol)
        exact = adjusted_closes(series, DIGITS) / 10.0**DIGITS
        assert len(mine) == len(exact) == len(served), symbol
        np.testing.assert_allclose(mine, exact, rtol=1e-9, atol=0.51 * 10.0**-DIGITS)
        bound = np.maximum(1e-6 * np.abs(served), 0.5e-4 * (1 + 1e-9))
        worst = np.max(np.abs(mine - served) - bound)
        assert worst <= 0, (symbol, worst)


def test_adjust_all_equals_the_providers_adjusted_close_on_sqlite(
    sqlite_url: str, emulator: EmulatorServer
) -> None:
    check_adjusted(sqlite_url, emulator)


def test_adjust_all_equals_the_providers_adjusted_close_on_postgresql(
    empty_pg_url: str, sqlite_url: str, emulator: EmulatorServer
) -> None:
    sync_into(empty_pg_url, emulator)
    check_adjusted(empty_pg_url, emulator)
    symbols = symbols_of(emulator)
    pd.testing.assert_frame_equal(
        get_bars(symbols, adjust="all", url=empty_pg_url),
        get_bars(symbols, adjust="all", url=sqlite_url),
        check_exact=True,
    )
    check_weekly(empty_pg_url, symbols)


def check_weekly(url: str, symbols: list[str]) -> None:
    """Weekly bars resampled in SQL equal those resampled in NumPy from the adjusted daily
    frame, over the whole history and over a window that ends inside the families' weeks."""
    for window in ({}, {"start": "2016-01-04", "end": "2025-07-08"}):
        try:
            periods.USE_SQL = False
            reference = get_bars(symbols, adjust="all", interval="1w", url=url, **window)
            periods.USE_SQL = True
            ours = get_bars(symbols, adjust="all", interval="1w", url=url, **window)
        finally:
            periods.USE_SQL = None
        assert_same(ours, reference, f"1w {window}")


def test_weekly_bars_in_sql_equal_numpy_on_sqlite(
    sqlite_url: str, emulator: EmulatorServer
) -> None:
    check_weekly(sqlite_url, symbols_of(emulator))


def test_the_adjustment_check_finds_nothing(emulator: EmulatorServer) -> None:
    market = emulator.market
    for symbol in symbols_of(emulator):
        found = adjustment_mismatches(
            symbol,
            market.bars(symbol),
            market.splits(symbol),
            market.dividends(symbol),
            relative=Decimal("1e-6"),
            absolute=Decimal("0.00005"),
        )
        assert found == [], symbol


def test_total_return_reinvests_the_families_total(
    sqlite_url: str, emulator: EmulatorServer
) -> None:
    returns = get_returns(symbols_of(emulator), kind="total", url=sqlite_url)
    market = emulator.market
    checked = 0
    for symbol, dates in families(emulator).items():
        bars = market.bars(symbol)
        splits = market.splits(symbol)
        for ex_date in dates:
            row = next(i for i, b in enumerate(bars) if b.date == ex_date)
            total = sum(
                Fraction(d.unadjusted_value or 0)
                for d in market.dividends(symbol)
                if d.date == ex_date
            )
            previous = Fraction(bars[row - 1].close or 0)
            for split in splits:
                if split.date == ex_date:
                    previous /= split.ratio
            expected = (Fraction(bars[row].close or 0) + total) / previous - 1
            got = returns[(returns["symbol"] == symbol) & (returns["date"] == str(ex_date))]
            assert float(got["return"].iloc[0]) == pytest.approx(float(expected), rel=1e-12)
            checked += 1
    assert checked == 4
