"""One symbol's daily bars, as stored, as a JSON document written by the database.

The JSON of ``GET /bars/{symbol}`` for its most common form (``adjust=none``,
``interval=1d``), and a library call of its own for anyone who wants the same document:

    {"symbol":"AAPL.US","adjust":"none","interval":"1d",
     "bars":[{"date":"2024-01-02","open":185.64,"high":…,"low":…,"close":…,
              "adjusted_close":…,"volume":82488700},…],
     "cutoff":"2024-12-31"}

(one line, no blanks.)
Bars oldest first; missing values ``null``; ``cutoff`` the asset's last stored bar date,
capped at ``end`` (``null`` when it has none). Prices are the stored decimals written
exactly (``0.00000123``, ``123456789.123456789``), where the Arrow path
(:func:`~data_nexus.query.bars.get_bars_arrow` then float64 text) writes the shortest text
of the nearest float64: the same numbers for up to 15 significant digits
(``tests/query/test_bars_json.py``).
"""

from __future__ import annotations

import json
from typing import Any

from data_nexus.query.arguments import pick_source
from data_nexus.query.bars import (
    DateLike,
    check_known,
    parse_range,
    reader_from,
    symbol_list,
)

_TIGHT = (",", ":")  # no blanks, as the answers of ``datanexus serve``


def get_bars_json(
    symbol: str,
    start: DateLike = None,
    end: DateLike = None,
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> bytes | None:
    """The daily, unadjusted bars of one ``symbol`` in [start, end] as a UTF-8 JSON document
    (shape in the module docstring), written by the database in one statement.

    ``None`` when the database has no such path (PostgreSQL) or could not vouch for the row
    order: :func:`~data_nexus.query.bars.get_bars_arrow` gives the same bars. Read from
    exactly one of ``url``, ``store`` or ``settings`` (an open
    :class:`~data_nexus.storage.frames.FrameReader` too); read-only.

    Raises :class:`~data_nexus.errors.UnknownSymbols` for a symbol that is not a registered
    asset, :class:`~data_nexus.errors.UsageError` for a bad symbol or date, or ``start``
    after ``end``.
    """
    name = symbol_list(symbol)  # one (a str is one symbol)
    first, last = parse_range(start, end)
    with reader_from(pick_source(url, store, settings)) as reader:
        read = reader.json_bars(name[0], first, last)
        if read is not None and not read.known:
            check_known(reader, name, known=set())
    if read is None:
        return None
    cutoff = None
    if read.last_date is not None:
        cutoff = (min(read.last_date, last) if last else read.last_date).isoformat()
    head = json.dumps({"symbol": name[0], "adjust": "none", "interval": "1d"}, separators=_TIGHT)
    return f'{head[:-1]},"bars":[{read.rows}],"cutoff":{json.dumps(cutoff)}}}'.encode()
