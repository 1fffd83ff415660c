"""Weekday arithmetic for planning fetch windows (exchange holidays are not known here).

A weekday stands for a possible session: the correction window reaches back so many of them
(:func:`sessions_back`), and the bulk path asks for each one after the last stored bar
(:func:`weekdays_between`).
"""

from __future__ import annotations

import datetime as dt


def sessions_back(day: dt.date, sessions: int) -> dt.date:
    """The date ``sessions`` weekdays before ``day`` (holidays are not known here)."""
    current = day
    remaining = sessions
    while remaining > 0:
        current -= dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def weekdays_between(after: dt.date, until: dt.date) -> list[dt.date]:
    """Weekdays in ``(after, until]``: the candidate sessions after the last stored bar."""
    days = []
    current = after + dt.timedelta(days=1)
    while current <= until:
        if current.weekday() < 5:
            days.append(current)
        current += dt.timedelta(days=1)
    return days
