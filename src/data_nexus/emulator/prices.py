"""Raw daily prices, volumes, splits and dividends of one symbol (pure, vectorised).

The generator works on the exchange's trading days from the symbol's listing to its last
day (today, or the delisting date). Each day draws eight uniforms from the symbol's own
PCG64 stream in row order, so extending the range (a later *today*) leaves every earlier
day unchanged; events are decided causally from earlier days only.

- Close: a geometric random walk with drift (stocks, ETFs, funds, crypto) or a mean-reverting
  one (currency pairs, preferred stock), rounded to cents (1/10,000 below 1.00) or to one unit
  of the exchange's last digit.
- Splits: when the raw price rises above the symbol's ``split_high`` (or falls below
  ``split_low``) a forward (reverse) split takes effect 5-34 trading days later; from its
  ex-date raw prices divide by the ratio and raw volumes multiply by it.
- Dividends: quarterly on a fixed calendar, sized at the symbol's yield of the previous close
  and kept for the calendar year (resized after a split).
- Thin symbols miss random days; a few days trade nothing (volume 0, flat prices).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import numpy.typing as npt

from data_nexus.emulator.seeding import generator, unit
from data_nexus.emulator.universe import Profile

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

#: Before this date dividends carry only date, amounts and currency (as old EODHD rows do).
DETAILED_DIVIDENDS_FROM = dt.date(2008, 1, 1)
_COOLDOWN = 30  # trading days after a split before the next one can trigger
_MAX_SPLITS = 40
_FORWARD = (
    (("2", "1"), 0.42),
    (("3", "1"), 0.15),
    (("4", "1"), 0.12),
    (("3", "2"), 0.1),
    (("10", "1"), 0.08),
    (("5", "1"), 0.08),
    (("7", "1"), 0.05),
)
_REVERSE = (
    (("1", "10"), 0.45),
    (("1", "20"), 0.25),
    (("1", "5"), 0.15),
    (("1", "8"), 0.1),
    (("1", "12.58983"), 0.05),
)
_CENT = Decimal("0.01")
_TEN_THOUSANDTH = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class SplitEvent:
    """A split on row ``row``: ``new`` shares for ``old``."""

    row: int
    date: dt.date
    new: Decimal
    old: Decimal


@dataclass(frozen=True, slots=True)
class DividendEvent:
    """A cash dividend on row ``row`` (its ex-date), ``amount`` as declared."""

    row: int
    date: dt.date
    amount: Decimal
    declaration: dt.date | None
    record: dt.date | None
    payment: dt.date | None
    period: str | None


@dataclass(frozen=True, slots=True)
class Injection:
    """Corporate actions forced on a date (by ``advance``): a split and/or dividends.

    ``dividends`` holds the declared amounts, one dividend each (a regular and a special one
    on the same ex-date are two).
    """

    date: dt.date
    split: tuple[Decimal, Decimal] | None = None  # (new, old)
    dividends: tuple[Decimal, ...] = ()


@dataclass(slots=True)
class RawSeries:
    """Unadjusted rows of one symbol plus its corporate actions."""

    ordinals: npt.NDArray[np.int32]
    open: Ints
    high: Ints
    low: Ints
    close: Ints
    volume: Ints
    splits: list[SplitEvent]
    dividends: list[DividendEvent]
    price_digits: int


def generate(
    profile: Profile,
    days: npt.NDArray[np.int32],
    price_digits: int,
    injections: Sequence[Injection] = (),
) -> RawSeries:
    """Rows of ``profile`` on ``days`` (exchange trading days from listing to last day)."""
    n = len(days)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return RawSeries(days, empty, empty, empty, empty, empty, [], [], price_digits)
    # Drawn day by day (row-major), then one contiguous array per column for speed.
    u = np.ascontiguousarray(generator(profile.key).random((n, 8)).T)
    r1, r2, r3 = (np.sqrt(-2.0 * np.log1p(-u[c])) for c in (0, 2, 4))
    angle1, angle2 = 2 * np.pi * u[1], 2 * np.pi * u[3]
    z_ret, z_open = r1 * np.cos(angle1), r1 * np.sin(angle1)
    z_high, z_low = r2 * np.cos(angle2), r2 * np.sin(angle2)
    z_vol = r3 * np.cos(2 * np.pi * u[5])
    sigma = profile.volatility
    log_close = np.log(profile.price) + _walk(z_ret, sigma, profile.drift, profile.reversion)
    step = np.diff(log_close, prepend=np.log(profile.price))  # before splits shift the path
    present = u[6] >= profile.thin
    present[0] = True
    injected: dict[int, Injection] = {}
    known = [Injection(day, split=(new, old)) for day, new, old in profile.known_splits]
    for injection in (*known, *injections):
        index = int(np.searchsorted(days, injection.date.toordinal()))
        if 0 < index < n:
            injected[index] = _merge(injected.get(index), injection)
    for index in injected:
        present[index] = True
    schedule = _dividend_schedule(profile, days, present)
    volume_shift = np.zeros(n)
    splits = _splits(
        profile, log_close, volume_shift, present=present, schedule=schedule, injected=injected
    )
    prices = _ohlc(
        profile,
        np.exp(log_close),
        np.exp(log_close - step),
        noise=(z_open, z_high, z_low),
        scale=10**price_digits,
    )
    volume = np.zeros(n, dtype=np.int64)
    if profile.volume > 0:
        noise = np.exp(volume_shift + 0.5 * z_vol - 0.125)
        volume = np.maximum(np.rint(profile.volume * noise), 1).astype(np.int64)
    quiet = (u[7] < profile.zero_volume) | bool(profile.flat)
    for index, _ in splits:
        quiet[index] = False
    volume[quiet] = 0
    opened, high, low, close = prices
    for column in (opened, high, low):
        column[quiet] = close[quiet]
    rows = np.flatnonzero(present)
    keep: slice | npt.NDArray[np.intp] = slice(None) if len(rows) == n else rows

    def row_of(index: int) -> int:
        return int(np.searchsorted(rows, index))

    series = RawSeries(
        ordinals=days[keep],
        open=opened[keep],
        high=high[keep],
        low=low[keep],
        close=close[keep],
        volume=volume[keep],
        splits=[
            SplitEvent(row_of(i), dt.date.fromordinal(int(days[i])), new, old)
            for i, (new, old) in splits
        ],
        dividends=[],
        price_digits=price_digits,
    )
    series.dividends = _dividends(
        profile,
        series,
        [row_of(i) for i in schedule],
        {row_of(i): inj.dividends for i, inj in injected.items() if inj.dividends},
    )
    return series


def _merge(first: Injection | None, second: Injection) -> Injection:
    if first is None:
        return second
    return Injection(first.date, second.split or first.split, first.dividends + second.dividends)


def _walk(shocks: Floats, sigma: float, drift: float, reversion: float) -> Floats:
    """Log price moves: a random walk with drift, or an AR(1) around the drift's trend line."""
    if reversion <= 0:
        return np.cumsum(drift - sigma * sigma / 2 + sigma * shocks)
    days = np.arange(1, len(shocks) + 1, dtype=np.float64)
    weights = (1.0 - reversion) ** -days
    return np.asarray(drift * days + np.cumsum(sigma * shocks * weights) / weights)


