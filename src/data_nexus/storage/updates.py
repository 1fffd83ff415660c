"""What one asset's write asks for (:class:`AssetUpdate`) and what it did (:class:`WriteResult`).

Re-exported by :mod:`data_nexus.storage.store`, where the sync engine and the benchmarks
import them from; they live here so the per-backend writers can use them too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from data_nexus.records import Bar, Dividend, Finding, Split
from data_nexus.storage.validate import JudgedRows


@dataclass(frozen=True, slots=True)
class AssetUpdate:
    """Everything one asset's sync writes, committed in one transaction.

    - ``bars``: the symbol's bars, any iterable (a generator is streamed in chunks), or
      :class:`~data_nexus.storage.validate.JudgedRows` judged column-wise already.
    - ``window``: the provider's answer for [start, end] is the truth for that range:
      stored bars of the symbol inside it that are absent from ``bars`` are deleted.
      ``None``: a pure upsert, nothing deleted.
    - ``actions`` and ``actions_window``: the same for corporate actions.
    - ``state``: ``assets`` columns set in the same transaction (``last_synced``,
      ``last_error``, ``fail_count``, lease columns …). ``updated_at`` and the coverage
      ``first_date``/``last_date`` are maintained by the writer.
    - ``lease_owner``: write only if the asset's lease is this worker's or nobody's; else
      :class:`~data_nexus.errors.LeaseConflict` and nothing is written.
    - ``findings``: what the caller judged already (the parser's skipped rows, see
      :attr:`~data_nexus.records.Parsed.findings`), recorded with the writer's own findings
      in the same transaction (:mod:`data_nexus.storage.findings`).
    - ``today``: the exchange's date; bars dated after it are skipped with a finding
      (``None``: no such check).
    - ``run_id``: the ``sync_runs`` row the findings are attributed to.
    """

    symbol: str
    bars: Iterable[Bar] | JudgedRows = ()
    window: tuple[dt.date, dt.date] | None = None
    actions: Sequence[Split | Dividend] = ()
    actions_window: tuple[dt.date, dt.date] | None = None
    state: Mapping[str, Any] = field(default_factory=dict)
    lease_owner: str | None = None
    findings: Sequence[Finding] = ()
    today: dt.date | None = None
    run_id: int | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one asset's write changed.

    ``unchanged`` bars were re-sent with identical values and not rewritten; ``deleted``
    bars were removed by the ``window``; ``first_date``/``last_date`` is the stored
    coverage after the write; ``findings`` counts the distinct open findings this write
    recorded (skipped rows and actions, flagged prices).
    """

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
    findings: int = 0
