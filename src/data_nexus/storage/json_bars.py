"""One symbol's stored bars as JSON text, written by SQLite in one statement.

The hot request of ``datanexus serve`` (``GET /bars/{symbol}``: a symbol-year, daily, as
stored) spent more time turning rows into Arrow columns and Arrow columns into JSON text
than SQLite spent finding them (docs/benchmarks.md, "HTTP"). SQLite stores every price as
its canonical decimal text (:func:`data_nexus.decimals.canonical`: ``177.83``,
``0.00000123``, ``-1.5``; never an exponent, never ``NaN``), which is already a JSON
number, so SQLite can write each row's JSON object itself and join them: the numbers come
out exactly as stored, with no float on the way (the Arrow path writes the shortest float64
text, which for more than 15-17 significant digits is not the stored value).

Each row is ``{"date":"YYYY-MM-DD","open":…,"high":…,"low":…,"close":…,
"adjusted_close":…,"volume":…}`` (``null`` where missing), rows in date order, joined by
``,``. ``printf`` writes a row in one call (about half the cost of ``json_object`` over
``json(price)``, which parses each number again only to write the same text back:
``benchmarks/serve_http.py``, docs/benchmarks.md).

Order: SQLite promises the order of an aggregate's input only from 3.44 (``ORDER BY`` inside
the aggregate). Before that the rows come from a subquery ordered by date, which SQLite
feeds to the aggregate in that order in practice, and the statement also joins the same
rows' dates (10 characters each, in the aggregate's order): the JSON is used only if they
are strictly increasing, else the caller reads the general way. A surprise costs time,
never a misplaced row.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

#: One stored bar as a JSON object (SQLite ``printf``; a NULL written as ``null``).
_ROW = (
    'printf(\'{"date":"%s","open":%s,"high":%s,"low":%s,"close":%s,'
    '"adjusted_close":%s,"volume":%s}\', time, ifnull(open, \'null\'), '
    "ifnull(high, 'null'), ifnull(low, 'null'), ifnull(close, 'null'), "
    "ifnull(adjusted_close, 'null'), ifnull(volume, 'null'))"
)
#: The asset's last stored date ('' when none) or NULL when the symbol is not an asset.
_LAST = "(SELECT ifnull(last_date, '') FROM assets WHERE symbol = :symbol)"
_WHERE = "symbol = :symbol AND time >= :start AND time <= :end"
#: SQLite ≥ 3.44: the aggregate's own ORDER BY (documented order, no check needed).
ORDERED_SQL = (
    f"SELECT {_LAST}, count(*), group_concat({_ROW}, ',' ORDER BY time) "
    f"FROM market_data WHERE {_WHERE}"
)
#: Older SQLite: an ordered subquery, checked by the dates joined alongside.
CHECKED_SQL = (
    f"SELECT {_LAST}, count(*), group_concat(row, ','), group_concat(day, '') "
    f"FROM (SELECT {_ROW} AS row, time AS day FROM market_data WHERE {_WHERE} ORDER BY time)"
)
#: Dates outside every stored bar (the bounds when ``start`` or ``end`` is not given).
_FIRST, _LAST_DAY = "0000-00-00", "9999-99-99"


@dataclass(frozen=True, slots=True)
class JsonBars:
    """One symbol's bars as JSON: ``known`` whether it is a registered asset; ``rows`` the
    comma-separated row objects (``""`` when there are none in the range), ``count`` how
    many; ``last_date`` the asset's last stored bar date (``assets.last_date``), if any."""

    known: bool
    rows: str
    count: int
    last_date: dt.date | None


def sqlite_json_bars(
    conn: sqlite3.Connection,
    symbol: str,
    start: dt.date | None,
    end: dt.date | None,
    *,
    ordered_aggregates: bool | None = None,
) -> JsonBars | None:
    """The bars of ``symbol`` in [start, end] as :class:`JsonBars`, in one statement.

    ``None`` when the rows could not be shown to be in date order (the caller reads them
    another way).
    ``ordered_aggregates`` (default: whether this SQLite is 3.44 or newer) picks
    :data:`ORDERED_SQL` or :data:`CHECKED_SQL`; tests force each.
    """
    if ordered_aggregates is None:
        ordered_aggregates = sqlite3.sqlite_version_info >= (3, 44)
    params = {
        "symbol": symbol,
        "start": start.isoformat() if start is not None else _FIRST,
        "end": end.isoformat() if end is not None else _LAST_DAY,
    }
    if ordered_aggregates:
        last, count, rows = conn.execute(ORDERED_SQL, params).fetchone()
    else:
        last, count, rows, times = conn.execute(CHECKED_SQL, params).fetchone()
        if count and not _increasing(times, count):
            return None
    day = dt.date.fromisoformat(last) if last else None
    return JsonBars(last is not None, rows or "", count, day)


def _increasing(times: str, count: int) -> bool:
    """Whether ``times`` is ``count`` ISO dates, each after the one before."""
    if len(times) != 10 * count:
        return False
    days = [times[i : i + 10] for i in range(0, len(times), 10)]
    return all(map(str.__lt__, days, days[1:]))
