"""The symbols of each exchange and the parameters that drive their synthetic prices.

An exchange's universe is a deterministic stream of codes for ``(seed, exchange)``: a few
well-known codes first (``AAPL``, ``MSFT``, ``TSLA``, ``VTI``, ``AMZN``, ``BRK-B`` … on US),
then invented ones. The first ``count`` codes are active; the next
``ceil(count * delisted_fraction)`` stopped trading before the initial *today*. Every
parameter of a symbol comes from its own key ``(seed, symbol)``, so a symbol's history does
not depend on how many others there are.
"""

from __future__ import annotations

import datetime as dt
import math
import string
from dataclasses import dataclass, replace
from decimal import Decimal

from data_nexus.emulator.catalog import (
    COMPANY_SUFFIX,
    CURRENCIES,
    KNOWN,
    NAME_WORDS,
    TYPES_OTHER,
    TYPES_US,
    VENUES_US,
    Known,
    currency_pairs,
)
from data_nexus.emulator.exchanges import ExchangeSpec
from data_nexus.emulator.seeding import Draws, stable_key
from data_nexus.records import ListedSymbol

TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True, slots=True)
class DividendPlan:
    """Quarterly dividends from ``first`` on, sized at ``annual_yield`` of the price."""

    first: dt.date
    annual_yield: float


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything the price generator needs to know about one symbol."""

    listed: ListedSymbol
    key: int
    listing: dt.date
    delisted: dt.date | None
    price: float  # price on the listing day
    drift: float  # per trading day, in log terms
    volatility: float  # per trading day
    reversion: float  # pull towards the listing price per day; 0 means a random walk
    split_high: float | None  # price that triggers a forward split
    split_low: float | None  # price that triggers a reverse split
    volume: float  # typical daily volume at listing; 0 means no volume at all
    flat: bool  # open = high = low = close (mutual funds)
    thin: float  # probability of a day without a row
    zero_volume: float  # probability of a day with a row but no trades
    dividend: DividendPlan | None
    fine_ticks: bool  # one unit of the last digit; otherwise cents above 1.00
    known_splits: tuple[tuple[dt.date, Decimal, Decimal], ...] = ()  # (ex-date, new, old)

    @property
    def symbol(self) -> str:
        """``CODE.EXCHANGE``."""
        return self.listed.symbol


@dataclass(frozen=True, slots=True)
class _Params:
    price: float
    drift: float  # per year
    volatility: float  # per day
    reversion: float = 0.0
    split_high: float | None = None
    split_low: float | None = None
    volume: float = 0.0
    flat: bool = False
    thin: float = 0.0
    zero_volume: float = 0.0
    payer: bool = False
    annual_yield: float = 0.02


def _params(spec: ExchangeSpec, asset_type: str, code: str, draws: Draws) -> _Params:
    """Price, volume and dividend behaviour by asset class and type."""
    level = spec.price_level
    stock = _Params(
        price=level * math.exp(0.7 * draws.normal()),
        drift=draws.uniform(-0.04, 0.16),
        volatility=draws.uniform(0.012, 0.032),
        split_high=level * draws.uniform(5.0, 12.0),
        split_low=level * 0.02,
        volume=10 ** draws.uniform(4.0, 7.5),
        thin=draws.uniform(0.05, 0.35) if draws.chance(0.12) else 0.0,
        zero_volume=0.001,
        payer=draws.chance(0.4),
        annual_yield=draws.uniform(0.005, 0.05),
    )
    if spec.asset_class == "forex":
        value = CURRENCIES[code[:3]] / CURRENCIES[code[3:]] * math.exp(0.1 * draws.normal())
        return _Params(value, 0.0, draws.uniform(0.004, 0.007), reversion=0.002)
    if spec.asset_class == "commodity":  # continuous futures: no splits, no dividends
        price, volatility = level * math.exp(0.7 * draws.normal()), draws.uniform(0.012, 0.03)
        return _Params(
            price, draws.uniform(-0.02, 0.06), volatility, volume=10 ** draws.uniform(4, 6)
        )
    if spec.asset_class == "crypto":
        price, drift = 10 ** draws.uniform(-2.0, 2.0), draws.uniform(0.0, 0.4)
        return _Params(price, drift, draws.uniform(0.025, 0.05), volume=10 ** draws.uniform(6, 9))
    if asset_type == "ETF":
        return replace(
            stock,
            drift=draws.uniform(0.02, 0.1),
            volatility=draws.uniform(0.007, 0.015),
            split_low=None,
            volume=10 ** draws.uniform(3.5, 6.5),
            payer=draws.chance(0.6),
        )
    if asset_type == "FUND":  # a mutual fund: one NAV a day, no volume
        drift, volatility = draws.uniform(0.02, 0.08), draws.uniform(0.004, 0.01)
        return _Params(draws.uniform(8.0, 60.0), drift, volatility, flat=True, payer=True)
    if asset_type == "Preferred Stock":  # pinned near par, always paying
        return _Params(
            25.0,
            0.0,
            0.004,
            reversion=0.01,
            volume=10 ** draws.uniform(3.0, 5.0),
            thin=stock.thin,
            payer=True,
            annual_yield=draws.uniform(0.05, 0.07),
        )
    return stock


def _known_params(params: _Params, known: Known, spec: ExchangeSpec) -> _Params:
    """A well-known symbol: its own price and drift, real splits only, busy trading."""
    volume = 10 ** (6.0 + math.log10(params.volume) / 7.5) if params.volume > 0 else 0.0
    natural_splits = spec.asset_class != "stock"
    return replace(
        params,
        price=known.price,
        drift=known.drift,
        volatility=min(params.volatility, 0.02),
        reversion=params.reversion if natural_splits else 0.004,  # stay near the trend
        thin=0.0,
        volume=volume,
        payer=known.dividends_from is not None,
        annual_yield=known.annual_yield or params.annual_yield,
        split_high=params.split_high if natural_splits else None,
        split_low=params.split_low if natural_splits else None,
    )


def isin_check_digit(body: str) -> str:
    """The ISO 6166 check digit of an 11-character ISIN body (Luhn over letter values)."""
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


class Universe:
    """The listed and delisted symbols of one exchange, with their generator profiles."""

    def __init__(
        self,
        spec: ExchangeSpec,
        *,
        seed: int,
        count: int,
        delisted_fraction: float,
        start: dt.date,
        today: dt.date,
    ) -> None:
        self.spec = spec
        self._seed = seed
        self._start = start
        self._today = today
        can_delist = (today - start).days >= 400 and spec.asset_class != "forex"
        delisted = math.ceil(count * delisted_fraction) if can_delist else 0
        self.profiles: dict[str, Profile] = {}
        for index, (code, kind) in enumerate(self._codes(count + delisted)):
            profile = self._profile(code, kind, delisted=index >= count)
            self.profiles[code] = profile

    def listed(
        self, *, include_delisted: bool = False, only_delisted: bool = False
    ) -> list[ListedSymbol]:
        """Symbol-list rows sorted by code: active ones, optionally with or only delisted."""
        rows = []
        for profile in self.profiles.values():
            gone = profile.delisted is not None
            if (gone and (include_delisted or only_delisted)) or (not gone and not only_delisted):
                rows.append(profile.listed)
        return sorted(rows, key=lambda row: row.code)

    # --- codes -------------------------------------------------------------------------------

    def _codes(self, total: int) -> list[tuple[str, str | Known]]:
        known = KNOWN.get(self.spec.code, ())
        picked: list[tuple[str, str | Known]] = [(k.code, k) for k in known[:total]]
        seen = {code for code, _ in picked}
        if self.spec.asset_class == "forex":
            return [(pair, "Currency") for pair in currency_pairs()[:total]]
        draws = Draws(stable_key(self._seed, self.spec.code, "universe"))
        while len(picked) < total:
            kind = self._kind(draws)
            code = self._invent_code(draws, kind)
            if code not in seen:
                seen.add(code)
                picked.append((code, kind))
        return picked

    def _kind(self, draws: Draws) -> str:
        if self.spec.asset_class == "crypto":
            return "Currency"
        if self.spec.asset_class == "commodity":
            return "Commodity"
        return draws.weighted(TYPES_US if self.spec.code == "US" else TYPES_OTHER)

    def _invent_code(self, draws: Draws, kind: str) -> str:
        letters = "".join(draws.choice(string.ascii_uppercase) for _ in range(draws.integer(3, 4)))
        if self.spec.asset_class == "crypto":
            return f"{letters}-USD"
        if self.spec.asset_class == "commodity":
            return letters[:2]
        if kind == "Preferred Stock":
            return f"{letters[:3]}-P{draws.choice('ABCDE')}"
        if kind == "Class B":
            return f"{letters[:3]}-B"
        if kind == "FUND":
            return f"{letters[:4]}X"
        if self.spec.code == "TO" and draws.chance(0.05):
            return f"{letters[:3]}-UN"
        return letters

    # --- profiles ----------------------------------------------------------------------------

    def _profile(self, code: str, kind: str | Known, *, delisted: bool) -> Profile:
        spec = self.spec
        key = stable_key(self._seed, f"{code}.{spec.code}")
        draws = Draws(stable_key(key, "profile"))
        known = kind if isinstance(kind, Known) else None
        if isinstance(kind, Known):
            asset_type = kind.asset_type
        else:
            asset_type = "Common Stock" if kind == "Class B" else kind
        listing = self._listing(draws, known)
        gone = self._delisting(draws, listing) if delisted else None
        params = _params(spec, asset_type, code, draws)
        known_splits: tuple[tuple[dt.date, Decimal, Decimal], ...] = ()
        if known is not None:
            params = _known_params(params, known, spec)
            known_splits = tuple(
                (dt.date.fromisoformat(day), Decimal(new), Decimal(old))
                for day, new, old in known.splits
            )
        plan = None
        if params.payer and spec.asset_class == "stock":
            first = listing + dt.timedelta(days=draws.integer(60, 400))
            if known is not None and known.dividends_from is not None:
                first = max(dt.date.fromisoformat(known.dividends_from), listing)
            plan = DividendPlan(first.replace(day=min(first.day, 28)), params.annual_yield)
        listed = ListedSymbol(
            code=code,
            exchange=spec.code,
            name=known.name if known else self._name(draws, code, asset_type),
            venue=known.venue if known else self._venue(draws, asset_type),
            country=spec.country,
            currency=code[3:] if spec.asset_class == "forex" else self._currency(),
            asset_type=asset_type,
            isin=known.isin if known else self._isin(draws, asset_type),
            delisted=gone is not None,
        )
        return Profile(
            listed=listed,
            key=key,
            listing=listing,
            delisted=gone,
            price=params.price,
            drift=params.drift / TRADING_DAYS_PER_YEAR,
            volatility=params.volatility,
            reversion=params.reversion,
            split_high=params.split_high,
            split_low=params.split_low,
            volume=params.volume,
            flat=params.flat,
            thin=params.thin,
            zero_volume=params.zero_volume,
            dividend=plan,
            fine_ticks=spec.asset_class in ("forex", "crypto"),
            known_splits=known_splits,
        )

    def _listing(self, draws: Draws, known: Known | None) -> dt.date:
        latest = self._today - dt.timedelta(days=365)
        if known is not None:
            ipo = dt.date.fromisoformat(known.ipo)
            return ipo if self._start <= ipo <= latest else self._start
        if latest > self._start and draws.chance(0.2):
            return self._start + dt.timedelta(days=draws.integer(0, (latest - self._start).days))
        return self._start

    def _delisting(self, draws: Draws, listing: dt.date) -> dt.date:
        first = listing + dt.timedelta(days=200)
        last = self._today - dt.timedelta(days=30)
        if first >= last:
            return max(listing, last)
        return first + dt.timedelta(days=draws.integer(0, (last - first).days))

    def _currency(self) -> str:
        return "USD" if self.spec.asset_class in ("crypto", "commodity") else self.spec.currency

    def _venue(self, draws: Draws, asset_type: str) -> str:
        if self.spec.code != "US":
            return self.spec.code
        return draws.weighted(VENUES_US.get(asset_type, VENUES_US["Common Stock"]))

    def _name(self, draws: Draws, code: str, asset_type: str) -> str:
        if self.spec.asset_class == "forex":
            return f"{code[:3]}/{code[3:]}"
        words = f"{draws.choice(NAME_WORDS[0])} {draws.choice(NAME_WORDS[1])}"
        if self.spec.asset_class == "crypto":
            return f"{words.split(maxsplit=1)[0]} Coin"
        if self.spec.asset_class == "commodity":
            return f"{words.split(maxsplit=1)[0]} Futures"
        if asset_type == "ETF":
            return f"{words} Select ETF"
        if asset_type == "FUND":
            return f"{words} Index Fund Investor Shares"
        if asset_type == "Preferred Stock":
            return (
                f"{words} {COMPANY_SUFFIX.get(self.spec.code, 'Inc')} Preferred Series {code[-1]}"
            )
        return f"{words} {COMPANY_SUFFIX.get(self.spec.code, 'Inc')}"

    def _isin(self, draws: Draws, asset_type: str) -> str | None:
        if self.spec.asset_class != "stock" or (asset_type == "FUND" and draws.chance(0.5)):
            return None
        alphabet = string.digits + string.ascii_uppercase
        body = self.spec.country_iso2 + "".join(draws.choice(alphabet) for _ in range(9))
        return body + isin_check_digit(body)
