"""Corporate actions, per-asset sync status and the sync-run history as DataFrames.

``get_status`` classifies each asset (pure :func:`classify`, the clock passed in):

- ``paused``: excluded from syncs (``datanexus assets pause``);
- ``failing``: the last sync of it failed (``fail_count > 0``); ``why`` is the last error and
  ``next_attempt_at`` when the backoff lets the next run try again;
- ``never synced``: registered, nothing fetched yet;
- ``stale``: its newest bar is more than ``stale_days`` calendar days older than ``now``
  (default 4: a long weekend is not stale);
- ``ok`` otherwise.

Rows are ordered failing, stale, never synced, paused, ok; then by symbol.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd

from data_nexus.query.arguments import Source, pick_source, reader_from, symbol_list
from data_nexus.records import Split
from data_nexus.storage.frames import AssetRow

STATES = ("failing", "stale", "never synced", "paused", "ok")
STALE_DAYS = 4


def classify(row: AssetRow, now: dt.datetime, stale_days: int = STALE_DAYS) -> str:
    """The state of one asset (see the module docstring)."""
    if not row.is_active:
        return "paused"
    if row.fail_count > 0:
        return "failing"
    if row.last_synced is None and row.last_date is None:
        return "never synced"
    if row.last_date is None or (now.date() - row.last_date).days > stale_days:
        return "stale"
    return "ok"


def get_actions(
    symbols: str | Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Splits and dividends as a DataFrame ordered by (symbol, date, action).

    Columns: ``symbol``, ``date`` (datetime64[ns]), ``action`` (``split``/``dividend``),
    ``value`` (float64: the dividend per share adjusted for later splits, or the split ratio
    new/old), ``numerator``, ``denominator`` (splits), ``unadjusted_value`` (the dividend as
    declared), ``currency``, ``declaration_date``, ``record_date``, ``payment_date``,
    ``period``. ``symbols=None`` lists every asset's actions.
    """
    from data_nexus.query.bars import check_known, parse_range  # noqa: PLC0415

    first, last = parse_range(start, end)
    with reader_from(pick_source(url, store, settings)) as reader:
        names = None if symbols is None else symbol_list(symbols)
        if names is not None:
            check_known(reader, names)
        actions = reader.actions(names, first, last)
    rows = []
    for a in actions:
        if isinstance(a, Split):
            rows.append(
                {
                    "symbol": a.symbol,
                    "date": a.date,
                    "action": "split",
                    "value": float(a.numerator / a.denominator),
                    "numerator": float(a.numerator),
                    "denominator": float(a.denominator),
                }
            )
        else:
            rows.append(
                {
                    "symbol": a.symbol,
                    "date": a.date,
                    "action": "dividend",
                    "value": float(a.value),
                    "unadjusted_value": (
                        None if a.unadjusted_value is None else float(a.unadjusted_value)
                    ),
                    "currency": a.currency,
                    "declaration_date": a.declaration_date,
                    "record_date": a.record_date,
                    "payment_date": a.payment_date,
                    "period": a.period,
                }
            )
    columns = [
        "symbol",
        "date",
        "action",
        "value",
        "numerator",
        "denominator",
        "unadjusted_value",
        "currency",
        "declaration_date",
        "record_date",
        "payment_date",
        "period",
    ]
    out = pd.DataFrame(rows, columns=columns)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    for name in ("value", "numerator", "denominator", "unadjusted_value"):
        out[name] = out[name].astype("float64")
    return out


def get_status(
    now: dt.datetime,
    *,
    stale_days: int = STALE_DAYS,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """One row per asset: what is stored and how its syncs go, worst first.

    Columns: ``symbol``, ``exchange``, ``state`` (see the module docstring), ``why`` (the
    last error of a failing asset), ``last_synced``, ``first_date``, ``last_date``, ``rows``
    (stored bars), ``history_from`` (how far back the provider has been asked for the
    asset's history: a backfill with ``--since`` reaches further only when it is earlier;
    ``0001-01-01`` when the whole history was asked for, ``None`` before the first fetch),
    ``fail_count``, ``next_attempt_at``, ``paused``, ``open_findings`` (int64: the asset's
    open findings, 0 when none; listed by :func:`data_nexus.query.findings.get_findings`).
    ``now`` is a timezone-aware instant
    (the clock is passed in).
    """
    source: Source = pick_source(url, store, settings)
    with reader_from(source) as reader:
        assets = reader.assets()
        counts = reader.bar_counts()
        findings = reader.finding_counts()
    rows = [
        {
            "symbol": a.symbol,
            "exchange": a.exchange,
            "state": classify(a, now, stale_days),
            "why": a.last_error if a.fail_count > 0 else None,
            "last_synced": a.last_synced,
            "first_date": a.first_date,
            "last_date": a.last_date,
            "rows": counts.get(a.symbol, 0),
            "history_from": a.history_from,
            "fail_count": a.fail_count,
            "next_attempt_at": a.next_attempt_at,
            "paused": not a.is_active,
            "open_findings": findings.get(a.symbol, 0),
        }
        for a in assets
    ]
    rows.sort(key=lambda r: (STATES.index(r["state"]), r["symbol"]))
    out = pd.DataFrame(
        rows,
        columns=[
            "symbol",
            "exchange",
            "state",
            "why",
            "last_synced",
            "first_date",
            "last_date",
            "rows",
            "history_from",
            "fail_count",
            "next_attempt_at",
            "paused",
            "open_findings",
        ],
    )
    out["open_findings"] = out["open_findings"].astype("int64")
    out["rows"] = out["rows"].astype("int64")
    out["fail_count"] = out["fail_count"].astype("int64")
    out["paused"] = out["paused"].astype(bool)
    out.attrs["now"] = now.isoformat()
    return out


def get_runs(
    last: int | None = None,
    *,
    url: str | None = None,
    store: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """The ``sync_runs`` history, newest first (the ``last`` N runs, or all).

    Columns: ``id``, ``started_at``, ``finished_at``, ``worker_id``, ``status``,
    ``assets_planned``, ``assets_synced``, ``assets_skipped``, ``assets_failed``,
    ``rows_written``, ``rows_revised``, ``calls_spent``, ``bulk_used``, ``message``.
    """
    with reader_from(pick_source(url, store, settings)) as reader:
        rows = reader.runs(last)
    columns = [
        "id",
        "started_at",
        "finished_at",
        "worker_id",
        "status",
        "assets_planned",
        "assets_synced",
        "assets_skipped",
        "assets_failed",
        "rows_written",
        "rows_revised",
        "calls_spent",
        "bulk_used",
        "message",
    ]
    return pd.DataFrame(rows, columns=columns)
