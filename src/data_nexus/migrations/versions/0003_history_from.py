"""``assets.history_from``: how far back the provider has been asked for an asset's history.

A nullable ``DATE``: the ``from`` of the earliest successful fetch that reached back to the
start of the stored history (``0001-01-01`` for a fetch without ``from``: the whole history).
The sync planner backfills only when ``--since`` is earlier than it, so a ``--since`` before
an asset's listing, or on a weekend, is fetched once and not on every run. ``NULL`` (every
row after the upgrade): not known, the planner falls back to the first stored bar as before
until the next fetch that reaches back sets it.

The downgrade drops the column; nothing but that knowledge is lost (the next backfill
records it again). Both are plain ``ALTER TABLE`` statements, not Alembic's batch mode:
batch mode would copy and drop ``assets`` on SQLite, and with foreign keys on that drop
cascades to every bar (SQLite supports ``DROP COLUMN`` since 3.35).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``assets.history_from``."""
    op.add_column("assets", sa.Column("history_from", sa.Date(), nullable=True))


def downgrade() -> None:
    """Drop ``assets.history_from``."""
    op.drop_column("assets", "history_from")
