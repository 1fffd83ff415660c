"""Real-world dirt served on request: each kind of bad provider data of issue 9, per symbol.

A :class:`DirtBook` holds which symbols get which kind (chosen deterministically from the
seed for ``EmulatorConfig(dirty=…)``, or set per symbol through ``/_admin/dirt``), and
rewrites the bodies of ``/eod``, ``/splits``, ``/div`` and ``/exchange-symbol-list`` for
them. Every other row stays byte for byte the clean market's. :meth:`DirtBook.truth` lists
what was injected (symbol, date, kind, variant, whether a finding is expected), so tests can
assert one finding per injected fault. Kinds (see ``docs/emulator.md`` for the bodies):

- ``null_prices``: an extra row with null OHLC and adjusted close and volume 0, on a weekday
  the symbol has no bar (a holiday, as EODHD sends them);
- ``bad_actions``: impossible splits (``1.000000/0.000000``, ``0/1``, negative, empty), a
  split and a dividend dated ``0000-00-00``, a dividend without amounts, an exact duplicate
  dividend, and a second (special) dividend on a regular one's ex-date (legitimate: the
  served adjusted closes use the total);
- ``negative_prices``: one bar with a negative low and close (on 2020-04-20 WTI's own
  numbers, −40.32 and −37.63);
- ``tiny_prices``: the whole history shifted by powers of ten so the lowest close is below
  1e-8 (written as ``8.4401e-06`` is), and the last volume at BIGINT's limit;
- ``future_bars``: two bars dated after today (the next weekday, and 32 days on);
- ``retracted_split``: a 2:1 split (with adjusted closes and volumes rescaled) served until
  the market next advances, then gone;
- ``plan_limited``: on the next advance a real 4:1 split happens, and from then on ``/eod``
  returns only the last year, its last element carrying EODHD's free-plan ``warning``;
- ``reused_ticker``: until the market next advances the symbol serves another company's
  history (every price 1/15 of the clean one); afterwards the clean history (~15× higher);
- ``symbol_spelling``: the symbol list writes a code with a dot (``BRK.B``) or in lower case;
- ``off_session_bar``: a bar on a Saturday and one on a weekday holiday of the exchange's
  calendar (when its second half of history has one), repeating the previous bar's values.

Dirt applies to daily JSON and CSV ``/eod`` answers and to the same price rows and splits in
bulk answers (not to ``period=w|m``, ``filter=`` or bulk dividends, which stay clean).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction

from data_nexus.emulator.adjustment import (
    SymbolView,
    adjusted_closes,
    dividend_value,
)
from data_nexus.emulator.dirty_rows import (
    BIGINT_MAX,
    NULL,
    WTI_DAY,
    Row,
    add_off_session,
    free_weekdays,
    future_days,
    make_negative,
    make_reused,
    make_tiny,
    off_session_days,
    over_reuse,
    rescale_before,
)
from data_nexus.emulator.formats import Columns, scaled
from data_nexus.emulator.injected import Injected, bad_action_truth, off_session_truth
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
PLAN_WARNING = "Data is limited by one year as you have free subscription."
_NEGATIVE = ("Common Stock", "Commodity")
_OIL = "CL.COMM"


@dataclass(slots=True)
class _Plan:
    symbol: str
    kind: str
    since: int  # market version when injected: "after" is any later version
    days: tuple[dt.date, ...] = ()
    shift: int = 0  # tiny_prices: powers of ten
    split_day: dt.date | None = None  # plan_limited: once the real split is in the market


class DirtBook:
    """The dirt set on a market (thread-safe); applied by the endpoint handlers."""

    def __init__(self, market: Market, kinds: Iterable[str] = (), seed: int = 42) -> None:
        self.market = market
        self.seed = seed
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.RLock()
        for kind in kinds:
            self._choose(kind)

    # --- setting dirt -------------------------------------------------------------------------

    def add(self, symbol: str, kind: str) -> list[Injected]:
        """Inject ``kind`` on ``symbol``; :class:`ValueError` if unknown, taken or impossible."""
        if kind not in DIRT_KINDS:
            raise ValueError(f"unknown dirt kind {kind!r} (known: {', '.join(DIRT_KINDS)})")
        profile = self.market.profile(symbol)
        if profile is None:
            raise ValueError(f"unknown symbol {symbol!r}")
        with self._lock:
            if profile.symbol in self._plans:
                taken = self._plans[profile.symbol].kind
                raise ValueError(f"{profile.symbol} already has dirt {taken!r}")
            problem = self._unfit(profile.symbol, kind)
            if problem:
                raise ValueError(f"cannot inject {kind} on {profile.symbol}: {problem}")
            plan = self._plan(profile.symbol, kind)
            self._plans[plan.symbol] = plan
            return self._truth_of(plan)

    def clear(self) -> None:
        """Remove every dirt (the market serves clean data again)."""
        with self._lock:
            self._plans.clear()

    def kind_of(self, symbol: str) -> str | None:
        """The dirt kind set on ``symbol`` (``CODE.EX``), or None."""
        return self._plans[symbol].kind if symbol in self._plans else None

    def truth(self) -> list[Injected]:
        """Every injected fault, by symbol then date (what ``GET /_admin/dirt`` lists)."""
        with self._lock:
            found = [item for plan in self._plans.values() for item in self._truth_of(plan)]
        return sorted(found, key=lambda i: (i.symbol, i.date or dt.date.min, i.variant))

    def snapshot(self) -> list[dict[str, object]]:
        """:meth:`truth` as plain dicts."""
        return [asdict(item) for item in self.truth()]

    def splits_on_advance(self, old: dt.date, new: dt.date) -> dict[str, dt.date]:
        """The ``plan_limited`` symbols due a real 4:1 split if today moves from old to new.

        Pure: the service adds ``"4/1"`` splits for them to the market's advance and then
        calls :meth:`record_splits` with those that took effect.
        """
        due = {}
        with self._lock:
            for plan in self._plans.values():
                if plan.kind != "plan_limited" or plan.split_day is not None:
                    continue
                exchange = plan.symbol.rpartition(".")[2]
                days = self.market.trading_days(exchange, old + dt.timedelta(days=1), new)
                if days:
                    due[plan.symbol] = days[0]
        return due

    def record_splits(self, done: dict[str, dt.date]) -> None:
        """Note the ``plan_limited`` splits that the market now has (see above)."""
        with self._lock:
            for symbol, day in done.items():
                if symbol in self._plans:
                    self._plans[symbol].split_day = day

    # --- choosing targets ---------------------------------------------------------------------

    def _choose(self, kind: str) -> None:
        if kind not in DIRT_KINDS:
            raise ValueError(f"unknown dirt kind {kind!r} (known: {', '.join(DIRT_KINDS)})")
        candidates = [
            listed.symbol
            for exchange in self.market.exchange_codes
            for listed in self.market.symbols(exchange)
        ]
        candidates.sort(key=lambda symbol: stable_key(self.seed, "dirt", kind, symbol))
        variants = ["", ""]
        if kind == "tiny_prices":  # crypto first, where such prices are real
            candidates.sort(key=lambda symbol: not symbol.endswith(".CC"))
        if kind == "symbol_spelling":
            variants = ["dotted", "lower"]
            candidates.sort(key=lambda symbol: symbol != "BRK-B.US")
        elif kind == "negative_prices" and "COMM" in self.market.exchange_codes:
            variants = ["Commodity", "Common Stock"]  # legitimate, and a finding
            candidates.sort(key=lambda symbol: symbol != _OIL)
        wanted = 1 if variants == ["", ""] else 2
        for symbol in candidates:
            if wanted == 0:
                return
            if symbol in self._plans:
                continue
            if kind == "symbol_spelling" and (variants[0] == "dotted") != _classed(symbol):
                continue
            if kind == "negative_prices" and variants[0]:
                listing = self.market.listing(symbol)
                if listing is None or listing.asset_type != variants[0]:
                    continue
            if self._unfit(symbol, kind) is None:
                self._plans[symbol] = self._plan(symbol, kind)
                wanted -= 1
                variants.pop(0)

    def _unfit(self, symbol: str, kind: str) -> str | None:
        """Why ``kind`` cannot be served on ``symbol``, or None when it can."""
        profile = self.market.profile(symbol)
        assert profile is not None
        view = self.market.view(symbol)
        asset_class = self.market.spec(profile.listed.exchange).asset_class
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
        if kind == "plan_limited" and view.ordinals[0] > self.market.today.toordinal() - 400:
            return "its history is shorter than a year"
        if kind == "tiny_prices" and profile.flat:
            return "it is a fund"
        if kind == "off_session_bar" and self.market.spec(profile.listed.exchange).weekends:
            return "its exchange trades every day"
        return None

    def _plan(self, symbol: str, kind: str) -> _Plan:
        view = self.market.view(symbol)
        key = stable_key(self.seed, "dirt", kind, symbol)
        plan = _Plan(symbol, kind, self.market.version)
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
            open_days = self.market.trading_days(exchange, days[n // 2], days[n - 5])
            plan.days = off_session_days(view, {d.toordinal() for d in open_days}, key)
        return plan

    # --- ground truth -------------------------------------------------------------------------

    def _truth_of(self, plan: _Plan) -> list[Injected]:
        s, kind = plan.symbol, plan.kind
        view = self.market.view(s)
        after = self.market.version > plan.since
        phase = "after" if after else "before"
        if kind == "null_prices":
            return [Injected(s, plan.days[0], kind, "null_row", "OHLC null, volume 0", True)]
        if kind == "bad_actions":
            return bad_action_truth(s, plan.days, view)
        if kind == "negative_prices":
            listing = self.market.listing(s)
            stock = listing is not None and listing.asset_type == "Common Stock"
            detail = "negative low and close: stored, " + ("a finding" if stock else "legitimate")
            return [Injected(s, plan.days[0], kind, "negative_close", detail, stock)]
        if kind == "tiny_prices":
            last = dt.date.fromordinal(int(view.ordinals[-1]))
            first = dt.date.fromordinal(int(view.ordinals[0]))
            return [
                Injected(s, first, kind, "tiny", f"prices × 1e-{plan.shift}", False),
                Injected(s, last, kind, "bigint_volume", f"volume {BIGINT_MAX}", False),
            ]
        if kind == "future_bars":
            return [
                Injected(s, day, kind, "future_bar", "dated after the exchange's today", True)
                for day in future_days(self.market.today)
            ]
        if kind == "retracted_split":
            detail = "2:1 split served" if not after else "2:1 split withdrawn"
            return [Injected(s, plan.days[0], kind, "split", detail, after, phase)]
        if kind == "plan_limited":
            if plan.split_day is None:
                return [Injected(s, None, kind, "pending", "split on the next advance", False)]
            detail = "4:1 split, then only the last year served with a warning"
            return [Injected(s, plan.split_day, kind, "split_then_limited", detail, True, phase)]
        if kind == "reused_ticker":
            detail = "old company's history (1/15)" if not after else "history replaced (×15)"
            return [Injected(s, plan.days[0], kind, "replaced", detail, after, phase)]
        if kind == "off_session_bar":
            return off_session_truth(s, plan.days)
        code = s.rpartition(".")[0]
        variant = "dotted" if _classed(s) else "lower"
        spelled = code.replace("-", ".") if variant == "dotted" else code.lower()
        return [Injected(s, None, kind, variant, f"listed as {spelled!r}", False)]

    # --- serving ------------------------------------------------------------------------------

    def eod_rows(self, view: SymbolView) -> tuple[list[Row], bool]:
        """Every daily row of ``view`` with its dirt, and whether to add the plan warning."""
        plan = self._plans[view.symbol]
        columns = Columns.of(view)
        rows = [list(map(str, columns.values(i))) for i in range(len(columns))]
        after = self.market.version > plan.since
        kind = plan.kind
        if kind == "null_prices":
            rows.append([plan.days[0].isoformat(), NULL, NULL, NULL, NULL, NULL, "0"])
        elif kind == "bad_actions":
            self._special_dividend_closes(view, rows)
        elif kind == "negative_prices":
            make_negative(rows, plan.days[0].isoformat(), columns)
        elif kind == "tiny_prices":
            make_tiny(rows, view, plan.shift)
        elif kind == "future_bars":
            last = rows[-1][1:]
            rows += [[day.isoformat(), *last] for day in future_days(self.market.today)]
        elif kind == "retracted_split" and not after:
            rescale_before(rows, view, plan.days[0], Fraction(1, 2))
        elif kind == "plan_limited" and plan.split_day is not None:
            since = (self.market.today - dt.timedelta(days=365)).isoformat()
            return [row for row in rows if row[0] >= since], True
        elif kind == "reused_ticker" and not after:
            make_reused(rows, view)
        elif kind == "off_session_bar":
            add_off_session(rows, plan.days)
        rows.sort(key=lambda row: row[0])
        return rows, False

    def split_rows(self, view: SymbolView, rows: list[dict[str, object]]) -> None:
        """Add this symbol's dirt to its ``/splits`` JSON objects (in place, date order)."""
        plan = self._plans[view.symbol]
        if plan.kind == "retracted_split" and self.market.version == plan.since:
            rows.append({"date": plan.days[0], "split": "2.000000/1.000000"})
        elif plan.kind == "bad_actions":
            ratios = ("1.000000/0.000000", "0/1", "-2.000000/1.000000", "")
            pairs = zip(plan.days, ratios, strict=False)
            rows.extend({"date": day, "split": ratio} for day, ratio in pairs)
            rows.append({"date": "0000-00-00", "split": "2.000000/1.000000"})
        rows.sort(key=lambda row: str(row["date"]))

    def dividend_rows(self, view: SymbolView, rows: list[dict[str, object]]) -> None:
        """Add this symbol's dirt to its ``/div`` JSON objects (in place, date order)."""
        plan = self._plans[view.symbol]
        if plan.kind == "reused_ticker" and self.market.version == plan.since:
            for row in rows:
                for name in ("value", "unadjustedValue"):
                    if isinstance(row[name], Decimal):
                        row[name] = over_reuse(row[name])  # type: ignore[arg-type]
        if plan.kind != "bad_actions" or not rows:
            return
        last = dict(rows[-1])
        rows.append(dict(last))  # an exact duplicate
        special = self._special(view)
        rows.append({**last, "value": special[0], "unadjustedValue": special[1], "period": None})
        rows.append({**last, "date": "0000-00-00"})
        rows.append({**last, "date": plan.days[-1], "value": None, "unadjustedValue": None})
        rows.sort(key=lambda row: str(row["date"]))

    def listed_code(self, symbol: str, code: str) -> str:
        """The code the symbol list writes for ``symbol`` (its own, unless spelled oddly)."""
        plan = self._plans.get(symbol)
        if plan is None or plan.kind != "symbol_spelling":
            return code
        return code.replace("-", ".") if _classed(symbol) else code.lower()

    def _special(self, view: SymbolView) -> tuple[Decimal, Decimal]:
        """The special dividend (value, unadjusted) added on the last regular one's ex-date."""
        last = view.dividends[-1]
        declared = (last.unadjusted_value or last.value) * 2
        raw = self.market.raw_series(view.symbol)
        later = [s for s in raw.splits if s.date > last.date]
        return dividend_value(declared, later), declared

    def _special_dividend_closes(self, view: SymbolView, rows: list[Row]) -> None:
        """Adjusted closes with the regular and special dividend's total on their ex-date."""
        raw = self.market.raw_series(view.symbol)
        special = self._special(view)[1]
        last = raw.dividends[-1]
        raw.dividends[-1] = type(last)(
            last.row,
            last.date,
            last.amount + special,
            last.declaration,
            last.record,
            last.payment,
            last.period,
        )
        adjusted = adjusted_closes(raw, view.adjusted_digits)
        for row, value in zip(rows, adjusted.tolist(), strict=True):
            row[5] = scaled(int(value), view.adjusted_digits)


def _classed(symbol: str) -> bool:
    """Whether a code ends in a share-class suffix (``BRK-B``), which venues write with a dot."""
    base, dash, suffix = symbol.rpartition(".")[0].rpartition("-")
    return bool(dash and base and 1 <= len(suffix) <= 2)


__all__ = ["DIRT_KINDS", "PLAN_WARNING", "DirtBook", "Injected"]
