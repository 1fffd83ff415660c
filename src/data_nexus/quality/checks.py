"""Data-quality checks over one asset's stored history (pure; no database, no clock).

Each check takes plain records — bars with ``date``, ``open``, ``high``, ``low``, ``close``,
``adjusted_close`` (:class:`~data_nexus.records.Bar` or any object with those attributes,
sorted by date or not), splits and dividends (:class:`~data_nexus.records.Split`,
:class:`~data_nexus.records.Dividend`) — and returns :class:`Finding` records, oldest first.
Prices are compared as given (``Decimal``); ``None`` fields are skipped, never guessed.

Kinds (:data:`FINDING_KINDS`):

- ``gap``: sessions of the exchange with no bar, between the asset's own first and last bar
  (one finding per run of consecutive missing sessions, dated on its first session);
- ``off_session_bar``: a bar dated on a day the exchange's calendar has no session (a weekend,
  a holiday), judged only where a real calendar decides (never on weekday guesses);
- ``price_step``: a close-to-close move beyond ``threshold`` (either way) that no stored split
  on the later date explains (a 100× pence/pound glitch; or a stored split whose step is not
  in the prices);
- ``ohlc``: ``low`` above ``open``/``close`` or ``high`` below them (or ``low`` > ``high``);
- ``zero_close``: a close of exactly 0 with a non-zero ``high - low`` range;
- ``adjustment``: the provider's ``adjusted_close`` disagrees with the raw close times the
  factors of the stored actions (one finding per run of disagreeing bars);
- ``stale``, ``never_synced``, ``paused``, ``backoff``: an asset's sync state
  (:func:`stale_assets`).

Adjustment convention (EODHD's, see ``docs/eodhd-api.md`` §1 and the emulator's
``adjustment`` module): every bar before an ex-date is multiplied by the event's factor,
cumulatively; a split ``new/old`` has factor ``old/new``; dividends on one ex-date have factor
``1 - total / P``, ``P`` the raw close of the bar before the ex-date (in post-split shares
when a split shares the date), the total from ``unadjusted_value`` (the declared amount; else
``value`` times the ratios of later splits).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Protocol

from data_nexus.exdates import ex_dates
from data_nexus.quality.calendars import Sessions
from data_nexus.records import Dividend, Split

FINDING_KINDS = (
    "gap",
    "off_session_bar",
    "price_step",
    "ohlc",
    "zero_close",
    "adjustment",
    "stale",
    "never_synced",
    "paused",
    "backoff",
)
#: Default ``price_step`` threshold: a close more than 3× (or under a third of) the previous.
DEFAULT_STEP = Decimal(3)
#: Default ``adjustment`` tolerances: 0.5 % of the expected value, or 0.00015 absolute (the
#: provider rounds ``adjusted_close`` to 4 decimals, so tiny adjusted values are coarse).
DEFAULT_RELATIVE_TOLERANCE = Decimal("0.005")
DEFAULT_ABSOLUTE_TOLERANCE = Decimal("0.00015")
#: Relative margin of the float screens: a value this close to a bound is judged exactly.
_MARGIN = 1e-6
_FLOAT_SLACK = 1e-12


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in one asset: ``date`` is None for asset-wide findings."""

    symbol: str
    date: dt.date | None
    kind: str
    detail: str


