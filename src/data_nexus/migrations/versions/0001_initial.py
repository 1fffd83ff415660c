"""Initial schema: assets, market_data, corporate_actions, sync_runs, provider_state.

On a database with the TimescaleDB extension, ``market_data`` also becomes a hypertable
with symbol-segmented compression and a compression policy.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data_nexus.config import Settings
from data_nexus.storage.timescale import create_hypertable, timescale_version
from data_nexus.types import UTCDateTime, amount_type, price_type

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("code", sa.String(48), nullable=False),
        sa.Column("exchange", sa.String(16), nullable=False),
        sa.Column("name", sa.String(256)),
        sa.Column("asset_type", sa.String(32)),
        sa.Column("currency", sa.String(8)),
        sa.Column("isin", sa.String(12)),
        sa.Column("country", sa.String(64)),
        sa.Column("venue", sa.String(32)),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("is_delisted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("unlisted_since", sa.Date),
        sa.Column("last_synced", UTCDateTime()),
        sa.Column("first_date", sa.Date),
        sa.Column("last_date", sa.Date),
        sa.Column("actions_checked_at", UTCDateTime()),
        sa.Column("last_error", sa.Text),
        sa.Column("fail_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_expires_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_assets")),
    )
    op.create_index("ix_assets_exchange", "assets", ["exchange"])
    op.create_index("ix_assets_due", "assets", ["is_active", "last_synced"])

    op.create_table(
        "market_data",
        sa.Column("time", sa.Date, nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("open", price_type()),
        sa.Column("high", price_type()),
        sa.Column("low", price_type()),
        sa.Column("close", price_type(), nullable=False),
        sa.Column("adjusted_close", price_type()),
        sa.Column("volume", sa.BigInteger),
        sa.PrimaryKeyConstraint("time", "symbol", name=op.f("pk_market_data")),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["assets.symbol"],
            name=op.f("fk_market_data_symbol_assets"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_market_data_symbol_time", "market_data", ["symbol", "time"])

    op.create_table(
        "corporate_actions",
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("action_type", sa.String(16), nullable=False),
        sa.Column("value", amount_type(), nullable=False),
        sa.Column("numerator", amount_type()),
        sa.Column("denominator", amount_type()),
        sa.Column("unadjusted_value", amount_type()),
        sa.Column("currency", sa.String(8)),
        sa.Column("declaration_date", sa.Date),
        sa.Column("record_date", sa.Date),
        sa.Column("payment_date", sa.Date),
        sa.Column("period", sa.String(32)),
        sa.PrimaryKeyConstraint("symbol", "date", "action_type", name=op.f("pk_corporate_actions")),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["assets.symbol"],
            name=op.f("fk_corporate_actions_symbol_assets"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "action_type IN ('split', 'dividend')", name=op.f("ck_corporate_actions_action_type")
        ),
    )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assets_planned", sa.Integer, nullable=False, server_default="0"),
        sa.Column("assets_synced", sa.Integer, nullable=False, server_default="0"),
        sa.Column("assets_skipped", sa.Integer, nullable=False, server_default="0"),
        sa.Column("assets_failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_written", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_revised", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("calls_spent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("bulk_used", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("options", sa.Text),
        sa.Column("message", sa.Text),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index("ix_sync_runs_started_at", "sync_runs", ["started_at"])

    op.create_table(
        "provider_state",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_provider_state")),
    )

    bind = op.get_bind()
    if timescale_version(bind) is not None:
        settings = op.get_context().config.attributes.get("settings") or Settings()  # type: ignore[union-attr]
        create_hypertable(
            bind,
            chunk_interval=settings.chunk_interval,
            compress_after=settings.compress_after,
        )


def downgrade() -> None:
    # Dropping the hypertable also drops its chunks and its compression policy.
    op.drop_table("provider_state")
    op.drop_index("ix_sync_runs_started_at", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("corporate_actions")
    op.drop_index("ix_market_data_symbol_time", table_name="market_data")
    op.drop_table("market_data")
    op.drop_index("ix_assets_due", table_name="assets")
    op.drop_index("ix_assets_exchange", table_name="assets")
    op.drop_table("assets")
