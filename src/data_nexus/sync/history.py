"""Pure judgements of a re-fetched history against the stored one (issue 9, kinds 6–8).

The sync pipeline reads what is stored, fetches, and asks these functions what the answer
means before it writes (in one transaction with the asset's data):

- :func:`retracted_actions` (kind 6): a stored split or dividend that the provider's whole
  actions list no longer has was withdrawn; the list is the truth for its window even when
  empty, so the writer removes it, and this names it in an ``action_retracted`` finding.
- :func:`replaced_history` / :func:`explained_by_splits` (kind 8): when every re-fetched
  session's raw close moved by more than :data:`REPLACED_CHANGE` and no new split explains it,
  the symbol now names another company: the whole history is fetched again and replaces the
  stored one (a ``history_replaced`` finding).
- :func:`rescale_outside` (kind 7): a provider answer that starts later than the stored
  history (EODHD's one-year plans, with their ``warning``) after a change of actions leaves
  the older stored rows at the old scale. They are brought to the new one with the
  provider's own back-adjustment (see :func:`price_factors`), verified on the answer's rows
  first; or, when only splits changed, by the split factors; or, when neither is possible,
  kept as they are and flagged ``stale_history``. Never silently mixed scales.

The conventions are EODHD's (``docs/emulator.md`` replays them): raw OHLC are as traded;
``adjusted_close`` is the raw close times the product of the factors of every later event,
rounded half-even to the provider's decimals; a split ``new/old`` has price factor
``old/new``; the dividends of one ex-date (``D`` their total as declared) have one factor
``1 - D / P`` with ``P`` the raw close of the previous session (in post-split shares when a
split shares the ex-date; :mod:`data_nexus.exdates`); ``volume``
is adjusted for splits only (earlier volumes times ``new/old``).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from data_nexus.decimals import canonical, decimal_places
from data_nexus.exdates import ex_dates
from data_nexus.records import Bar, Dividend, Finding, Split

#: Kinds of finding the sync records when it compares a re-fetched history with the stored.
HISTORY_FINDINGS = ("action_retracted", "history_replaced", "history_rescaled", "stale_history")
#: A raw close that moved by more than this fraction on every re-fetched session (at least
#: :data:`REPLACED_MIN_SESSIONS` of them) means the history was replaced. A corrected print
#: changes one session, a late volume none of the closes.
REPLACED_CHANGE = Fraction(1, 20)
REPLACED_MIN_SESSIONS = 2
#: How close the close ratio must be to a new split's ratio for the split to explain it.
SPLIT_TOLERANCE = Fraction(1, 50)

Action = Split | Dividend


# --- kind 6: retracted actions ------------------------------------------------------------


def _action_key(action: Action) -> tuple[dt.date, str]:
    return (action.date, action.action_type)


def _describe(action: Action) -> str:
    if isinstance(action, Split):
        return f"split {canonical(action.numerator)}/{canonical(action.denominator)}"
    amount = action.unadjusted_value if action.unadjusted_value is not None else action.value
    return f"dividend {canonical(amount)}"


def retracted_actions(stored: Sequence[Action], fetched: Sequence[Action]) -> list[Finding]:
    """An ``action_retracted`` finding per stored action whose (ex-date, type) the provider's
    list no longer has (a changed amount on the same ex-date is a revision, not a finding)."""
    sent = {_action_key(a) for a in fetched}
    return [
        Finding(
            a.symbol,
            a.date,
            "action_retracted",
            f"{_describe(a)} on {a.date} is no longer sent by the provider: removed, and the "
            "adjusted history fetched again",
        )
        for a in stored
        if _action_key(a) not in sent
    ]


# --- kind 8: a replaced history -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replacement:
    """Every re-fetched session's raw close moved: ``(date, stored close, new close)``."""

    changes: tuple[tuple[dt.date, Decimal, Decimal], ...]

    def finding(self, symbol: str, first_stored: dt.date | None) -> Finding:
        """The ``history_replaced`` finding, dated at the first stored bar it replaced."""
        day, old, new = self.changes[-1]
        n = len(self.changes)
        return Finding(
            symbol,
            first_stored,
            "history_replaced",
            f"the raw close of all {n} re-fetched sessions changed (e.g. {day}: "
            f"{canonical(old)} → {canonical(new)}) and no split explains it: the symbol's "
            "history was replaced by the provider's whole new history",
        )


