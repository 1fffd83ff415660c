"""The synthetic market: symbols, bars, splits and dividends, as the emulator serves them.

Pure (no I/O) and deterministic for a seed. Symbols are generated lazily, one at a time, and
kept in a bounded LRU cache of compact integer arrays. This is also the Python API that
tests use to compare a database with what the emulator served::

    market = Market(seed=7, exchanges=("US",), symbols=50, today=dt.date(2024, 6, 28))
    market.bars("AAPL.US")        # exactly what /eod/AAPL.US returns for the full range
    market.splits("AAPL.US"), market.dividends("AAPL.US")
    market.symbols("US")          # the active symbol list
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

import numpy as np

from data_nexus.emulator.adjustment import SymbolView, build_view
from data_nexus.emulator.exchanges import ExchangeSpec, TradingCalendar, exchange_spec
from data_nexus.emulator.formats import scaled
from data_nexus.emulator.prices import Injection, RawSeries, generate
from data_nexus.emulator.universe import Profile, Universe
from data_nexus.records import Bar, Dividend, ExchangeInfo, ListedSymbol, Split

DEFAULT_START = dt.date(2000, 1, 3)


def normalize_symbol(symbol: str) -> tuple[str, str]:
    """``(CODE, EXCHANGE)`` of ``CODE.EXCHANGE`` (upper-cased; no suffix means US)."""
    code, dot, exchange = symbol.strip().upper().rpartition(".")
    if not dot:
        return exchange, "US"
    return code, exchange


def parse_split(text: str) -> tuple[Decimal, Decimal]:
    """``"4/1"`` or ``"4.000000/1.000000"`` as ``(new, old)``, both positive."""
    new, slash, old = text.partition("/")
    try:
        pair = (Decimal(new.strip()), Decimal(old.strip()))
    except InvalidOperation:
        pair = (Decimal(0), Decimal(0))
    if not slash or not all(p.is_finite() and p > 0 for p in pair):
        raise ValueError(f"invalid split ratio {text!r}: expected NEW/OLD such as 4/1")
    return pair


class Market:
    """Deterministic synthetic exchanges, symbols and daily history up to :attr:`today`."""

    def __init__(
        self,
        *,
        today: dt.date,
        seed: int = 42,
        exchanges: Sequence[str] = ("US",),
        symbols: int = 20,
        start: dt.date = DEFAULT_START,
        delisted_fraction: float = 0.05,
        cache_size: int = 4096,
    ) -> None:
        if today < start:
            raise ValueError(f"today {today} is before the start of history {start}")
        self.seed = seed
        self.start = start
        self.exchange_codes = tuple(dict.fromkeys(code.upper() for code in exchanges))
        self._specs = {code: exchange_spec(code) for code in self.exchange_codes}
        self._count = symbols
        self._delisted_fraction = delisted_fraction
        self._initial_today = today
        self._today = today
        self._lock = threading.RLock()
        self._universes: dict[str, Universe] = {}
        self._calendars = {c: TradingCalendar(s, start) for c, s in self._specs.items()}
        self._views: OrderedDict[str, SymbolView] = OrderedDict()
        self._cache_size = cache_size
        self._injections: dict[str, list[Injection]] = {}
        #: Bumped whenever served data changes (``advance``); keys render caches.
        self.version = 0

    @property
    def today(self) -> dt.date:
        """The emulated current date: history ends here, bulk defaults to it."""
        return self._today

    # --- exchanges and symbols ---------------------------------------------------------------

    def spec(self, exchange: str) -> ExchangeSpec:
        """The spec of a configured exchange, or :class:`KeyError`."""
        return self._specs[exchange.upper()]

    def exchanges(self) -> list[ExchangeInfo]:
        """The ``/exchanges-list`` rows of the configured exchanges."""
        return [spec.info() for spec in self._specs.values()]

    def universe(self, exchange: str) -> Universe:
        """The universe of a configured exchange (built on first use), or :class:`KeyError`."""
        code = exchange.upper()
        with self._lock:
            if code not in self._universes:
                self._universes[code] = Universe(
                    self._specs[code],
                    seed=self.seed,
                    count=self._count,
                    delisted_fraction=self._delisted_fraction,
                    start=self.start,
                    today=self._initial_today,
                )
            return self._universes[code]

    def symbols(self, exchange: str, include_delisted: bool = False) -> list[ListedSymbol]:
        """The symbol list of ``exchange`` sorted by code (active ones unless told otherwise)."""
        if exchange.upper() not in self._specs:
            return []
        return self.universe(exchange).listed(include_delisted=include_delisted)

    def delisted_symbols(self, exchange: str) -> list[ListedSymbol]:
        """Only the delisted symbols of ``exchange`` (what ``delisted=1`` lists)."""
        if exchange.upper() not in self._specs:
            return []
        return self.universe(exchange).listed(only_delisted=True)

    def profile(self, symbol: str) -> Profile | None:
        """The generator profile of ``symbol`` (``CODE.EX``), or None if it does not exist."""
        code, exchange = normalize_symbol(symbol)
        if exchange not in self._specs:
            return None
        return self.universe(exchange).profiles.get(code)

    def listing(self, symbol: str) -> ListedSymbol | None:
        """The symbol-list row of ``symbol``, delisted or not, or None if unknown."""
        profile = self.profile(symbol)
        return profile.listed if profile else None

    # --- calendars ----------------------------------------------------------------------------

    def trading_days(self, exchange: str, start: dt.date, end: dt.date) -> list[dt.date]:
        """The exchange's trading days in ``[start, end]``."""
        return self._calendars[exchange.upper()].days(start, end)

    def build_calendars(self) -> None:
        """Compute every configured exchange's trading days now rather than on first use.

        The first exchange calendar of a process imports ``exchange_calendars`` (~0.5 s of
        CPU with pandas) and each takes 0.05-0.1 s; the server does this before it listens,
        so no request (and no benchmark timing one) pays for it.
        """
        for calendar in self._calendars.values():
            calendar.ordinals(self._today)

    def last_trading_day(self, exchange: str, on_or_before: dt.date | None = None) -> dt.date:
        """The last trading day of ``exchange`` on or before ``on_or_before`` (default today)."""
        day = self._calendars[exchange.upper()].last_on_or_before(on_or_before or self._today)
        return day or self.start

    # --- history ------------------------------------------------------------------------------

    def view(self, symbol: str) -> SymbolView:
        """The served history of ``symbol`` as compact arrays (cached), or :class:`KeyError`."""
        code, exchange = normalize_symbol(symbol)
        key = f"{code}.{exchange}"
        with self._lock:
            cached = self._views.get(key)
            if cached is not None:
                self._views.move_to_end(key)
                return cached
            profile = self.profile(key)
            if profile is None:
                raise KeyError(f"unknown symbol {symbol!r}")
            view = self._build(profile, self._today, self._injections.get(key, ()))
            self._views[key] = view
            while len(self._views) > self._cache_size:
                self._views.popitem(last=False)
            return view

    def raw_series(self, symbol: str) -> RawSeries:
        """The unadjusted rows and events of ``symbol`` (not cached; for checks and tests)."""
        profile = self.profile(symbol)
        if profile is None:
            raise KeyError(f"unknown symbol {symbol!r}")
        with self._lock:
            return self._raw(profile, self._today, self._injections.get(profile.symbol, ()))

    def _raw(self, profile: Profile, today: dt.date, injections: Sequence[Injection]) -> RawSeries:
        exchange = profile.listed.exchange
        ordinals = self._calendars[exchange].ordinals(today)
        last = min(today, profile.delisted or today)
        lo = int(np.searchsorted(ordinals, profile.listing.toordinal(), side="left"))
        hi = int(np.searchsorted(ordinals, last.toordinal(), side="right"))
        return generate(profile, ordinals[lo:hi], self._specs[exchange].price_digits, injections)

    def _build(
        self, profile: Profile, today: dt.date, injections: Sequence[Injection]
    ) -> SymbolView:
        spec = self._specs[profile.listed.exchange]
        raw = self._raw(profile, today, injections)
        currency = profile.listed.currency or spec.currency
        view = build_view(profile.symbol, raw, spec.adjusted_digits, currency)
        view.version = self.version
        return view

    def bars(
        self, symbol: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[Bar]:
        """Daily bars of ``symbol`` exactly as ``/eod`` returns them, as exact decimals."""
        view = self.view(symbol)
        lo, hi = view.rows_between(
            start.toordinal() if start else None, end.toordinal() if end else None
        )
        return [self._bar(view, row) for row in range(lo, hi)]

    def bar_on(self, symbol: str, day: dt.date) -> Bar | None:
        """The bar of ``symbol`` on ``day``, or None if it did not trade then."""
        view = self.view(symbol)
        row = view.row_on(day.toordinal())
        return None if row is None else self._bar(view, row)

    @staticmethod
    def _bar(view: SymbolView, row: int) -> Bar:
        p, a = view.price_digits, view.adjusted_digits
        return Bar(
            symbol=view.symbol,
            date=dt.date.fromordinal(int(view.ordinals[row])),
            open=Decimal(scaled(int(view.open[row]), p)),
            high=Decimal(scaled(int(view.high[row]), p)),
            low=Decimal(scaled(int(view.low[row]), p)),
            close=Decimal(scaled(int(view.close[row]), p)),
            adjusted_close=Decimal(scaled(int(view.adjusted_close[row]), a)),
            volume=int(view.volume[row]),
        )

    def splits(self, symbol: str) -> list[Split]:
        """The splits of ``symbol`` up to today, oldest first (as ``/splits`` returns them)."""
        return list(self.view(symbol).splits)

    def dividends(self, symbol: str) -> list[Dividend]:
        """The dividends of ``symbol`` up to today, oldest first (as ``/div`` returns them)."""
        return list(self.view(symbol).dividends)

    def bulk_bars(self, exchange: str, day: dt.date | None = None) -> list[Bar]:
        """Every bar of ``exchange`` on ``day`` (default: the last trading day), by code."""
        day = day or self.last_trading_day(exchange)
        bars = []
        for profile in self.traded_on(exchange, day):
            bar = self.bar_on(profile.symbol, day)
            if bar is not None:
                bars.append(bar)
        return bars

    def traded_on(self, exchange: str, day: dt.date) -> list[Profile]:
        """Profiles of ``exchange`` listed on ``day`` and not yet gone, sorted by code."""
        if exchange.upper() not in self._specs or day > self._today:
            return []
        profiles = self.universe(exchange).profiles.values()
        return sorted(
            (p for p in profiles if p.listing <= day and (p.delisted is None or day <= p.delisted)),
            key=lambda p: p.listed.code,
        )

    # --- time ---------------------------------------------------------------------------------

    def advance(
        self,
        days: int = 1,
        *,
        splits: Mapping[str, str] | None = None,
        dividends: Mapping[str, Decimal | str | Sequence[Decimal | str]] | None = None,
    ) -> dt.date:
        """Move :attr:`today` forward ``days`` calendar days and return the new today.

        New bars appear for the new trading days. ``splits`` (``{"AAPL.US": "4/1"}``) and
        ``dividends`` (``{"AAPL.US": Decimal("0.25")}``, or a list of amounts for several
        dividends on one ex-date: ``{"AAPL.US": ["0.17", "0.34"]}``) take effect on each
        symbol's first new trading day; as with the real API, a split rewrites every earlier
        ``adjusted_close``, volume and dividend ``value``, and a dividend every earlier
        ``adjusted_close``. Raises :class:`ValueError` for an unknown symbol, a bad value or
        a symbol without a trading day in the new period.
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        with self._lock:
            old, new = self._today, self._today + dt.timedelta(days=days)
            wanted: dict[str, tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, ...]]] = {}
            for symbol, ratio in (splits or {}).items():
                wanted[self._known(symbol)] = (parse_split(ratio), ())
            for symbol, amount in (dividends or {}).items():
                amounts = [amount] if isinstance(amount, Decimal | str) else list(amount)
                values = tuple(_positive_decimal(a, symbol) for a in amounts)
                key = self._known(symbol)
                wanted[key] = (wanted.get(key, (None, ()))[0], values)
            planned: dict[str, Injection] = {}
            for key, (split, dividend) in wanted.items():
                profile = self.profile(key)
                assert profile is not None
                probe = self._raw(profile, new, self._injections.get(key, ())).ordinals
                first = int(np.searchsorted(probe, old.toordinal(), side="right"))
                if first >= len(probe):
                    raise ValueError(f"{key} has no trading day between {old} and {new}")
                day = dt.date.fromordinal(int(probe[first]))
                planned[key] = Injection(day, split=split, dividends=dividend)
            for key, injection in planned.items():
                self._injections.setdefault(key, []).append(injection)
            self._today = new
            self._views.clear()
            self.version += 1
            return new

    def _known(self, symbol: str) -> str:
        profile = self.profile(symbol)
        if profile is None:
            raise ValueError(f"unknown symbol {symbol!r}")
        return profile.symbol


def _positive_decimal(value: Decimal | str, symbol: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = Decimal(0)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"invalid dividend {value!r} for {symbol}: expected a positive amount")
    return amount
