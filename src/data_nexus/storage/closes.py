"""The close before a date, per symbol: what a return needs before a window's first bar.

One correlated subquery per (symbol, date) pair over the (symbol, time) index, in a few
statements on a reader's raw connection (:meth:`RowReads.closes_before
<data_nexus.storage.reader_rows.RowReads.closes_before>`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from decimal import Decimal

from data_nexus.storage.statement import Connection, Statement

#: (symbol, date) pairs per previous-close statement.
CLOSE_GROUP = 400


def previous_closes(
    conn: Connection, keys: Sequence[tuple[str, dt.date]]
) -> dict[tuple[str, dt.date], Decimal]:
    """The close of each symbol's last bar before each date, in a few statements (absent: no
    earlier bar, or that bar has no close); :meth:`FrameReader.closes_before
    <data_nexus.storage.frames.FrameReader.closes_before>` on a reader's connection.
    """
    out: dict[tuple[str, dt.date], Decimal] = {}
    postgres = not isinstance(conn, sqlite3.Connection)
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), CLOSE_GROUP):
        group = unique[i : i + CLOSE_GROUP]
        sql = Statement(postgres, [])
        day_type = "::date" if postgres else ""
        values = ", ".join(f"({sql.bind(s)}, {sql.bind(d)}{day_type})" for s, d in group)
        text = (
            f"WITH d(symbol, day) AS (VALUES {values}) SELECT d.symbol, d.day, "
            "(SELECT m.close FROM market_data m WHERE m.symbol = d.symbol AND m.time < d.day "
            "ORDER BY m.time DESC LIMIT 1) FROM d"
        )
        if isinstance(conn, sqlite3.Connection):
            rows = conn.execute(text, sql.params).fetchall()
        else:
            with conn.cursor() as cur:
                cur.execute(text, sql.params)
                rows = cur.fetchall()
        for symbol, day, close in rows:
            if close is not None:
                when = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
                out[(symbol, when)] = Decimal(str(close))
    return out
