"""The ground truth of dirty mode: one :class:`Injected` per fault served (pure).

:meth:`~data_nexus.emulator.dirt.DirtBook.truth` (``GET /_admin/truth``) lists them, so a
test can assert one finding per injected fault; see ``docs/emulator.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from data_nexus.emulator.adjustment import SymbolView


@dataclass(frozen=True, slots=True)
class Injected:
    """One injected fault: ``finding`` says whether the product should report a finding.

    ``date`` is None for rows dated ``0000-00-00`` and for symbol-list spellings; ``phase``
    is ``now`` for dirt served as it is, and ``before``/``after`` (the market's next advance)
    for the kinds that change over time; ``source`` is who reports it, as ``datanexus
    check`` labels findings: ``recorded`` (the sync stores it) or ``check`` (found by the
    checks of the stored history, as ``off_session_bar``).
    """

    symbol: str
    date: dt.date | None
    kind: str
    variant: str
    detail: str
    finding: bool
    phase: str = "now"
    source: str = "recorded"


def bad_action_truth(s: str, days: Sequence[dt.date], view: SymbolView) -> list[Injected]:
    """The faults of ``bad_actions`` on symbol ``s``: impossible splits on ``days``, a
    dividend without amounts on the last of them, and the broken copies of the last dividend."""
    kind = "bad_actions"
    variants = ("split_zero_old", "split_zero_new", "split_negative", "split_empty")
    out = [
        Injected(s, day, kind, variant, "impossible split skipped", True)
        for day, variant in zip(days, variants, strict=False)
    ]
    out.append(Injected(s, None, kind, "split_zero_date", "split dated 0000-00-00", True))
    last = view.dividends[-1].date
    out += [
        Injected(s, None, kind, "dividend_zero_date", "dividend dated 0000-00-00", True),
        Injected(s, days[-1], kind, "dividend_no_amount", "value and amount null", True),
        Injected(s, last, kind, "dividend_duplicate", "exact duplicate: stored once", True),
        Injected(s, last, kind, "dividend_special", "second dividend: both kept", False),
    ]
    return out


def off_session_truth(symbol: str, days: Sequence[dt.date]) -> list[Injected]:
    """The ``off_session_bar`` rows of ``symbol`` on ``days``: a finding (for ``check``)
    where the exchange's real calendar decides the day, not where sessions are a guess."""
    from data_nexus.quality.calendars import sessions  # noqa: PLC0415 - pandas on first use

    exchange = symbol.rpartition(".")[2]
    out = []
    for day in days:
        variant = "weekend" if day.weekday() >= 5 else "holiday"
        judged = sessions(exchange, day, day)
        detail = f"a bar on a {variant}: stored, " + (
            f"no session of {judged.calendar}" if judged.decides(day) else "no calendar decides"
        )
        found = judged.decides(day)
        kind = "off_session_bar"
        out.append(Injected(symbol, day, kind, variant, detail, found, source="check"))
    return out
