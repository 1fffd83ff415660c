"""``run_checks()``: the open findings of the warehouse plus the checks of whole histories.

It never changes data: the database is opened read-only
(:func:`~data_nexus.storage.quality_reads.open_read_only`) and nothing is recorded. The
report holds two sources of findings:

- ``recorded``: findings the sync stored in the ``findings`` table and that are still open
  (skipped rows and actions, negative stock prices, replaced histories, …);
- ``check``: what the checks of :mod:`data_nexus.quality.checks` find now in each asset's
  stored history (gaps against the exchange's sessions between the asset's own first and
  last bar, price steps no stored split explains, OHLC invariants, zero closes with a range,
  adjusted closes that disagree with the stored actions) and in its sync state (never
  synced, synced longer ago than ``stale_after``, paused, in backoff, failing), and a
  registered symbol not in the canonical spelling every command reads (``symbol``).

Histories are read one asset at a time, so memory holds one asset's bars, not the warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from data_nexus.config import Settings
from data_nexus.errors import UsageError
from data_nexus.quality.calendars import sessions
from data_nexus.quality.checks import DEFAULT_STEP, AssetState, check_history, stale_assets
from data_nexus.storage.findings import list_findings
from data_nexus.storage.quality_reads import (
    CheckState,
    check_states,
    histories,
    open_read_only,
)
from data_nexus.storage.store import Store
from data_nexus.symbols import parse_symbol, parse_symbols

#: Default age after which an asset's last sync is ``stale`` (a long weekend, then a day).
DEFAULT_STALE_AFTER = dt.timedelta(days=4)
RECORDED = "recorded"
CHECKED = "check"


@dataclass(frozen=True, slots=True)
class CheckedFinding:
    """One open finding: ``source`` is ``recorded`` (stored by a sync) or ``check`` (found
    now); ``first_seen``/``last_seen`` are the recorded one's (None for a check's)."""

    symbol: str
    date: dt.date | None
    kind: str
    detail: str
    source: str
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (dates and timestamps as ISO text, None as null)."""
        return {
            "symbol": self.symbol,
            "date": None if self.date is None else self.date.isoformat(),
            "kind": self.kind,
            "detail": self.detail,
            "source": self.source,
            "first_seen": None if self.first_seen is None else self.first_seen.isoformat(),
            "last_seen": None if self.last_seen is None else self.last_seen.isoformat(),
        }


@dataclass(slots=True)
class CheckReport:
    """What :func:`run_checks` found: ``findings`` sorted by symbol, date (undated first) and
    kind; ``assets`` the number of assets checked; ``notes`` one line per caveat (an
    exchange whose sessions are guessed as weekdays)."""

    now: dt.datetime
    assets: int
    stale_after: dt.timedelta
    findings: list[CheckedFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        """Whether nothing is open."""
        return not self.findings

    def by_kind(self) -> dict[str, int]:
        """How many findings of each kind, by kind."""
        return dict(sorted(Counter(f.kind for f in self.findings).items()))

    def by_asset(self) -> dict[str, list[CheckedFinding]]:
        """The findings grouped by symbol (in symbol order)."""
        out: dict[str, list[CheckedFinding]] = {}
        for finding in self.findings:
            out.setdefault(finding.symbol, []).append(finding)
        return out

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "checked_at": self.now.isoformat(),
            "assets": self.assets,
            "stale_after_seconds": int(self.stale_after.total_seconds()),
            "open": len(self.findings),
            "by_kind": self.by_kind(),
            "notes": list(self.notes),
            "findings": [f.as_dict() for f in self.findings],
        }


@contextmanager
def _reading(target: Settings | Store) -> Iterator[Store]:
    if isinstance(target, Store):
        yield target
        return
    store = open_read_only(target)
    try:
        yield store
    finally:
        store.close()


