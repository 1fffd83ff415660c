"""Positional SQL text for either raw driver connection (``sqlite3`` or ``psycopg``).

The hand-written statements of :mod:`data_nexus.storage.period_sql` and
:mod:`data_nexus.storage.closes` run on a reader's raw DB-API connection, not through
SQLAlchemy (it would cost more than the work on these reads). :class:`Statement` collects the
positional parameters as the text is built and writes each placeholder and float cast in the
backend's spelling.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

import psycopg

#: The raw connection a statement runs on.
Connection = sqlite3.Connection | psycopg.Connection[Any]


@dataclass(slots=True)
class Statement:
    """A statement under construction: its text parts and positional parameters."""

    postgres: bool
    params: list[Any]

    @property
    def mark(self) -> str:
        return "%s" if self.postgres else "?"

    def bind(self, value: Any) -> str:
        """A placeholder for ``value`` (dates as ISO text on SQLite, as stored)."""
        if isinstance(value, dt.date) and not self.postgres:
            value = value.isoformat()
        self.params.append(value)
        return self.mark

    def number(self, column: str) -> str:
        """``column`` as a binary float."""
        return f"{column}::float8" if self.postgres else f"CAST({column} AS REAL)"