def _moved(old: Decimal, new: Decimal) -> bool:
    if old == new:
        return False
    if old == 0:
        return True
    return abs(Fraction(new) / Fraction(old) - 1) > REPLACED_CHANGE


def replaced_history(stored: Sequence[Bar], fetched: Sequence[Bar]) -> Replacement | None:
    """A :class:`Replacement` when the raw close of every session both have moved by more
    than :data:`REPLACED_CHANGE` (at least :data:`REPLACED_MIN_SESSIONS` sessions), else
    ``None``."""
    by_date = {bar.date: bar for bar in fetched}
    pairs = [(b.date, b.close, by_date[b.date].close) for b in stored if b.date in by_date]
    if len(pairs) < REPLACED_MIN_SESSIONS:
        return None
    if not all(_moved(old, new) for _, old, new in pairs):
        return None
    return Replacement(tuple(sorted(pairs)))


def _valid_ratio(split: Split) -> Fraction | None:
    if split.numerator > 0 and split.denominator > 0:
        return split.ratio
    return None


def explained_by_splits(
    replacement: Replacement, stored: Sequence[Action], fetched: Sequence[Action]
) -> bool:
    """Whether splits new in ``fetched`` (absent from ``stored``) explain every change, as a
    provider that sends split-adjusted raw prices would show them: each session's stored
    close divided by its new close within :data:`SPLIT_TOLERANCE` of the new splits' ratio
    after it."""
    known = {(a.date, _valid_ratio(a)) for a in stored if isinstance(a, Split)}
    new_splits = [
        (a.date, ratio)
        for a in fetched
        if isinstance(a, Split)
        and (ratio := _valid_ratio(a)) is not None
        and (a.date, ratio) not in known
    ]
    if not new_splits:
        return False
    for day, old, new in replacement.changes:
        expected = Fraction(1)
        for split_day, ratio in new_splits:
            if split_day > day:
                expected *= ratio
        if expected == 1 or new == 0:
            return False
        if abs(Fraction(old) / Fraction(new) / expected - 1) > SPLIT_TOLERANCE:
            return False
    return True


# --- kind 7: rows outside a shorter answer ------------------------------------------------


def _split_events(actions: Sequence[Action]) -> dict[dt.date, Fraction]:
    """Per ex-date, the product of the split ratios ``new/old`` (valid splits only)."""
    out: dict[dt.date, Fraction] = defaultdict(lambda: Fraction(1))
    for action in actions:
        if isinstance(action, Split) and (ratio := _valid_ratio(action)) is not None:
            out[action.date] *= ratio
    return dict(out)


def _dividend_totals(actions: Sequence[Action]) -> dict[dt.date, Fraction]:
    """Per ex-date, the total declared amount of the distinct dividends."""
    seen: set[Dividend] = set()
    out: dict[dt.date, Fraction] = defaultdict(Fraction)
    for action in actions:
        if isinstance(action, Dividend) and action not in seen:
            seen.add(action)
            declared = action.unadjusted_value
            out[action.date] += Fraction(action.value if declared is None else declared)
    return dict(out)


def _cumulate(dates: Sequence[dt.date], events: dict[dt.date, Fraction]) -> list[Fraction]:
    """Per date, the product of the event factors dated after it."""
    out = [Fraction(1)] * len(dates)
    pending = sorted(events, reverse=True)
    factor, k = Fraction(1), 0
    for i in range(len(dates) - 1, -1, -1):
        while k < len(pending) and pending[k] > dates[i]:
            factor *= events[pending[k]]
            k += 1
        out[i] = factor
    return out