def run_checks(
    target: Settings | Store,
    symbols: Sequence[str] | None = None,
    *,
    now: dt.datetime,
    stale_after: dt.timedelta | None = None,
    step: Decimal = DEFAULT_STEP,
) -> CheckReport:
    """Check ``symbols`` (``CODE.EXCHANGE``; every registered asset when None or empty).

    ``now`` (UTC-aware) dates staleness and backoff; ``stale_after`` defaults to the
    settings' ``stale_after_days`` (else :data:`DEFAULT_STALE_AFTER`); ``step`` is the
    ``price_step`` threshold (a ratio above 1). Raises :class:`UsageError` for a malformed or
    unregistered symbol (naming every unknown one), and the errors of
    :func:`~data_nexus.storage.quality_reads.open_read_only`. Never writes.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if stale_after is None:
        age = target.stale_after_days if isinstance(target, Settings) else None
        stale_after = DEFAULT_STALE_AFTER if age is None else dt.timedelta(days=age)
    names = [str(s) for s in parse_symbols(list(symbols))] if symbols else None
    with _reading(target) as store:
        with store.connection() as conn:
            states = check_states(conn, names)
            if names is not None:
                unknown = sorted(set(names) - {s.symbol for s in states})
                if unknown:
                    raise UsageError(
                        f"unknown asset(s): {', '.join(unknown)} "
                        "(see 'datanexus assets list'; add them with 'datanexus assets add')"
                    )
            stored = list_findings(conn, names)
        report = CheckReport(now=now, assets=len(states), stale_after=stale_after)
        found = [
            CheckedFinding(f.symbol, f.date, f.kind, f.detail, RECORDED, f.first_seen, f.last_seen)
            for f in stored
        ]
        found += _state_findings(states, now, stale_after)
        notes: dict[str, str] = {}
        for history in histories(store, states):
            days = None
            if history.bars:  # the asset's own first and last bar bound its sessions
                first, last = history.bars[0].date, history.bars[-1].date
                days = sessions(history.state.exchange, first, last)
            if days is not None and days.approximate:
                notes.setdefault(days.exchange, f"exchange {days.exchange}: {days.note}")
            found += [
                CheckedFinding(f.symbol, f.date, f.kind, f.detail, CHECKED)
                for f in check_history(
                    history.state.symbol,
                    history.bars,
                    history.splits,
                    history.dividends,
                    sessions=days,
                    step=step,
                )
            ]
    unique = {(f.symbol, f.date, f.kind, f.detail): f for f in reversed(found)}
    report.findings = sorted(
        unique.values(),
        key=lambda f: (f.symbol, f.date is not None, f.date or dt.date.min, f.kind, f.detail),
    )
    report.notes = [notes[code] for code in sorted(notes)]
    return report


def _state_findings(
    states: Sequence[CheckState], now: dt.datetime, stale_after: dt.timedelta
) -> list[CheckedFinding]:
    """Never synced, stale, paused, in backoff (:func:`stale_assets`), and failing: the last
    sync failed and its backoff is over (the next sync will try again)."""
    found = [
        CheckedFinding(f.symbol, f.date, f.kind, f.detail, CHECKED)
        for f in stale_assets(
            (
                AssetState(
                    s.symbol,
                    s.last_synced,
                    paused=not s.is_active,
                    retry_after=s.next_attempt_at,
                    last_error=s.last_error,
                )
                for s in states
            ),
            now=now,
            max_age=stale_after,
        )
    ]
    for s in states:
        spelling = _spelling(s.symbol)
        if spelling:
            found.append(CheckedFinding(s.symbol, None, "symbol", spelling, CHECKED))
        in_backoff = s.next_attempt_at is not None and s.next_attempt_at > now
        if s.last_error and not in_backoff:
            detail = f"last sync failed: {s.last_error}"
            found.append(CheckedFinding(s.symbol, None, "failing", detail, CHECKED))
    return found


def _spelling(symbol: str) -> str | None:
    """Why a registered symbol is not in the one spelling every command reads, or None.

    Registries written before symbols were canonicalised can hold ``brk-a.US`` or ``BRK.B``
    style codes, which no command can name and which discovery registers again canonically.
    """
    try:
        canonical = str(parse_symbol(symbol))
    except UsageError as error:
        return f"registered under a spelling commands refuse: {error}"
    if canonical != symbol:
        return f"registered as {symbol!r}; commands read it as {canonical!r}"
    return None


__all__ = ["DEFAULT_STALE_AFTER", "CheckReport", "CheckedFinding", "run_checks"]
