"""The reader's small reads: assets, symbols, corporate actions, findings and sync runs.

Rows of the warehouse's bookkeeping tables as Python records (:class:`AssetRow`,
:class:`~data_nexus.records.Split` / :class:`~data_nexus.records.Dividend`, dicts), on the
connection of a :class:`~data_nexus.storage.frames.FrameReader`, whatever its backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from data_nexus.records import Dividend, Split
from data_nexus.storage.closes import previous_closes
from data_nexus.storage.reader_connection import ReaderConnection

#: Symbols per SQLite statement (well inside its 32,766 parameters).
SQLITE_SYMBOLS = 500


@dataclass(frozen=True, slots=True)
class AssetRow:
    """The ``assets`` columns the read side reports."""

    symbol: str
    exchange: str
    name: str | None
    is_active: bool
    is_delisted: bool
    last_synced: dt.datetime | None
    first_date: dt.date | None
    last_date: dt.date | None
    last_error: str | None
    fail_count: int
    next_attempt_at: dt.datetime | None
    #: How far back the provider has been asked for its history (``date.min``: all of it).
    history_from: dt.date | None = None


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class RowReads(ReaderConnection):
    """The small reads of :class:`~data_nexus.storage.frames.FrameReader`."""

    def known_symbols(self, symbols: Sequence[str]) -> set[str]:
        """Which of ``symbols`` are registered assets."""
        found: set[str] = set()
        names = list(dict.fromkeys(symbols))
        for i in range(0, len(names), SQLITE_SYMBOLS):
            group = names[i : i + SQLITE_SYMBOLS]
            marks = ", ".join("?" * len(group))
            rows = self._rows(f"SELECT symbol FROM assets WHERE symbol IN ({marks})", group)
            found.update(r[0] for r in rows)
        return found

    def all_symbols(self) -> list[str]:
        """Every registered asset, sorted."""
        return [r[0] for r in self._rows("SELECT symbol FROM assets ORDER BY symbol", [])]

    def last_dates(self, symbols: Sequence[str]) -> dict[str, dt.date]:
        """The last stored bar date (the data cut-off) of each of ``symbols`` that has bars."""
        out: dict[str, dt.date] = {}
        names = list(dict.fromkeys(symbols))
        for i in range(0, len(names), SQLITE_SYMBOLS):
            group = names[i : i + SQLITE_SYMBOLS]
            marks = ", ".join("?" * len(group))
            sql = f"SELECT symbol, last_date FROM assets WHERE symbol IN ({marks})"
            for symbol, last in self._rows(sql, group):
                day = _day(last)
                if day is not None:
                    out[symbol] = day
        return out

    def actions(
        self,
        symbols: Sequence[str] | None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> list[Split | Dividend]:
        """Corporate actions of ``symbols`` (None: all), ordered by (symbol, date, type)."""
        out: list[Split | Dividend] = []
        groups: list[list[str] | None] = [None]
        if symbols is not None:
            names = sorted(set(symbols))
            groups = [names[i : i + SQLITE_SYMBOLS] for i in range(0, len(names), SQLITE_SYMBOLS)]
        for group in groups:
            parts: list[str] = []
            params: list[Any] = []
            if group is not None:
                parts.append(f"symbol IN ({', '.join('?' * len(group))})")
                params.extend(group)
            if start is not None:
                parts.append("date >= ?")
                params.append(start.isoformat() if self._pg is None else start)
            if end is not None:
                parts.append("date <= ?")
                params.append(end.isoformat() if self._pg is None else end)
            where = (" WHERE " + " AND ".join(parts)) if parts else ""
            sql = (
                "SELECT symbol, date, action_type, value, numerator, denominator, "
                "unadjusted_value, currency, declaration_date, record_date, payment_date, "
                f"period FROM corporate_actions{where} ORDER BY symbol, date, action_type"
            )
            for row in self._rows(sql, params):
                symbol, day, kind, value, num, den, unadj, cur, decl, rec, pay, period = row
                if kind == "split":
                    out.append(Split(symbol, _day(day), _dec(num), _dec(den)))  # type: ignore[arg-type]
                else:
                    out.append(
                        Dividend(
                            symbol,
                            _day(day),  # type: ignore[arg-type]
                            _dec(value),  # type: ignore[arg-type]
                            unadjusted_value=_dec(unadj),
                            currency=cur,
                            declaration_date=_day(decl),
                            record_date=_day(rec),
                            payment_date=_day(pay),
                            period=period,
                        )
                    )
        return out

    def closes_before(
        self, keys: Sequence[tuple[str, dt.date]]
    ) -> dict[tuple[str, dt.date], Decimal]:
        """The close of each symbol's last bar before each date (absent: no earlier bar), in a
        few statements (:func:`~data_nexus.storage.closes.previous_closes`)."""
        conn = self._pg if self._pg is not None else self._sqlite
        assert conn is not None
        return previous_closes(conn, keys)

    def assets(self) -> list[AssetRow]:
        """Every asset with its sync state, sorted by symbol."""
        sql = (
            "SELECT symbol, exchange, name, is_active, is_delisted, last_synced, first_date, "
            "last_date, last_error, fail_count, next_attempt_at, history_from FROM assets "
            "ORDER BY symbol"
        )
        return [
            AssetRow(
                r[0],
                r[1],
                r[2],
                bool(r[3]),
                bool(r[4]),
                _utc(r[5]),
                _day(r[6]),
                _day(r[7]),
                r[8],
                int(r[9] or 0),
                _utc(r[10]),
                _day(r[11]),
            )
            for r in self._rows(sql, [])
        ]

    def bar_counts(self) -> dict[str, int]:
        """Stored bars per symbol."""
        sql = "SELECT symbol, count(*) FROM market_data GROUP BY symbol"
        return {r[0]: int(r[1]) for r in self._rows(sql, [])}

    def finding_counts(self) -> dict[str, int]:
        """Open findings per symbol (symbols without any are absent)."""
        sql = "SELECT symbol, count(*) FROM findings WHERE closed_at IS NULL GROUP BY symbol"
        return {r[0]: int(r[1]) for r in self._rows(sql, [])}

    def findings(
        self, symbols: Sequence[str] | None = None, include_closed: bool = False
    ) -> list[dict[str, Any]]:
        """Rows of ``findings`` (open ones unless ``include_closed``), as dicts.

        Ordered by symbol, date (undated first), kind and id, like
        :func:`data_nexus.storage.findings.list_findings`.
        """
        parts: list[str] = []
        params: list[Any] = []
        if symbols is not None:
            if not symbols:
                return []
            parts.append(f"symbol IN ({', '.join('?' * len(symbols))})")
            params.extend(symbols)
        if not include_closed:
            parts.append("closed_at IS NULL")
        where = (" WHERE " + " AND ".join(parts)) if parts else ""
        sql = (
            "SELECT id, symbol, date, kind, detail, first_seen, last_seen, run_id, closed_at "
            f"FROM findings{where} "
            "ORDER BY symbol, CASE WHEN date IS NULL THEN 0 ELSE 1 END, date, kind, id"
        )
        return [
            {
                "id": int(r[0]),
                "symbol": r[1],
                "date": _day(r[2]),
                "kind": r[3],
                "detail": r[4],
                "first_seen": _utc(r[5]),
                "last_seen": _utc(r[6]),
                "run_id": None if r[7] is None else int(r[7]),
                "closed_at": _utc(r[8]),
            }
            for r in self._rows(sql, params)
        ]

    def runs(self, last: int | None = None) -> list[dict[str, Any]]:
        """The ``sync_runs`` rows, newest first (``last`` of them)."""
        columns = (
            "id, started_at, finished_at, worker_id, status, assets_planned, assets_synced, "
            "assets_skipped, assets_failed, rows_written, rows_revised, calls_spent, "
            "bulk_used, message"
        )
        sql = f"SELECT {columns} FROM sync_runs ORDER BY started_at DESC, id DESC"
        params: list[Any] = []
        if last is not None:
            sql += " LIMIT ?"
            params.append(int(last))
        names = [c.strip() for c in columns.split(",")]
        out = []
        for row in self._rows(sql, params):
            record = dict(zip(names, row, strict=True))
            record["started_at"] = _utc(record["started_at"])
            record["finished_at"] = _utc(record["finished_at"])
            record["bulk_used"] = bool(record["bulk_used"])
            out.append(record)
        return out