def price_factors(bars: Sequence[Bar], actions: Sequence[Action]) -> list[Fraction]:
    """The provider's cumulative back-adjustment factor of each of ``bars`` (sorted by date).

    ``adjusted_close = close * factor``. Dividends follow :mod:`data_nexus.exdates` (those of
    one ex-date are one factor from their total; an ex-date without an earlier bar in
    ``bars``, or whose previous close is unknown, not positive or not above the total, has
    factor 1). Exact duplicates count once.
    """
    dates = [bar.date for bar in bars]
    events = {day: 1 / ratio for day, ratio in _split_events(actions).items()}
    valid = [a for a in actions if isinstance(a, Split) and _valid_ratio(a) is not None]
    distinct = dict.fromkeys(a for a in actions if isinstance(a, Dividend))
    for ex_date in ex_dates(distinct, valid):  # the one rule: one factor per ex-date
        i = bisect.bisect_left(dates, ex_date.date)
        if i == 0:
            continue
        factor = ex_date.factor(bars[i - 1].close)
        events[ex_date.date] = events.get(ex_date.date, Fraction(1)) * factor
    return _cumulate(dates, events)


def _volume_factors(dates: Sequence[dt.date], actions: Sequence[Action]) -> list[Fraction]:
    return _cumulate(dates, _split_events(actions))


def _round(value: Fraction, places: int) -> Decimal:
    scaled = round(value * 10**places)  # Fraction rounds half to even
    return Decimal(scaled).scaleb(-places)


def _delta(old: Sequence[Action], new: Sequence[Action], after: dt.date) -> list[str]:
    """What changed among the actions dated after ``after`` (which is what moves the
    factors of a bar on ``after``)."""
    old_splits = {d: r for d, r in _split_events(old).items() if d > after}
    new_splits = {d: r for d, r in _split_events(new).items() if d > after}
    old_divs = {d: a for d, a in _dividend_totals(old).items() if d > after}
    new_divs = {d: a for d, a in _dividend_totals(new).items() if d > after}
    changes = []
    for day in sorted(old_splits.keys() | new_splits.keys()):
        if old_splits.get(day) != new_splits.get(day):
            was, now = old_splits.get(day), new_splits.get(day)
            changes.append(f"split on {day}: {_ratio_text(was)} → {_ratio_text(now)}")
    for day in sorted(old_divs.keys() | new_divs.keys()):
        if old_divs.get(day) != new_divs.get(day):
            changes.append(f"dividends on {day} changed")
    return changes


def _ratio_text(ratio: Fraction | None) -> str:
    return "none" if ratio is None else f"{ratio.numerator}/{ratio.denominator}"


@dataclass(frozen=True, slots=True)
class Rescaled:
    """What to write for the stored bars outside a shorter answer.

    ``bars`` are the rescaled bars (empty when nothing needs to change or they are stale);
    ``findings`` has one ``history_rescaled`` or ``stale_history`` finding, or none.
    """

    bars: list[Bar]
    findings: list[Finding]


