"""The shapes of the JSON answers (they document the API in ``/openapi.json``)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    """``GET /health``. Without the bearer token of a server that has one, only ``status``,
    ``reachable``, ``schema_at_head`` and ``newest_bar_age_days`` are filled in; the
    fields marked *detail* are null (:mod:`data_nexus.serve.auth`)."""

    status: str = Field(description="'ok' or 'unhealthy'.")
    backend: str | None = Field(description="Detail: sqlite, postgresql or timescaledb.")
    reachable: bool
    schema_revision: str | None = Field(description="Detail: the database's schema revision.")
    schema_head: str | None = Field(
        description="Detail: the revision this version of Data Nexus needs."
    )
    schema_at_head: bool
    newest_bar: dt.date | None = Field(
        description="Detail: the newest stored bar date of any asset."
    )
    newest_bar_age_days: int | None = Field(
        description="Calendar days from the newest stored bar date to today (UTC)."
    )
    message: str | None = Field(description="Detail: why the server is unhealthy, if it is.")


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


class BarOut(BaseModel):
    """One bar. Prices are float64 numbers (adjusted ones are products of ratios)."""

    symbol: str | None = Field(None, description="Only in answers of several symbols.")
    date: dt.date = Field(description="The trading date (for longer intervals: its last one).")
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    adjusted_close: float | None = Field(description="The provider's adjusted close, as stored.")
    volume: int | None = Field(description="As stored (EODHD sends it split-adjusted).")


class BarsOut(BaseModel):
    """``GET /bars/{symbol}`` and ``GET /bars`` as JSON."""

    symbol: str | None = Field(None, description="The symbol, for /bars/{symbol}.")
    adjust: str
    interval: str
    bars: list[BarOut]
    cutoff: dt.date | None = Field(description="Newest stored bar date of the symbols read.")


class ActionOut(BaseModel):
    """A split or a dividend."""

    symbol: str
    date: dt.date = Field(description="The ex-date.")
    action: str = Field(description="split or dividend.")
    value: float = Field(description="Split ratio new/old, or dividend adjusted for later splits.")
    numerator: float | None
    denominator: float | None
    unadjusted_value: float | None = Field(description="The dividend as declared.")
    currency: str | None
    declaration_date: dt.date | None
    record_date: dt.date | None
    payment_date: dt.date | None
    period: str | None


class ActionsOut(BaseModel):
    """``GET /actions/{symbol}``."""

    symbol: str
    actions: list[ActionOut]


class StatusOut(BaseModel):
    """One asset's freshness (``GET /status``)."""

    symbol: str
    exchange: str
    state: str = Field(description="failing, stale, never synced, paused or ok.")
    why: str | None = Field(description="The last error of a failing asset.")
    last_synced: dt.datetime | None
    first_date: dt.date | None
    last_date: dt.date | None
    rows: int = Field(description="Stored bars.")
    history_from: dt.date | None = Field(
        description="How far back the provider has been asked for the history "
        "(0001-01-01: all of it; null before the first fetch)."
    )
    fail_count: int
    next_attempt_at: dt.datetime | None
    paused: bool
    open_findings: int = Field(description="Open findings of the asset (see /findings).")


class FindingOut(BaseModel):
    """One finding (``GET /findings``): a row or value judged wanting, for one asset."""

    symbol: str
    date: dt.date | None = Field(description="The date it concerns; null when it had none.")
    kind: str = Field(description="e.g. no_prices, non_positive_price, bad_split.")
    detail: str = Field(description="One line naming the field and the value as sent.")
    first_seen: dt.datetime
    last_seen: dt.datetime
    closed_at: dt.datetime | None = Field(description="When it was no longer found; null: open.")
    run_id: int | None = Field(description="The sync run that last saw it.")
    open: bool


class RunOut(BaseModel):
    """One ``datanexus sync`` run (``GET /runs``)."""

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    worker_id: str | None
    status: str
    assets_planned: int
    assets_synced: int
    assets_skipped: int
    assets_failed: int
    rows_written: int
    rows_revised: int
    calls_spent: int
    bulk_used: bool
    message: str | None
