"""The rows of dirty answers: each kind's rewrite of a symbol's clean daily rows (pure).

A row is a list of seven texts, ``date, open, high, low, close, adjusted_close, volume``, as
they appear in a body (``"null"`` for a missing value); :func:`json_row` and :func:`csv_row`
render one. See :mod:`data_nexus.emulator.dirt` for which kind does what.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction

from data_nexus.emulator.adjustment import SymbolView, round_half_even
from data_nexus.emulator.formats import Columns, scaled
from data_nexus.emulator.seeding import unit

BIGINT_MAX = 2**63 - 1
NULL = "null"
REUSE_FACTOR = 15
WTI_DAY = dt.date(2020, 4, 20)
NAMES = ("open", "high", "low", "close", "adjusted_close", "volume")
Row = list[str]  # date, open, high, low, close, adjusted_close, volume ("null" = missing)


def json_row(row: Row, prefix: str = "", warning: str | None = None) -> str:
    """One dirty row as an ``/eod`` JSON object; ``prefix`` opens it (bulk's code keys)."""
    values = ",".join(f'"{name}":{value}' for name, value in zip(NAMES, row[1:], strict=True))
    extra = f',"warning":{json.dumps(warning)}' if warning else ""
    return f'{{{prefix}"date":"{row[0]}",{values}{extra}}}'


def csv_row(row: Row, prefix: str = "") -> str:
    """One dirty row as a CSV line (missing values empty); ``prefix`` starts it."""
    return prefix + ",".join("" if value == NULL else value for value in row)


def free_weekdays(view: SymbolView) -> list[dt.date]:
    """Weekdays between the first and last bar without a bar (oldest first)."""
    have = set(view.ordinals.tolist())
    first, last = int(view.ordinals[0]), int(view.ordinals[-1])
    return [
        dt.date.fromordinal(o)
        for o in range(max(first, last - 3 * 365), last)
        if (o - 1) % 7 < 5 and o not in have
    ]


def off_session_days(view: SymbolView, sessions: set[int], key: int) -> tuple[dt.date, ...]:
    """A Saturday and (when there is one) a weekday holiday between two bars of the second
    half of ``view``: days in no ``sessions`` (the exchange's, as ordinals), picked by ``key``.
    """
    n = len(view)
    first, last = int(view.ordinals[n // 2]), int(view.ordinals[n - 5])
    free = [o for o in range(first, last) if o not in sessions]
    chosen = []
    for salt, weekend in enumerate((True, False)):
        days = [o for o in free if ((o - 1) % 7 >= 5) == weekend]
        if days:
            chosen.append(days[int(unit(key, 0, salt + 7) * len(days))])
    return tuple(dt.date.fromordinal(o) for o in sorted(chosen))


def add_off_session(rows: list[Row], days: tuple[dt.date, ...]) -> None:
    """A row on each of ``days`` repeating the previous row's values (rows in date order), as
    feeds that fill a closed day with the last prices send it; the caller sorts."""
    dates = [row[0] for row in rows]
    for day in days:
        iso = day.isoformat()
        previous = rows[bisect.bisect_left(dates, iso) - 1]
        rows.append([iso, *previous[1:]])


def future_days(today: dt.date) -> list[dt.date]:
    day = today + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return [day, today + dt.timedelta(days=32)]


def make_negative(rows: list[Row], day: str, columns: Columns) -> None:
    for row in rows:
        if row[0] != day:
            continue
        if day == WTI_DAY.isoformat():
            row[1:6] = ["17.73", "17.85", "-40.32", "-37.63", "-37.63"]
            return
        index = columns.dates.index(day)
        p = columns.price_digits
        close = -abs(columns.close[index])
        low = close - (columns.high[index] - columns.low[index]) - 1
        row[3:6] = [scaled(low, p), scaled(close, p), scaled(close, p)]
        return


def make_tiny(rows: list[Row], view: SymbolView, shift: int) -> None:
    p, a = view.price_digits + shift, view.adjusted_digits + shift
    for index, row in enumerate(rows):
        prices = (view.open, view.high, view.low, view.close)
        row[1:5] = [exponent_text(scaled(int(values[index]), p)) for values in prices]
        row[5] = exponent_text(scaled(int(view.adjusted_close[index]), a))
    rows[-1][6] = str(BIGINT_MAX)


def exponent_text(text: str) -> str:
    """A decimal below 1e-4 in the exponent form JSON encoders use (``8.4401e-06``)."""
    value = Decimal(text)
    if value == 0 or abs(value) >= Decimal("0.0001"):
        return text
    sign, digits, exponent = value.as_tuple()
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + int(exponent)
    body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{body}e-{-power:02d}"


def rescale_before(rows: list[Row], view: SymbolView, day: dt.date, factor: Fraction) -> None:
    """Adjusted closes before ``day`` times ``factor``, volumes divided by it (a split)."""
    cut = day.isoformat()
    for index, row in enumerate(rows):
        if row[0] >= cut:
            break
        adjusted = int(view.adjusted_close[index])
        row[5] = scaled(
            round_half_even(adjusted * factor.numerator, factor.denominator), view.adjusted_digits
        )
        volume = int(view.volume[index])
        row[6] = str(round_half_even(volume * factor.denominator, factor.numerator))


def make_reused(rows: list[Row], view: SymbolView) -> None:
    """Every price 1/15 of the clean one (another company's history), at least one unit."""
    p, a = view.price_digits, view.adjusted_digits
    columns = (view.open, view.high, view.low, view.close)
    for index, row in enumerate(rows):
        for position, values in enumerate(columns, start=1):
            row[position] = scaled(max(1, round_half_even(int(values[index]), REUSE_FACTOR)), p)
        adjusted = max(1, round_half_even(int(view.adjusted_close[index]), REUSE_FACTOR))
        row[5] = scaled(adjusted, a)


def over_reuse(value: Decimal) -> Decimal:
    return (value / REUSE_FACTOR).quantize(Decimal("0.000001"))