def rescale_outside(
    outside: Sequence[Bar],
    answer: Sequence[Bar],
    old_actions: Sequence[Action],
    new_actions: Sequence[Action],
) -> Rescaled:
    """Bring the stored bars ``outside`` (all dated before the first bar of ``answer``) to the
    scale of ``new_actions``, which replace ``old_actions``.

    Nothing changes (and nothing is found) when no action dated after the first outside bar
    changed. Otherwise, in order of preference:

    1. the provider's back-adjustment (:func:`price_factors`) over the stored and answered
       bars, if it reproduces every ``adjusted_close`` of ``answer`` exactly at the answer's
       decimals: the outside adjusted closes are recomputed from their raw closes;
    2. if only splits changed: the outside adjusted closes times the change of the split
       factors, rounded half-even to the answer's decimals;
    3. else the bars stay and a ``stale_history`` finding says why.

    Volumes (1 and 2) are multiplied by the change of the split factors, rounded half-even.
    """
    if not outside or not answer:
        return Rescaled([], [])
    outside = sorted(outside, key=lambda b: b.date)
    answer = sorted(answer, key=lambda b: b.date)
    symbol, first, start = answer[0].symbol, outside[0].date, answer[0].date
    changes = _delta(old_actions, new_actions, first)
    if not changes:
        return Rescaled([], [])
    places = max((decimal_places(b.adjusted_close) for b in answer if b.adjusted_close), default=0)
    dates = [b.date for b in outside]
    old_volume = _volume_factors(dates, old_actions)
    new_volume = _volume_factors(dates, new_actions)
    adjusted = _recomputed(outside, answer, new_actions, places)
    how = "with the provider's back-adjustment of the stored actions"
    if adjusted is None and _only_splits_changed(old_actions, new_actions, first):
        # the price factor is the inverse of the volume factor: old / new
        adjusted = [
            None if b.adjusted_close is None else _round(Fraction(b.adjusted_close) * o / n, places)
            for b, n, o in zip(outside, new_volume, old_volume, strict=True)
        ]
        how = "by the change of the split factors"
    what = "; ".join(changes)
    if adjusted is None:
        return Rescaled(
            [],
            [
                Finding(
                    symbol,
                    start,
                    "stale_history",
                    f"the provider sent history from {start} only and the actions changed "
                    f"({what}); the {len(outside)} stored bars before it keep the old "
                    "adjustment (adjusted_close, volume): fetch the whole history with a plan "
                    "that has it",
                )
            ],
        )
    bars = []
    for bar, value, n, o in zip(outside, adjusted, new_volume, old_volume, strict=True):
        volume = bar.volume
        if volume is not None and n != o:
            volume = round(volume * n / o)
        bars.append(replace(bar, adjusted_close=value, volume=volume))
    changed = [new for new, old in zip(bars, outside, strict=True) if new != old]
    day = min(_changed_dates(old_actions, new_actions, first))
    finding = Finding(
        symbol,
        day,
        "history_rescaled",
        f"the provider sent history from {start} only and the actions changed ({what}); the "
        f"{len(outside)} stored bars before it were rescaled {how}",
    )
    return Rescaled(changed, [finding])


def _changed_dates(old: Sequence[Action], new: Sequence[Action], after: dt.date) -> list[dt.date]:
    a, b = _split_events(old), _split_events(new)
    c, d = _dividend_totals(old), _dividend_totals(new)
    days = {x for x in a.keys() | b.keys() if a.get(x) != b.get(x)}
    days |= {x for x in c.keys() | d.keys() if c.get(x) != d.get(x)}
    return sorted(x for x in days if x > after)


def _only_splits_changed(old: Sequence[Action], new: Sequence[Action], after: dt.date) -> bool:
    c, d = _dividend_totals(old), _dividend_totals(new)
    return all(c.get(x) == d.get(x) for x in c.keys() | d.keys() if x > after)


def _recomputed(
    outside: Sequence[Bar], answer: Sequence[Bar], actions: Sequence[Action], places: int
) -> list[Decimal | None] | None:
    """The outside adjusted closes by the provider's back-adjustment, or ``None`` when it
    does not reproduce every adjusted close of the answer exactly."""
    bars = [*outside, *answer]
    factors = price_factors(bars, actions)
    checked = 0
    for bar, factor in zip(answer, factors[len(outside) :], strict=True):
        if bar.adjusted_close is None:
            continue
        if _round(Fraction(bar.close) * factor, places) != bar.adjusted_close:
            return None
        checked += 1
    if not checked:
        return None
    return [
        None if bar.adjusted_close is None else _round(Fraction(bar.close) * factor, places)
        for bar, factor in zip(outside, factors[: len(outside)], strict=True)
    ]
