"""The ground truth of each dirt kind: what one symbol's dirt injects (pure over the market).

:meth:`DirtBook.truth <data_nexus.emulator.dirt.DirtBook.truth>` gathers it for every symbol
(``GET /_admin/truth``), so tests can assert one finding per injected fault.
"""

from __future__ import annotations

import datetime as dt

from data_nexus.emulator.dirt_choice import DirtPlan, classed
from data_nexus.emulator.dirty_rows import BIGINT_MAX, future_days
from data_nexus.emulator.injected import Injected, bad_action_truth, off_session_truth
from data_nexus.emulator.market import Market


def truth_of(market: Market, plan: DirtPlan) -> list[Injected]:
    """The faults ``plan`` injects, as served now (some kinds change at the next advance)."""
    s, kind = plan.symbol, plan.kind
    view = market.view(s)
    after = market.version > plan.since
    phase = "after" if after else "before"
    if kind == "null_prices":
        return [Injected(s, plan.days[0], kind, "null_row", "OHLC null, volume 0", True)]
    if kind == "bad_actions":
        return bad_action_truth(s, plan.days, view)
    if kind == "negative_prices":
        listing = market.listing(s)
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
            for day in future_days(market.today)
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
    variant = "dotted" if classed(s) else "lower"
    spelled = code.replace("-", ".") if variant == "dotted" else code.lower()
    return [Injected(s, None, kind, variant, f"listed as {spelled!r}", False)]
