"""Exact prices of any size, several actions per ex-date, and the findings table.

- Prices (``market_data``) and corporate-action amounts become unconstrained ``NUMERIC`` on
  PostgreSQL/TimescaleDB, which keeps any decimal exactly (``8.4401E-06``, ``1E-12``,
  ``-37.63``); ``NUMERIC(18, 8)`` rounded a ninth decimal and refused 10^10. On SQLite these
  columns already hold exact text and do not change.
- ``corporate_actions`` gains ``seq`` in its key: two different dividends on one ex-date
  (a regular and a special one) are both kept.
- ``findings``: what a sync skipped or a check found, per asset, closed (not deleted) when it
  stops recurring.

On TimescaleDB a compressed hypertable cannot change a column's type: compression is
turned off (its chunks decompressed) for the change and turned back on after, with the same
settings and policy, and the chunks that were compressed are compressed again.

The downgrade is real but refuses, naming what is in the way, to lose data: a price that
``NUMERIC(18, 8)`` cannot hold, an amount ``NUMERIC(24, 12)`` cannot hold, or a second action
of one type on one ex-date. Findings are dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from data_nexus.errors import StorageError
from data_nexus.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICES = ("open", "high", "low", "close", "adjusted_close")
AMOUNTS = ("value", "numerator", "denominator", "unadjusted_value")
OLD_KEY = ("symbol", "date", "action_type")


class _Compression:
    """What the hypertable's compression was before the type change.

    (A plain class: Alembic loads this file outside ``sys.modules``, where ``dataclass``
    cannot resolve postponed annotations.)
    """

    def __init__(self, compress_after: str | None, chunks: list[str]) -> None:
        self.compress_after = compress_after
        self.chunks = chunks


def _hypertable(bind: sa.Connection) -> bool:
    if bind.dialect.name != "postgresql":
        return False
    has_extension = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    ).first()
    if has_extension is None:
        return False
    return (
        bind.execute(
            sa.text(
                "SELECT 1 FROM timescaledb_information.hypertables "
                "WHERE hypertable_name = 'market_data'"
            )
        ).first()
        is not None
    )


def _pause_compression(bind: sa.Connection) -> _Compression | None:
    """Decompress ``market_data`` and turn its compression off; what to restore after."""
    if not _hypertable(bind):
        return None
    policy = bind.execute(
        sa.text(
            "SELECT config->>'compress_after' FROM timescaledb_information.jobs "
            "WHERE hypertable_name = 'market_data' AND proc_name = 'policy_compression'"
        )
    ).first()
    chunks = [
        str(row[0])
        for row in bind.execute(
            sa.text(
                "SELECT format('%I.%I', chunk_schema, chunk_name) "
                "FROM timescaledb_information.chunks "
                "WHERE hypertable_name = 'market_data' AND is_compressed"
            )
        )
    ]
    for chunk in chunks:
        bind.execute(
            sa.text("SELECT decompress_chunk(CAST(:c AS regclass), if_compressed => true)"),
            {"c": chunk},
        )
    bind.execute(
        sa.text(
            "SELECT remove_compression_policy(CAST('market_data' AS regclass), if_exists => true)"
        )
    )
    bind.execute(sa.text("ALTER TABLE market_data SET (timescaledb.compress = false)"))
    return _Compression(None if policy is None else str(policy[0]), chunks)


def _resume_compression(bind: sa.Connection, saved: _Compression | None) -> None:
    """Compression on again with the settings of revision 0001, its policy and chunks."""
    if saved is None:
        return
    bind.execute(
        sa.text(
            "ALTER TABLE market_data SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'symbol', "
            "timescaledb.compress_orderby = 'time DESC')"
        )
    )
    if saved.compress_after is not None:
        bind.execute(
            sa.text(
                "SELECT add_compression_policy(CAST('market_data' AS regclass), "
                "CAST(:ca AS interval))"
            ),
            {"ca": saved.compress_after},
        )
    for chunk in saved.chunks:
        bind.execute(
            sa.text("SELECT compress_chunk(CAST(:c AS regclass), if_not_compressed => true)"),
            {"c": chunk},
        )


def _retype(
    table: str,
    columns: Sequence[str],
    old: sa.types.TypeEngine[Any],
    new: sa.types.TypeEngine[Any],
) -> None:
    for column in columns:
        op.alter_column(table, column, type_=new, existing_type=old)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # SQLite keeps exact text already
        saved = _pause_compression(bind)
        _retype("market_data", PRICES, sa.Numeric(18, 8), sa.Numeric())
        _resume_compression(bind, saved)
        _retype("corporate_actions", AMOUNTS, sa.Numeric(24, 12), sa.Numeric())

    with op.batch_alter_table("corporate_actions") as batch:
        batch.add_column(sa.Column("seq", sa.Integer, nullable=False, server_default="0"))
        batch.drop_constraint("pk_corporate_actions", type_="primary")
        batch.create_primary_key("pk_corporate_actions", [*OLD_KEY, "seq"])

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("date", sa.Date),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("closed_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["assets.symbol"],
            name=op.f("fk_findings_symbol_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_findings_run_id_sync_runs"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("symbol", "fingerprint", name=op.f("uq_findings_symbol_fingerprint")),
    )
    op.create_index("ix_findings_symbol_closed_at", "findings", ["symbol", "closed_at"])


def _refuse(what: str, count: int) -> None:
    raise StorageError(
        f"cannot downgrade to 0001: {count} {what}; revision 0001 cannot hold them, and a "
        "downgrade never rounds or drops data (delete or fix those rows first)"
    )


def _misfits(
    bind: sa.Connection, table: str, columns: Sequence[str], scale: int, limit: str
) -> int:
    """Rows of ``table`` with a value that ``NUMERIC(_, scale)`` below ``limit`` cannot hold."""
    tests = " OR ".join(f"({c} <> round({c}, {scale}) OR abs({c}) >= {limit})" for c in columns)
    return int(bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {tests}")).scalar_one())


def downgrade() -> None:
    bind = op.get_bind()
    doubles = int(
        bind.execute(sa.text("SELECT count(*) FROM corporate_actions WHERE seq > 0")).scalar_one()
    )
    if doubles:
        _refuse("corporate action(s) share an ex-date and type with another", doubles)
    if bind.dialect.name == "postgresql":
        prices = _misfits(bind, "market_data", PRICES, 8, "1e10")
        if prices:
            _refuse("bar(s) have a price beyond NUMERIC(18, 8)", prices)
        amounts = _misfits(bind, "corporate_actions", AMOUNTS, 12, "1e12")
        if amounts:
            _refuse("corporate action(s) have an amount beyond NUMERIC(24, 12)", amounts)

    op.drop_index("ix_findings_symbol_closed_at", table_name="findings")
    op.drop_table("findings")

    with op.batch_alter_table("corporate_actions") as batch:
        batch.drop_constraint("pk_corporate_actions", type_="primary")
        batch.create_primary_key("pk_corporate_actions", list(OLD_KEY))
        batch.drop_column("seq")

    if bind.dialect.name == "postgresql":
        _retype("corporate_actions", AMOUNTS, sa.Numeric(), sa.Numeric(24, 12))
        saved = _pause_compression(bind)
        _retype("market_data", PRICES, sa.Numeric(), sa.Numeric(18, 8))
        _resume_compression(bind, saved)
