"""Comparing re-fetched sessions with the stored ones (pure): revisions and re-adjustments.

An incremental sync re-fetches the last few stored sessions; :func:`check_window` tells a
revised bar (overwritten as it comes) from a re-adjusted history (a split or dividend
happened: the pipeline fetches the whole history again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from data_nexus.records import Bar


@dataclass(frozen=True, slots=True)
class WindowCheck:
    """How the re-fetched sessions compare with what is stored."""

    adjustment_changed: bool
    revised_dates: tuple[dt.date, ...]


def _values(bar: Bar) -> tuple[object, ...]:
    return (bar.open, bar.high, bar.low, bar.close, bar.adjusted_close, bar.volume)


def check_window(stored: Sequence[Bar], fetched: Sequence[Bar]) -> WindowCheck:
    """Compare the stored bars with the re-fetched ones on the dates both have.

    A day whose raw ``close`` is unchanged but whose ``adjusted_close`` differs means the
    provider re-adjusted history: a split or dividend happened (or was corrected), so the
    whole adjusted history must be fetched again. Any other difference is a revision of
    that bar (late volume, a corrected print) and is simply overwritten.
    """
    by_date = {bar.date: bar for bar in fetched}
    changed = False
    revised: list[dt.date] = []
    for old in stored:
        new = by_date.get(old.date)
        if new is None:
            continue
        if _values(old) != _values(new):
            revised.append(old.date)
            if old.close == new.close and old.adjusted_close != new.adjusted_close:
                changed = True
    return WindowCheck(changed, tuple(revised))
