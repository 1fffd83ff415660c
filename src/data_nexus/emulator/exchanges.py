"""The exchanges the emulator knows: their list entries, price precision and trading days.

Trading days are the exchange's real sessions from ``exchange_calendars``, through the same
mapping and cache ``datanexus check`` judges them with
(:func:`data_nexus.quality.calendars.sessions`: ``US`` trades on NYSE sessions, ``LSE`` on
``XLON``'s, ``FOREX`` Monday to Friday, ``CC`` every day, ``COMM`` on the CME's), so a clean
emulated history has neither a gap nor a bar on a holiday. Where that calendar decides
nothing (an exchange without one, dates before 1990 or past a precomputed calendar's end, a
calendar the installed pandas cannot build), the emulator falls back to its own rule: Monday
to Friday minus a few fixed-date holidays per exchange (:attr:`ExchangeSpec.holidays`), which
``check`` then reads as a guess ("weekdays assumed"). ``COMM`` stands for continuous
commodity futures (crude oil, gold, …); the code is the emulator's own choice, as the real
API's commodity coverage is not described in ``eodhd-api.md``.

Cost: the first calendar a process builds imports ``exchange_calendars`` (~0.45 s of CPU with
pandas) and each calendar takes 0.05-0.15 s, once per process (``CC`` and ``FOREX`` cost
nothing). The server builds them before it listens (``Market.build_calendars()``); a
``Market`` used directly builds one on first use; importing this module imports neither.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from data_nexus.records import ExchangeInfo

AssetClass = Literal["stock", "forex", "crypto", "commodity"]
Ordinals = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """Static facts about one exchange code."""

    code: str
    name: str
    operating_mic: str | None
    country: str
    currency: str
    country_iso2: str
    country_iso3: str
    asset_class: AssetClass
    holidays: tuple[tuple[int, int], ...]  # (month, day): the fallback rule's closed days
    weekends: bool = False  # trades on Saturdays and Sundays
    price_digits: int = 4  # decimals of raw OHLC
    adjusted_digits: int = 4  # decimals of adjusted_close
    price_level: float = 50.0  # typical price of a synthetic symbol

    def info(self) -> ExchangeInfo:
        """This exchange as a row of ``/exchanges-list``."""
        mics = tuple(m.strip() for m in (self.operating_mic or "").split(",") if m.strip())
        return ExchangeInfo(
            code=self.code,
            name=self.name,
            operating_mics=mics,
            country=self.country,
            currency=self.currency,
            country_iso2=self.country_iso2,
            country_iso3=self.country_iso3,
        )


EXCHANGES: dict[str, ExchangeSpec] = {
    spec.code: spec
    for spec in (
        ExchangeSpec(
            "US",
            "USA Stocks",
            "XNAS, XNYS, OTCM",
            "USA",
            "USD",
            "US",
            "USA",
            "stock",
            holidays=((1, 1), (7, 4), (12, 25)),
        ),
        ExchangeSpec(
            "LSE",
            "London Exchange",
            "XLON",
            "UK",
            "GBX",
            "GB",
            "GBR",
            "stock",
            holidays=((1, 1), (12, 25), (12, 26)),
            price_level=600.0,
        ),
        ExchangeSpec(
            "XETRA",
            "XETRA Stock Exchange",
            "XETR",
            "Germany",
            "EUR",
            "DE",
            "DEU",
            "stock",
            holidays=((1, 1), (5, 1), (12, 24), (12, 25), (12, 26), (12, 31)),
            price_level=60.0,
        ),
        ExchangeSpec(
            "TO",
            "Toronto Exchange",
            "XTSE",
            "Canada",
            "CAD",
            "CA",
            "CAN",
            "stock",
            holidays=((1, 1), (7, 1), (12, 25), (12, 26)),
            price_level=40.0,
        ),
        ExchangeSpec(
            "FOREX",
            "FOREX",
            "CDSL",
            "Unknown",
            "Unknown",
            "",
            "",
            "forex",
            holidays=((1, 1), (12, 25)),
            price_digits=5,
            adjusted_digits=6,
            price_level=1.0,
        ),
        ExchangeSpec(
            "CC",
            "Cryptocurrencies",
            None,
            "Unknown",
            "Unknown",
            "",
            "",
            "crypto",
            holidays=(),
            weekends=True,
            price_digits=6,
            adjusted_digits=6,
            price_level=5.0,
        ),
        ExchangeSpec(
            "COMM",
            "Commodities",
            None,
            "Unknown",
            "USD",
            "",
            "",
            "commodity",
            holidays=((1, 1), (7, 4), (12, 25)),
            price_level=60.0,
        ),
    )
}

#: Venue codes the bulk endpoint accepts in place of ``US``, and the venue they select.
US_VENUES = {"NYSE": "NYSE", "NASDAQ": "NASDAQ", "BATS": "BATS", "AMEX": "NYSE MKT"}


def exchange_spec(code: str) -> ExchangeSpec:
    """The spec of ``code`` (case-insensitive), or :class:`KeyError`."""
    return EXCHANGES[code.upper()]


class TradingCalendar:
    """The trading days of one exchange from a start date, computed once and extended lazily."""

    def __init__(self, spec: ExchangeSpec, start: dt.date) -> None:
        self.spec = spec
        self.start = start
        self._lock = threading.Lock()
        self._ordinals: Ordinals = np.empty(0, dtype=np.int32)
        self._horizon = start - dt.timedelta(days=1)

    def ordinals(self, until: dt.date) -> Ordinals:
        """Ordinals (``date.toordinal()``) of every trading day from ``start`` to ``until``."""
        with self._lock:
            if until > self._horizon:
                self._extend(until + dt.timedelta(days=400))
            end = int(np.searchsorted(self._ordinals, until.toordinal(), side="right"))
            return self._ordinals[:end]

    def _extend(self, horizon: dt.date) -> None:
        # Deferred: the calendars module pulls in exchange_calendars (and pandas) when used.
        from data_nexus.quality.calendars import sessions  # noqa: PLC0415

        days = fallback_days(self.spec, self.start, horizon)
        real = sessions(self.spec.code, self.start, horizon)
        if real.exact_from is not None and real.exact_to is not None:
            lo, hi = real.exact_from.toordinal(), real.exact_to.toordinal()
            exact = np.fromiter(
                (d.toordinal() for d in real.days if real.decides(d)), dtype=np.int32
            )
            days = np.concatenate((days[days < lo], exact, days[days > hi]))
        self._ordinals = days
        self._horizon = horizon

    def days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Trading days in ``[start, end]`` (both inclusive)."""
        ordinals = self.ordinals(end)
        first = int(np.searchsorted(ordinals, start.toordinal(), side="left"))
        return [dt.date.fromordinal(int(o)) for o in ordinals[first:]]

    def last_on_or_before(self, day: dt.date) -> dt.date | None:
        """The last trading day on or before ``day`` (None before the calendar starts)."""
        ordinals = self.ordinals(day)
        return dt.date.fromordinal(int(ordinals[-1])) if len(ordinals) else None

    def is_trading_day(self, day: dt.date) -> bool:
        """Whether the exchange trades on ``day``."""
        return self.last_on_or_before(day) == day


def fallback_days(spec: ExchangeSpec, start: dt.date, end: dt.date) -> Ordinals:
    """The fallback rule's trading days in ``[start, end]`` as ordinals: Monday to Friday
    (every day with ``weekends``) minus ``spec.holidays`` of every year."""
    days = np.arange(start.toordinal(), end.toordinal() + 1, dtype=np.int32)
    keep = np.ones(days.shape, dtype=bool)
    if not spec.weekends:
        keep &= (days - 1) % 7 < 5  # ordinal 1 (0001-01-01) was a Monday
    closed = [
        dt.date(year, month, day).toordinal()
        for year in range(start.year, end.year + 1)
        for month, day in spec.holidays
    ]
    if closed:
        keep &= ~np.isin(days, np.array(closed, dtype=np.int32))
    return days[keep]
