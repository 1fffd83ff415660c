"""The reads behind ``datanexus check``: a read-only store, asset states, one history at a time.

:func:`open_read_only` opens a database without ever writing to it: an SQLite file must
exist already and is opened with ``PRAGMA query_only``; PostgreSQL sessions start with
``default_transaction_read_only``. Neither is upgraded: a schema not at head raises
:class:`~data_nexus.errors.SchemaOutOfDate` (``datanexus db upgrade``).

:func:`histories` yields each asset's stored bars and corporate actions one asset at a time,
so memory holds one history, not the warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from data_nexus.config import Settings
from data_nexus.migrations import HEAD_REVISION
from data_nexus.models import ASSETS
from data_nexus.records import Bar, Dividend, Split
from data_nexus.storage.capabilities import detect_capabilities
from data_nexus.storage.engine import describe_connect_error, open_engine, safe_display
from data_nexus.storage.schema import schema_out_of_date, stored_revision
from data_nexus.storage.store import Store

_c = ASSETS.c


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only=ON")
    finally:
        cursor.close()


def _read_only_session(dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET default_transaction_read_only = on")
    finally:
        dbapi_connection.autocommit = autocommit


def open_read_only(settings: Settings | str) -> Store:
    """Open the database of ``settings`` (or a URL) for reading only, schema at head.

    Raises :class:`~data_nexus.errors.DatabaseUnavailable` for an SQLite file that does not
    exist (nothing is created) or a server that cannot be reached, and
    :class:`~data_nexus.errors.SchemaOutOfDate` when the schema is not at head.
    """
    url = settings if isinstance(settings, str) else settings.database_url
    engine = open_engine(url, read_only=True)
    where = safe_display(engine.url)
    if engine.url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _query_only)
    else:
        event.listen(engine, "connect", _read_only_session)
    try:
        with engine.connect() as conn:
            current = stored_revision(conn)  # no Alembic: start-up stays light
            caps = detect_capabilities(conn)
    except sa.exc.DBAPIError as error:
        engine.dispose()
        raise describe_connect_error(engine.url, error) from None
    except BaseException:
        engine.dispose()
        raise
    if current != HEAD_REVISION:
        engine.dispose()
        raise schema_out_of_date(where, current, HEAD_REVISION)
    return Store(engine, caps)


@dataclass(frozen=True, slots=True)
class CheckState:
    """What the checks read from an asset's registry row (UTC-aware timestamps)."""

    symbol: str
    exchange: str
    asset_type: str | None
    is_active: bool
    is_delisted: bool
    last_synced: dt.datetime | None
    next_attempt_at: dt.datetime | None
    last_error: str | None
    first_date: dt.date | None
    last_date: dt.date | None


def check_states(conn: sa.Connection, symbols: Sequence[str] | None = None) -> list[CheckState]:
    """The :class:`CheckState` of ``symbols`` (every asset when ``None``), by symbol."""
    fields = CheckState.__dataclass_fields__
    query = sa.select(*(_c[name] for name in fields)).order_by(_c.symbol)
    if symbols is not None:
        query = query.where(_c.symbol.in_(list(symbols)))
    return [CheckState(*row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class History:
    """One asset's stored bars (by date) and corporate actions."""

    state: CheckState
    bars: list[Bar]
    splits: list[Split]
    dividends: list[Dividend]


def histories(store: Store, states: Sequence[CheckState]) -> Iterator[History]:
    """Each asset's stored history, one asset at a time (two reads per asset)."""
    for state in states:
        bars = store.read_bars([state.symbol])
        actions = store.read_actions([state.symbol])
        yield History(
            state,
            bars,
            [a for a in actions if isinstance(a, Split)],
            [a for a in actions if isinstance(a, Dividend)],
        )


__all__ = ["CheckState", "History", "check_states", "histories", "open_read_only"]
