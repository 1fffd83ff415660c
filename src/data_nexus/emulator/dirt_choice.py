"""Choosing where dirt goes (pure over the market): which symbols, which days.

A :class:`DirtPlan` says what one symbol serves: its kind, the market version it was set at
(what comes after the next advance differs for some kinds), and its days or shift.
:func:`choose` picks symbols for ``EmulatorConfig(dirty=…)`` deterministically from the seed;
:func:`unfit` says why a kind cannot go on a symbol; :func:`plan_dirt` places it. The kinds
themselves are described in :mod:`data_nexus.emulator.dirt`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from data_nexus.emulator.dirty_rows import WTI_DAY, free_weekdays, off_session_days
from data_nexus.emulator.market import Market
from data_nexus.emulator.seeding import stable_key, unit

DIRT_KINDS = (
    "null_prices",
    "bad_actions",
    "negative_prices",
    "tiny_prices",
    "future_bars",
    "retracted_split",
    "plan_limited",
    "reused_ticker",
    "symbol_spelling",
    "off_session_bar",
)
_NEGATIVE = ("Common Stock", "Commodity")
_OIL = "CL.COMM"


@dataclass(slots=True)
class DirtPlan:
    """The dirt one symbol serves."""

    symbol: str
    kind: str
    since: int  # market version when injected: "after" is any later version
    days: tuple[dt.date, ...] = ()
    shift: int = 0  # tiny_prices: powers of ten
    split_day: dt.date | None = None  # plan_limited: once the real split is in the market


def choose(market: Market, seed: int, kind: str, plans: dict[str, DirtPlan]) -> None:
    """Add to ``plans`` the symbols ``seed`` picks for ``kind`` (one, or one per variant).

    Deterministic: candidates are ordered by a key of the seed, the kind and the symbol; a
    symbol already in ``plans`` or unfit for the kind is passed over.
    """
    if kind not in DIRT_KINDS:
        raise ValueError(f"unknown dirt kind {kind!r} (known: {', '.join(DIRT_KINDS)})")
    candidates = [
        listed.symbol for exchange in market.exchange_codes for listed in market.symbols(exchange)
    ]
    candidates.sort(key=lambda symbol: stable_key(seed, "dirt", kind, symbol))
    variants = ["", ""]
    if kind == "tiny_prices":  # crypto first, where such prices are real
        candidates.sort(key=lambda symbol: not symbol.endswith(".CC"))
    if kind == "symbol_spelling":
        variants = ["dotted", "lower"]
        candidates.sort(key=lambda symbol: symbol != "BRK-B.US")
    elif kind == "negative_prices" and "COMM" in market.exchange_codes:
        variants = ["Commodity", "Common Stock"]  # legitimate, and a finding
        candidates.sort(key=lambda symbol: symbol != _OIL)
    wanted = 1 if variants == ["", ""] else 2
    for symbol in candidates:
        if wanted == 0:
            return
        if symbol in plans:
            continue
        if kind == "symbol_spelling" and (variants[0] == "dotted") != classed(symbol):
            continue
        if kind == "negative_prices" and variants[0]:
            listing = market.listing(symbol)
            if listing is None or listing.asset_type != variants[0]:
                continue
        if unfit(market, symbol, kind) is None:
            plans[symbol] = plan_dirt(market, seed, symbol, kind)
            wanted -= 1
            variants.pop(0)


def unfit(market: Market, symbol: str, kind: str) -> str | None:
    """Why ``kind`` cannot be served on ``symbol``, or None when it can."""
    profile = market.profile(symbol)
    assert profile is not None
    view = market.view(symbol)
    asset_class = market.spec(profile.listed.exchange).asset_class
    if len(view) < 40:
        return "it has fewer than 40 bars"
    if kind == "null_prices" and not free_weekdays(view):
        return "it trades every weekday"
    if kind == "bad_actions" and not view.dividends:
        return "it pays no dividend"
    if kind == "negative_prices" and profile.listed.asset_type not in _NEGATIVE:
        return "negative prices are served on common stock or commodities only"
    if kind in ("bad_actions", "retracted_split", "symbol_spelling") and asset_class != "stock":
        return "it is not a stock"
    if kind in ("retracted_split", "plan_limited", "future_bars") and profile.delisted:
        return "it is delisted"
    if kind == "plan_limited" and (asset_class != "stock" or profile.thin > 0):
        return "it is not a stock that trades every session"
    if kind == "plan_limited" and view.ordinals[0] > market.today.toordinal() - 400:
        return "its history is shorter than a year"
    if kind == "tiny_prices" and profile.flat:
        return "it is a fund"
    if kind == "off_session_bar" and market.spec(profile.listed.exchange).weekends:
        return "its exchange trades every day"
    return None


def plan_dirt(market: Market, seed: int, symbol: str, kind: str) -> DirtPlan:
    """Where ``kind`` goes on ``symbol``: its days (or shift), from a key of the seed."""
    view = market.view(symbol)
    key = stable_key(seed, "dirt", kind, symbol)
    plan = DirtPlan(symbol, kind, market.version)
    n = len(view)
    taken = {s.date for s in view.splits} | {d.date for d in view.dividends}
    days = [dt.date.fromordinal(int(o)) for o in view.ordinals]
    free = [d for d in days[n // 2 : n - 5] if d not in taken]

    def pick(count: int, salt: int) -> list[dt.date]:
        chosen: set[dt.date] = set()
        index = 0
        while len(chosen) < min(count, len(free)):
            chosen.add(free[int(unit(key, index, salt) * len(free))])
            index += 1
        return sorted(chosen)

    if kind == "null_prices":
        weekdays = free_weekdays(view)
        plan.days = (weekdays[-1 - int(unit(key, 0) * min(len(weekdays), 5))],)
    elif kind == "bad_actions":
        plan.days = tuple(pick(5, 1))
    elif kind == "negative_prices":
        plan.days = (WTI_DAY,) if WTI_DAY in days else (days[n - 20],)
    elif kind == "tiny_prices":
        lowest = min(int(v) for v in view.close if v > 0)
        plan.shift = max(0, len(str(lowest)) - view.price_digits + 8)
    elif kind == "retracted_split":
        plan.days = (days[n - 30],) if days[n - 30] not in taken else tuple(pick(1, 2))
    elif kind == "reused_ticker":
        plan.days = (days[0],)
    elif kind == "off_session_bar":
        exchange = symbol.rpartition(".")[2]
        open_days = market.trading_days(exchange, days[n // 2], days[n - 5])
        plan.days = off_session_days(view, {d.toordinal() for d in open_days}, key)
    return plan


def classed(symbol: str) -> bool:
    """Whether a code ends in a share-class suffix (``BRK-B``), which venues write with a dot."""
    base, dash, suffix = symbol.rpartition(".")[0].rpartition("-")
    return bool(dash and base and 1 <= len(suffix) <= 2)
