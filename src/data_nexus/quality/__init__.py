"""Data-quality checks: exchange sessions and pure checks that turn history into findings.

::

    from data_nexus.quality import sessions, gaps, price_steps

    found = gaps("VOD.LSE", stored_dates, sessions("LSE", first, last))
"""

from data_nexus.quality.calendars import EXCHANGE_CALENDARS, Sessions, calendar_name, sessions
from data_nexus.quality.checks import (
    DEFAULT_STEP,
    FINDING_KINDS,
    AssetState,
    Finding,
    adjustment_factors,
    adjustment_mismatches,
    check_history,
    gaps,
    off_session_bars,
    ohlc_violations,
    price_steps,
    stale_assets,
    zero_closes,
)

__all__ = [
    "DEFAULT_STEP",
    "EXCHANGE_CALENDARS",
    "FINDING_KINDS",
    "AssetState",
    "Finding",
    "Sessions",
    "adjustment_factors",
    "adjustment_mismatches",
    "calendar_name",
    "check_history",
    "gaps",
    "off_session_bars",
    "ohlc_violations",
    "price_steps",
    "sessions",
    "stale_assets",
    "zero_closes",
]
