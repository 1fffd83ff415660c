"""Exchange sessions from ``exchange_calendars``, keyed by EODHD exchange codes.

EODHD names exchanges by its own codes (``US``, ``LSE``, ``XETRA``, …); ``exchange_calendars``
by ISO 10383 MICs (``XNYS``, ``XLON``, ``XETR``, …). :data:`EXCHANGE_CALENDARS` maps the one to
the other. The mapping follows the operating MIC that EODHD's ``/exchanges-list`` gives for the
code (see ``docs/eodhd-api.md`` section 4) where ``exchange_calendars`` has that calendar, else
the main venue of the same market:

- ``US`` and its venues (``NYSE``, ``NASDAQ``, ``BATS``, ``AMEX``, ``NMFQS``, ``OTC``) and
  ``INDX`` trade on the NYSE holiday schedule (``XNYS``); Nasdaq and NYSE close on the same days;
- ``XETRA`` is ``XETR``; the German regional codes use their own exchanges (``F`` → ``XFRA``,
  ``DU`` → ``XDUS``, ``HM`` → ``XHAM``, ``STU`` → ``XSTU``) and ``BE``/``MU`` (no calendar of
  their own) the Xetra holidays they share;
- ``FOREX`` trades Monday to Friday without holidays (``24/5``) and ``CC`` every day (``24/7``);
  ``COMM`` (the emulator's commodity futures) follows the CME's holidays (``CMES``).

An unmapped code (or a date before the calendar's first session) falls back to Monday to
Friday, and the result says so (:attr:`Sessions.approximate`), so a gap reported from it can
be read as the guess it is.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: EODHD exchange code → ``exchange_calendars`` calendar name.
EXCHANGE_CALENDARS: dict[str, str] = {
    "US": "XNYS", "NYSE": "XNYS", "NASDAQ": "XNYS", "BATS": "XNYS", "AMEX": "XNYS",
    "NMFQS": "XNYS", "OTC": "XNYS", "INDX": "XNYS",
    "TO": "XTSE", "V": "XTSE", "NEO": "XTSE",
    "LSE": "XLON", "IL": "XLON",
    "XETRA": "XETR", "F": "XFRA", "DU": "XDUS", "HM": "XHAM", "STU": "XSTU", "BE": "XETR",
    "MU": "XETR",
    "PA": "XPAR", "AS": "XAMS", "BR": "XBRU", "LS": "XLIS", "MC": "XMAD", "MI": "XMIL",
    "SW": "XSWX", "VI": "XWBO", "ST": "XSTO", "CO": "XCSE", "HE": "XHEL", "OL": "XOSL",
    "IR": "XDUB", "WAR": "XWAR", "AT": "ASEX", "IS": "XIST", "JSE": "XJSE", "TA": "XTAE",
    "HK": "XHKG", "SHG": "XSHG", "KO": "XKRX", "TW": "XTAI", "JK": "XIDX", "BK": "XBKK",
    "KLSE": "XKLS", "PSE": "XPHS", "BSE": "XBOM", "NSE": "XBOM", "AU": "XASX", "NZ": "XNZE",
    "MX": "XMEX", "SA": "BVMF", "BA": "XBUE", "SN": "XSGO",
    "FOREX": "24/5", "CC": "24/7", "COMM": "CMES",
}  # fmt: skip

_DECADE = 10
_EARLIEST = dt.date(1990, 1, 1)  # no calendar is built to start before this


@dataclass(frozen=True, slots=True)
class Sessions:
    """The trading sessions of one exchange between two dates (both inclusive).

    ``days`` are sorted dates; ``calendar`` is the ``exchange_calendars`` name used, or None
    when none is mapped; ``approximate`` is True when some or all of ``days`` are plain
    weekdays (no calendar, or dates before the calendar's first session); ``note`` says
    which, in one line, for a finding's detail.
    """

    exchange: str
    calendar: str | None
    days: tuple[dt.date, ...]
    approximate: bool
    note: str


def calendar_name(exchange: str) -> str | None:
    """The ``exchange_calendars`` name for an EODHD exchange code (any case), or None."""
    return EXCHANGE_CALENDARS.get(exchange.strip().upper())


def sessions(exchange: str, start: dt.date, end: dt.date) -> Sessions:
    """The sessions of ``exchange`` from ``start`` to ``end`` (inclusive; empty if reversed).

    Calendars are built once per range of decades and cached (building one takes ~0.1 s).
    """
    code = exchange.strip().upper()
    name = calendar_name(code)
    if end < start:
        return Sessions(code, name, (), name is None, _note(name, None, None))
    if name is None:
        return Sessions(code, None, tuple(_weekdays(start, end)), True, _note(None, None, None))
    built = _calendar(name, start.year // _DECADE, end.year // _DECADE)
    first, last = built.first, built.last
    before = min(end, first - dt.timedelta(days=1)) if start < first else None
    after = max(start, last + dt.timedelta(days=1)) if end > last else None
    if built.calendar is None:
        days = _weekdays(start, end)
        note = f"calendar {name} cannot be built here: weekdays assumed"
        return Sessions(code, name, tuple(days), True, note)
    days = _weekdays(start, before) if before else []
    if built.calendar is not None:
        low = max(start, first, built.calendar.first_session.date())
        high = min(end, last, built.calendar.last_session.date())
        if low <= high:
            with _quiet():
                index = built.calendar.sessions_in_range(pd.Timestamp(low), pd.Timestamp(high))
            days += [stamp.date() for stamp in index]
    if after:
        days += _weekdays(after, end)
    approximate = before is not None or after is not None
    return Sessions(code, name, tuple(days), approximate, _note(name, before, after))


def _note(name: str | None, before: dt.date | None, after: dt.date | None) -> str:
    if name is None:
        return "no exchange calendar mapped: weekdays assumed"
    parts = [f"{name} sessions"]
    if before is not None:
        parts.append(f"weekdays assumed up to {before}")
    if after is not None:
        parts.append(f"weekdays assumed from {after}")
    return "; ".join(parts)


def _weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    ordinals = np.arange(start.toordinal(), end.toordinal() + 1)
    return [dt.date.fromordinal(int(o)) for o in ordinals[(ordinals - 1) % 7 < 5]]


@dataclass(frozen=True, slots=True)
class _Built:
    calendar: Any  # an exchange_calendars.ExchangeCalendar, or None when none can be built
    first: dt.date  # the calendar covers first..last (both inclusive)
    last: dt.date


@functools.lru_cache(maxsize=256)
def _calendar(name: str, first_decade: int, last_decade: int) -> _Built:
    """A calendar covering the decades ``first_decade`` to ``last_decade`` (cached).

    Where the calendar cannot start that early (precomputed calendars have a first date),
    it starts where ``exchange_calendars`` lets it; :func:`sessions` fills in weekdays. A
    calendar that cannot be built at all (a rule the installed pandas cannot evaluate) covers
    nothing, so the whole range falls back to weekdays.
    """
    import exchange_calendars  # type: ignore[import-untyped]  # noqa: PLC0415 - slow import

    start = max(dt.date(first_decade * _DECADE, 1, 1), _EARLIEST)
    end = dt.date(last_decade * _DECADE + _DECADE - 1, 12, 31)
    with _quiet():
        wanted: tuple[dt.date | None, dt.date | None]
        for wanted in ((start, end), (None, end), (None, None)):
            pairs = zip(("start", "end"), wanted, strict=True)
            bounds = {key: pd.Timestamp(value) for key, value in pairs if value}
            try:
                calendar = exchange_calendars.get_calendar(name, **bounds)
            except ValueError:  # out of the calendar's bounds: try narrower
                continue
            except Exception:  # a rule this pandas cannot evaluate: weekdays, said in the note
                break
            first = wanted[0] or calendar.first_session.date()
            last = wanted[1] if wanted[1] and calendar.last_session.date() <= wanted[1] else None
            return _Built(calendar, first, last or calendar.last_session.date())
    return _Built(None, dt.date.max, dt.date.min)


class _quiet(warnings.catch_warnings):
    """Silence the deprecation warnings newer pandas raises inside ``exchange_calendars``."""

    def __enter__(self) -> None:
        super().__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
