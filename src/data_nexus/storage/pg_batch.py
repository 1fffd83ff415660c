"""PostgreSQL: the first loads of a ``write_assets`` batch through one shared ``COPY``.

Written one by one, each asset of a batch costs a savepoint, a lock, a stored-dates read, a
``COPY`` statement of its own and a state update: five round trips and a ``COPY`` start and
end per asset, about 7 % of the server's time against one ``COPY`` of the same rows, and
as much again on our side. Assets whose window holds no stored bar yet (a first load)
need no merge, so they are written together:

1. all their asset rows are locked (``FOR NO KEY UPDATE``, in input order) in one pipeline,
   then their windows probed for stored bars in another;
2. the assets whose lease is free (or theirs) and whose window is empty (and, on
   TimescaleDB, touches no compressed chunk) are streamed piece by piece, each piece
   validated just before it is sent, through one ``COPY`` into ``market_data``;
3. their corporate actions are merged, their findings recorded, and their state set in
   one pipeline.

All of it runs in one savepoint, and only for assets whose ``bars`` is a list or tuple:
if anything fails (a bad value in a later piece, a row the database refuses), the
savepoint is rolled back and the caller writes every asset on its own, as without this
path, so each asset stays all-or-nothing and a bad one never takes the others down.
The others (re-syncs, generators, unknown or leased assets) are left to the caller.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from data_nexus.bar_columns import BarColumns
from data_nexus.models import ASSETS, MARKET_DATA
from data_nexus.storage.pg_writer import PgBarSink, copy_sql, send_inside
from data_nexus.storage.updates import AssetUpdate, WriteResult
from data_nexus.storage.validate import BarRow
from data_nexus.storage.writer import Known, Prepared, merge_actions

#: Below this many candidates the shared path saves too little to be worth a pipeline.
MIN_ASSETS = 2

_LOCK = "SELECT lease_owner, asset_type FROM assets WHERE symbol = %s FOR NO KEY UPDATE"
_PROBE = "SELECT EXISTS (SELECT FROM market_data WHERE symbol = %s AND time BETWEEN %s AND %s)"


def candidates(updates: Sequence[AssetUpdate], prepared: Mapping[int, Prepared]) -> list[int]:
    """Indexes of the updates the shared ``COPY`` may take, judged before any query.

    They have a window, bars that can be read again (a list, tuple or ``BarColumns``) and a
    symbol no other update of the batch has (the updates of one symbol must run in order).
    """
    counts = Counter(u.symbol for u in updates)
    return [
        i
        for i in sorted(prepared)
        if updates[i].window is not None
        and isinstance(updates[i].bars, list | tuple | BarColumns)
        and counts[updates[i].symbol] == 1
    ]


def _fetch_each(sink: PgBarSink, sql: str, params: list[tuple[Any, ...]]) -> list[list[Any]]:
    """``sql`` once per parameter tuple in one pipeline; the rows of each."""
    cur = sink.cur
    cur.executemany(sql, params, returning=True)
    results = [cur.fetchall()]
    while cur.nextset():
        results.append(cur.fetchall())
    return results


def _eligible(
    sink: PgBarSink, updates: Sequence[AssetUpdate], chosen: list[int], types: dict[int, Any]
) -> list[int]:
    """Lock the chosen assets, then keep those free to write whose window holds no bar.

    ``types`` receives the ``asset_type`` of each asset locked."""
    locks = _fetch_each(sink, _LOCK, [(updates[i].symbol,) for i in chosen])
    free = []
    for i, rows in zip(chosen, locks, strict=True):
        mine = updates[i].lease_owner
        if rows and (mine is None or rows[0][0] is None or rows[0][0] == mine):
            free.append(i)
            types[i] = rows[0][1]
    if not free:
        return []
    probes = _fetch_each(sink, _PROBE, [(updates[i].symbol, *_window(updates[i])) for i in free])
    return [
        i
        for i, rows in zip(free, probes, strict=True)
        if not rows[0][0] and not sink.compressed(*_window(updates[i]))
    ]


def _window(update: AssetUpdate) -> tuple[dt.date, dt.date]:
    if update.window is None:  # pragma: no cover - candidates() has windows only
        raise ValueError(f"{update.symbol}: no window")
    return update.window


def write_shared(
    conn: sa.Connection,
    sink: PgBarSink,
    updates: Sequence[AssetUpdate],
    prepared: Mapping[int, Prepared],
) -> dict[int, WriteResult]:
    """Write the first loads among ``updates`` together; their results by index.

    ``prepared`` holds the validated-so-far updates by index. Call it inside a savepoint
    and roll that back if it raises (see the module's docstring). Returns ``{}`` when fewer
    than :data:`MIN_ASSETS` qualify.
    """
    chosen = candidates(updates, prepared)
    if len(chosen) < MIN_ASSETS:
        return {}
    types: dict[int, Any] = {}
    chosen = _eligible(sink, updates, chosen, types)
    if len(chosen) < MIN_ASSETS:
        return {}
    copied: dict[int, int] = {}
    outside: dict[int, list[BarRow]] = {}
    with sink.cur.copy(copy_sql("market_data")) as copy:
        for i in chosen:
            symbol, (lo, hi) = updates[i].symbol, _window(updates[i])
            known = Known(set(), lo.isoformat(), hi.isoformat())
            pieces = (piece for batch in prepared[i].batches() for piece in batch.pieces())
            copied[i], outside[i] = send_inside(copy, symbol, pieces, known)
    extra: dict[int, tuple[int, int]] = {}
    actions: dict[int, tuple[int, int, int]] = {}
    found: dict[int, int] = {}
    for i in chosen:
        update, held = updates[i], outside[i]
        if held:  # the general path, before the coverage is read
            extra[i] = sink.write(update.symbol, held, min(held)[0], max(held)[0], None)
        actions[i] = merge_actions(
            conn, update.symbol, prepared[i].action_rows, update.actions_window
        )
        found[i] = prepared[i].record(conn, update, types[i])
    ranges = _set_states(conn, [(updates[i].symbol, updates[i].state) for i in chosen])
    results: dict[int, WriteResult] = {}
    for i in chosen:
        symbol = updates[i].symbol
        new, changed = extra.get(i, (0, 0))
        a_new, a_changed, a_gone = actions[i]
        results[i] = WriteResult(
            symbol=symbol,
            inserted=copied[i] + new,
            updated=changed,
            unchanged=len(outside[i]) - new - changed,
            deleted=0,
            actions_inserted=a_new,
            actions_updated=a_changed,
            actions_deleted=a_gone,
            first_date=ranges[symbol][0],
            last_date=ranges[symbol][1],
            findings=found[i],
        )
    return results


def _set_states(
    conn: sa.Connection, states: list[tuple[str, Mapping[str, Any]]]
) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    """:func:`~data_nexus.storage.writer.set_state` for several assets, one pipeline per
    set of state columns; the coverage (first, last date) of each."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for symbol, state in states:
        values = {"k_symbol": symbol} | {f"v_{k}": v for k, v in state.items()}
        groups.setdefault(tuple(sorted(state)), []).append(values)
    of_symbol = MARKET_DATA.c.symbol == sa.bindparam("k_symbol")
    for columns, params in groups.items():
        statement = (
            sa.update(ASSETS)
            .where(ASSETS.c.symbol == sa.bindparam("k_symbol"))
            .values(
                {c: sa.bindparam(f"v_{c}") for c in columns}
                | {
                    "updated_at": sa.func.now(),
                    "first_date": sa.select(sa.func.min(MARKET_DATA.c.time))
                    .where(of_symbol)
                    .scalar_subquery(),
                    "last_date": sa.select(sa.func.max(MARKET_DATA.c.time))
                    .where(of_symbol)
                    .scalar_subquery(),
                }
            )
        )
        conn.execute(statement, params)
    symbols = [symbol for symbol, _ in states]
    rows = conn.execute(
        sa.select(ASSETS.c.symbol, ASSETS.c.first_date, ASSETS.c.last_date).where(
            ASSETS.c.symbol.in_(symbols)
        )
    )
    return {r.symbol: (r.first_date, r.last_date) for r in rows}
