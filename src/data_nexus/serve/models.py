"""The shapes of the JSON answers (they document the API in ``/openapi.json``)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    """``GET /health``."""

    status: str = Field(description="'ok' or 'unhealthy'.")
    backend: str = Field(description="sqlite, postgresql or timescaledb.")
    reachable: bool
    schema_revision: str | None
    schema_head: str = Field(description="The revision this version of Data Nexus needs.")
    schema_at_head: bool
    newest_bar: dt.date | None = Field(description="The newest stored bar date of any asset.")
    newest_bar_age_days: int | None = Field(description="Calendar days from newest_bar to today.")
    message: str | None = Field(description="Why the server is unhealthy, if it is.")


class AssetOut(BaseModel):
    """One registered asset (``GET /assets``)."""

    symbol: str
    exchange: str
    name: str | None
    asset_type: str | None
    currency: str | None
    isin: str | None
    is_active: bool = Field(description="False: paused, left out of syncs.")
    is_delisted: bool
    unlisted_since: dt.date | None
    last_synced: dt.datetime | None = Field(description="UTC instant of the last sync.")
    first_date: dt.date | None = Field(description="First stored bar date.")
    last_date: dt.date | None = Field(description="Last stored bar date.")
    fail_count: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
