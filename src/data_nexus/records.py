"""Plain records that flow between the provider, the sync engine, storage and the query API.

They are frozen dataclasses with exact types: prices are :class:`~decimal.Decimal` built from
the provider's text (never through ``float``), dates are :class:`datetime.date` (a daily bar is
a trading date, not an instant), split ratios keep both sides as sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Generic, Literal, TypeVar

ActionType = Literal["split", "dividend"]


@dataclass(frozen=True, slots=True)
class Bar:
    """One daily bar of one symbol.

    ``open``/``high``/``low``/``close`` are as traded that day; ``adjusted_close`` is adjusted
    for splits and dividends by the provider; ``volume`` is adjusted for splits only (EODHD).
    """

    symbol: str
    date: dt.date
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal
    adjusted_close: Decimal | None
    volume: int | None


@dataclass(frozen=True, slots=True)
class Split:
    """A stock split on its ex-date: ``numerator`` new shares for ``denominator`` old ones.

    ``4/1`` is a forward split (prices divide by 4), ``1/20`` a reverse split.
    """

    symbol: str
    date: dt.date
    numerator: Decimal
    denominator: Decimal

    @property
    def ratio(self) -> Fraction:
        """New shares per old share, exactly."""
        return Fraction(self.numerator) / Fraction(self.denominator)

    action_type: ActionType = field(default="split", init=False)


@dataclass(frozen=True, slots=True)
class Dividend:
    """A cash dividend on its ex-date.

    ``value`` is the amount per share adjusted for later splits (EODHD's ``value``);
    ``unadjusted_value`` the amount as declared.
    """

    symbol: str
    date: dt.date
    value: Decimal
    unadjusted_value: Decimal | None = None
    currency: str | None = None
    declaration_date: dt.date | None = None
    record_date: dt.date | None = None
    payment_date: dt.date | None = None
    period: str | None = None

    action_type: ActionType = field(default="dividend", init=False)


CorporateAction = Split | Dividend


@dataclass(frozen=True, slots=True)
class ListedSymbol:
    """One row of an exchange's symbol list."""

    code: str
    exchange: str  # the exchange code we query with, e.g. ``US``
    name: str | None = None
    venue: str | None = None  # the provider's ``Exchange`` column, e.g. ``NASDAQ``
    country: str | None = None
    currency: str | None = None
    asset_type: str | None = None
    isin: str | None = None
    delisted: bool = False

    @property
    def symbol(self) -> str:
        """``CODE.EXCHANGE``, the key of the ``assets`` table."""
        return f"{self.code}.{self.exchange}"


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    """One row of the provider's exchanges list."""

    code: str
    name: str | None = None
    operating_mics: tuple[str, ...] = ()
    country: str | None = None
    currency: str | None = None
    country_iso2: str | None = None
    country_iso3: str | None = None


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """The account's quota as the provider reports it."""

    api_requests: int
    api_requests_date: dt.date | None
    daily_rate_limit: int
    extra_limit: int = 0
    subscription_type: str | None = None
    subscription_mode: str | None = None

    @property
    def remaining(self) -> int:
        """Calls left today (never negative)."""
        return max(0, self.daily_rate_limit + self.extra_limit - self.api_requests)


@dataclass(frozen=True, slots=True)
class Finding:
    """A provider row or a stored value that was judged and found wanting, for one asset.

    ``kind`` is one of :data:`FINDING_KINDS` (or a check's own kind); ``date`` the trading or
    ex-date it concerns (``None`` when the row had no usable date); ``detail`` one line
    naming the field and the value as sent. Findings are stored by
    :mod:`data_nexus.storage.findings` in the same transaction as the asset's data.
    """

    symbol: str
    date: dt.date | None
    kind: str
    detail: str


#: Kinds of finding judged while parsing and writing a bar.
BAR_FINDINGS = (
    "no_prices",  # no close (often no price at all): the bar is skipped
    "bad_bar",  # a value or the date could not be read: the row is skipped
    "out_of_range",  # a value outside any sane range (|price| >= 1E15, >30 places, volume)
    "future_bar",  # dated after the exchange's today: skipped
    "non_positive_price",  # a price <= 0 on common stock or an ETF: stored, and flagged
)
#: Kinds of finding judged while parsing and writing a corporate action.
ACTION_FINDINGS = (
    "bad_split",  # an impossible ratio (1/0, 0/1, negative, empty, unreadable): skipped
    "bad_action",  # no usable date, a missing or invalid amount, an unstorable text: skipped
    "duplicate_action",  # the same action sent twice: stored once
    "conflicting_splits",  # two different splits on one ex-date: both stored, flagged
)
FINDING_KINDS = BAR_FINDINGS + ACTION_FINDINGS


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """Records parsed from one body, plus warnings and findings that did not stop parsing.

    Warnings are one-line texts such as the free plan's one-year limit or skipped all-zero
    non-trading rows. ``findings`` are the rows of a well-formed body that could not become a
    record (no prices, an impossible split, an unreadable value …): each skipped row is one
    :class:`Finding`, for the caller to write with the asset's data.
    """

    records: Sequence[T]
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
