"""TimescaleDB specifics: detection, hypertable, compression and its policy.

Everything here runs only when the database has the ``timescaledb`` extension installed
(``CREATE EXTENSION timescaledb``); on plain PostgreSQL and SQLite the same schema works
without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data_nexus.errors import ConfigError

_INTERVAL = re.compile(r"^\s*(\d{1,4})\s*(day|days|week|weeks|month|months|year|years)\s*$", re.I)


def parse_interval(text: str) -> str:
    """Validate an interval such as ``12 months`` or ``90 days``; return it normalised.

    Only whole days, weeks, months and years are accepted, which is all a daily-bar table
    needs and keeps the value safe to pass to PostgreSQL.
    """
    match = _INTERVAL.match(text)
    if not match or int(match.group(1)) == 0:
        raise ConfigError(
            f"invalid interval {text!r}: use a whole number of days, weeks, months or years, "
            "e.g. '12 months'"
        )
    count, unit = int(match.group(1)), match.group(2).lower().rstrip("s")
    return f"{count} {unit}{'' if count == 1 else 's'}"


def timescale_version(conn: sa.Connection) -> str | None:
    """The installed TimescaleDB extension version in this database, or ``None``."""
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(
        sa.text("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    ).first()
    return None if row is None else str(row[0])


def timescale_available(conn: sa.Connection) -> str | None:
    """The TimescaleDB version the server could enable (``pg_available_extensions``), or ``None``.

    ``None`` on SQLite and when the server has no TimescaleDB packages installed.
    """
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(
        sa.text("SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).first()
    return None if row is None or row[0] is None else str(row[0])


def create_hypertable(
    conn: sa.Connection, *, chunk_interval: str, compress_after: str, table: str = "market_data"
) -> None:
    """Turn ``table`` into a hypertable with symbol-segmented compression and a policy.

    The compression policy compresses chunks once they are older than ``compress_after``,
    so the recent window, where late corrections land, stays uncompressed.
    """
    conn.execute(
        sa.text(
            "SELECT create_hypertable(CAST(:t AS regclass), 'time', "
            "chunk_time_interval => CAST(:ci AS interval), "
            "create_default_indexes => false, migrate_data => true)"
        ),
        {"t": table, "ci": parse_interval(chunk_interval)},
    )
    conn.execute(
        sa.text(
            f"ALTER TABLE {table} SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'symbol', "
            "timescaledb.compress_orderby = 'time DESC')"
        )
    )
    conn.execute(
        sa.text("SELECT add_compression_policy(CAST(:t AS regclass), CAST(:ca AS interval))"),
        {"t": table, "ca": parse_interval(compress_after)},
    )


@dataclass(frozen=True, slots=True)
class HypertableInfo:
    """What ``datanexus db info`` shows about the hypertable."""

    chunk_interval: str | None
    chunks: int
    compressed_chunks: int
    segmentby: list[str]
    orderby: list[str]
    policy_compress_after: str | None
    bytes_before: int | None
    bytes_after: int | None

    @property
    def compression_ratio(self) -> float | None:
        """Uncompressed size over compressed size of the compressed chunks."""
        if not self.bytes_before or not self.bytes_after:
            return None
        return self.bytes_before / self.bytes_after

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "chunk_interval": self.chunk_interval,
            "chunks": self.chunks,
            "compressed_chunks": self.compressed_chunks,
            "segmentby": self.segmentby,
            "orderby": self.orderby,
            "policy_compress_after": self.policy_compress_after,
            "bytes_before_compression": self.bytes_before,
            "bytes_after_compression": self.bytes_after,
            "compression_ratio": self.compression_ratio,
        }


def hypertable_info(conn: sa.Connection, table: str = "market_data") -> HypertableInfo | None:
    """Chunking, compression, policy and ratio of ``table``; ``None`` if not a hypertable."""
    dim = conn.execute(
        sa.text(
            "SELECT time_interval::text FROM timescaledb_information.dimensions "
            "WHERE hypertable_name = :t AND column_name = 'time'"
        ),
        {"t": table},
    ).first()
    if dim is None:
        return None
    settings = conn.execute(
        sa.text(
            "SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc "
            "FROM timescaledb_information.compression_settings WHERE hypertable_name = :t"
        ),
        {"t": table},
    ).all()
    segmentby = [r[0] for r in sorted(settings, key=lambda r: r[1] or 0) if r[1] is not None]
    orderby = [
        f"{r[0]} {'ASC' if r[3] else 'DESC'}"
        for r in sorted(settings, key=lambda r: r[2] or 0)
        if r[2] is not None
    ]
    policy = conn.execute(
        sa.text(
            "SELECT config->>'compress_after' FROM timescaledb_information.jobs "
            "WHERE hypertable_name = :t AND proc_name = 'policy_compression'"
        ),
        {"t": table},
    ).first()
    stats = conn.execute(
        sa.text(
            "SELECT total_chunks, number_compressed_chunks, before_compression_total_bytes, "
            "after_compression_total_bytes FROM hypertable_compression_stats(CAST(:t AS regclass))"
        ),
        {"t": table},
    ).first()
    chunks = conn.execute(
        sa.text("SELECT count(*) FROM show_chunks(CAST(:t AS regclass))"), {"t": table}
    ).scalar_one()
    return HypertableInfo(
        chunk_interval=dim[0],
        chunks=int(chunks),
        compressed_chunks=int(stats[1] or 0) if stats else 0,
        segmentby=segmentby,
        orderby=orderby,
        policy_compress_after=None if policy is None else policy[0],
        bytes_before=None if stats is None or stats[2] is None else int(stats[2]),
        bytes_after=None if stats is None or stats[3] is None else int(stats[3]),
    )