class BarLike(Protocol):
    """What the checks read from a bar."""

    @property
    def date(self) -> dt.date: ...
    @property
    def open(self) -> Decimal | None: ...
    @property
    def high(self) -> Decimal | None: ...
    @property
    def low(self) -> Decimal | None: ...
    @property
    def close(self) -> Decimal: ...
    @property
    def adjusted_close(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class AssetState:
    """An asset's sync state, as :func:`stale_assets` reads it (UTC-aware timestamps)."""

    symbol: str
    last_synced: dt.datetime | None
    paused: bool = False
    retry_after: dt.datetime | None = None  # in backoff until then
    last_error: str | None = None


def _sorted(bars: Iterable[BarLike]) -> list[BarLike]:
    return sorted(bars, key=lambda bar: bar.date)


# --- gaps ---------------------------------------------------------------------------------------


def gaps(symbol: str, dates: Iterable[dt.date], sessions: Sessions) -> list[Finding]:
    """Runs of ``sessions`` missing from ``dates`` between the first and last of ``dates``.

    ``sessions`` must cover that range (see :func:`~data_nexus.quality.calendars.sessions`);
    a holiday is not a session, so it is never a gap. Dates outside any session (a bar on a
    holiday) are not this check's business.
    """
    have = set(dates)
    if not have:
        return []
    first, last = min(have), max(have)
    findings: list[Finding] = []
    run: list[dt.date] = []
    for day in (*sessions.days, None):
        if day is not None and not first <= day <= last:
            continue
        if day is not None and day not in have:
            run.append(day)
            continue
        if run:
            span = f"{run[0]}" if len(run) == 1 else f"{run[0]} to {run[-1]}"
            findings.append(
                Finding(
                    symbol,
                    run[0],
                    "gap",
                    f"{len(run)} session(s) missing: {span} ({sessions.note})",
                )
            )
            run = []
    return findings


def off_session_bars(symbol: str, dates: Iterable[dt.date], sessions: Sessions) -> list[Finding]:
    """One finding per date of ``dates`` that ``sessions`` decides is no session.

    Only dates within :attr:`~data_nexus.quality.calendars.Sessions.exact_from` ..
    ``exact_to`` are judged: an exchange without a calendar, or a date outside the calendar's
    range, is a weekday guess and flags nothing (the report's note says where sessions are
    guessed). A calendar that trades every day (``24/7``, crypto) flags nothing either.
    """
    open_days = set(sessions.days)
    findings = []
    for day in sorted(set(dates)):
        if day in open_days or not sessions.decides(day):
            continue
        why = "a weekend" if day.weekday() >= 5 else "a holiday"
        detail = f"bar on {day:%A} {day}: no session of {sessions.calendar} ({why})"
        findings.append(Finding(symbol, day, "off_session_bar", detail))
    return findings


# --- prices -------------------------------------------------------------------------------------


def price_steps(
    symbol: str,
    bars: Iterable[BarLike],
    splits: Iterable[Split] = (),
    threshold: Decimal = DEFAULT_STEP,
) -> list[Finding]:
    """Close-to-close moves beyond ``threshold`` (> 1) that the stored splits do not explain.

    The previous close is first put in the later bar's shares: divided by the ratio of every
    split with an ex-date after the previous bar and on or before the later one. Bars whose
    close (or the previous close) is not positive are skipped: a ratio means nothing there.
    """
    if threshold <= 1:
        raise ValueError(f"threshold must be above 1, not {threshold}")
    ordered = _sorted(bars)
    split_list = sorted(splits, key=lambda s: s.date)
    findings = []
    # A float screen settles the common pair (no split between, ratio well inside the band);
    # only pairs near or beyond the threshold are judged exactly with fractions.
    low, high = 1 / float(threshold) * (1 + _MARGIN), float(threshold) * (1 - _MARGIN)
    for previous, bar in pairwise(ordered):
        if previous.close <= 0 or bar.close <= 0:
            continue
        between = [s for s in split_list if previous.date < s.date <= bar.date]
        if not between and low < float(bar.close) / float(previous.close) < high:
            continue
        expected = Fraction(previous.close)
        for split in between:
            expected /= split.ratio
        step = Fraction(bar.close) / expected
        if Fraction(1) / Fraction(threshold) <= step <= Fraction(threshold):
            continue
        applied = ", ".join(f"{s.numerator}/{s.denominator} on {s.date}" for s in between)
        because = f" after split {applied}" if applied else " with no split"
        findings.append(
            Finding(
                symbol,
                bar.date,
                "price_step",
                f"close {bar.close} after {previous.close} on {previous.date}: "
                f"×{float(step):.4g}{because} (threshold ×{threshold})",
            )
        )
    return findings


def ohlc_violations(symbol: str, bars: Iterable[BarLike]) -> list[Finding]:
    """Bars whose low is above open, close or high, or whose high is below open or close."""
    findings = []
    for bar in _sorted(bars):
        problems = []
        if bar.low is not None:
            for name, value in (("open", bar.open), ("close", bar.close), ("high", bar.high)):
                if value is not None and bar.low > value:
                    problems.append(f"low {bar.low} > {name} {value}")
        if bar.high is not None:
            for name, value in (("open", bar.open), ("close", bar.close)):
                if value is not None and bar.high < value:
                    problems.append(f"high {bar.high} < {name} {value}")
        if problems:
            findings.append(Finding(symbol, bar.date, "ohlc", "; ".join(problems)))
    return findings


def zero_closes(symbol: str, bars: Iterable[BarLike]) -> list[Finding]:
    """Bars with a close of exactly 0 and a non-zero ``high - low`` range."""
    return [
        Finding(symbol, bar.date, "zero_close", f"close 0 with high {bar.high}, low {bar.low}")
        for bar in _sorted(bars)
        if bar.close == 0 and bar.high is not None and bar.low is not None and bar.high != bar.low
    ]


# --- adjustment ---------------------------------------------------------------------------------


def adjustment_factors(
    bars: Sequence[BarLike], splits: Iterable[Split] = (), dividends: Iterable[Dividend] = ()
) -> list[Fraction]:
    """The cumulative back-adjustment factor of each of ``bars`` (sorted by date), exactly.

    ``adjusted_close`` should be ``close × factor``. Events dated after the last bar still
    apply to every bar; events on or before the first bar apply to none. A dividend whose
    previous close is not positive, or that would make the factor non-positive, is ignored
    (factor 1), as the provider cannot have applied it either.
    """
    dates = [bar.date for bar in bars]
    split_list = sorted(splits, key=lambda s: s.date)
    per_date: dict[dt.date, Fraction] = defaultdict(lambda: Fraction(1))
    for split in split_list:
        per_date[split.date] *= 1 / split.ratio
    for event in ex_dates(dividends, split_list):
        row = _first_on_or_after(dates, event.date)
        if row >= 1:  # an ex-date on or before the first bar has no earlier bar to scale
            per_date[event.date] *= event.factor(bars[row - 1].close)
    factors = [Fraction(1)] * len(bars)
    events = sorted(per_date.items(), reverse=True)
    running, cursor = Fraction(1), 0
    for row in range(len(bars) - 1, -1, -1):
        while cursor < len(events) and events[cursor][0] > dates[row]:
            running *= events[cursor][1]
            cursor += 1
        factors[row] = running
    return factors


def adjustment_mismatches(
    symbol: str,
    bars: Iterable[BarLike],
    splits: Iterable[Split] = (),
    dividends: Iterable[Dividend] = (),
    *,
    relative: Decimal = DEFAULT_RELATIVE_TOLERANCE,
    absolute: Decimal = DEFAULT_ABSOLUTE_TOLERANCE,
) -> list[Finding]:
    """Runs of bars whose ``adjusted_close`` is off ``close × factor`` beyond the tolerances.

    A bar disagrees when ``|adjusted_close - expected| > max(relative × |expected|,
    absolute)``. One finding per run of consecutive disagreeing bars, dated on the run's last
    bar (next to the event that is missing or wrong), with the ratio seen there.
    """
    ordered = _sorted(bars)
    factors = adjustment_factors(ordered, splits, dividends)
    rel, tol = Fraction(relative), Fraction(absolute)
    findings: list[Finding] = []
    run: list[tuple[BarLike, Fraction]] = []
    rel_f, tol_f = float(relative), float(absolute)
    factor_f: tuple[Fraction | None, float] = (None, 0.0)
    for bar, factor in [*zip(ordered, factors, strict=True), (None, None)]:
        if bar is not None and factor is not None and bar.adjusted_close is not None:
            if factor_f[0] is not factor:  # the factors of a stretch are one object
                factor_f = (factor, float(factor))
            # Float screen: a bar clearly within the tolerance agrees without fractions.
            rough = float(bar.close) * factor_f[1]
            off = abs(float(bar.adjusted_close) - rough)
            bound = max(rel_f * abs(rough), tol_f) * (1 - _MARGIN) - _FLOAT_SLACK * abs(rough)
            if off >= bound:
                expected = Fraction(bar.close) * factor
                if abs(Fraction(bar.adjusted_close) - expected) > max(rel * abs(expected), tol):
                    run.append((bar, expected))
                    continue
        if run:
            last, expected = run[-1]
            findings.append(
                Finding(
                    symbol,
                    last.date,
                    "adjustment",
                    f"{len(run)} bar(s) from {run[0][0].date} to {last.date}: provider "
                    f"adjusted_close {last.adjusted_close} vs {float(expected):.6g} from the "
                    "stored splits and dividends",
                )
            )
            run = []
    return findings


def _first_on_or_after(dates: Sequence[dt.date], day: dt.date) -> int:
    """Index of the first of sorted ``dates`` on or after ``day`` (len if none)."""
    lo, hi = 0, len(dates)
    while lo < hi:
        mid = (lo + hi) // 2
        if dates[mid] < day:
            lo = mid + 1
        else:
            hi = mid
    return lo


# --- all of them -------------------------------------------------------------------------------


def check_history(
    symbol: str,
    bars: Iterable[BarLike],
    splits: Iterable[Split] = (),
    dividends: Iterable[Dividend] = (),
    *,
    sessions: Sessions | None = None,
    step: Decimal = DEFAULT_STEP,
) -> list[Finding]:
    """Every history check on one asset: gaps and off-session bars (when ``sessions`` is
    given), price steps, OHLC, zero closes and adjustment, sorted by date then kind.

    ``sessions`` should cover the asset's first to last bar (see
    :func:`~data_nexus.quality.calendars.sessions`).
    """
    ordered = _sorted(bars)
    split_list, dividend_list = list(splits), list(dividends)
    found = [
        *price_steps(symbol, ordered, split_list, step),
        *ohlc_violations(symbol, ordered),
        *zero_closes(symbol, ordered),
        *adjustment_mismatches(symbol, ordered, split_list, dividend_list),
    ]
    if sessions is not None:
        dates = [bar.date for bar in ordered]
        found += gaps(symbol, dates, sessions) + off_session_bars(symbol, dates, sessions)
    return sorted(found, key=lambda f: (f.date or dt.date.min, f.kind))


# --- sync state ---------------------------------------------------------------------------------


def stale_assets(
    assets: Iterable[AssetState], *, now: dt.datetime, max_age: dt.timedelta
) -> list[Finding]:
    """Assets never synced, synced longer than ``max_age`` before ``now``, paused or in backoff.

    ``now`` is passed in (UTC-aware); an asset can yield several findings (paused and stale).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    findings = []
    for asset in assets:
        if asset.paused:
            findings.append(Finding(asset.symbol, None, "paused", "sync is paused"))
        if asset.retry_after is not None and asset.retry_after > now:
            error = f": {asset.last_error}" if asset.last_error else ""
            detail = f"in backoff until {asset.retry_after.isoformat()}{error}"
            findings.append(Finding(asset.symbol, None, "backoff", detail))
        if asset.last_synced is None:
            findings.append(Finding(asset.symbol, None, "never_synced", "never synced"))
        elif now - asset.last_synced > max_age:
            age = now - asset.last_synced
            detail = f"last synced {asset.last_synced.isoformat()} ({age} ago, limit {max_age})"
            findings.append(Finding(asset.symbol, asset.last_synced.date(), "stale", detail))
    return findings