def _dividend_schedule(
    profile: Profile, days: npt.NDArray[np.int32], present: npt.NDArray[np.bool_]
) -> list[int]:
    """Day indices of the quarterly ex-dates (each the first trading row on or after)."""
    plan = profile.dividend
    if plan is None:
        return []
    last = int(days[-1])
    ordinals: list[int] = []
    year, month = plan.first.year, plan.first.month
    while (ordinal := dt.date(year, month, plan.first.day).toordinal()) <= last:
        ordinals.append(ordinal)
        year, month = (year + 1, month - 9) if month > 9 else (year, month + 3)
    rows = np.flatnonzero(present)
    found = rows[np.minimum(np.searchsorted(rows, np.searchsorted(days, ordinals)), len(rows) - 1)]
    found = found[found >= np.searchsorted(days, ordinals)]  # none after the last row
    return sorted(int(i) for i in set(found.tolist()) if i > 0)


def _splits(
    profile: Profile,
    log_close: Floats,
    volume_shift: Floats,
    *,
    present: npt.NDArray[np.bool_],
    schedule: list[int],
    injected: dict[int, Injection],
) -> list[tuple[int, tuple[Decimal, Decimal]]]:
    """Decide the splits, shifting ``log_close`` and ``volume_shift`` from each ex-date on."""
    high = np.log(profile.split_high) if profile.split_high else np.inf
    low = np.log(profile.split_low) if profile.split_low else -np.inf
    forced = sorted(i for i, inj in injected.items() if inj.split is not None)
    rows = np.flatnonzero(present)
    done: list[tuple[int, tuple[Decimal, Decimal]]] = []
    cursor, natural = 1, bool(np.isfinite(high) or np.isfinite(low))
    while len(done) < _MAX_SPLITS:
        trigger = None
        if natural:
            trigger = _next_trigger(
                profile, log_close, cursor, bounds=(low, high), rows=rows, schedule=schedule
            )
        pending = forced[0] if forced else None
        if trigger is not None and (pending is None or trigger[0] < pending):
            ex, ratio = trigger
            cursor = ex + _COOLDOWN
        elif pending is not None:
            forced.pop(0)
            ex, ratio = pending, injected[pending].split or (Decimal(1), Decimal(1))
            if trigger is not None and trigger[0] == pending:
                cursor = ex + _COOLDOWN  # the forced split replaces the natural one
        else:
            break
        shift = float(np.log(float(ratio[0] / ratio[1])))
        log_close[ex:] -= shift
        volume_shift[ex:] += shift
        done.append((ex, ratio))
    return done


