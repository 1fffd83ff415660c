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
be read as the guess it is; :attr:`Sessions.exact_from`/:attr:`Sessions.exact_to` bound the
dates the calendar itself decided (the only ones on which a bar can be called off-session).

Range: calendars are built per decade from 1990 (:data:`EARLIEST`) on; rule-based calendars
(all those above) have no upper bound, precomputed ones (``XKRX``, ``XSHG``, …) end a year or
so after the installed ``exchange_calendars`` was released, and later dates are weekdays, said
in the note. ``24/5`` and ``24/7`` are computed here, without importing ``exchange_calendars``
(slow: ~0.5 s with pandas), for any date. Each calendar's sessions are kept per process as day
ordinals, so answering a range costs two binary searches.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
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
#: No ``exchange_calendars`` calendar is built to start before this.
EARLIEST = dt.date(1990, 1, 1)
#: Calendars computed here: every weekday, every day (no holidays, no bounds).
_ALWAYS = {"24/5": 5, "24/7": 7}
_EPOCH = dt.date(1970, 1, 1).toordinal()
Ordinals = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class Sessions:
    """The trading sessions of one exchange between two dates (both inclusive).

    ``days`` are sorted dates; ``calendar`` is the ``exchange_calendars`` name used, or None
    when none is mapped; ``approximate`` is True when some or all of ``days`` are plain
    weekdays (no calendar, or dates outside the calendar's range); ``note`` says which, in one
    line, for a finding's detail. ``exact_from``..``exact_to`` (inclusive; both None when the
    calendar decided nothing) is the part of the range whose days are the calendar's own: a
    date there and not in ``days`` is certainly no session.
    """

    exchange: str
    calendar: str | None
    days: tuple[dt.date, ...]
    approximate: bool
    note: str
    exact_from: dt.date | None = None
    exact_to: dt.date | None = None

    def decides(self, day: dt.date) -> bool:
        """Whether the calendar itself says if ``day`` is a session (not a weekday guess)."""
        return (
            self.exact_from is not None
            and self.exact_to is not None
            and self.exact_from <= day <= self.exact_to
        )


def calendar_name(exchange: str) -> str | None:
    """The ``exchange_calendars`` name for an EODHD exchange code (any case), or None."""
    return EXCHANGE_CALENDARS.get(exchange.strip().upper())


def sessions(exchange: str, start: dt.date, end: dt.date) -> Sessions:
    """The sessions of ``exchange`` from ``start`` to ``end`` (inclusive; empty if reversed).

    Calendars are built once per range of decades and cached (building one takes ~0.1 s,
    the first also imports ``exchange_calendars``: ~0.5 s).
    """
    code = exchange.strip().upper()
    name = calendar_name(code)
    if end < start:
        return Sessions(code, name, (), name is None, _note(name, None, None))
    if name is None:
        return Sessions(code, None, tuple(_weekdays(start, end)), True, _note(None, None, None))
    built = _calendar(name, start.year // _DECADE, end.year // _DECADE)
    if built.first > built.last:
        days = _weekdays(start, end)
        note = f"calendar {name} cannot be built here: weekdays assumed"
        return Sessions(code, name, tuple(days), True, note)
    first, last = built.first, built.last
    before = min(end, first - dt.timedelta(days=1)) if start < first else None
    after = max(start, last + dt.timedelta(days=1)) if end > last else None
    days = _weekdays(start, before) if before else []
    low, high = max(start, first), min(end, last)
    exact: tuple[dt.date | None, dt.date | None] = (None, None)
    if low <= high:
        ordinals = built.ordinals
        lo = int(np.searchsorted(ordinals, low.toordinal(), side="left"))
        hi = int(np.searchsorted(ordinals, high.toordinal(), side="right"))
        days += map(dt.date.fromordinal, ordinals[lo:hi].tolist())
        exact = (low, high)
    if after:
        days += _weekdays(after, end)
    approximate = before is not None or after is not None
    return Sessions(code, name, tuple(days), approximate, _note(name, before, after), *exact)


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
    ordinals: Ordinals  # sorted ``date.toordinal()`` of every session in first..last
    first: dt.date  # the calendar covers first..last (both inclusive); first > last: nothing
    last: dt.date


_BUILD_LOCK = threading.Lock()


def _calendar(name: str, first_decade: int, last_decade: int) -> _Built:
    """The sessions of the decades ``first_decade`` to ``last_decade`` (cached per process).

    Where the calendar cannot start that early (precomputed calendars have a first date),
    it starts where ``exchange_calendars`` lets it; :func:`sessions` fills in weekdays. A
    calendar that cannot be built at all (a rule the installed pandas cannot evaluate) covers
    nothing, so the whole range falls back to weekdays. One build at a time: threads asking
    for the same calendar wait for the first instead of building it twice.
    """
    with _BUILD_LOCK:
        return _build(name, first_decade, last_decade)


@functools.lru_cache(maxsize=256)
def _build(name: str, first_decade: int, last_decade: int) -> _Built:
    start = dt.date(first_decade * _DECADE, 1, 1)
    end = dt.date(last_decade * _DECADE + _DECADE - 1, 12, 31)
    if name in _ALWAYS:
        days = np.arange(start.toordinal(), end.toordinal() + 1, dtype=np.int32)
        if _ALWAYS[name] == 5:
            days = days[(days - 1) % 7 < 5]  # ordinal 1 (0001-01-01) was a Monday
        return _Built(days, start, end)
    import exchange_calendars  # type: ignore[import-untyped]  # noqa: PLC0415 - slow import
    import pandas as pd  # noqa: PLC0415 - only with exchange_calendars

    start = max(start, EARLIEST)
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
            # Built from ``start`` (to ``end``) when asked so, even if that day is a holiday.
            first = wanted[0] or calendar.first_session.date()
            last = wanted[1] or calendar.last_session.date()
            return _Built(_ordinals(calendar.sessions), first, last)
    return _Built(np.empty(0, dtype=np.int32), dt.date.max, dt.date.min)


def _ordinals(index: pd.DatetimeIndex) -> Ordinals:
    """``date.toordinal()`` of each session label (midnight, timezone-naive)."""
    epoch_days = index.values.astype("datetime64[D]").astype(np.int64)
    return (epoch_days + _EPOCH).astype(np.int32)


class _quiet(warnings.catch_warnings):
    """Silence the deprecation warnings newer pandas raises inside ``exchange_calendars``."""

    def __enter__(self) -> None:
        super().__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
