"""The store: one transaction per asset for writes, thin exact reads.

THE CONTRACT BELOW IS FIXED (the sync engine, the benchmarks and the query API are being
written against it): keep these names and semantics; add whatever you need.

## The storage contract (module `data_nexus.storage.store`; other code is being written against it right now — keep these names and semantics; you may ADD things)

```python
@dataclass(frozen=True, slots=True)
class AssetUpdate:
    symbol: str
    bars: Iterable[Bar] = ()                      # data_nexus.records.Bar, all of this symbol; may be a generator (stream it)
    window: tuple[date, date] | None = None       # authoritative range: stored bars of this symbol inside [start, end] that are
                                                  # absent from `bars` are deleted (the provider's answer for a range is the truth
                                                  # for that range); None = pure upsert, nothing deleted
    actions: Sequence[Split | Dividend] = ()      # data_nexus.records
    actions_window: tuple[date, date] | None = None  # same semantics for corporate actions of this symbol
    state: Mapping[str, Any] = field(default_factory=dict)
        # values for `assets` columns set in the SAME transaction, e.g. last_synced, actions_checked_at,
        # last_error=None, fail_count=0, next_attempt_at=None, lease_owner=None, lease_expires_at=None.
        # updated_at is always set to now; first_date/last_date (coverage) are recomputed by the writer
        # from the stored bars of the symbol after the upsert (cheap, via the (symbol, time) index).
    lease_owner: str | None = None                # if given: write only if assets.lease_owner IS this worker (or NULL);
                                                  # otherwise raise errors.LeaseConflict and write nothing

@dataclass(frozen=True, slots=True)
class WriteResult:
    symbol: str
    inserted: int          # new bars
    updated: int           # bars whose values changed ("revised")
    unchanged: int         # bars re-sent with identical values (must not be rewritten: no dead tuples)
    deleted: int           # bars removed by `window`
    actions_inserted: int
    actions_updated: int
    actions_deleted: int
    first_date: date | None
    last_date: date | None

class Store:
    @classmethod
    def open(cls, settings: Settings | str, *, check_schema: bool = True) -> "Store"
        # a URL string or data_nexus.config.Settings; uses storage.engine.open_engine, detects
        # storage.capabilities.Capabilities once; check_schema → storage.migrate.ensure_schema (auto-upgrades SQLite)
    engine: sqlalchemy.Engine
    caps: Capabilities
    def close(self) -> None          # also a context manager
    def write_asset(self, update: AssetUpdate) -> WriteResult
        # ONE transaction: bars + actions + state. Validates first (storage.validate) and raises
        # errors.DataValidationError naming symbol, date, field and value BEFORE touching the database.
        # The asset row must exist (raise errors.StorageError otherwise). Any failure → rollback, asset exactly as before.
    def write_assets(self, updates: Sequence[AssetUpdate]) -> list[WriteResult | Exception]
        # may batch several assets per transaction for speed; if a batch fails, fall back to one-by-one so one
        # bad asset cannot take the others down; every asset all-or-nothing; results in input order.
    def read_bars(self, symbols: Sequence[str], start: date | None = None, end: date | None = None) -> list[Bar]
        # ordered by (symbol, date); exact Decimals; inclusive range
    def read_day(self, day: date, symbols: Sequence[str] | None = None) -> list[Bar]   # cross-section, ordered by symbol
    def read_actions(self, symbols: Sequence[str], start: date | None = None, end: date | None = None) -> list[Split | Dividend]
        # ordered by (symbol, date, action_type)

class AsyncWriter:
    '''The event-loop side of the write path: one dedicated writer thread per process.'''
    def __init__(self, store: Store, *, max_batch: int = ...)
    async def write(self, update: AssetUpdate) -> WriteResult     # never blocks the event loop; may coalesce concurrent
                                                                  # requests into one write_assets batch; raises the asset's own error
    async def aclose(self) -> None
```
Module `data_nexus.storage.validate`: pure `validate_bars(symbol, bars)` / `validate_actions(symbol, actions)` (or an incremental
variant usable while streaming): prices ≥ 0, at most 8 decimal places and |x| < 10^10 (the schema is NUMERIC(18,8) —
PostgreSQL would silently ROUND extra decimals, so we must refuse instead), volume within BIGINT, one bar per date, every
bar's symbol equals the update's symbol; action amounts at most 12 decimals and < 10^12. Error text example:
`AAPL.US 2024-01-02 close: 12.123456789 has 9 decimal places; the schema keeps 8 (refusing to round)`.
Corporate actions map to the `corporate_actions` table: Split → action_type 'split', numerator, denominator, value =
numerator/denominator rounded half-even to 12 places (documented convenience; exact ratio in numerator/denominator);
Dividend → action_type 'dividend', value, unadjusted_value, currency, declaration/record/payment dates, period.

"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from data_nexus.records import Bar, Dividend, Split


@dataclass(frozen=True, slots=True)
class AssetUpdate:
    """Everything one asset's sync writes, committed in one transaction (see module doc)."""

    symbol: str
    bars: Iterable[Bar] = ()
    window: tuple[dt.date, dt.date] | None = None
    actions: Sequence[Split | Dividend] = ()
    actions_window: tuple[dt.date, dt.date] | None = None
    state: Mapping[str, Any] = field(default_factory=dict)
    lease_owner: str | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one asset's write changed."""

    symbol: str
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    actions_inserted: int
    actions_updated: int
    actions_deleted: int
    first_date: dt.date | None
    last_date: dt.date | None
