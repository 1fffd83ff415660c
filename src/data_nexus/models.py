"""The schema: SQLAlchemy 2 models for assets, daily bars, corporate actions, sync runs and
findings.

This module and the packaged Alembic migrations are the only places the schema is written
down (``docs/schema.md`` explains each column and where we depart from the original plan).
The sync hot path does not create ORM objects; it writes through set-based statements on
the tables defined here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from data_nexus.types import UTCDateTime, exact_type

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACTION_TYPES = ("split", "dividend")


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


_now = sa.func.now()


class Asset(Base):
    """One tradable symbol, its registry data and its sync state."""

    __tablename__ = "assets"

    symbol: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(48))
    exchange: Mapped[str] = mapped_column(sa.String(16), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(256))
    asset_type: Mapped[str | None] = mapped_column(sa.String(32))
    currency: Mapped[str | None] = mapped_column(sa.String(8))
    isin: Mapped[str | None] = mapped_column(sa.String(12))
    country: Mapped[str | None] = mapped_column(sa.String(64))
    venue: Mapped[str | None] = mapped_column(sa.String(32))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    is_delisted: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    unlisted_since: Mapped[dt.date | None] = mapped_column(sa.Date)
    last_synced: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    last_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: The ``from`` of the earliest successful fetch reaching back to the first stored bar
    #: (``date.min``: the whole history; ``None``: not known). See ``sync.plan.asked_from``.
    history_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    actions_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    fail_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(sa.String(128))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), server_default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), server_default=_now)

    __table_args__ = (sa.Index("ix_assets_due", "is_active", "last_synced"),)


class MarketData(Base):
    """One daily bar: a trading *date* (not an instant) of one symbol.

    Prices are exact decimals (unconstrained ``NUMERIC``; exact text on SQLite): as sent by
    the provider, never rounded, negative ones included (WTI settled at -37.63 on
    2020-04-20), and far below 1E-8 (crypto). ``adjusted_close`` is the provider's split- and
    dividend-adjusted close; ``volume`` (up to BIGINT's 2^63-1) is split-adjusted by the
    provider.
    """

    __tablename__ = "market_data"

    time: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    symbol: Mapped[str] = mapped_column(
        sa.String(64),
        sa.ForeignKey("assets.symbol", ondelete="CASCADE"),
        primary_key=True,
    )
    open: Mapped[Decimal | None] = mapped_column(exact_type())
    high: Mapped[Decimal | None] = mapped_column(exact_type())
    low: Mapped[Decimal | None] = mapped_column(exact_type())
    close: Mapped[Decimal] = mapped_column(exact_type())
    adjusted_close: Mapped[Decimal | None] = mapped_column(exact_type())
    volume: Mapped[int | None] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.Index("ix_market_data_symbol_time", "symbol", "time"),)


class CorporateAction(Base):
    """A split or a dividend on its ex-date.

    The key is (symbol, date, action_type, seq): a split and a dividend on the same day are
    two rows, and so are two *different* dividends on one ex-date (a regular and a special
    one), numbered ``seq`` 0, 1, … in a stable order of their values (exact duplicates are
    stored once). Splits keep both sides of the ratio exactly as sent (``numerator`` new
    shares for ``denominator`` old ones); ``value`` is their quotient rounded to 12 places,
    for convenience. Dividends keep the split-adjusted ``value`` and the declared
    ``unadjusted_value``.
    """

    __tablename__ = "corporate_actions"

    symbol: Mapped[str] = mapped_column(
        sa.String(64),
        sa.ForeignKey("assets.symbol", ondelete="CASCADE"),
        primary_key=True,
    )
    date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    action_type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True, default=0, server_default="0")
    value: Mapped[Decimal] = mapped_column(exact_type())
    numerator: Mapped[Decimal | None] = mapped_column(exact_type())
    denominator: Mapped[Decimal | None] = mapped_column(exact_type())
    unadjusted_value: Mapped[Decimal | None] = mapped_column(exact_type())
    currency: Mapped[str | None] = mapped_column(sa.String(8))
    declaration_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    record_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    payment_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    period: Mapped[str | None] = mapped_column(sa.String(32))

    __table_args__ = (
        sa.CheckConstraint("action_type IN ('split', 'dividend')", name="action_type"),
    )


class SyncRun(Base):
    """One ``datanexus sync`` run and its figures."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    worker_id: Mapped[str | None] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16))
    assets_planned: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    assets_synced: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    assets_skipped: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    assets_failed: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    rows_written: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    rows_revised: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    calls_spent: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    bulk_used: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    options: Mapped[str | None] = mapped_column(sa.Text)
    message: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.Index("ix_sync_runs_started_at", "started_at"),)


class Finding(Base):
    """Something the sync or a check could not store or found wrong, for one asset.

    ``kind`` names the fault (see :mod:`data_nexus.storage.findings`), ``date`` the trading
    date it concerns (``NULL`` when the provider's row had no usable date), ``detail`` one
    line naming the field and the value as sent. ``fingerprint`` identifies the finding
    across runs (kind, date, detail): a finding seen again gets a new ``last_seen`` and
    ``run_id``; one that stops recurring is closed (``closed_at``), never deleted, and
    reopened if it comes back.
    """

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("assets.symbol", ondelete="CASCADE")
    )
    date: Mapped[dt.date | None] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[str] = mapped_column(sa.Text)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    run_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("sync_runs.id", ondelete="SET NULL")
    )
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("symbol", "fingerprint"),
        sa.Index("ix_findings_symbol_closed_at", "symbol", "closed_at"),
    )


class ProviderState(Base):
    """Small facts about the provider shared by every worker.

    Examples: ``bulk:US`` = ``unavailable`` after the plan answered 403/404 (re-checked after
    a day); ``calls:2026-11-24`` = the calls spent that GMT day by all workers.
    """

    __tablename__ = "provider_state"

    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), server_default=_now)


# Typed handles on the tables, for SQLAlchemy Core statements (``Model.__table__`` is typed
# as a generic FromClause).
ASSETS = cast(sa.Table, Asset.__table__)
MARKET_DATA = cast(sa.Table, MarketData.__table__)
CORPORATE_ACTIONS = cast(sa.Table, CorporateAction.__table__)
SYNC_RUNS = cast(sa.Table, SyncRun.__table__)
PROVIDER_STATE = cast(sa.Table, ProviderState.__table__)
FINDINGS = cast(sa.Table, Finding.__table__)
