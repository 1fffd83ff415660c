"""Findings (rows and values judged wanting while syncing or checking) as a DataFrame.

A finding is recorded by the writer or a check in the same transaction as the asset's data
(:mod:`data_nexus.storage.findings`) and closed, never deleted, once a later judgement of
the same range no longer finds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from data_nexus.query.arguments import pick_source, reader_from, symbol_list
from data_nexus.query.bars import check_known

COLUMNS = [
    "symbol",
    "date",
    "kind",
    "detail",
    "first_seen",
    "last_seen",
    "closed_at",
    "run_id",
    "open",
]


def get_findings(
    symbols: str | Iterable[str] | None = None,
    include_closed: bool = False,
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """The findings of ``symbols`` (every asset when ``None``), open ones unless ``include_closed``.

    Columns: ``symbol``, ``date`` (datetime64[ns], NaT when the finding has no date),
    ``kind`` (e.g. ``non_positive_price``, see :data:`data_nexus.records.FINDING_KINDS`),
    ``detail`` (one line naming the field and value as sent), ``first_seen``,
    ``last_seen``, ``closed_at`` (UTC instants; ``closed_at`` NaT while open), ``run_id``
    (the sync run that last saw it, nullable Int64), ``open`` (bool). Ordered by symbol,
    date (undated first), kind. Raises :class:`~data_nexus.errors.UsageError` for a
    malformed or unknown symbol; pass exactly one of ``url``, ``store``, ``settings``.
    """
    with reader_from(pick_source(url, store, settings)) as reader:
        names = None if symbols is None else symbol_list(symbols)
        if names is not None:
            check_known(reader, names)
        rows = reader.findings(names, include_closed)
    for row in rows:
        row["open"] = row["closed_at"] is None
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    for name in ("first_seen", "last_seen", "closed_at"):
        out[name] = pd.to_datetime(out[name], utc=True)
    out["run_id"] = out["run_id"].astype("Int64")
    out["open"] = out["open"].astype(bool)
    return out
