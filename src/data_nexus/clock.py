"""The clock, passed into library functions so that tests can control time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware UTC (the default ``clock`` of library functions)."""
    return dt.datetime.now(dt.UTC)