def _next_trigger(
    profile: Profile,
    log_close: Floats,
    cursor: int,
    *,
    bounds: tuple[float, float],
    rows: npt.NDArray[np.intp],
    schedule: list[int],
) -> tuple[int, tuple[Decimal, Decimal]] | None:
    """The next natural split (ex-date index, ratio), or None if none is due in range."""
    low, high = bounds
    window = log_close[cursor:]
    hits = np.flatnonzero((window > high) | (window < low))
    if not len(hits):
        return None
    t = cursor + int(hits[0])
    delay = 5 + int(unit(profile.key, t, 1) * 30)
    k = int(np.searchsorted(rows, t + delay))
    if k >= len(rows):
        return None  # announced, but the ex-date is after the last day
    ex = int(rows[k])
    if unit(profile.key, t, 2) < 0.25:  # sometimes on the same day as a dividend
        ex = next((d for d in schedule if ex <= d <= ex + 45), ex)
    choices = _FORWARD if log_close[t] > high else _REVERSE
    point, pick = unit(profile.key, t, 3), choices[-1][0]
    for ratio, weight in choices:
        point -= weight
        if point < 0:
            pick = ratio
            break
    return ex, (Decimal(pick[0]), Decimal(pick[1]))


def _ohlc(
    profile: Profile,
    close: Floats,
    previous: Floats,
    *,
    noise: tuple[Floats, Floats, Floats],
    scale: int,
) -> tuple[Ints, Ints, Ints, Ints]:
    """Open, high, low, close as integers in units of ``1/scale``, consistent with each other."""
    z_open, z_high, z_low = noise
    sigma = profile.volatility
    opened = previous * np.exp(0.3 * sigma * z_open)
    high = np.maximum(opened, close) * np.exp(0.5 * sigma * np.abs(z_high))
    low = np.minimum(opened, close) * np.exp(-0.5 * sigma * np.abs(z_low))
    tick = np.ones(len(close), dtype=np.int64)
    if not profile.fine_ticks:
        tick[close >= 1.0] = scale // 100

    def to_ticks(values: Floats) -> Ints:
        return np.rint(values * scale / tick).astype(np.int64) * tick

    c = np.maximum(to_ticks(close), 1)
    if profile.flat:
        return c.copy(), c.copy(), c.copy(), c
    o = np.maximum(to_ticks(opened), 1)
    h = np.maximum(np.maximum(to_ticks(high), o), c)
    lo = np.maximum(np.minimum(np.minimum(to_ticks(low), o), c), 1)
    return o, h, lo, c


def _dividends(
    profile: Profile, series: RawSeries, rows: list[int], forced: dict[int, tuple[Decimal, ...]]
) -> list[DividendEvent]:
    """Dividend events on ``rows`` (natural) and ``forced`` rows (amounts given, one event
    per amount, so a forced row can hold several dividends)."""
    plan = profile.dividend
    scale = Decimal(10) ** series.price_digits
    split_rows = {s.row: s for s in series.splits}
    events: list[DividendEvent] = []
    amount, year, last_row = Decimal(0), 0, 0
    for row in sorted(set(rows) | set(forced)):
        if row < 1:
            continue
        day = dt.date.fromordinal(int(series.ordinals[row]))
        previous = Decimal(int(series.close[row - 1])) / scale
        if row in split_rows:  # the previous close in post-split shares
            previous = previous * split_rows[row].old / split_rows[row].new
        if row in forced:
            declared = forced[row]
        else:
            assert plan is not None
            resized = any(last_row < r <= row for r in split_rows)
            if year != day.year or resized or amount >= previous / 4:
                amount = _dividend_amount(previous * Decimal(plan.annual_yield) / 4)
            declared, year = (amount,), day.year
        last_row = row
        events.extend(_dividend_event(profile.key, row, day, paid) for paid in declared)
    return events


def _dividend_amount(value: Decimal) -> Decimal:
    quantum = _CENT if value >= Decimal("0.1") else _TEN_THOUSANDTH
    return max(value.quantize(quantum, rounding=ROUND_HALF_EVEN), _TEN_THOUSANDTH)


def _dividend_event(key: int, row: int, day: dt.date, amount: Decimal) -> DividendEvent:
    if day < DETAILED_DIVIDENDS_FROM:
        return DividendEvent(row, day, amount, None, None, None, None)
    declared = day - dt.timedelta(days=14 + int(unit(key, row, 7) * 25))
    lag = 0 if day >= dt.date(2024, 5, 28) else 1 if day >= dt.date(2017, 9, 5) else 2
    record = day
    while lag:
        record += dt.timedelta(days=1)
        lag -= record.weekday() < 5
    paid = record + dt.timedelta(days=7 + int(unit(key, row, 8) * 24))
    return DividendEvent(row, day, amount, declared, record, paid, "Quarterly")
