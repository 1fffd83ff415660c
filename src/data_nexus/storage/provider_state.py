"""``provider_state``: small facts shared by every worker, one typed accessor per key.

The table is a key → text store; this module is the only one that knows the keys and how
their values are encoded, so callers read and write typed values:

=====================  ===================================  ==============================
key                    value                                accessors
=====================  ===================================  ==============================
``calls:YYYY-MM-DD``   weighted calls spent that GMT day    :func:`calls_spent`,
                                                            :func:`lock_calls`,
                                                            :func:`set_calls`
``rate:eodhd``         the shared token bucket (JSON)       :func:`lock_rate_bucket`,
                                                            :func:`set_rate_bucket`
``bulk:EXCHANGE``      ``unavailable`` (the plan refused)   :func:`bulk_refused_at`,
                                                            :func:`set_bulk_refused`
``sync:run-lock``      the SQLite one-writer lock (JSON)    :func:`run_lock`,
                                                            :func:`set_run_lock`,
                                                            :func:`drop_run_lock`
``demo``               the demo's mark on its database      :func:`demo_mark`,
                                                            :func:`set_demo_mark`
=====================  ===================================  ==============================

Writes take a connection from :meth:`Store.atomic <data_nexus.storage.store.Store.atomic>`.
The ``lock_*`` readers create a missing row first and lock it for the transaction, so
concurrent workers queue on the same row instead of racing to insert it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from data_nexus.models import PROVIDER_STATE
from data_nexus.storage.capabilities import Capabilities

_t = PROVIDER_STATE
_c = _t.c
RATE_KEY = "rate:eodhd"
RUN_LOCK_KEY = "sync:run-lock"
DEMO_KEY = "demo"
_BULK_REFUSED = "unavailable"


def _get(conn: sa.Connection, key: str) -> str | None:
    value = conn.execute(sa.select(_c.value).where(_c.key == key)).scalar()
    return None if value is None else str(value)


def _put(conn: sa.Connection, key: str, value: str, now: dt.datetime) -> None:
    """Set ``key`` (insert or update)."""
    done = conn.execute(sa.update(_t).where(_c.key == key).values(value=value, updated_at=now))
    if not done.rowcount:
        conn.execute(sa.insert(_t).values(key=key, value=value, updated_at=now))


def _drop(conn: sa.Connection, key: str) -> None:
    conn.execute(sa.delete(_t).where(_c.key == key))


def _locked(
    conn: sa.Connection, caps: Capabilities, key: str, initial: str, now: dt.datetime
) -> str:
    """The row's value, locked for this transaction; created with ``initial`` if missing.

    Creating the row first (``ON CONFLICT DO NOTHING``) means two workers starting at once
    both lock the same row instead of racing to insert it. SQLite's ``BEGIN IMMEDIATE``
    already serialises writers; PostgreSQL takes a row lock.
    """
    insert = (postgresql.insert if caps.is_postgres else sqlite.insert)(_t)
    conn.execute(
        insert.values(key=key, value=initial, updated_at=now).on_conflict_do_nothing(
            index_elements=[_c.key]
        )
    )
    query = sa.select(_c.value).where(_c.key == key)
    if caps.skip_locked:
        query = query.with_for_update()
    return str(conn.execute(query).scalar_one())


# -- calls spent per GMT day ----------------------------------------------------------------


def _calls_key(day: dt.date) -> str:
    return f"calls:{day.isoformat()}"


def calls_spent(conn: sa.Connection, day: dt.date) -> int:
    """Weighted calls recorded for the GMT ``day`` (0 when none)."""
    value = _get(conn, _calls_key(day))
    return 0 if value is None else int(value)


def lock_calls(conn: sa.Connection, caps: Capabilities, day: dt.date, now: dt.datetime) -> int:
    """:func:`calls_spent`, with the day's row locked until the transaction ends."""
    return int(_locked(conn, caps, _calls_key(day), "0", now))


def set_calls(conn: sa.Connection, day: dt.date, calls: int, now: dt.datetime) -> None:
    """Record ``calls`` as the GMT ``day``'s spent calls."""
    _put(conn, _calls_key(day), str(calls), now)


# -- the shared rate bucket -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateBucket:
    """The shared token bucket: ``tokens`` (fractional requests) left at instant ``at``."""

    tokens: float
    at: dt.datetime


def lock_rate_bucket(
    conn: sa.Connection, caps: Capabilities, initial: RateBucket, now: dt.datetime
) -> RateBucket:
    """The shared bucket (``initial`` when there is none yet), locked for the transaction."""
    state = json.loads(_locked(conn, caps, RATE_KEY, _bucket_text(initial), now))
    return RateBucket(float(state["tokens"]), dt.datetime.fromisoformat(state["at"]))


def set_rate_bucket(conn: sa.Connection, bucket: RateBucket, now: dt.datetime) -> None:
    """Store the shared bucket."""
    _put(conn, RATE_KEY, _bucket_text(bucket), now)


def _bucket_text(bucket: RateBucket) -> str:
    return json.dumps({"tokens": bucket.tokens, "at": bucket.at.isoformat()})


# -- bulk availability per exchange ---------------------------------------------------------


def _bulk_key(exchange: str) -> str:
    return f"bulk:{exchange}"


def bulk_refused_at(conn: sa.Connection, exchange: str) -> dt.datetime | None:
    """When the plan last refused bulk requests for ``exchange`` (``None``: not known to)."""
    row = conn.execute(
        sa.select(_c.value, _c.updated_at).where(_c.key == _bulk_key(exchange))
    ).first()
    if row is None or row.value != _BULK_REFUSED:
        return None
    refused: dt.datetime = row.updated_at
    return refused


def set_bulk_refused(conn: sa.Connection, exchange: str, refused: bool, now: dt.datetime) -> None:
    """Record that the plan refused bulk for ``exchange`` at ``now``, or forget it."""
    key = _bulk_key(exchange)
    _drop(conn, key)
    if refused:
        conn.execute(sa.insert(_t).values(key=key, value=_BULK_REFUSED, updated_at=now))


# -- the SQLite one-writer lock -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunLock:
    """Who holds the database's sync lock, since when, and until when (UTC instants)."""

    owner: str
    since: dt.datetime
    expires: dt.datetime


def run_lock(conn: sa.Connection) -> RunLock | None:
    """The current sync lock, or ``None``."""
    text = _get(conn, RUN_LOCK_KEY)
    if text is None:
        return None
    info = json.loads(text)
    return RunLock(
        str(info["owner"]),
        dt.datetime.fromisoformat(info["since"]),
        dt.datetime.fromisoformat(info["expires"]),
    )


def set_run_lock(conn: sa.Connection, lock: RunLock, now: dt.datetime) -> None:
    """Store ``lock`` (taking the lock, or renewing it)."""
    text = json.dumps(
        {"owner": lock.owner, "since": lock.since.isoformat(), "expires": lock.expires.isoformat()}
    )
    _put(conn, RUN_LOCK_KEY, text, now)


def drop_run_lock(conn: sa.Connection) -> None:
    """Remove the sync lock."""
    _drop(conn, RUN_LOCK_KEY)


# -- the demo's mark ------------------------------------------------------------------------


def demo_mark(conn: sa.Connection) -> str | None:
    """The demo's mark on this database, or ``None`` when it is not the demo's."""
    return _get(conn, DEMO_KEY)


def set_demo_mark(conn: sa.Connection, text: str, now: dt.datetime) -> None:
    """Mark the database as the demo's."""
    _put(conn, DEMO_KEY, text, now)
