"""One asset's write inside an open transaction, the same on every backend.

The order is: lock the asset row and check the lease, upsert the bars chunk by chunk
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
from itertools import islice
from typing import Any, Protocol

import psycopg
import sqlalchemy as sa

from data_nexus.errors import LeaseConflict, StorageError
from data_nexus.models import ASSETS, CORPORATE_ACTIONS, MARKET_DATA
from data_nexus.records import Bar, Dividend, Split
from data_nexus.redact import redact
from data_nexus.storage.updates import AssetUpdate, WriteResult
from data_nexus.storage.validate import (
    ACTION_COLUMNS,
    BarChunk,
    BarRow,
    BarValidator,
    validate_actions,
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
        self, symbol: str, rows: list[BarRow], first: str, last: str, stored: set[str] | None
    ) -> tuple[int, int]:
        """Insert new rows, rewrite changed ones, leave identical ones untouched.

        ``first``/``last`` are the smallest and largest ISO dates of ``rows``. ``stored``,
        when known, holds (at least) the stored dates of the symbol between them, so a row
        whose date is not in it is new; ``None`` lets the sink find out if it needs to.
        Returns (inserted, updated); the rest were unchanged.
        """
        ...  # pragma: no cover

    def delete_dates(self, symbol: str, dates: list[str]) -> int:
        """Delete these bars of ``symbol``; return how many were deleted."""
        ...  # pragma: no cover


class Prepared:
    """An update validated as far as possible before the database is touched.

    The actions and the first chunk of bars are validated here; later chunks of a streamed
    ``bars`` iterable are validated as they are read (a failure then rolls the asset back).
    """

    def __init__(
        self,
        symbol: str,
        bars: Iterable[Bar],
        actions: Sequence[Split | Dividend],
        state: Mapping[str, Any],
        chunk_size: int,
        *,
        canonical: bool = True,
    ) -> None:
        unknown = sorted(set(state) - STATE_COLUMNS)
        if unknown:
            raise ValueError(
                f"{symbol}: cannot set {unknown} through state; settable assets columns are "
                f"{sorted(STATE_COLUMNS)}"
            )
        self.symbol = symbol
        self.validator = BarValidator(symbol, canonical=canonical)
        self.action_rows = validate_actions(symbol, actions)
        self._chunks = _chunks(bars, chunk_size)
        self._first: BarChunk | None = self.validator.chunk(next(self._chunks, []))

    def row_chunks(self) -> Iterator[BarChunk]:
        """The validated rows, chunk by chunk (the first one already in memory).

        Only one chunk is alive at a time: the bars of a chunk are dropped once validated,
        and a chunk's rows before the next bars are read (the consumer drops its own).
        """
        validated, self._first = self._first, None
        while validated is not None:
            yield validated
            validated = None
            bars = next(self._chunks, None)
            if bars is not None:
                validated = self.validator.chunk(bars)
                del bars


#: A list or tuple of bars is already in memory: it is written in slices this large (one
#: COPY for a whole history), where a stream is read ``chunk_size`` bars at a time.
SEQUENCE_CHUNK = 20_000


def _chunks(bars: Iterable[Bar], size: int) -> Iterator[Sequence[Bar]]:
    if isinstance(bars, list | tuple):
        if len(bars) <= SEQUENCE_CHUNK:
            yield bars  # no copy
            return
        for start in range(0, len(bars), SEQUENCE_CHUNK):
            yield bars[start : start + SEQUENCE_CHUNK]
        return
    iterator = iter(bars)
    while chunk := list(islice(iterator, size)):
        yield chunk


#: Errors the drivers raise (straight from a raw cursor) or SQLAlchemy wraps them in.
DRIVER_ERRORS: tuple[type[Exception], ...] = (sa.exc.DBAPIError, psycopg.Error, sqlite3.Error)


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


def lock_asset(conn: sa.Connection, symbol: str, lease_owner: str | None) -> None:
    """Lock the asset row for this transaction and check the lease.

    On PostgreSQL this is ``FOR NO KEY UPDATE``: writers of the same asset queue up, so the
    range checks of the bar sink cannot race. Raises :class:`StorageError` for an unknown
    asset and :class:`LeaseConflict` when another worker holds it.
    """
    row = conn.execute(
        sa.select(ASSETS.c.lease_owner)
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


def write_one(
    conn: sa.Connection, sink: BarSink, update: AssetUpdate, prepared: Prepared
) -> WriteResult:
    """Write one asset's ``update``, validated as ``prepared``; the caller commits."""
    symbol, window = update.symbol, update.window
    lock_asset(conn, symbol, update.lease_owner)
    inserted = updated = total = 0
    # The stored dates of the window, read before writing: they tell new bars from
    # re-sent ones for every chunk inside the window, and what the window must delete.
    in_window: set[str] | None = None
    if window is not None:
        in_window = sink.stored_dates(symbol, *window)
        w_first, w_last = window[0].isoformat(), window[1].isoformat()
    for chunk in prepared.row_chunks():
        rows, first, last = chunk.rows, chunk.first, chunk.last
        if first is None or last is None:
            continue
        covered = in_window is not None and w_first <= first and last <= w_last
        new, changed = sink.write(symbol, rows, first, last, in_window if covered else None)
        inserted += new
        updated += changed
        total += len(rows)
        del chunk, rows  # before the next chunk is read: memory stays flat
    deleted = 0
    if in_window:
        stale = in_window - prepared.validator.dates
        if stale:
            deleted = sink.delete_dates(symbol, sorted(stale))
    a_new, a_changed, a_gone = merge_actions(
        conn, symbol, prepared.action_rows, update.actions_window
    )
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
        (r.date, r.action_type): r
        for r in conn.execute(sa.select(ACTIONS).where(ACTIONS.c.symbol == symbol))
    }
    keys = {(row["date"], row["action_type"]) for row in rows}
    new = [row for row in rows if (row["date"], row["action_type"]) not in stored]
    changed = [
        row
        for row in rows
        if (old := stored.get((row["date"], row["action_type"]))) is not None
        and tuple(old) != tuple(row[c] for c in ACTION_COLUMNS)
    ]
    if new:
        conn.execute(sa.insert(ACTIONS), new)
    if changed:
        key = (ACTIONS.c.symbol, ACTIONS.c.date, ACTIONS.c.action_type)
        values: dict[str, Any] = {c: sa.bindparam(f"v_{c}") for c in ACTION_COLUMNS[3:]}
        conn.execute(
            sa.update(ACTIONS)
            .where(*(col == sa.bindparam(f"k_{col.name}") for col in key))
            .values(values),
            [
                {**{f"k_{c}": row[c] for c in ACTION_COLUMNS[:3]},
                 **{f"v_{c}": row[c] for c in ACTION_COLUMNS[3:]}}
                for row in changed
            ],
        )  # fmt: skip
    gone: list[tuple[dt.date, str]] = []
    if window is not None:
        start, end = window
        gone = [k for k in stored if start <= k[0] <= end and k not in keys]
        for day, kind in gone:
            conn.execute(
                sa.delete(ACTIONS).where(
                    ACTIONS.c.symbol == symbol, ACTIONS.c.date == day, ACTIONS.c.action_type == kind
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
