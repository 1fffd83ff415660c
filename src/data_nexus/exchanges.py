"""Exchange facts the sync needs: each exchange's own time zone, to know its *today*.

A daily bar belongs to the exchange's session date. "Today" for an incremental sync is
therefore the date in the exchange's time zone, not the machine's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ZONES = {
    "US": "America/New_York", "NYSE": "America/New_York", "NASDAQ": "America/New_York",
    "BATS": "America/New_York", "AMEX": "America/New_York", "NMFQS": "America/New_York",
    "OTC": "America/New_York", "TO": "America/Toronto", "V": "America/Toronto",
    "NEO": "America/Toronto", "MX": "America/Mexico_City", "SA": "America/Sao_Paulo",
    "BA": "America/Argentina/Buenos_Aires", "SN": "America/Santiago",
    "LSE": "Europe/London", "IL": "Europe/London", "XETRA": "Europe/Berlin",
    "F": "Europe/Berlin", "BE": "Europe/Berlin", "DU": "Europe/Berlin", "HM": "Europe/Berlin",
    "MU": "Europe/Berlin", "STU": "Europe/Berlin", "PA": "Europe/Paris", "BR": "Europe/Brussels",
    "AS": "Europe/Amsterdam", "LS": "Europe/Lisbon", "MC": "Europe/Madrid", "MI": "Europe/Rome",
    "SW": "Europe/Zurich", "VI": "Europe/Vienna", "ST": "Europe/Stockholm",
    "CO": "Europe/Copenhagen", "HE": "Europe/Helsinki", "OL": "Europe/Oslo",
    "IR": "Europe/Dublin", "WAR": "Europe/Warsaw", "AT": "Europe/Athens",
    "IS": "Europe/Istanbul", "JSE": "Africa/Johannesburg", "TA": "Asia/Jerusalem",
    "HK": "Asia/Hong_Kong", "SHG": "Asia/Shanghai", "SHE": "Asia/Shanghai",
    "KO": "Asia/Seoul", "KQ": "Asia/Seoul", "TW": "Asia/Taipei", "TWO": "Asia/Taipei",
    "JK": "Asia/Jakarta", "BK": "Asia/Bangkok", "KLSE": "Asia/Kuala_Lumpur",
    "PSE": "Asia/Manila", "VN": "Asia/Ho_Chi_Minh", "NSE": "Asia/Kolkata",
    "BSE": "Asia/Kolkata", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
    "FOREX": "UTC", "CC": "UTC", "INDX": "America/New_York", "GBOND": "UTC",
    "MONEY": "UTC", "EUFUND": "Europe/Luxembourg",
}  # fmt: skip


def known_exchange(exchange: str) -> bool:
    """Whether ``exchange`` (any case) is an EODHD exchange code Data Nexus knows."""
    return exchange.strip().upper() in _ZONES


def exchange_zone(exchange: str) -> dt.tzinfo:
    """The exchange's time zone (UTC for unknown codes, FX and crypto)."""
    name = _ZONES.get(exchange.upper(), "UTC")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # no tz database on this machine
        return dt.UTC


def exchange_today(exchange: str, now: dt.datetime) -> dt.date:
    """The calendar date at the exchange when it is ``now`` (a timezone-aware instant)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(exchange_zone(exchange)).date()
