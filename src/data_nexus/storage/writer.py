"""One asset's write inside an open transaction, the same on every backend.

The order is: lock the asset row and check the lease, upsert the bars batch by batch
through the backend's :class:`BarSink`, delete what the ``window`` no longer holds, merge the
corporate actions, then set the asset's state and coverage. The caller owns the
transaction (or savepoint), so any exception leaves the asset exactly as it was.

Bars go through the backend sink (set-based, no ORM objects); the few statements per asset
(lease, actions, state) are SQLAlchemy Core, which handles each column's type.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

import psycopg
import sqlalchemy as sa

from data_nexus.bar_columns import BarColumns
from data_nexus.errors import LeaseConflict, StorageError
from data_nexus.models import ASSETS, CORPORATE_ACTIONS, MARKET_DATA
from data_nexus.records import ACTION_FINDINGS, BAR_FINDINGS, Bar, Dividend, Finding, Split
from data_nexus.redact import redact
from data_nexus.storage.findings import Scope, record_findings
from data_nexus.storage.updates import AssetUpdate, WriteResult
from data_nexus.storage.validate import (
    ACTION_KEY,
    ACTION_VALUES,
    BarChunk,
    BarRow,
    BarValidator,
    JudgedRows,
    judge_actions,
)

BARS = MARKET_DATA
ACTIONS = CORPORATE_ACTIONS

#: ``assets`` columns the writer itself maintains; ``state`` may not set them.
_RESERVED = frozenset({"symbol", "first_date", "last_date", "updated_at", "created_at"})
STATE_COLUMNS = frozenset(c.name for c in ASSETS.columns) - _RESERVED


class BarSink(Protocol):
    """How one backend stores bars (see :mod:`.sqlite_writer`, :mod:`.pg_writer`)."""

    def stored_dates(self, symbol: str, start: dt.date, end: dt.date) -> set[str]:
        """ISO dates of the stored bars of ``symbol`` in [start, end] (an index-only read)."""
        ...  # pragma: no cover

    def write(
        self, symbol: str, rows: Sequence[BarRow], first: str, last: str, stored: set[str] | None
    ) -> tuple[int, int]:
        """Insert new rows, rewrite changed ones, leave identical ones untouched.

        ``first``/``last`` are the smallest and largest ISO dates of ``rows``. ``stored``,
        when known, holds (at least) the stored dates of the symbol between them, so a row
        whose date is not in it is new; ``None`` lets the sink find out if it needs to.
        Returns (inserted, updated); the rest were unchanged.
        """
        ...  # pragma: no cover

    def write_chunks(
        self, symbol: str, batches: Iterable[Chunk], known: Known | None
    ) -> tuple[int, int, int]:
        """:meth:`write` for batches not validated yet; (inserted, updated, rows) in all.

        ``known``, when given, holds the stored dates of a range (the update's window). A
        sink may validate and write a batch piece by piece (see :meth:`Chunk.pieces`); it
        asks for the next batch only once done with the previous one.
        """
        ...  # pragma: no cover

    def delete_dates(self, symbol: str, dates: list[str]) -> int:
        """Delete these bars of ``symbol``; return how many were deleted."""
        ...  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Known:
    """The stored dates of a symbol in [first, last] (ISO dates), read before writing."""

    stored: set[str]
    first: str
    last: str

    def dates(self) -> tuple[dt.date, dt.date]:
        """The range as dates."""
        return dt.date.fromisoformat(self.first), dt.date.fromisoformat(self.last)

    def covers(self, first: str, last: str) -> bool:
        """Whether [first, last] lies inside the known range."""
        return self.first <= first and last <= self.last


class Chunk:
    """One write batch of an update's bars, validated as it is consumed (once).

    :meth:`pieces` validates ``piece`` bars at a time, each just before it is handed out, so
    a sink can send one piece to the server while the next is validated; :meth:`validated`
    validates the whole chunk at once. ``head``, when given, is the first piece, validated
    already (see :class:`Prepared`).
    """

    def __init__(
        self,
        bars: Sequence[Bar] | JudgedRows,
        validator: BarValidator,
        piece: int,
        head: BarChunk | None,
    ) -> None:
        self.size = len(bars)
        self._bars = bars
        self._validator = validator
        self._piece = max(1, piece)
        self._head = head

    def pieces(self) -> Iterator[BarChunk]:
        """The validated rows, piece by piece (a bad value raises when its piece is reached)."""
        bars: Sequence[Bar] | JudgedRows
        bars, self._bars = self._bars, ()
        head, self._head = self._head, None
        start, step = 0, self._piece
        if head is not None:
            yield head
            start = step
        for i in range(start, len(bars), step):
            yield self._validator.chunk(bars[i : i + step])

    def validated(self) -> BarChunk:
        """All rows of the chunk, validated."""
        pieces = list(self.pieces())
        if len(pieces) == 1:
            return pieces[0]
        return join_pieces(pieces)


def join_pieces(pieces: Sequence[BarChunk]) -> BarChunk:
    """Validated pieces as one :class:`BarChunk`."""
    firsts = [p.first for p in pieces if p.first is not None]
    lasts = [p.last for p in pieces if p.last is not None]
    return BarChunk(
        [row for p in pieces for row in p.rows], min(firsts, default=None), max(lasts, default=None)
    )


def write_validated(
    sink: BarSink, symbol: str, chunk: Chunk, known: Known | None
) -> tuple[int, int, int]:
    """Write one chunk through :meth:`BarSink.write`, validating all of it first."""
    validated = chunk.validated()
    rows, first, last = validated.rows, validated.first, validated.last
    if first is None or last is None:
        return 0, 0, 0
    stored = known.stored if known is not None and known.covers(first, last) else None
    new, changed = sink.write(symbol, rows, first, last, stored)
    return new, changed, len(rows)


class Prepared:
    """An update validated as far as possible before the database is touched.

    The actions and the first ``piece`` bars (by default the whole first batch) are
    validated here; the other bars as they are written (see :class:`Chunk`), so a bad value
    among them rolls the asset back.
    """

    def __init__(
        self,
        symbol: str,
        bars: Iterable[Bar] | JudgedRows,
        actions: Sequence[Split | Dividend],
        state: Mapping[str, Any],
        batch_size: int,
        *,
        canonical: bool = True,
        piece: int | None = None,
        today: dt.date | None = None,
    ) -> None:
        unknown = sorted(set(state) - STATE_COLUMNS)
        if unknown:
            raise ValueError(
                f"{symbol}: cannot set {unknown} through state; settable assets columns are "
                f"{sorted(STATE_COLUMNS)}"
            )
        self.symbol = symbol
        self.validator = BarValidator(symbol, canonical=canonical, today=today)
        self.action_rows, self.action_findings = judge_actions(symbol, actions)
        self._action_dates = [a.date for a in actions if type(a.date) is dt.date]
        self._batches = _batches(bars, batch_size)
        self._piece = piece
        first = next(self._batches, ())
        step = len(first) if piece is None else piece
        head = self.validator.chunk(first[:step] if step < len(first) else first)
        self._first: Chunk | None = Chunk(first, self.validator, step, head)
        #: Whether :meth:`batches` began reading the bars (they cannot be read twice).
        self.started = False

    def batches(self) -> Iterator[Chunk]:
        """The bars, batch by batch (the first one already in memory, its head validated).

        Only one batch is alive at a time: the next bars are read once the consumer is done
        with a batch and asks for the next one.
        """
        self.started = True
        first, self._first = self._first, None
        if first is not None:
            yield first
            del first
        for bars in self._batches:
            yield Chunk(bars, self.validator, self._piece or len(bars), None)
            del bars

    def findings(self, update: AssetUpdate, asset_type: str | None) -> list[Finding]:
        """Everything found wanting in ``update`` once its bars are written: the caller's
        findings, skipped bars and actions, and non-positive prices where ``asset_type``
        forbids them."""
        return [
            *update.findings,
            *self.validator.findings,
            *self.validator.non_positive(asset_type),
            *self.action_findings,
        ]

    def scopes(self, update: AssetUpdate) -> list[Scope]:
        """What this write judged again (see :class:`~data_nexus.storage.findings.Scope`):
        the bar findings over the window (else over the dates sent), the action findings
        over the actions window (else over the ex-dates sent)."""
        scopes = []
        dates = self.validator.dates
        if update.window is not None:
            scopes.append(Scope(BAR_FINDINGS, *update.window, undated=True))
        elif dates:
            first, last = min(dates), max(dates)
            scopes.append(
                Scope(BAR_FINDINGS, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
            )
        if update.actions_window is not None:
            scopes.append(Scope(ACTION_FINDINGS, *update.actions_window, undated=True))
        elif self._action_dates:
            scopes.append(Scope(ACTION_FINDINGS, min(self._action_dates), max(self._action_dates)))
        return scopes

    def record(self, conn: sa.Connection, update: AssetUpdate, asset_type: str | None) -> int:
        """Record this write's findings in its transaction; how many are open."""
        findings = self.findings(update, asset_type)
        scopes = self.scopes(update)
        if not findings and not scopes:
            return 0
        return record_findings(conn, self.symbol, findings, scopes, run_id=update.run_id)


#: A list or tuple of bars is already in memory: it is written in slices this large (one
#: COPY for a whole history), where a stream is read ``batch_size`` bars at a time.
SEQUENCE_BATCH = 20_000


def _batches(
    bars: Iterable[Bar] | JudgedRows, size: int
) -> Iterator[Sequence[Bar] | JudgedRows | BarColumns]:
    if isinstance(bars, list | tuple | JudgedRows | BarColumns):
        if len(bars) <= SEQUENCE_BATCH:
            yield bars  # no copy
            return
        for start in range(0, len(bars), SEQUENCE_BATCH):
            yield bars[start : start + SEQUENCE_BATCH]
        return
    iterator = iter(bars)
    while batch := list(islice(iterator, size)):
        yield batch


#: Errors the drivers raise (straight from a raw cursor) or SQLAlchemy wraps them in.
DRIVER_ERRORS: tuple[type[Exception], ...] = (sa.exc.DBAPIError, psycopg.Error, sqlite3.Error)


#: SQLSTATEs of a transaction that lost a race with another one and succeeds when simply run
#: again: a deadlock (40P01; e.g. a first sync's writes into old chunks against TimescaleDB's
#: compression policy job taking those chunks exclusively) and a serialization failure
#: (40001). PostgreSQL's documentation advises retrying both.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` (or the driver error it wraps) is worth running again unchanged."""
    seen: BaseException | None = error
    for _ in range(4):  # StorageError -> SQLAlchemy DBAPIError -> psycopg error
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in TRANSIENT_SQLSTATES:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def storage_error(symbol: str, error: Exception) -> StorageError:
    """One redacted line for a database failure while writing ``symbol`` (cause attached)."""
    original = getattr(error, "orig", None) or error
    lines = redact(str(original)).strip().splitlines()
    reason = lines[0] if lines else type(original).__name__
    wrapped = StorageError(
        f"{symbol}: the database refused the write, nothing was written: {reason}"
    )
    wrapped.__cause__ = error  # as after `raise … from error`, also when it is not raised
    return wrapped


def lock_asset(conn: sa.Connection, symbol: str, lease_owner: str | None) -> str | None:
    """Lock the asset row for this transaction and check the lease; its ``asset_type``.

    On PostgreSQL this is ``FOR NO KEY UPDATE``: writers of the same asset queue up, so the
    range checks of the bar sink cannot race. Raises :class:`StorageError` for an unknown
    asset and :class:`LeaseConflict` when another worker holds it.
    """
    row = conn.execute(
        sa.select(ASSETS.c.lease_owner, ASSETS.c.asset_type)
        .where(ASSETS.c.symbol == symbol)
        .with_for_update(key_share=True)
    ).first()
    if row is None:
        raise StorageError(
            f"asset {symbol} is not in the assets table: register it before writing its data"
        )
    owner = row[0]
    if lease_owner is not None and owner is not None and owner != lease_owner:
        raise LeaseConflict(
            f"{symbol} is leased by worker {owner!r}, not {lease_owner!r}: nothing written"
        )
    return row[1]  # type: ignore[no-any-return]


def write_one(
    conn: sa.Connection, sink: BarSink, update: AssetUpdate, prepared: Prepared
) -> WriteResult:
    """Write one asset's ``update``, validated as ``prepared``; the caller commits."""
    symbol, window = update.symbol, update.window
    asset_type = lock_asset(conn, symbol, update.lease_owner)
    # The stored dates of the window, read before writing: they tell new bars from
    # re-sent ones for every chunk inside the window, and what the window must delete.
    known: Known | None = None
    if window is not None:
        stored = sink.stored_dates(symbol, *window)
        known = Known(stored, window[0].isoformat(), window[1].isoformat())
    inserted, updated, total = sink.write_chunks(symbol, prepared.batches(), known)
    deleted = 0
    if known is not None and known.stored:
        stale = known.stored - prepared.validator.dates
        if stale:
            deleted = sink.delete_dates(symbol, sorted(stale))
    a_new, a_changed, a_gone = merge_actions(
        conn, symbol, prepared.action_rows, update.actions_window
    )
    findings = prepared.record(conn, update, asset_type)
    first_date, last_date = set_state(conn, symbol, update.state)
    return WriteResult(
        symbol=symbol,
        inserted=inserted,
        updated=updated,
        unchanged=total - inserted - updated,
        deleted=deleted,
        actions_inserted=a_new,
        actions_updated=a_changed,
        actions_deleted=a_gone,
        first_date=first_date,
        last_date=last_date,
        findings=findings,
    )


def merge_actions(
    conn: sa.Connection,
    symbol: str,
    rows: list[dict[str, Any]],
    window: tuple[dt.date, dt.date] | None,
) -> tuple[int, int, int]:
    """Insert new actions, update changed ones, delete those ``window`` no longer holds.

    A symbol has tens of actions, not thousands: they are compared in Python, which gives
    exact counts on every backend and rewrites nothing that is already right.
    """
    if not rows and window is None:
        return 0, 0, 0
    stored = {
        (r.date, r.action_type, r.seq): r
        for r in conn.execute(sa.select(ACTIONS).where(ACTIONS.c.symbol == symbol))
    }
    keys = {(row["date"], row["action_type"], row["seq"]) for row in rows}
    new = [row for row in rows if (row["date"], row["action_type"], row["seq"]) not in stored]
    changed = [
        row
        for row in rows
        if (old := stored.get((row["date"], row["action_type"], row["seq"]))) is not None
        and tuple(old._mapping[c] for c in ACTION_VALUES) != tuple(row[c] for c in ACTION_VALUES)
    ]
    if new:
        conn.execute(sa.insert(ACTIONS), new)
    if changed:
        values: dict[str, Any] = {c: sa.bindparam(f"v_{c}") for c in ACTION_VALUES}
        conn.execute(
            sa.update(ACTIONS)
            .where(*(ACTIONS.c[c] == sa.bindparam(f"k_{c}") for c in ACTION_KEY))
            .values(values),
            [
                {**{f"k_{c}": row[c] for c in ACTION_KEY},
                 **{f"v_{c}": row[c] for c in ACTION_VALUES}}
                for row in changed
            ],
        )  # fmt: skip
    gone: list[tuple[dt.date, str, int]] = []
    if window is not None:
        start, end = window
        gone = [k for k in stored if start <= k[0] <= end and k not in keys]
        for day, kind, seq in gone:
            conn.execute(
                sa.delete(ACTIONS).where(
                    ACTIONS.c.symbol == symbol,
                    ACTIONS.c.date == day,
                    ACTIONS.c.action_type == kind,
                    ACTIONS.c.seq == seq,
                )
            )
    return len(new), len(changed), len(gone)


def set_state(
    conn: sa.Connection, symbol: str, state: Mapping[str, Any]
) -> tuple[dt.date | None, dt.date | None]:
    """Set ``state`` columns, ``updated_at`` and the coverage (first/last stored date)."""
    of_symbol = BARS.c.symbol == symbol
    row = conn.execute(
        sa.update(ASSETS)
        .where(ASSETS.c.symbol == symbol)
        .values(
            **state,
            updated_at=sa.func.now(),
            first_date=sa.select(sa.func.min(BARS.c.time)).where(of_symbol).scalar_subquery(),
            last_date=sa.select(sa.func.max(BARS.c.time)).where(of_symbol).scalar_subquery(),
        )
        .returning(ASSETS.c.first_date, ASSETS.c.last_date)
    ).one()
    return row[0], row[1]
