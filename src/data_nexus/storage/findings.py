"""The ``findings`` table: record, refresh, close and list what was judged wanting.

A finding (:class:`~data_nexus.records.Finding`) is identified across runs by its asset and
a fingerprint of (kind, date, detail). :func:`record_findings` runs inside the transaction
of the asset's data (the writer calls it; so may a check) and, in one go:

- inserts the findings seen for the first time (``first_seen`` = ``last_seen`` = now);
- refreshes those seen before: ``last_seen``, ``run_id``, and reopens a closed one;
- closes (``closed_at`` = now, never deletes) the open findings of the asset that the write
  judged again and did not find: those of the given kinds whose date lies in the judged
  range, and those without a date when the range is a whole ``window`` answer.

A clean write (nothing found) costs one ``UPDATE`` on the ``(symbol, closed_at)`` index, and
none at all when the write judged nothing. Timestamps come from the database clock
(``now()``), like ``assets.updated_at``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from data_nexus.models import FINDINGS
from data_nexus.records import Finding

_NOW = sa.func.now()


@dataclass(frozen=True, slots=True)
class Scope:
    """What one write judged again: ``kinds`` of finding over dates in ``[start, end]``.

    ``undated`` also covers findings without a date (the write had the provider's whole
    answer for the range, so an undated row that is not found again is gone).
    """

    kinds: Collection[str]
    start: dt.date
    end: dt.date
    undated: bool = False


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """One row of the ``findings`` table."""

    id: int
    symbol: str
    date: dt.date | None
    kind: str
    detail: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    run_id: int | None
    closed_at: dt.datetime | None

    @property
    def is_open(self) -> bool:
        """Whether the finding still recurred at its last judgement."""
        return self.closed_at is None


def fingerprint(finding: Finding) -> str:
    """The identity of ``finding`` across runs: a hash of its kind, date and detail."""
    day = "" if finding.date is None else finding.date.isoformat()
    text = f"{finding.kind}\x1f{day}\x1f{finding.detail}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    dated = FINDINGS.c.date.between(scope.start, scope.end)
    when = sa.or_(dated, FINDINGS.c.date.is_(None)) if scope.undated else dated
    return sa.and_(FINDINGS.c.kind.in_(sorted(scope.kinds)), when)


def record_findings(
    conn: sa.Connection,
    symbol: str,
    findings: Sequence[Finding],
    scopes: Sequence[Scope] = (),
    *,
    run_id: int | None = None,
) -> int:
    """Record ``symbol``'s ``findings`` and close the ones of ``scopes`` not found again.

    Returns how many distinct findings are open for this write (the same finding twice
    counts once). Raises :class:`ValueError` for a finding of another symbol. The caller
    owns the transaction.
    """
    unique: dict[str, Finding] = {}
    for finding in findings:
        if finding.symbol != symbol:
            raise ValueError(f"{symbol}: a finding of {finding.symbol!r} cannot be recorded here")
        unique.setdefault(fingerprint(finding), finding)
    of_symbol = FINDINGS.c.symbol == symbol
    if unique:
        marks = sorted(unique)
        known = dict(
            conn.execute(
                sa.select(FINDINGS.c.fingerprint, FINDINGS.c.id).where(
                    of_symbol, FINDINGS.c.fingerprint.in_(marks)
                )
            ).all()
        )
        new = [
            {"symbol": symbol, "date": f.date, "kind": f.kind, "detail": f.detail,
             "fingerprint": mark, "run_id": run_id}
            for mark, f in unique.items()
            if mark not in known
        ]  # fmt: skip
        if new:
            conn.execute(
                sa.insert(FINDINGS).values(first_seen=_NOW, last_seen=_NOW),
                new,
            )
        if known:
            conn.execute(
                sa.update(FINDINGS)
                .where(FINDINGS.c.id.in_(sorted(known.values())))
                .values(last_seen=_NOW, run_id=run_id, closed_at=None)
            )
    if scopes:
        conditions = [_in_scope(scope) for scope in scopes]
        statement = (
            sa.update(FINDINGS)
            .where(of_symbol, FINDINGS.c.closed_at.is_(None), sa.or_(*conditions))
            .values(closed_at=_NOW)
        )
        if unique:
            statement = statement.where(FINDINGS.c.fingerprint.not_in(sorted(unique)))
        conn.execute(statement)
    return len(unique)


def list_findings(
    conn: sa.Connection,
    symbols: Sequence[str] | None = None,
    *,
    include_closed: bool = False,
) -> list[StoredFinding]:
    """Findings of ``symbols`` (all assets when ``None``), open ones only by default.

    Ordered by symbol, date (undated first), kind and id.
    """
    query = sa.select(
        FINDINGS.c.id,
        FINDINGS.c.symbol,
        FINDINGS.c.date,
        FINDINGS.c.kind,
        FINDINGS.c.detail,
        FINDINGS.c.first_seen,
        FINDINGS.c.last_seen,
        FINDINGS.c.run_id,
        FINDINGS.c.closed_at,
    )
    if symbols is not None:
        query = query.where(FINDINGS.c.symbol.in_(list(symbols)))
    if not include_closed:
        query = query.where(FINDINGS.c.closed_at.is_(None))
    query = query.order_by(
        FINDINGS.c.symbol,
        FINDINGS.c.date.is_not(None),
        FINDINGS.c.date,
        FINDINGS.c.kind,
        FINDINGS.c.id,
    )
    return [StoredFinding(*row) for row in conn.execute(query)]


def open_findings(conn: sa.Connection, symbols: Sequence[str] | None = None) -> list[StoredFinding]:
    """The open findings of ``symbols`` (all assets when ``None``)."""
    return list_findings(conn, symbols)


__all__ = [
    "Scope",
    "StoredFinding",
    "fingerprint",
    "list_findings",
    "open_findings",
    "record_findings",
]
