"""Serving dirt: how one symbol's dirt rewrites its ``/eod``, ``/splits``, ``/div`` and list rows.

Each function takes the symbol's :class:`~data_nexus.emulator.dirt_choice.DirtPlan` and the
clean rows the endpoint handlers built, and adds or rewrites the dirty ones; every other row
stays byte for byte the clean market's. :class:`~data_nexus.emulator.dirt.DirtBook` calls
them for the symbols it holds dirt for.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from data_nexus.emulator.adjustment import SymbolView, adjusted_closes, dividend_value
from data_nexus.emulator.dirt_choice import DirtPlan, classed
from data_nexus.emulator.dirty_rows import (
    NULL,
    Row,
    add_off_session,
    future_days,
    make_negative,
    make_reused,
    make_tiny,
    over_reuse,
    rescale_before,
)
from data_nexus.emulator.formats import Columns, scaled
from data_nexus.emulator.market import Market

PLAN_WARNING = "Data is limited by one year as you have free subscription."


def eod_rows(market: Market, plan: DirtPlan, view: SymbolView) -> tuple[list[Row], bool]:
    """Every daily row of ``view`` with its dirt, and whether to add the plan warning."""
    columns = Columns.of(view)
    rows = [list(map(str, columns.values(i))) for i in range(len(columns))]
    after = market.version > plan.since
    kind = plan.kind
    if kind == "null_prices":
        rows.append([plan.days[0].isoformat(), NULL, NULL, NULL, NULL, NULL, "0"])
    elif kind == "bad_actions":
        _special_dividend_closes(market, view, rows)
    elif kind == "negative_prices":
        make_negative(rows, plan.days[0].isoformat(), columns)
    elif kind == "tiny_prices":
        make_tiny(rows, view, plan.shift)
    elif kind == "future_bars":
        last = rows[-1][1:]
        rows += [[day.isoformat(), *last] for day in future_days(market.today)]
    elif kind == "retracted_split" and not after:
        rescale_before(rows, view, plan.days[0], Fraction(1, 2))
    elif kind == "plan_limited" and plan.split_day is not None:
        since = (market.today - dt.timedelta(days=365)).isoformat()
        return [row for row in rows if row[0] >= since], True
    elif kind == "reused_ticker" and not after:
        make_reused(rows, view)
    elif kind == "off_session_bar":
        add_off_session(rows, plan.days)
    rows.sort(key=lambda row: row[0])
    return rows, False


def split_rows(
    market: Market, plan: DirtPlan, view: SymbolView, rows: list[dict[str, object]]
) -> None:
    """Add this symbol's dirt to its ``/splits`` JSON objects (in place, date order)."""
    if plan.kind == "retracted_split" and market.version == plan.since:
        rows.append({"date": plan.days[0], "split": "2.000000/1.000000"})
    elif plan.kind == "bad_actions":
        ratios = ("1.000000/0.000000", "0/1", "-2.000000/1.000000", "")
        pairs = zip(plan.days, ratios, strict=False)
        rows.extend({"date": day, "split": ratio} for day, ratio in pairs)
        rows.append({"date": "0000-00-00", "split": "2.000000/1.000000"})
    rows.sort(key=lambda row: str(row["date"]))


def dividend_rows(
    market: Market, plan: DirtPlan, view: SymbolView, rows: list[dict[str, object]]
) -> None:
    """Add this symbol's dirt to its ``/div`` JSON objects (in place, date order)."""
    if plan.kind == "reused_ticker" and market.version == plan.since:
        for row in rows:
            for name in ("value", "unadjustedValue"):
                if isinstance(row[name], Decimal):
                    row[name] = over_reuse(row[name])  # type: ignore[arg-type]
    if plan.kind != "bad_actions" or not rows:
        return
    last = dict(rows[-1])
    rows.append(dict(last))  # an exact duplicate
    special = _special_dividend(market, view)
    rows.append({**last, "value": special[0], "unadjustedValue": special[1], "period": None})
    rows.append({**last, "date": "0000-00-00"})
    rows.append({**last, "date": plan.days[-1], "value": None, "unadjustedValue": None})
    rows.sort(key=lambda row: str(row["date"]))


def listed_code(plan: DirtPlan | None, symbol: str, code: str) -> str:
    """The code the symbol list writes for ``symbol`` (its own, unless spelled oddly)."""
    if plan is None or plan.kind != "symbol_spelling":
        return code
    return code.replace("-", ".") if classed(symbol) else code.lower()


def _special_dividend(market: Market, view: SymbolView) -> tuple[Decimal, Decimal]:
    """The special dividend (value, unadjusted) added on the last regular one's ex-date."""
    last = view.dividends[-1]
    declared = (last.unadjusted_value or last.value) * 2
    raw = market.raw_series(view.symbol)
    later = [s for s in raw.splits if s.date > last.date]
    return dividend_value(declared, later), declared


def _special_dividend_closes(market: Market, view: SymbolView, rows: list[Row]) -> None:
    """Adjusted closes with the regular and special dividend's total on their ex-date."""
    raw = market.raw_series(view.symbol)
    special = _special_dividend(market, view)[1]
    last = raw.dividends[-1]
    raw.dividends[-1] = type(last)(
        last.row,
        last.date,
        last.amount + special,
        last.declaration,
        last.record,
        last.payment,
        last.period,
    )
    adjusted = adjusted_closes(raw, view.adjusted_digits)
    for row, value in zip(rows, adjusted.tolist(), strict=True):
        row[5] = scaled(int(value), view.adjusted_digits)
