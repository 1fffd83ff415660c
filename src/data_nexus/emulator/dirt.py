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

The book keeps the state (which symbol has which dirt, behind a lock); the rest is pure over
the market, one concept a module: choosing symbols and days (:mod:`.dirt_choice`), the
ground truth (:mod:`.dirt_truth`) and rewriting the served rows (:mod:`.dirt_serving`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import asdict

from data_nexus.emulator import dirt_serving
from data_nexus.emulator.adjustment import SymbolView
from data_nexus.emulator.dirt_choice import DIRT_KINDS, DirtPlan, choose, plan_dirt, unfit
from data_nexus.emulator.dirt_serving import PLAN_WARNING
from data_nexus.emulator.dirt_truth import truth_of
from data_nexus.emulator.dirty_rows import Row
from data_nexus.emulator.injected import Injected
from data_nexus.emulator.market import Market


class DirtBook:
    """The dirt set on a market (thread-safe); applied by the endpoint handlers."""

    def __init__(self, market: Market, kinds: Iterable[str] = (), seed: int = 42) -> None:
        self.market = market
        self.seed = seed
        self._plans: dict[str, DirtPlan] = {}
        self._lock = threading.RLock()
        for kind in kinds:
            choose(market, seed, kind, self._plans)

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
            problem = unfit(self.market, profile.symbol, kind)
            if problem:
                raise ValueError(f"cannot inject {kind} on {profile.symbol}: {problem}")
            plan = plan_dirt(self.market, self.seed, profile.symbol, kind)
            self._plans[plan.symbol] = plan
            return truth_of(self.market, plan)

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
            found = [item for plan in self._plans.values() for item in truth_of(self.market, plan)]
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

    # --- serving (see dirt_serving) -----------------------------------------------------------

    def eod_rows(self, view: SymbolView) -> tuple[list[Row], bool]:
        """Every daily row of ``view`` with its dirt, and whether to add the plan warning."""
        return dirt_serving.eod_rows(self.market, self._plans[view.symbol], view)

    def split_rows(self, view: SymbolView, rows: list[dict[str, object]]) -> None:
        """Add this symbol's dirt to its ``/splits`` JSON objects (in place, date order)."""
        dirt_serving.split_rows(self.market, self._plans[view.symbol], view, rows)

    def dividend_rows(self, view: SymbolView, rows: list[dict[str, object]]) -> None:
        """Add this symbol's dirt to its ``/div`` JSON objects (in place, date order)."""
        dirt_serving.dividend_rows(self.market, self._plans[view.symbol], view, rows)

    def listed_code(self, symbol: str, code: str) -> str:
        """The code the symbol list writes for ``symbol`` (its own, unless spelled oddly)."""
        return dirt_serving.listed_code(self._plans.get(symbol), symbol, code)


__all__ = ["DIRT_KINDS", "PLAN_WARNING", "DirtBook", "Injected"]
